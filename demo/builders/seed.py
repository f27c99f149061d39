"""The whole demo, in the order its people would have made it (idempotent: what
exists already is brought up to date or left alone)."""

from django.utils import timezone

from demo.builders import cases, outcomes
from demo.builders.accounts import demo_user
from demo.builders.specialists import demo_specialist
from demo.data.accounts import ADMIN, COORDINATOR, OTHER_PATIENT, PATIENT, THIRD_PATIENT
from demo.data.coverage import coverage_demo_specialists
from demo.data.specialists import SPECIALISTS
from requests_app import services
from requests_app.models import CaseStatus
from secondop.accounts.models import Role

AFTER_DELIVERY = (CaseStatus.DELIVERED, CaseStatus.FOLLOW_UP, CaseStatus.CLOSED)


def seed_demo() -> None:
    """The demo accounts, the price list, every demo specialist, and each
    patient's requests unless they have them already."""
    patient = demo_user(*PATIENT, Role.PATIENT)
    other_patient = demo_user(*OTHER_PATIENT, Role.PATIENT)
    coordinator = demo_user(*COORDINATOR, Role.COORDINATOR, mfa=True)
    admin = demo_user(*ADMIN, Role.ADMIN, mfa=True)
    services.price_list_seed()
    specialists = {s.email: demo_specialist(s, checker=admin) for s in SPECIALISTS}
    for spec in coverage_demo_specialists(timezone.localdate()):
        demo_specialist(spec, checker=admin)
    if not patient.cases.exists():
        cases.lived_in_account(patient)
    if not other_patient.cases.exists():
        cases.case_in_review(
            other_patient, coordinator, specialists["grace.liu@demo.secondop.test"]
        )
    third = demo_user(*THIRD_PATIENT, Role.PATIENT)
    if not third.cases.exists():
        cases.cases_in_triage(third, coordinator, specialists["oncologist@demo.secondop.test"])
    if not patient.cases.filter(status__in=AFTER_DELIVERY).exists():
        cases.cases_after_delivery(
            patient, coordinator, specialists["neurologist@demo.secondop.test"]
        )
    # A year of past requests, for the public outcomes page's figures.
    outcomes.past_opinions(coordinator)
