"""Demo data for a newcomer: python manage.py seed_demo (safe to run again)."""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from secondop.accounts.models import Role, User
from specialists.models import SpecialistProfile, Specialty

DEMO_PASSWORD = "SecondOp-demo-2026"  # noqa: S105 (published demo credentials)
# One published secret for every demo staff account, so a person adds a single
# entry to their authenticator app. Demo data only: never on a real deployment.
DEMO_TOTP_SECRET = "SECONDOPDEMOTOTPSECRET234567ABCD"  # noqa: S105

PATIENT = ("patient@demo.secondop.test", "Maria Alvarez")
COORDINATOR = ("coordinator@demo.secondop.test", "Grace Okafor, RN")
ADMIN = ("admin@demo.secondop.test", "Sam Patel")
SPECIALISTS = [
    # email, name, title, specialty slugs, subspecialty, institution, languages, states
    ("oncologist@demo.secondop.test", "Dr. Helen Marsh", "MD, PhD", ["oncology"],
     "Breast cancer", "Lakeside University Hospital", ["en"], ["NY", "NJ", "CT", "PA"]),
    ("cardiologist@demo.secondop.test", "Dr. Omar Haddad", "MD, FACC", ["cardiology"],
     "Heart failure", "Riverside Heart Institute", ["en", "ar"], ["CA", "OR", "WA", "NV"]),
    ("neurologist@demo.secondop.test", "Dr. Lucia Romero", "MD", ["neurology"],
     "Multiple sclerosis", "Bayview Neurological Center", ["en", "es"], ["TX", "FL", "NY"]),
    ("orthopedist@demo.secondop.test", "Dr. James Whitfield", "MD", ["orthopedics"],
     "Spine surgery", "Summit Orthopedic Clinic", ["en"], ["CO", "UT", "AZ", "NM"]),
]


class Command(BaseCommand):
    help = "Create the demo patient, coordinator, specialists and admin (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true",
                            help="Run even when DEBUG is off (never on a real deployment).")

    @transaction.atomic
    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo publishes passwords and a TOTP secret; "
                               "it runs only with DEBUG on (or --force).")
        self._user(*PATIENT, Role.PATIENT)
        self._user(*COORDINATOR, Role.COORDINATOR, mfa=True)
        self._user(*ADMIN, Role.ADMIN, mfa=True)
        for email, name, title, slugs, sub, institution, languages, states in SPECIALISTS:
            user = self._user(email, name, Role.SPECIALIST, mfa=True)
            profile, _ = SpecialistProfile.objects.update_or_create(
                user=user,
                defaults={"title": title, "subspecialty": sub, "institution": institution,
                          "languages": languages, "licensed_states": states},
            )
            profile.specialties.set(Specialty.objects.filter(slug__in=slugs))
        self._print_summary()

    def _user(self, email, name, role, *, mfa=False) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email, password=DEMO_PASSWORD, full_name=name, role=role,
                is_staff=(role == Role.ADMIN), is_superuser=(role == Role.ADMIN),
            )
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        if mfa and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, DEMO_TOTP_SECRET)
            RecoveryCodes.activate(user)
        return user

    def _print_summary(self) -> None:
        w = self.stdout.write
        w(self.style.SUCCESS("Demo data is ready. Every demo account's password: " + DEMO_PASSWORD))
        w(f"  patient      {PATIENT[0]}")
        w(f"  coordinator  {COORDINATOR[0]}   (two-factor)")
        w(f"  admin        {ADMIN[0]}   (two-factor, Django admin at /admin/)")
        for s in SPECIALISTS:
            w(f"  specialist   {s[0]}   (two-factor)")
        w("Staff sign in with a 6-digit code: add this secret to an authenticator app "
          f"(type 'time-based', account 'SecondOp demo'): {DEMO_TOTP_SECRET}")
        w(f"  or scan: otpauth://totp/SecondOp:demo?secret={DEMO_TOTP_SECRET}&issuer=SecondOp")
