"""Cases at every stage. `CaseFactory(owner=...)` is a blank draft; the traits
give it answers and a place in the workflow:

    CaseFactory(owner=patient, complete=True)    every section answered and complete
    CaseFactory(owner=patient, submitted=True)   ... and sent: reference, due date, and
                                                 the fee quoted and confirmed (fee_agreed)
    CaseFactory(owner=patient, submitted=True, fee_agreed=False)   ... no fee step yet
    CaseFactory(owner=patient, withdrawn=True)   ... sent, then withdrawn
"""

import datetime
import decimal

import factory
from django.utils import timezone

from requests_app import authorisation
from requests_app.models import Case, CaseQuestion, CaseSection, SectionState
from requests_app.sections import SECTIONS
from specialists.models import Specialty
from specialists.services import specialties_load


def _oncology():
    # Transactional tests (e2e, worker) flush the tables the migrations filled.
    if not Specialty.objects.exists():
        specialties_load()
    return Specialty.objects.get(slug="oncology")


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case
        skip_postgeneration_save = True

    class Params:
        complete = factory.Trait(
            relationship="self",
            patient_name=factory.SelfAttribute("owner.full_name"),
            patient_dob=datetime.date(1970, 5, 17),
            patient_sex="female",
            patient_phone="212 555 0123",
            patient_state="NY",
            preferred_language="English",
            diagnosis="Early-stage breast cancer",
            diagnosed_on=datetime.date(2026, 10, 1),
            diagnosing_institution="Metro General",
            proposed_treatment="Mastectomy",
            treatment_started="no",
            reasons=["confirm_diagnosis", "compare_treatments"],
            concerns="Whether I really need surgery",
            symptoms="A lump since August",
            specialty=factory.LazyFunction(_oncology),
            consultation_type="written",
            pcp_name="Dr. Primary",
            pcp_referred="yes",
            payment="self_pay",
            authorisation_version=authorisation.VERSION,
            authorisation_signed_name=factory.SelfAttribute("owner.full_name"),
            authorisation_signed_at=factory.LazyFunction(timezone.now),
        )
        # Past the fee step (requests_app.fees): quoted and confirmed, so matching may
        # offer the case.
        fee_agreed = factory.Trait(
            insurance_status="self_pay",
            fee_quoted=decimal.Decimal("750.00"),
            fee_items=[
                {
                    "item": "written",
                    "label": "Written opinion",
                    "amount": "750.00",
                    "currency": "USD",
                }
            ],
            insurance_checked_at=factory.LazyFunction(timezone.now),
            fee_confirmed_at=factory.LazyFunction(timezone.now),
        )
        submitted = factory.Trait(
            complete=True,
            status="submitted",
            fee_agreed=True,
            reference=factory.Sequence(lambda n: f"SO-2026-{900000 + n:06d}"),
            submitted_at=factory.LazyFunction(timezone.now),
            due_at=factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7)),
        )
        withdrawn = factory.Trait(
            submitted=True,
            status="withdrawn",
            closed_at=factory.LazyFunction(timezone.now),
        )

    owner = factory.SubFactory("tests.accounts.factories.UserFactory")
    status = "draft"
    # A case that ended did so now (case_transition sets it; the staff's read-only
    # window after closing and the retention of records count from it).
    closed_at = factory.LazyAttribute(
        lambda o: timezone.now() if o.status in ("closed", "cancelled", "withdrawn") else None
    )

    @factory.post_generation
    def sections(self, create, extracted, **kwargs):
        """A complete case has its question and every section marked complete."""
        if not create or not self.authorisation_signed_at:
            return
        CaseQuestion.objects.create(case=self, position=1, text="Is surgery my only option?")
        CaseSection.objects.bulk_create(
            CaseSection(case=self, section=s.key, state=SectionState.COMPLETED) for s in SECTIONS
        )
