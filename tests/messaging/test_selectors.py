"""requests_app.messaging.selectors: who reads a thread, what each person sees,
unread counts, open questions and "waiting on the patient"."""

import datetime

import pytest
from django.http import Http404
from django.utils import timezone

from requests_app.messaging import selectors, services
from requests_app.models import Case, CaseStatus
from secondop.audit.models import AccessLog
from specialists.models import Offer
from tests.messaging.factories import MessageFactory
from tests.records.factories import RecordFactory
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db

S = CaseStatus


def ago(**kwargs):
    return timezone.now() - datetime.timedelta(**kwargs)


# --- Who reads the thread -----------------------------------------------------------------
def test_the_patient_the_case_manager_and_the_assigned_specialist_read_it(
    patient, coordinator, specialist, case
):
    for person in (patient, coordinator, specialist):
        assert selectors.thread_case(viewer=person, ref=case.uuid) == case


def test_everyone_else_gets_the_cases_404(
    case, outsider, other_coordinator, other_specialist, admin_user
):
    Offer.objects.create(
        case=case,
        specialist=other_specialist,
        offered_by=case.case_manager,
        status="open",
        deadline=timezone.now() + datetime.timedelta(days=1),
    )
    for person in (outsider, other_coordinator, other_specialist, admin_user):
        with pytest.raises(Http404):
            selectors.thread_case(viewer=person, ref=case.uuid)


def test_a_draft_has_no_thread_and_a_closed_case_is_read_only(patient, coordinator):
    draft = CaseFactory(owner=patient)
    assert not selectors.sees_thread(viewer=patient, case=draft)
    closed = CaseFactory(owner=patient, submitted=True, status=S.CLOSED, case_manager=coordinator)
    for person in (patient, coordinator):
        assert selectors.sees_thread(viewer=person, case=closed)
        assert not selectors.can_post(viewer=person, case=closed)


# --- What each person sees ---------------------------------------------------------------
def test_the_patient_never_sees_an_internal_note(patient, coordinator, specialist, case):
    shared = MessageFactory(case=case, author=specialist, body="When was your last scan?")
    MessageFactory(case=case, author=specialist, body="Discussed with tumour board", internal=True)
    assert selectors.thread_for_viewer(viewer=patient, case=case) == [shared]
    assert len(selectors.thread_for_viewer(viewer=coordinator, case=case)) == 2


def test_a_staff_read_of_the_thread_is_one_access_log_row(patient, specialist, case):
    message = MessageFactory(case=case)
    selectors.thread_for_viewer(viewer=specialist, case=case)
    row = AccessLog.objects.get(actor=specialist, object_type="messaging.message")
    assert row.kind == "list" and row.listed == [str(message.uuid)]
    selectors.thread_for_viewer(viewer=patient, case=case)  # the patient's own: not logged
    assert not AccessLog.objects.filter(actor=patient).exists()


def test_each_person_sees_only_the_attachments_they_may_open(patient, specialist, case):
    checked = RecordFactory(case=case, title="Biopsy report")
    scanning = RecordFactory(case=case, title="CT disc", state="scanning")
    message = MessageFactory(case=case, author=patient)
    message.attachments.set([checked, scanning])
    [seen] = selectors.thread_for_viewer(viewer=specialist, case=case)
    assert seen.shown_attachments == [checked] and seen.attachment_count == 2
    [seen] = selectors.thread_for_viewer(viewer=patient, case=case)
    assert {r.pk for r in seen.shown_attachments} == {checked.pk, scanning.pk}


def test_attachable_records_are_those_the_sender_may_open(patient, specialist, case):
    checked = RecordFactory(case=case)
    scanning = RecordFactory(case=case, state="scanning")
    RecordFactory(case=case, state="rejected", reason="malware")
    RecordFactory(case=case, pending=True)
    RecordFactory()  # another case
    assert set(selectors.attachable_records(viewer=patient, case=case)) == {checked, scanning}
    assert list(selectors.attachable_records(viewer=specialist, case=case)) == [checked]


# --- Unread --------------------------------------------------------------------------------
def test_unread_is_what_others_wrote_since_the_person_last_read(
    patient, coordinator, specialist, case
):
    MessageFactory(case=case, author=specialist, created_at=ago(hours=3))
    MessageFactory(case=case, author=patient, created_at=ago(hours=2))
    assert selectors.unread_count(viewer=patient, case=case) == 1  # never their own
    assert selectors.unread_count(viewer=coordinator, case=case) == 2
    services.thread_mark_read(actor=patient, case=case, until=ago(hours=1))
    assert selectors.unread_count(viewer=patient, case=case) == 0
    MessageFactory(case=case, author=coordinator)
    assert selectors.unread_count(viewer=patient, case=case) == 1


def test_internal_notes_never_count_as_unread_for_the_patient(
    patient, coordinator, specialist, case
):
    MessageFactory(case=case, author=specialist, internal=True)
    assert selectors.unread_count(viewer=patient, case=case) == 0
    assert selectors.patient_message_counts(viewer=patient, cases=[case]) == {}
    assert selectors.unread_count(viewer=coordinator, case=case) == 1


def test_the_dashboards_counts_per_case_in_one_query(
    patient, specialist, case, django_assert_num_queries
):
    other = CaseFactory(owner=patient, submitted=True, status=S.TRIAGE)
    quiet = CaseFactory(owner=patient, submitted=True)
    closed = CaseFactory(owner=patient, submitted=True, status=S.CLOSED)
    draft = CaseFactory(owner=patient)
    MessageFactory(case=case, author=specialist)
    MessageFactory(case=case, author=specialist, is_question=True)
    MessageFactory(case=case, author=patient, created_at=ago(minutes=1))
    MessageFactory(case=other, author=specialist, is_question=True)
    services.thread_mark_read(actor=patient, case=other)  # read, still unanswered
    MessageFactory(case=closed, author=specialist, is_question=True)
    MessageFactory(case=quiet, author=specialist, internal=True)
    with django_assert_num_queries(1):
        counts = selectors.patient_message_counts(
            viewer=patient, cases=[case, other, quiet, closed, draft]
        )
    Counts = selectors.CaseMessages
    assert counts == {
        case.pk: Counts(open_questions=1, unread=2),
        other.pk: Counts(open_questions=1, unread=0),
        closed.pk: Counts(open_questions=0, unread=1),
    }


# --- Questions -----------------------------------------------------------------------------
def test_open_questions_and_waiting_on_the_patient(patient, specialist, case):
    question = MessageFactory(case=case, author=specialist, is_question=True)
    MessageFactory(case=case, author=specialist, is_question=True, answered_at=timezone.now())
    assert selectors.open_questions(case=case) == [question]
    waiting = selectors.with_waiting_on_patient(Case.objects.filter(pk=case.pk)).get()
    assert waiting.waiting_on_patient


def test_a_closed_case_waits_on_nobody(patient, specialist, case):
    MessageFactory(case=case, author=specialist, is_question=True)
    case.status = S.WITHDRAWN
    case.save()
    assert selectors.open_questions(case=case) == []
    assert selectors.patient_message_counts(viewer=patient, cases=[case])[case.pk] == (
        selectors.CaseMessages(open_questions=0, unread=1)
    )
    assert (
        not selectors.with_waiting_on_patient(Case.objects.filter(pk=case.pk))
        .get()
        .waiting_on_patient
    )
