import re
from itertools import pairwise

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from demo.builders.load.plan import status_counts
from demo.data.load import COORDINATORS, LOAD_PASSWORD, LOAD_TOTP_SECRET
from requests_app import services
from requests_app.models import Case, CaseStatus, ReferenceCounter
from requests_app.sections import SECTIONS
from requests_app.workflow import TRANSITIONS
from secondop.accounts.models import User
from tests.accounts.factories import totp_code
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(settings):
    settings.DEBUG = True
    call_command("seed_load", cases=200, verbosity=0)


def sent_cases():
    return Case.objects.exclude(reference=None)


def test_it_makes_cases_at_every_status_in_the_planned_mix(loaded):
    counts = dict(Case.objects.values_list("status").annotate(n=Count("id")))
    assert counts == status_counts(200)
    assert set(counts) == set(CaseStatus.values)
    assert (
        counts[CaseStatus.CLOSED] > counts[CaseStatus.SUBMITTED] > counts[CaseStatus.REPORT_READY]
    )
    assert User.objects.filter(role="patient").count() == 100
    assert User.objects.filter(role="coordinator").count() == COORDINATORS


def test_every_sent_case_has_a_unique_reference_and_drafts_have_none(loaded):
    references = list(sent_cases().values_list("reference", flat=True))
    assert len(references) == len(set(references))
    assert all(re.fullmatch(r"SO-\d{4}-\d{6}", r) for r in references)
    assert not Case.objects.filter(status=CaseStatus.DRAFT).exclude(reference=None).exists()
    # Everything past a draft was sent, except drafts deleted before sending.
    unsent = Case.objects.filter(reference=None).exclude(status=CaseStatus.DRAFT)
    assert set(unsent.values_list("status", flat=True)) <= {CaseStatus.WITHDRAWN}
    assert not sent_cases().filter(submitted_at=None).exists()
    assert not sent_cases().filter(due_at=None).exists()


def test_every_sent_case_has_its_sections_questions_and_timeline(loaded):
    cases = sent_cases().prefetch_related("sections", "questions", "events")
    assert cases.count() > 150
    for case in cases:
        assert {s.section: s.state for s in case.sections.all()} == {
            s.key: "completed" for s in SECTIONS
        }
        assert all(section.is_complete(case) for section in SECTIONS), case.reference
        assert 1 <= len(case.questions.all()) <= 3
        events = list(case.events.all())
        assert (events[0].old_status, events[0].new_status) == ("draft", "submitted")
        assert events[0].created_at == case.submitted_at
        assert events[-1].new_status == case.status
        for before, after in pairwise(events):
            assert before.new_status == after.old_status
            assert (after.old_status, after.new_status) in TRANSITIONS
            assert before.created_at <= after.created_at


def test_new_submissions_continue_after_the_loaded_references(loaded, patient):
    year = timezone.now().year
    numbers = [
        int(r[-6:])
        for r in sent_cases()
        .filter(reference__startswith=f"SO-{year}-")
        .values_list("reference", flat=True)
    ]
    assert ReferenceCounter.objects.get(year=year).last == max(numbers)
    case = CaseFactory(owner=patient, complete=True)
    case = services.case_submit(actor=patient, case_ref=case.uuid)
    assert case.reference == f"SO-{year}-{max(numbers) + 1:06d}"


def test_a_loaded_patient_signs_in_with_the_password_and_sees_their_requests(loaded, client):
    case = sent_cases().select_related("owner").first()
    response = client.post(
        reverse("account_login"), {"login": case.owner.email, "password": LOAD_PASSWORD}
    )
    assert response.status_code == 302
    response = client.get(reverse("requests_app:dashboard"))
    assert response.status_code == 200
    assert case.reference in response.text
    assert client.get(reverse("requests_app:case_detail", args=[case.uuid])).status_code == 200


def test_a_loaded_coordinator_signs_in_with_the_totp_secret(loaded, client):
    coordinator = User.objects.filter(role="coordinator").first()
    response = client.post(
        reverse("account_login"), {"login": coordinator.email, "password": LOAD_PASSWORD}
    )
    assert response.url == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(LOAD_TOTP_SECRET)})
    assert response.status_code == 302
    assert client.get(reverse("requests_app:coordinator_home")).status_code == 200


