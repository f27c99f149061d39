"""Specialty fit is a hard filter: for each specialty a patient can choose, only a
specialist who practises it (directly or through a certification it means) or
whose certification covers the case's code qualifies; anyone else is counted
under "specialty", never ranked."""

import datetime

import pytest
from django.utils import timezone

from requests_app.icd10.models import Icd10Code
from specialists.data_check import certification_covering_nothing
from specialists.matching import _is_pediatric, rank_specialists
from specialists.models import Specialty
from specialists.specialties import ALL_SPECIALTIES
from tests.requests_app.factories import CaseFactory
from tests.specialists.factories import SpecialistFactory

pytestmark = pytest.mark.django_db


def _case(patient, **fields):
    return CaseFactory(
        owner=patient,
        submitted=True,
        status="matching",
        due_at=timezone.now() + datetime.timedelta(days=7),
        **fields,
    )


def _names(ranking):
    return [c.profile.user.full_name for c in ranking.candidates]


@pytest.mark.parametrize("slug", [slug for slug, _name, _description in ALL_SPECIALTIES])
def test_each_specialty_qualifies_only_those_who_practise_it(patient, slug):
    specialty = Specialty.objects.get(slug=slug)
    means = list(specialty.certifications.select_related("board").order_by("slug"))
    assert means, f"{slug} means no certification"
    case = _case(patient, specialty=specialty, icd10=None)  # an adult (born 1970)
    # A pediatric certificate fits an adult only where the specialty is itself pediatric.
    grown = [c for c in means if not _is_pediatric(c)] or means
    # Through a certification the specialty means, and through their own list.
    SpecialistFactory(
        user__full_name="Dr. Certified", certified=(grown[0].slug,), specialty_slugs=()
    )
    SpecialistFactory(user__full_name="Dr. Listed", certified=(), specialty_slugs=(slug,))
    # Board-certified in something this specialty does not mean.
    SpecialistFactory(
        user__full_name="Dr. Elsewhere",
        certified=(certification_covering_nothing(exclude=[c.slug for c in means]),),
        specialty_slugs=(),
    )
    ranking = rank_specialists(case=case)
    assert sorted(_names(ranking)) == ["Dr. Certified", "Dr. Listed"]
    assert ranking.excluded == {"specialty": 1}
    assert ranking.why_no_one() == [f"1 not in {specialty.name}"]


def test_an_endocrinologist_never_qualifies_for_breast_cancer(patient):
    case = _case(
        patient,
        specialty=Specialty.objects.get(slug="oncology"),
        icd10=Icd10Code.objects.get(code="C50.911"),
    )
    SpecialistFactory(
        user__full_name="Dr. Endocrine",
        specialty_slugs=("endocrinology",),
        certified=("abim-endocrinology-diabetes-and-metabolism",),
    )
    SpecialistFactory(user__full_name="Dr. Oncology")
    ranking = rank_specialists(case=case)
    assert _names(ranking) == ["Dr. Oncology"]
    assert ranking.why_no_one() == ["1 not in Medical Oncology and not treating C50.911"]


def test_a_certification_covering_the_code_qualifies_after_the_exact_specialty(patient):
    case = _case(
        patient,
        specialty=Specialty.objects.get(slug="oncology"),
        icd10=Icd10Code.objects.get(code="C50.911"),
    )
    SpecialistFactory(
        user__full_name="Dr. Breast Surgeon",
        specialty_slugs=("general-surgery",),
        certified=("abs-general-surgery",),
        conditions=[],
    )
    SpecialistFactory(user__full_name="Dr. Oncologist")
    ranking = rank_specialists(case=case)
    assert _names(ranking) == ["Dr. Oncologist", "Dr. Breast Surgeon"]
    surgeon = ranking.candidates[1]
    assert (
        "Board-certified in General Surgery: qualifies through the diagnosis code, not the "
        "specialty asked for"
    ) in surgeon.reasons


