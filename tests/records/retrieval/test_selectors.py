"""records.retrieval.selectors: who sees a case's sources, and each source's state
in plain words, for the patient and for staff."""

import datetime

import pytest
from django.utils import timezone

from records.retrieval import selectors
from tests.accounts.factories import UserFactory
from tests.records.retrieval.factories import SourceFactory, sent_source
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(patient, coordinator):
    return CaseFactory(owner=patient, submitted=True, case_manager=coordinator)


def words(source, *, for_patient=True, today=None):
    return selectors.describe(
        source, for_patient=for_patient, today=today or timezone.localdate()
    ).words


def test_the_patient_and_the_case_manager_see_the_sources(case, patient, coordinator, specialist):
    SourceFactory(case=case)
    assert selectors.case_sources(viewer=patient, case=case).count() == 1
    assert selectors.case_sources(viewer=coordinator, case=case).count() == 1
    case.specialist = specialist
    assert selectors.case_sources(viewer=specialist, case=case).count() == 0
    other = UserFactory(role="coordinator")
    assert selectors.case_sources(viewer=other, case=case).count() == 0


def test_each_step_in_plain_words(case):
    source = SourceFactory(case=case)
    assert words(source) == "Waiting for your signature"
    assert words(source, for_patient=False) == "Waiting for the patient's signature"
    signed = SourceFactory(case=case, signed=True)
    assert words(signed).endswith("your care team will send it")
    assert words(signed, for_patient=False).endswith(": ready to send")


def test_the_clock_reads_like_the_issue_says(case):
    source = sent_source(case=case)
    source.sent_on = datetime.date(2026, 12, 2)
    source.due_on = datetime.date(2027, 1, 1)
    source.received = "partly"
    today = datetime.date(2026, 12, 20)
    assert words(source, today=today) == (
        "asked on 2 December, due by 1 January 2027; received in part"
    )
    # What the source sent, when it sent something through its link.
    sent = selectors.describe(
        source, for_patient=True, today=today, received_kinds=("pathology", "imaging", "other")
    )
    assert sent.words == (
        "asked on 2 December, due by 1 January 2027; "
        "received in part: pathology report, imaging, other records"
    )
    late = selectors.describe(source, for_patient=True, today=datetime.date(2027, 1, 2))
    assert late.late and late.tag == "Late"
    assert late.words.endswith("late: not all received by the due date")


def test_an_extension_is_said(case):
    source = sent_source(case=case, extended_at=timezone.now(), extension_reason="Off-site")
    assert "(the records office took 30 more days)" in words(source)


def test_the_patient_is_not_shown_a_refused_email(case):
    source = SourceFactory(
        case=case,
        signed=True,
        email_queued_at=timezone.now(),
        email_failed_at=timezone.now(),
        email_failure_reason="the mail server refused the address (SMTP 550)",
    )
    assert "SMTP 550" in words(source, for_patient=False)
    assert "SMTP" not in words(source, for_patient=True)
