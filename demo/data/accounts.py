"""The demo's accounts and their published credentials (demo data only: never on
a real deployment)."""

DEMO_PASSWORD = "SecondOp-demo-2026"  # noqa: S105 (published demo credentials)
# One published secret for every demo staff account, so a person adds a single
# entry to their authenticator app. Demo data only: never on a real deployment.
DEMO_TOTP_SECRET = "SECONDOPDEMOTOTPSECRET234567ABCD"  # noqa: S105

PATIENT = ("patient@demo.secondop.test", "Maria Alvarez")
# A second patient, whose case in review keeps Dr. Grace Liu at capacity.
OTHER_PATIENT = ("daniel.brooks@demo.secondop.test", "Daniel Brooks")
THIRD_PATIENT = ("james.okafor@demo.secondop.test", "James Okafor")
COORDINATOR = ("coordinator@demo.secondop.test", "Grace Okafor, RN")
ADMIN = ("admin@demo.secondop.test", "Sam Patel")
