import datetime
import re

import pytest
from django.db.models.signals import post_init
from django.utils import timezone

from requests_app.icd10.models import Icd10Code
from specialists.matching import rank_specialists, specialists_for_matching
from specialists.models import Offer, SpecialistProfile
from tests.requests_app.factories import CaseFactory
from tests.specialists.factories import SpecialistFactory, away

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(patient):
    return CaseFactory(
        owner=patient,
        submitted=True,
        status="matching",
        icd10=Icd10Code.objects.get(code="C50.911"),
        due_at=timezone.now() + datetime.timedelta(days=7),
    )


def _names(ranking):
    return [c.profile.user.full_name for c in ranking.candidates]


def test_a_specialist_who_passes_every_check_is_ranked_with_reasons(case):
    good = SpecialistFactory(user__full_name="Dr. Good", languages=["English", "Spanish"])
    ranking = rank_specialists(case=case)
    assert _names(ranking) == ["Dr. Good"]
    why = "; ".join(ranking.candidates[0].reasons)
    assert "Board-certified in Medical Oncology" in why
    assert "treats C50 Malignant neoplasm of breast" in why
    assert re.search(r"licensed in NY \(verified \d{4}-\d\d-\d\d, expires 2030-01\)", why)
    assert "8 of 8 slots free" in why and "usual turnaround 7 days" in why
    assert good.pk and ranking.excluded == {}


@pytest.mark.parametrize(
    ("name", "make", "words"),
    [
        ("accepting", lambda: SpecialistFactory(accepting_cases=False), "not accepting new cases"),
        (
            "licence",
            lambda: SpecialistFactory(licensed_in=("NJ",)),
            "without a verified licence in NY",
        ),
        (
            "licence",
            lambda: SpecialistFactory(
                licence_expires=timezone.localdate() + datetime.timedelta(days=2)
            ),
            "without a verified licence in NY",
        ),
        (
            "institution",
            lambda: SpecialistFactory(institution="Metro General Hospital"),
            "at the diagnosing institution",
        ),
        (
            "mode",
            lambda: SpecialistFactory(consultation_modes=["video"]),
            "not offering this consultation",
        ),
    ],
)
def test_each_hard_filter_excludes_and_is_counted(case, name, make, words):
    make()
    ranking = rank_specialists(case=case)
    assert ranking.candidates == []
    assert ranking.excluded == {name: 1}
    assert any(words in line for line in ranking.why_no_one())


def test_capacity_counts_assigned_cases_and_open_offers(case, patient, coordinator):
    full = SpecialistFactory(max_open_cases=2)
    CaseFactory(owner=patient, submitted=True, status="in_review", specialist=full.user)
    other = CaseFactory(owner=patient, submitted=True, status="offered")
    Offer.objects.create(
        case=other,
        specialist=full.user,
        offered_by=coordinator,
        deadline=timezone.now() + datetime.timedelta(hours=5),
    )
    assert rank_specialists(case=case).excluded == {"capacity": 1}


def test_leave_before_the_due_date_excludes_leave_after_does_not(case):
    today = timezone.localdate()
    away(SpecialistFactory(user__full_name="Dr. Away"), today, today + datetime.timedelta(days=3))
    away(
        SpecialistFactory(user__full_name="Dr. Later"),
        today + datetime.timedelta(days=30),
        today + datetime.timedelta(days=40),
    )
    ranking = rank_specialists(case=case)
    assert _names(ranking) == ["Dr. Later"] and ranking.excluded == {"leave": 1}


def test_a_language_asked_for_filters_and_can_be_relaxed(case):
    case.specialist_language = "Spanish"
    SpecialistFactory(user__full_name="Dr. English")
    SpecialistFactory(user__full_name="Dr. Bilingual", languages=["English", "spanish"])
    assert _names(rank_specialists(case=case)) == ["Dr. Bilingual"]
    relaxed = rank_specialists(case=case, relax={"language"})
    assert sorted(_names(relaxed)) == ["Dr. Bilingual", "Dr. English"]


def test_licensure_is_never_relaxed(case):
    SpecialistFactory(licensed_in=("WY",))
    assert rank_specialists(case=case, relax={"licence", "language", "mode"}).candidates == []


def test_a_declined_specialist_is_never_ranked_again(case, coordinator):
    declined = SpecialistFactory(user__full_name="Dr. Declined")
    SpecialistFactory(user__full_name="Dr. Other")
    Offer.objects.create(
        case=case,
        specialist=declined.user,
        offered_by=coordinator,
        status="declined",
        deadline=timezone.now(),
    )
    ranking = rank_specialists(case=case)
    assert _names(ranking) == ["Dr. Other"] and ranking.excluded == {"offered": 1}


def test_the_only_licensed_specialist_at_the_diagnosing_institution_means_no_one(patient):
    case = CaseFactory(
        owner=patient,
        submitted=True,
        status="matching",
        patient_state="WY",
        diagnosing_institution="Cheyenne Regional",
    )
    SpecialistFactory(licensed_in=("WY",), institution="Cheyenne Regional Medical Center")
    SpecialistFactory(licensed_in=("NY",))
    SpecialistFactory(licensed_in=("CO",))
    ranking = rank_specialists(case=case)
    assert ranking.candidates == []
    assert ranking.why_no_one() == [
        "2 without a verified licence in WY valid on the due date",
        "1 at the diagnosing institution",
    ]


