import datetime

import pytest
from allauth.mfa.models import Authenticator
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from demo.builders.outcomes import PAST_DOMAIN
from demo.data.accounts import (
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    OTHER_PATIENT,
    PATIENT,
)
from secondop.accounts.models import User
from specialists.matching import rank_specialists
from specialists.models import HeldCertification, Licence, SpecialistProfile
from tests.accounts.factories import totp_code

pytestmark = pytest.mark.django_db

ORIGINAL_SPECIALISTS = [
    "oncologist@demo.secondop.test",
    "cardiologist@demo.secondop.test",
    "neurologist@demo.secondop.test",
    "orthopedist@demo.secondop.test",
]


@pytest.fixture
def seeded(settings):
    settings.DEBUG = True
    call_command("seed_demo")


def test_the_demo_has_a_year_of_past_opinions_for_the_outcomes_page(seeded, client):
    from requests_app.outcomes.selectors import delivered_facts

    facts = delivered_facts()
    assert len(facts) >= 100
    assert len({f.quarter for f in facts}) >= 4
    response = client.get(reverse("outcomes:public"))
    page = response.content.decode()
    assert "fewer than 11" in page and "Medical Oncology" in page
    # Enough cases that every figure set beside the published ones shows, each
    # made of parts of 11 or more (suppression is not lowered for the demo).
    hidden = [k for k, share in response.context["headline"].items() if not share.shown]
    assert hidden == []


def test_seed_demo_is_idempotent_and_makes_every_role(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    counts = (
        User.objects.count(),
        SpecialistProfile.objects.count(),
        Licence.objects.count(),
        HeldCertification.objects.count(),
    )
    call_command("seed_demo")
    assert (
        User.objects.count(),
        SpecialistProfile.objects.count(),
        Licence.objects.count(),
        HeldCertification.objects.count(),
    ) == counts
    roles = set(User.objects.values_list("role", flat=True))
    assert roles == {"patient", "coordinator", "specialist", "admin"}
    assert Authenticator.objects.filter(user__role="coordinator", type="totp").count() == 1
    patient = User.objects.get(email=PATIENT[0])
    statuses = sorted(patient.cases.values_list("status", flat=True))
    assert statuses == ["delivered", "draft", "follow_up", "submitted", "withdrawn"]
    assert patient.cases.get(status="submitted").reference.startswith("SO-")


def test_the_demo_patient_has_a_report_shared_with_her_doctor_and_a_follow_up(seeded):
    from requests_app.aftercare.models import Share

    patient = User.objects.get(email=PATIENT[0])
    delivered = patient.cases.get(status="delivered")
    version = delivered.report.versions.get()
    assert version.status == "released" and version.pdf_sha256
    assert version.diagnosis_opinion == "refined"
    share = Share.objects.get(report__case=delivered)
    # Emailed when the demo's transaction commits (a test's never does).
    assert share.recipient_email == delivered.pcp_email and share.consent_version
    asked = patient.cases.get(status="follow_up")
    assert asked.report.versions.get().status == "released"
    assert asked.follow_ups.get().is_open
    assert asked.specialist.email == "neurologist@demo.secondop.test"


def test_the_demo_has_25_specialists_with_full_profiles(seeded):
    profiles = SpecialistProfile.objects.select_related("user").prefetch_related(
        "specialties", "certifications", "licences"
    )
    assert profiles.count() >= 25
    assert profiles.values("specialties").distinct().count() >= 10
    for profile in profiles:
        assert profile.user.role == "specialist"
        assert profile.title and profile.institution and profile.bio, profile
        assert 1 <= len(profile.specialties.all()) <= 3, profile
        assert profile.certifications.all() and all(
            1990 <= held.year <= timezone.localdate().year for held in profile.certifications.all()
        )
        assert profile.conditions and profile.languages and profile.consultation_modes, profile
        assert profile.licences.all() and all(lic.number for lic in profile.licences.all())
        assert Authenticator.objects.filter(user=profile.user, type="totp").exists()
    today = timezone.localdate()
    expiries = [lic.expires_on for lic in Licence.objects.all()]
    assert sum(day > today for day in expiries) / len(expiries) > 0.9
    # The original four keep their addresses.
    assert set(ORIGINAL_SPECIALISTS) <= set(profiles.values_list("user__email", flat=True))


def test_the_original_demo_specialist_signs_in_with_the_password_and_code(seeded, client):
    response = client.post(
        reverse("account_login"), {"login": ORIGINAL_SPECIALISTS[0], "password": DEMO_PASSWORD}
    )
    assert response.url == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(DEMO_TOTP_SECRET)})
    assert response.status_code == 302