def test_it_refuses_a_second_load_unless_forced(loaded):
    with pytest.raises(CommandError, match="already has load data"):
        call_command("seed_load", cases=20, verbosity=0)
    call_command("seed_load", cases=20, force=True, verbosity=0)
    assert Case.objects.count() == 220
    references = list(sent_cases().values_list("reference", flat=True))
    assert len(references) == len(set(references))


def test_it_refuses_to_run_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_load", cases=20, verbosity=0)
    assert not Case.objects.exists()


def test_it_loads_specialists_and_the_offers_behind_every_offered_and_assigned_case(loaded):
    from specialists.models import Licence, Offer, SpecialistProfile

    assert SpecialistProfile.objects.count() == 5  # one per hundred cases, at least five
    assert Licence.objects.count() >= 10
    offered = Case.objects.filter(status="offered")
    assert Offer.objects.filter(status="open").count() == offered.count()
    assigned = Case.objects.filter(status__in=["in_review", "delivered", "closed"])
    assert not assigned.filter(specialist__isnull=True).exists()
    assert Offer.objects.filter(status="accepted", conflict_attested=True).count() >= (
        assigned.count()
    )


def test_only_runs_the_named_steps_on_a_loaded_database(loaded):
    from specialists.models import SpecialistProfile

    before = Case.objects.count()
    call_command("seed_load", cases=200, only="specialists", verbosity=0)
    assert Case.objects.count() == before
    assert SpecialistProfile.objects.count() == 10
    with pytest.raises(CommandError, match="No such step"):
        call_command("seed_load", cases=200, only="dragons", verbosity=0)


def test_it_loads_four_records_a_case_on_average_and_the_requests_behind_waiting_cases(loaded):
    from records.models import Record, RecordFile, RecordRequest

    assert Record.objects.count() == 200 * 4
    assert not Record.objects.filter(case__status="draft").exists()
    assert RecordFile.objects.count() >= Record.objects.count()
    record = Record.objects.filter(is_study=False).first()
    assert (
        record.files.get().key
        == f"cases/{record.case.uuid}/records/{record.uuid}/{record.files.get().uuid}"
    )
    waiting = Case.objects.filter(status="awaiting_records")
    assert (
        RecordRequest.objects.filter(case__in=waiting, fulfilled_at=None).count() == waiting.count()
    )
    assert not Record.objects.filter(created_at__gt=timezone.now()).exists()


def test_it_loads_the_released_report_of_every_case_past_delivery(loaded):
    from requests_app.aftercare.models import FollowUpQuestion
    from requests_app.aftercare.selectors import case_delivered_at, concordance
    from requests_app.reports.models import Report, ReportAnswer, ReportVersion

    after = Case.objects.filter(status__in=["delivered", "follow_up", "closed"])
    assert Report.objects.count() == after.count() > 100
    current = ReportVersion.objects.filter(status="released", superseded_at=None)
    assert current.count() == after.count()
    # Each report was first released when its case was delivered, signed before that.
    for version in ReportVersion.objects.filter(number=1).select_related("report__case")[:30]:
        assert version.released_at == case_delivered_at(case=version.report.case)
        assert version.signed_at < version.released_at <= timezone.now()
        assert version.author_id == version.report.case.specialist_id
    # An amendment supersedes the first version.
    for version in ReportVersion.objects.filter(number=2).select_related("superseded_by"):
        first = version.report.versions.get(number=1)
        assert first.superseded_by == version and first.superseded_at == version.released_at
    assert ReportAnswer.objects.count() >= after.count()
    assert not ReportVersion.objects.exclude(
        diagnosis_opinion__in=["agrees", "refined", "different", "undetermined"]
    ).exists()
    # The concordance page has something to count, by specialty.
    rows, total = concordance()
    assert total.total == after.count() and len(rows) >= 3
    assert {opinion for opinion, n, _p in total.diagnosis_cells() if n} >= {
        "agrees",
        "refined",
        "different",
    }
    # Every case in follow-up has its open question.
    in_follow_up = Case.objects.filter(status="follow_up")
    assert FollowUpQuestion.objects.filter(case__in=in_follow_up, answered_at=None).count() == (
        in_follow_up.count()
    )
    # Run again on the loaded database: nothing is added twice.
    call_command("seed_load", cases=200, only="reports", verbosity=0)
    assert Report.objects.count() == after.count()