def test_scores_order_as_documented(case):
    # Through the board only: specialty 30 + condition 10 = 40.
    SpecialistFactory(user__full_name="Dr. Through Board", specialty_slugs=(), conditions=[])
    # Their own lists: specialty 40 + condition 25 = 65.
    SpecialistFactory(user__full_name="Dr. Exact")
    # Board only, but the patient's choice: 40 + 30 = 70.
    preferred = SpecialistFactory(
        user__full_name="Dr. Preferred", specialty_slugs=(), conditions=[]
    )
    case.preferred_specialist = preferred
    ranking = rank_specialists(case=case)
    assert _names(ranking) == ["Dr. Preferred", "Dr. Exact", "Dr. Through Board"]
    chosen, exact, board = ranking.candidates
    # The same for all three: Medical Oncology is a subspecialty (10), they speak
    # the patient's English (5), turnaround 7 days (11 - 7), every slot free (10).
    same = 10 + 5 + 4 + 10
    assert (chosen.score, exact.score, board.score) == (70 + same, 65 + same, 40 + same)
    assert "the patient asked for this specialist" in chosen.reasons


def test_ties_are_broken_by_load_then_name(case, patient):
    # Equal scores: 1 open case of 20 still rounds to a full 10 points of load.
    busy = SpecialistFactory(user__full_name="Dr. A Busy", max_open_cases=20)
    CaseFactory(owner=patient, submitted=True, status="in_review", specialist=busy.user)
    SpecialistFactory(user__full_name="Dr. Z Free")
    SpecialistFactory(user__full_name="Dr. Y Free")
    ranking = rank_specialists(case=case)
    assert len({c.score for c in ranking.candidates}) == 1  # a true tie
    assert _names(ranking) == ["Dr. Y Free", "Dr. Z Free", "Dr. A Busy"]


def test_ranking_reads_a_fixed_number_of_queries(case, django_assert_max_num_queries):
    for _ in range(3):
        SpecialistFactory()
    with django_assert_max_num_queries(12) as few:
        rank_specialists(case=case)
    for _ in range(30):
        SpecialistFactory()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(rank_specialists(case=case).candidates) == 33


def test_a_specialist_failing_several_filters_counts_under_each(case):
    SpecialistFactory(accepting_cases=False, licensed_in=("NJ",), consultation_modes=["video"])
    assert rank_specialists(case=case).excluded == {"accepting": 1, "licence": 1, "mode": 1}
    # Relaxing one check removes its count only: licensure still excludes them.
    relaxed = rank_specialists(case=case, relax={"mode"})
    assert relaxed.candidates == [] and relaxed.excluded == {"accepting": 1, "licence": 1}


def test_capacity_counts_only_open_cases_and_open_offers(case, patient, coordinator):
    one = SpecialistFactory(max_open_cases=1)
    CaseFactory(
        owner=patient,
        submitted=True,
        status="closed",
        specialist=one.user,
        closed_at=timezone.now(),
    )
    other = CaseFactory(owner=patient, submitted=True, status="matching")
    Offer.objects.create(
        case=other,
        specialist=one.user,
        offered_by=coordinator,
        status="declined",
        deadline=timezone.now(),
    )
    ranking = rank_specialists(case=case)
    assert [c.open_cases for c in ranking.candidates] == [0] and ranking.excluded == {}


def test_an_overdue_case_needs_a_licence_valid_today(patient):
    overdue = CaseFactory(
        owner=patient,
        submitted=True,
        status="matching",
        due_at=timezone.now() - datetime.timedelta(days=3),
    )
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    SpecialistFactory(licence_expires=yesterday)  # valid on the due date, not today
    SpecialistFactory(user__full_name="Dr. Valid")
    ranking = rank_specialists(case=overdue)
    assert _names(ranking) == ["Dr. Valid"] and ranking.excluded == {"licence": 1}


def test_the_licence_shown_is_the_one_in_the_patients_state(case):
    SpecialistFactory(licensed_in=("CA", "NY", "TX"), licence_expires=datetime.date(2029, 6, 30))
    (only,) = rank_specialists(case=case).candidates
    assert (only.licence.state, only.licence.expires_on) == ("NY", datetime.date(2029, 6, 30))


def test_profiles_narrow_the_choice_as_a_queryset_or_a_list(case):
    chosen = SpecialistFactory(user__full_name="Dr. Chosen")
    SpecialistFactory(user__full_name="Dr. Other")
    SpecialistFactory(licensed_in=("NJ",))
    narrowed = specialists_for_matching().filter(user_id=chosen.user_id)
    assert _names(rank_specialists(case=case, profiles=narrowed)) == ["Dr. Chosen"]
    ranking = rank_specialists(case=case, profiles=[chosen])
    assert _names(ranking) == ["Dr. Chosen"] and ranking.excluded == {}


def test_only_those_who_qualify_are_built_as_profiles(case):
    """The filters read plain rows: at 1,000 specialists, a model instance (and
    its user) for each cost more than the query. Only candidates are built."""
    SpecialistFactory(user__full_name="Dr. Good")
    for _ in range(5):
        SpecialistFactory(licensed_in=("NJ",))
    built = []

    def count(sender, instance, **kwargs):
        built.append(instance)

    post_init.connect(count, sender=SpecialistProfile)
    try:
        ranking = rank_specialists(case=case)
    finally:
        post_init.disconnect(count, sender=SpecialistProfile)
    assert _names(ranking) == ["Dr. Good"] and ranking.excluded == {"licence": 5}
    assert len(built) == 1
