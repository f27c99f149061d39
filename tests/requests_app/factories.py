import datetime

import factory
from django.utils import timezone

from requests_app import authorisation
from requests_app.models import Case, CaseQuestion, CaseSection, SectionState
from requests_app.sections import SECTIONS
from specialists.models import Specialty
from specialists.services import specialties_load


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case


def complete_case(owner, **overrides) -> Case:
    """A draft with every section answered and marked complete."""
    # Transactional tests (e2e, worker) flush the tables the migrations filled.
    if not Specialty.objects.exists():
        specialties_load()
    fields = {
        "relationship": "self", "patient_name": owner.full_name,
        "patient_dob": datetime.date(1970, 5, 17), "patient_sex": "female",
        "patient_phone": "212 555 0123", "patient_state": "NY", "preferred_language": "English",
        "diagnosis": "Early-stage breast cancer", "diagnosed_on": datetime.date(2026, 10, 1),
        "proposed_treatment": "Mastectomy", "treatment_started": "no",
        "reasons": ["confirm_diagnosis", "compare_treatments"],
        "symptoms": "A lump since August", "specialty": Specialty.objects.get(slug="oncology"),
        "consultation_type": "written", "pcp_name": "Dr. Primary", "pcp_referred": "yes",
        "payment": "self_pay", "authorisation_version": authorisation.VERSION,
        "authorisation_signed_name": owner.full_name,
        "authorisation_signed_at": timezone.now(),
    }
    fields.update(overrides)
    case = Case.objects.create(owner=owner, **fields)
    CaseQuestion.objects.create(case=case, position=1, text="Is surgery my only option?")
    CaseSection.objects.bulk_create(
        CaseSection(case=case, section=s.key, state=SectionState.COMPLETED) for s in SECTIONS
    )
    return case
