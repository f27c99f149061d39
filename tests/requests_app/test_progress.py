"""One truthful status: the sentence, the next step and the tracker agree with
each other and with the case's facts (its records, a question waiting, a
consultation), for every status and every records situation."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from requests_app.models import CaseEvent, CaseStatus
from requests_app.progress import (
    BEFORE_REVIEW,
    GATHERING,
    STATUS_TEXT,
    CaseFacts,
    Records,
    describe,
)
from tests.records.factories import RecordFactory, RecordRequestFactory
from tests.requests_app.factories import CaseFactory

S = CaseStatus
EVENING = datetime.datetime(2026, 12, 7, 23, 30, tzinfo=datetime.UTC)

SITUATIONS = {
    Records.NONE: CaseFacts(),
    Records.CHECKING: CaseFacts(records_checking=2, records_checked=1),
    Records.CHECKED: CaseFacts(records_checked=3),
    Records.REQUESTED: CaseFacts(records_asked=1, records_checked=1),
    # A checked study labelled for another person, waiting for the patient's answer.
    Records.FLAGGED: CaseFacts(records_flagged=1, records_checked=1),
}
SENT = [s for s in CaseStatus if s != S.DRAFT]


def _words(d: dict) -> str:
    return " | ".join([str(d["plain_status"]), d["next_step"], *[s.label for s in d["steps"]]])


def _check_agreement(status: str, facts: CaseFacts, d: dict) -> None:
    """The rules a reader would notice being broken."""
    words = _words(d)
    records = facts.records(status)
    assert d["records"] == records
    # Nothing said about records being checked unless some are.
    if "records being checked" in words or "records you sent" in words:
        assert facts.records_checking, words
    if "Send your medical records" in d["next_step"]:
        assert records == Records.NONE and not facts.open_questions, words
    if "are checked and ready" in d["next_step"] or "is checked and ready" in d["next_step"]:
        assert records == Records.CHECKED, words
    # A study labelled for another person is never counted as ready: it waits for them.
    if facts.records_flagged:
        assert "waiting for your answer" in d["records_words"], d["records_words"]
        assert f"{facts.records_checked} checked and ready" in d["records_words"] or not (
            facts.records_checked
        )
        if d["next_step"] and not facts.open_questions:
            assert d["next_step"].startswith("Tell us whether"), words
            assert d["next_link"] == "records" and d["waiting_on_patient"]
    # "Nothing to do" is never said while the patient has something to do.
    if d["next_step"].startswith("Nothing to do"):
        assert not facts.open_questions, words
        assert not facts.records_flagged, words
        assert not (status in GATHERING and records == Records.NONE), words
        assert not (
            status in GATHERING and records == Records.REQUESTED and not facts.records_checking
        ), words
    if status in GATHERING and records == Records.NONE and not facts.open_questions:
        assert "Send your medical records" in d["next_step"], words
    if (
        status in GATHERING
        and records == Records.REQUESTED
        and not (facts.open_questions or facts.records_flagged)
    ):
        assert "asked for" in d["next_step"], words
    # The tracker: at most one step in progress, and it says so.
    current = [s for s in d["steps"] if s.state == "current"]
    assert len(current) <= 1
    for step in current:
        assert step.label.startswith("now: "), words
    for step in d["steps"]:
        if step.state != "current":
            assert not step.label.startswith("now"), words
    # The sentence and the tracker name the same stage.
    if status in {S.MATCHING, S.OFFERED}:
        assert "finding" in str(d["plain_status"]) and "finding" in current[0].label
    if status == S.SUBMITTED:
        assert "nurse coordinator" in str(d["plain_status"]) and "coordinator" in current[0].label
    if status == S.AWAITING_RECORDS:
        assert "records" in str(d["plain_status"]) and "records" in current[0].label
    # A report that is out promises no due date and says when it came.
    if status in {S.DELIVERED, S.FOLLOW_UP, S.CLOSED}:
        assert not d["shows_due_date"]
        assert d["delivered_at"] == facts.delivered_at
        assert all(s.state == "done" for s in d["steps"] if s.label != current_label(d))
    if status in {S.WITHDRAWN, S.CANCELLED}:
        assert d["steps"] == [] and d["next_step"] == "" and not d["shows_due_date"]


def current_label(d: dict) -> str:
    return next((s.label for s in d["steps"] if s.state == "current"), "")


@pytest.mark.parametrize("questions", [0, 1])
@pytest.mark.parametrize("situation", list(SITUATIONS))
@pytest.mark.parametrize("status", SENT)
def test_every_status_and_records_situation_says_one_thing(status, situation, questions):
    base = SITUATIONS[situation]
    facts = CaseFacts(
        **{
            **base.__dict__,
            "open_questions": questions
            if status not in {S.CLOSED, S.WITHDRAWN, S.CANCELLED}
            else 0,
            "delivered_at": EVENING,
        }
    )
    _check_agreement(status, facts, describe(status, facts))


def test_right_after_sending_the_words_depend_on_the_records():
    none = describe(S.SUBMITTED, SITUATIONS[Records.NONE])
    assert none["next_step"].startswith("Send your medical records")
    assert none["next_link"] == "records"
    checking = describe(S.SUBMITTED, CaseFacts(records_checking=3))
    assert checking["next_step"] == "Nothing to do now. We are checking the 3 records you sent."
    checked = describe(S.TRIAGE, CaseFacts(records_checked=3))
    assert "Your 3 records are checked and ready" in checked["next_step"]
    # The old tracker said "records being checked" whatever the records were.
    for d in (none, checking, checked):
        assert "now: records being checked" not in _words(d)
    assert describe(S.TRIAGE, CaseFacts(records_checking=1))["steps"][1].label == (
        "now: checking your request and your records"
    )


def test_a_question_waiting_comes_first_and_links_to_the_messages():
    d = describe(S.IN_REVIEW, CaseFacts(open_questions=2))
    assert d["next_step"] == "Answer your care team's 2 questions"
    assert d["next_link"] == "messages" and d["waiting_on_patient"]


def test_a_booked_consultation_is_the_next_step_with_its_time_and_zone():
    timezone.activate("America/New_York")
    try:
        d = describe(
            S.CONSULTATION,
            CaseFacts(records_checked=1, consultation="booked", consultation_at=EVENING),
        )
    finally:
        timezone.deactivate()
    assert d["next_step"] == "Go to your consultation on 7 December 2026, 6:30 PM EST"
    assert current_label(d) == "now: your consultation with the specialist"


def test_records_asked_for_during_the_review_keep_the_tracker_at_the_review():
    d = describe(S.AWAITING_RECORDS, CaseFacts(records_asked=1, asked_in_review=True))
    assert [s.state for s in d["steps"]][:4] == ["done", "done", "done", "current"]
    assert current_label(d) == "now: waiting for the records the specialist asked for"


def test_delivered_says_when_and_promises_nothing_more():
    d = describe(S.DELIVERED, CaseFacts(records_checked=2, delivered_at=EVENING))
    assert not d["shows_due_date"] and d["delivered_at"] == EVENING
    assert all(s.state == "done" for s in d["steps"])
    assert d["steps"][-1].label == "Report delivered"
    assert d["next_link"] == "report"


def test_a_study_labelled_for_another_person_is_not_ready_but_waits_for_the_patient():
    d = describe(S.TRIAGE, CaseFacts(records_checked=2, records_flagged=1))
    assert d["records_words"] == (
        "2 checked and ready, 1 waiting for your answer (labelled for another person?)"
    )
    assert d["next_step"] == (
        "Tell us whether a study you sent is yours: it is labelled for another person"
    )
    assert d["next_link"] == "records" and d["waiting_on_patient"]
    # Only the flagged study: nothing is "checked and ready", nothing to send either.
    alone = describe(S.IN_REVIEW, CaseFacts(records_flagged=2))
    assert alone["records_words"] == "2 waiting for your answer (labelled for another person?)"
    assert alone["next_step"].startswith("Tell us whether 2 studies you sent are yours")
    # A question from the care team still comes first.
    asked = describe(S.IN_REVIEW, CaseFacts(records_flagged=1, open_questions=1))
    assert asked["next_link"] == "messages"


def test_the_tables_cover_every_status():
    assert set(STATUS_TEXT) == set(CaseStatus)
    assert BEFORE_REVIEW < GATHERING


# --- The pages ------------------------------------------------------------------------------
def _case_in(patient, status, situation, specialist):
    case = CaseFactory(
        owner=patient,
        submitted=True,
        status=status,
        specialist=specialist if status not in BEFORE_REVIEW else None,
    )
    if situation == Records.CHECKING:
        RecordFactory(case=case, state="scanning")
        RecordFactory(case=case)
    elif situation == Records.CHECKED:
        RecordFactory(case=case)
        RecordFactory(case=case)
    elif situation == Records.REQUESTED:
        RecordRequestFactory(case=case, note="Your biopsy report", return_to="triage")
    elif situation == Records.FLAGGED:
        RecordFactory(case=case)
        RecordFactory(case=case, category="imaging", is_study=True, identity="asked")
    if status in {S.DELIVERED, S.FOLLOW_UP, S.CLOSED}:
        CaseEvent.objects.create(case=case, old_status=S.REPORT_READY, new_status=S.DELIVERED)
    return case


@pytest.mark.django_db
@pytest.mark.parametrize("situation", list(SITUATIONS))
@pytest.mark.parametrize("status", SENT)
def test_the_case_page_and_the_dashboard_agree_with_the_facts(
    client, patient, specialist, status, situation
):
    case = _case_in(patient, status, situation, specialist)
    client.force_login(patient)
    html = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    dashboard = client.get(reverse("requests_app:dashboard")).content.decode()
    out = status in {S.DELIVERED, S.FOLLOW_UP, S.CLOSED}
    open_before = status in GATHERING or status == S.REPORT_READY
    for page in (html, dashboard):
        assert ("Report expected by" in page) == open_before, (status, situation)
        assert ("Report delivered on" in page) == out, (status, situation)
        assert "now: records being checked" not in page
    assert ("Withdraw the request" in html) == (status in GATHERING or status == S.REPORT_READY)
    if status == S.AWAITING_RECORDS:
        assert "records your care team asked for" in html
    elif status in GATHERING:
        if situation == Records.NONE:
            assert "Send your medical records" in html and "None sent yet" in html
            assert "Nothing to do now" not in html
        elif situation == Records.CHECKING:
            assert "1 being checked" in html and "1 checked and ready" in html
            assert "Send your medical records" not in html
        elif situation == Records.CHECKED:
            assert "2 checked and ready" in html
            assert "Send your medical records" not in html
        elif situation == Records.FLAGGED:
            assert "1 checked and ready" in html and "2 checked and ready" not in html
            assert "1 waiting for your answer (labelled for another person?)" in html
            for page in (html, dashboard):
                assert "Tell us whether a study you sent is yours" in page
                assert "Nothing to do now" not in page
        else:
            assert "Send us the records your care team asked for" in html


@pytest.mark.django_db
def test_a_delivered_case_can_be_neither_withdrawn_nor_changed(client, patient, specialist):
    case = _case_in(patient, S.DELIVERED, Records.CHECKED, specialist)
    client.force_login(patient)
    html = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    assert "can no longer be changed" in html
    assert reverse("requests_app:case_section", args=[case.uuid, "diagnosis"]) not in html
    withdraw = reverse("requests_app:case_withdraw", args=[case.uuid])
    assert client.get(withdraw).url == reverse("requests_app:case_detail", args=[case.uuid])
    client.post(withdraw, {"reason": "Changed my mind"})
    section = reverse("requests_app:case_section", args=[case.uuid, "diagnosis"])
    assert client.post(section, {"diagnosis": "Something else"}).status_code == 302
    case.refresh_from_db()
    assert case.status == S.DELIVERED and case.diagnosis == "Early-stage breast cancer"


@pytest.mark.django_db
def test_withdrawal_after_delivery_is_refused_by_the_service(patient, specialist):
    from requests_app import services
    from requests_app.workflow import TransitionError

    case = _case_in(patient, S.FOLLOW_UP, Records.CHECKED, specialist)
    with pytest.raises(TransitionError, match="can no longer be withdrawn"):
        services.case_withdraw(actor=patient, case_ref=case.uuid, reason="No")