def test_a_case_whose_patient_was_not_sure_fits_by_code_until_the_specialty_is_chosen(patient):
    migraine = Icd10Code.objects.filter(code__startswith="G43").order_by("code").first()
    case = _case(patient, specialty=None, specialty_unsure=True, icd10=migraine)
    SpecialistFactory(
        user__full_name="Dr. Neuro", specialty_slugs=("neurology",), certified=("abpn-neurology",)
    )
    SpecialistFactory(
        user__full_name="Dr. Heart",
        specialty_slugs=("cardiothoracic-surgery",),
        certified=("abts-thoracic-and-cardiac-surgery",),
    )
    ranking = rank_specialists(case=case)
    assert _names(ranking) == ["Dr. Neuro"]
    assert ranking.why_no_one() == [f"1 not treating {migraine.code}"]


def test_a_case_with_no_specialty_and_no_code_fits_no_one(patient):
    case = _case(patient, specialty=None, specialty_unsure=True, icd10=None)
    SpecialistFactory()
    ranking = rank_specialists(case=case)
    assert ranking.candidates == []
    assert ranking.why_no_one() == ["1 considered, but the case has no specialty yet: choose one"]


def test_specialty_is_never_relaxed(patient):
    case = _case(patient, specialty=Specialty.objects.get(slug="cardiology"), icd10=None)
    SpecialistFactory()  # an oncologist
    ranking = rank_specialists(case=case, relax={"specialty", "language", "mode"})
    assert ranking.candidates == [] and ranking.excluded == {"specialty": 1}


def test_the_page_counts_who_was_considered_and_the_nearest_miss(patient):
    case = _case(
        patient, patient_state="WY", diagnosing_institution="Cheyenne Regional", icd10=None
    )
    SpecialistFactory(
        user__full_name="Dr. Local",
        licensed_in=("WY",),
        institution="Cheyenne Regional Medical Center",
    )
    SpecialistFactory(user__full_name="Dr. Far", licensed_in=("NY",))
    ranking = rank_specialists(case=case)
    assert ranking.candidates == [] and ranking.considered == 2
    assert ranking.nearest[0] == (
        "Dr. Local would qualify, but works at the diagnosing "
        "institution (Cheyenne Regional Medical Center)"
    )


def test_an_unverified_licence_is_the_first_nearest_miss(patient):
    case = _case(patient, icd10=None)
    SpecialistFactory(user__full_name="Dr. Waiting", licence_verification="unverified")
    ranking = rank_specialists(case=case)
    assert ranking.candidates == [] and ranking.excluded == {"licence": 1}
    assert ranking.nearest == [
        "Dr. Waiting would qualify, but their licence in New York is not "
        "verified yet: an administrator can check it on the "
        "credentialing page"
    ]


def test_a_pediatric_certificate_fits_a_child_not_an_adult(patient):
    import datetime as dt

    oncology = Specialty.objects.get(slug="oncology")
    code = Icd10Code.objects.get(code="C50.911")
    SpecialistFactory(
        user__full_name="Dr. Pediatric",
        specialty_slugs=(),
        certified=("abp-pediatric-hematology-oncology",),
    )
    adult = _case(patient, specialty=oncology, icd10=code)
    child = _case(
        patient,
        specialty=oncology,
        icd10=code,
        patient_dob=timezone.localdate() - dt.timedelta(days=365 * 12),
    )
    assert rank_specialists(case=adult).candidates == []
    assert _names(rank_specialists(case=child)) == ["Dr. Pediatric"]


def test_pathology_fits_through_the_code_only_when_the_case_asks_for_pathology(patient):
    code = Icd10Code.objects.get(code="C50.911")
    SpecialistFactory(
        user__full_name="Dr. Slides",
        specialty_slugs=(),
        certified=("abpath-anatomic-pathology-and-clinical-pathology",),
    )
    oncology = _case(patient, specialty=Specialty.objects.get(slug="oncology"), icd10=code)
    pathology = _case(patient, specialty=Specialty.objects.get(slug="pathology"), icd10=code)
    assert rank_specialists(case=oncology).excluded == {"specialty": 1}
    assert _names(rank_specialists(case=pathology)) == ["Dr. Slides"]