def test_one_specialist_is_on_leave_now_one_at_capacity_one_not_taking_cases(seeded):
    today = timezone.localdate()
    away = SpecialistProfile.objects.filter(
        leave__starts_on__lte=today, leave__ends_on__gte=today + datetime.timedelta(days=13)
    )
    assert away.count() == 1
    liu = SpecialistProfile.objects.get(user__email="grace.liu@demo.secondop.test")
    assert liu.max_open_cases == 1
    case = liu.user.assigned_cases.get()
    assert case.status == "in_review"
    assert case.owner.email == OTHER_PATIENT[0]
    assert SpecialistProfile.objects.filter(accepting_cases=False).exists()


def test_every_specialty_a_patient_can_choose_has_a_verified_specialist_in_the_top_ten_states(
    seeded,
):
    """For each specialty on the intake list and each of the ten most populous
    states, a case there asking for it finds someone who qualifies."""
    from demo.data.coverage import TOP_TEN_STATES
    from requests_app.models import Case
    from specialists.models import Specialty
    from specialists.specialties import ALL_SPECIALTIES

    patient = User.objects.get(email=PATIENT[0])
    template = patient.cases.get(status="submitted")
    for slug, _name, _description in ALL_SPECIALTIES:
        for state in TOP_TEN_STATES:
            case = Case(
                owner=patient,
                status="matching",
                specialty=Specialty.objects.get(slug=slug),
                patient_state=state,
                consultation_type="written",
                icd10=None,
                due_at=template.due_at,
                diagnosing_institution="Nowhere Clinic",
            )
            assert rank_specialists(case=case).candidates, (slug, state)


def test_the_demo_shows_the_credentialing_page_at_work(seeded):
    from specialists import credentialing

    assert Licence.objects.filter(verification="verified").count() > 200
    assert credentialing.licences_waiting().count() == 2
    soon = timezone.localdate() + datetime.timedelta(days=40)
    assert credentialing.licences_expiring().filter(expires_on=soon).count() == 1


def test_the_readmes_claims_about_matching_the_demo_case_hold(seeded):
    """README.md, "Demo accounts": what matching Maria's sent request shows."""
    case = User.objects.get(email=PATIENT[0]).cases.get(status="submitted")
    ranking = rank_specialists(case=case)
    through_specialty = [
        c for c in ranking.candidates if "qualifies through the diagnosis code" not in c.reasons[0]
    ]
    through_code = [c for c in ranking.candidates if c not in through_specialty]
    assert (len(through_specialty), len(through_code)) == (6, 5)
    # The exact fits come first.
    assert ranking.candidates[:6] == through_specialty
    assert ranking.excluded["specialty"] == 55
    nearest = " ".join(ranking.nearest)
    for words in (
        "Dr. Rebecca Lindqvist would qualify, but does not offer this consultation",
        "Dr. Grace Liu would qualify, but has no free slot",
        "Dr. Michael Brennan would qualify, but is away",
        "Dr. Daniel Kim would qualify, but works at the diagnosing institution",
        "Dr. Ana Sofía Herrera would qualify, but is not licensed in New York",
    ):
        assert words in nearest
    readme = " ".join((settings_base_dir() / "README.md").read_text().split())
    assert "six specialists qualify through Medical Oncology" in readme
    assert "five more only through the breast-cancer code" in readme
    assert "55 are counted as not in Medical Oncology" in readme


def settings_base_dir():
    from django.conf import settings

    return settings.BASE_DIR


def test_matching_the_demo_case_shows_every_kind_of_reason(seeded):
    case = User.objects.get(email=PATIENT[0]).cases.get(status="submitted")
    assert (case.specialty.slug, case.patient_state, case.consultation_type) == (
        "oncology",
        "NY",
        "video",
    )
    assert case.diagnosing_institution == "Metro General"
    ranking = rank_specialists(case=case)
    oncologists = [
        c for c in ranking.candidates if c.profile.specialties.filter(slug="oncology").exists()
    ]
    assert len(oncologists) >= 3
    assert all(c.licence.state == "NY" for c in oncologists)
    names = {c.profile.user.email for c in ranking.candidates}
    assert "daniel.kim@demo.secondop.test" not in names  # at Metro General
    assert "ana.herrera@demo.secondop.test" not in names  # licensed only in NJ
    assert not Licence.objects.filter(
        profile__user__email="ana.herrera@demo.secondop.test", state="NY"
    ).exists()
    assert {"institution", "licence", "leave", "capacity", "mode"} <= set(ranking.excluded)


