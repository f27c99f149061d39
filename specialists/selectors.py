from django.db.models import QuerySet

from requests_app.models import Case
from requests_app.selectors import case_list

from .models import Certification, Specialty


def specialist_case_list(*, viewer) -> QuerySet[Case]:
    return case_list(viewer=viewer).select_related("owner")


def certifications_for_specialty(*, specialty: Specialty) -> QuerySet[Certification]:
    """The offered certifications a patient's choice of specialty means
    ("Cardiology": Cardiovascular Disease, Interventional Cardiology, ...), with
    their boards. Reference data, the same for every viewer."""
    return specialty.certifications.filter(active=True).select_related("board")


def certifications_treating(*, icd10_code: str) -> list[Certification]:
    """The offered certifications whose ICD-10-CM ranges hold a code
    ("C50.911": Medical Oncology, Radiation Oncology, General Surgery, ...), in
    the usual order. The ranges are a text syntax, so this reads the ~180
    certifications in one query and tests each in Python (microseconds each:
    a range list is parsed once and cached). A string that is not an ICD-10-CM
    code matches nothing."""
    certifications = Certification.objects.filter(active=True).exclude(icd10_ranges="")
    return [each for each in certifications.select_related("board") if each.treats(icd10_code)]