def test_the_demo_coordinator_signs_in_with_the_published_totp_secret(client, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    response = client.post(
        reverse("account_login"),
        {"login": "coordinator@demo.secondop.test", "password": DEMO_PASSWORD},
    )
    assert response.url == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(DEMO_TOTP_SECRET)})
    assert response.status_code == 302
    assert client.get(reverse("requests_app:coordinator_home")).status_code == 200


def test_seed_demo_refuses_to_run_without_debug(settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo")


# What each demo case is about, from its diagnosis: the words that belong to it,
# and the specialty that answers it. A case's questions, symptoms, treatment,
# worries and records may use only its own topic's words.
TOPICS = {
    "breast": (("breast", "mastectomy", "lumpectomy", "nipple"), "oncology"),
    "lung": (("lung", "lobectomy", "cough", "nodule"), "oncology"),
    "knee": (("knee",), "orthopedics"),
    "heart": (("heart", "atrial", "ablation", "blood thinner"), "cardiology"),
    "head": (("migraine", "headache", "aura", "botox", "topiramate"), "neurology"),
    "ms": (("multiple sclerosis", "infusion", "relapse"), "neurology"),
}


def _topics(text: str) -> set[str]:
    text = text.lower()
    return {name for name, (words, _) in TOPICS.items() if any(w in text for w in words)}


def test_every_demo_case_talks_only_about_its_own_diagnosis(seeded):
    from requests_app.models import Case

    sent = (
        Case.objects.exclude(status="draft")
        .exclude(owner__email__endswith="@" + PAST_DOMAIN)  # the outcomes page's rows only
        .prefetch_related("questions", "records")
    )
    assert sent.count() >= 8
    for case in sent:
        own = _topics(case.diagnosis)
        assert own, f"{case.diagnosis!r} names no known topic"
        assert {TOPICS[t][1] for t in own} == {case.specialty.slug}, case.diagnosis
        said = " ".join(
            [
                case.symptoms,
                case.proposed_treatment,
                case.concerns,
                *(q.text for q in case.questions.all()),
                *(r.title for r in case.records.all()),
            ]
        )
        assert case.questions.exists() and case.symptoms, case.diagnosis
        foreign = _topics(said) - own
        assert not foreign, f"{case.diagnosis!r} talks about {foreign}: {said!r}"


def test_every_demo_case_the_care_team_worked_on_shows_their_visits_to_the_patient(seeded, client):
    from records.selectors import looks_by_record
    from requests_app.models import Case

    worked_on = Case.objects.exclude(status__in=["draft", "submitted", "withdrawn"]).exclude(
        owner__email__endswith="@" + PAST_DOMAIN  # the outcomes page's rows, no visits
    )
    assert set(worked_on.values_list("status", flat=True)) >= {
        "triage",
        "offered",
        "in_review",
        "delivered",
        "follow_up",
    }
    for case in worked_on:
        client.force_login(case.owner)
        page = client.get(reverse("requests_app:case_detail", args=[case.uuid]))
        looked = page.content.decode().split("Who on the care team has looked", 1)[1]
        assert case.case_manager.full_name in looked, case.diagnosis
        if case.specialist_id:
            assert case.specialist.full_name in looked, case.diagnosis
            records = list(case.records.all())
            looks = looks_by_record(records)
            assert records and all(
                case.specialist.full_name in {look.name for look in looks.get(r.pk, [])}
                for r in records
            ), case.diagnosis
    # Nobody opened a case no one has claimed yet.
    untouched = Case.objects.get(owner__email=PATIENT[0], status="submitted")
    client.force_login(untouched.owner)
    page = client.get(reverse("requests_app:case_detail", args=[untouched.uuid]))
    looked = page.content.decode().split("Who on the care team has looked", 1)[1]
    assert "Grace Okafor" not in looked
