"""requests_app.messaging.services: posting (messages, questions, internal notes,
answers, attachments) and marking the thread read."""

import datetime

import pytest
from django.core import mail
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from requests_app.access import CaseAccessEnded
from requests_app.messaging import selectors, services
from requests_app.messaging.models import Message, ThreadRead
from requests_app.messaging.notices import MESSAGE
from requests_app.models import CaseStatus
from secondop.audit.models import AuditEvent
from secondop.notifications.models import Notification
from specialists.models import Offer
from tests.messaging.factories import MessageFactory
from tests.records.factories import RecordFactory
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db

BODY = "My biopsy showed a 2 cm tumour in the left breast; is a lumpectomy possible?"
MEDICAL_WORDS = ("biopsy", "tumour", "breast", "lumpectomy", "cancer", "surgery", "mastectomy")


def post(actor, case, body=BODY, **kwargs):
    return services.message_post(actor=actor, case_ref=case.uuid, body=body, **kwargs)


def recipients(kind=MESSAGE) -> set:
    return set(Notification.objects.filter(kind=kind).values_list("recipient__email", flat=True))


def assert_no_medical_detail(outbox, *texts):
    for email in outbox:
        rendered = " ".join(
            [email.subject, email.body, *(content for content, _type in email.alternatives)]
        ).lower()
        for text in (*texts, *MEDICAL_WORDS):
            assert text.lower() not in rendered, (text, email.subject)


# --- Posting ------------------------------------------------------------------------------
def test_the_patient_writes_and_the_care_team_is_told_by_a_sign_in_email(
    patient, coordinator, specialist, case, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = post(patient, case)
    assert message.body == BODY and message.author == patient
    assert not message.internal and not message.is_question
    assert recipients() == {coordinator.email, specialist.email}
    note = Notification.objects.get(recipient=specialist)
    assert note.url == reverse("messaging:thread", args=[case.uuid])
    assert note.reference == case.reference and "patient" in note.title
    assert sorted(m.to[0] for m in mail.outbox) == sorted([coordinator.email, specialist.email])
    assert_no_medical_detail(mail.outbox, BODY)
    # What happened, the reference, and a link to the thread through sign-in.
    assert all(
        case.reference in m.body and "/accounts/login/?next=%2Fmessages%2F" in m.body
        for m in mail.outbox
    )
    event = AuditEvent.objects.get(action="messaging.message.posted")
    assert event.actor == patient and event.object_id == str(message.pk)
    assert BODY not in str(event.new_values) and BODY not in event.object_repr


def test_a_care_team_message_tells_the_patient_and_the_rest_of_the_team(
    patient, coordinator, specialist, case
):
    post(specialist, case, "Thank you, I have your records.")
    assert recipients() == {patient.email, coordinator.email}  # never the author
    assert Notification.objects.get(recipient=patient).url == reverse(
        "messaging:thread", args=[case.uuid]
    )


def test_an_unclaimed_case_tells_every_coordinator_and_links_them_to_the_case_page(
    patient, coordinator, other_coordinator, specialist
):
    case = CaseFactory(
        owner=patient, submitted=True, status=CaseStatus.IN_REVIEW, specialist=specialist
    )
    post(patient, case)
    assert recipients() == {coordinator.email, other_coordinator.email, specialist.email}
    # They cannot read the thread before claiming the case: the link is the case page.
    assert Notification.objects.get(recipient=coordinator).url == reverse(
        "requests_app:staff_case", args=[case.uuid]
    )


def test_an_internal_note_reaches_the_care_team_only_and_no_email_carries_it(
    patient, coordinator, specialist, case, django_capture_on_commit_callbacks
):
    note_text = "Patient sounded anxious on the phone; consider a video consultation."
    with django_capture_on_commit_callbacks(execute=True):
        message = post(specialist, case, note_text, internal=True)
    assert message.internal
    assert recipients() == {coordinator.email}
    assert not Notification.objects.filter(recipient=patient).exists()
    assert [m.to for m in mail.outbox] == [[coordinator.email]]
    assert_no_medical_detail(mail.outbox, note_text, "anxious")
    assert "internal" in Notification.objects.get(recipient=coordinator).title.lower()
    # The patient's views of the thread never hold it.
    assert selectors.unread_count(viewer=patient, case=case) == 0
    assert selectors.thread_for_viewer(viewer=patient, case=case) == []


def test_a_question_becomes_the_patients_next_step_and_their_reply_answers_it(
    patient, coordinator, specialist, case
):
    question = post(specialist, case, "Have you had any imaging since March?", question=True)
    assert question.is_question and question.answered_at is None
    assert selectors.open_questions(case=case) == [question]
    assert Notification.objects.get(recipient=patient).title.startswith(
        "Your care team has a question"
    )

    reply = post(patient, case, "Yes, an MRI in June.")
    question.refresh_from_db()
    assert question.answered_at == reply.created_at and question.answered_by == reply
    assert selectors.open_questions(case=case) == []


def test_the_patient_may_answer_one_question_of_several_or_none_yet(patient, specialist, case):
    first = post(specialist, case, "Any allergies?", question=True)
    second = post(specialist, case, "Which hospital did the biopsy?", question=True)
    post(patient, case, "I will find the name of the hospital.", answers=services.ANSWERS_NONE)
    assert selectors.open_questions(case=case) == [first, second]
    post(patient, case, "No allergies.", answers=second.uuid)
    assert selectors.open_questions(case=case) == [first]
    with pytest.raises(services.MessageError) as error:
        post(patient, case, "Metro General.", answers=second.uuid)
    assert "already answered" in error.value.errors["answers"][0]


def test_a_staff_message_answers_no_question(patient, coordinator, specialist, case):
    question = post(specialist, case, "Any allergies?", question=True)
    post(coordinator, case, "I will call the patient about this.")
    question.refresh_from_db()
    assert question.answered_at is None


def test_only_the_care_team_writes_internal_notes_and_questions(patient, case):
    for kwargs in ({"internal": True}, {"question": True}):
        with pytest.raises(services.MessageError, match="Only the care team"):
            post(patient, case, **kwargs)
    assert not Message.objects.exists()


def test_a_question_cannot_be_an_internal_note(specialist, case):
    with pytest.raises(services.MessageError) as error:
        post(specialist, case, internal=True, question=True)
    assert "kind" in error.value.errors


@pytest.mark.parametrize(
    "body,expected",
    [
        ("", "Write your message"),
        ("   \n  ", "Write your message"),
        ("x" * 5001, "1 character too long"),
        ("x" * 5100, "100 characters too long"),
    ],
)
def test_an_empty_or_too_long_message_is_refused_in_words(patient, case, body, expected):
    with pytest.raises(services.MessageError) as error:
        post(patient, case, body)
    assert expected in error.value.errors["body"][0]
    assert not Message.objects.exists()


def test_5000_characters_are_accepted_and_line_breaks_count_once(patient, case):
    message = post(patient, case, ("x" * 99 + "\r\n") * 50)
    assert len(message.body) == 4999  # the last line break is stripped


def test_a_double_submit_posts_once(patient, coordinator, specialist, case):
    first = post(patient, case)
    again = post(patient, case)
    assert again.pk == first.pk
    assert Message.objects.count() == 1
    assert Notification.objects.count() == 2


def test_the_same_words_answering_another_question_are_a_new_message(patient, specialist, case):
    first = post(specialist, case, "Any imaging since March?", question=True)
    second = post(specialist, case, "Any biopsy since March?", question=True)
    no_1 = post(patient, case, "No", answers=str(first.uuid))
    assert post(patient, case, "No", answers=str(first.uuid)).pk == no_1.pk  # a double submit
    no_2 = post(patient, case, "No", answers=str(second.uuid))
    assert no_2.pk != no_1.pk
    second.refresh_from_db()
    assert second.answered_by == no_2 and not selectors.open_questions(case=case)


def test_a_double_submit_answering_every_question_posts_once(patient, specialist, case):
    post(specialist, case, "Any imaging since March?", question=True)
    first = post(patient, case, "No")
    assert post(patient, case, "No").pk == first.pk
    post(specialist, case, "Any biopsy since March?", question=True)
    assert post(patient, case, "No").pk != first.pk
    assert not selectors.open_questions(case=case)


def test_the_same_words_with_other_attachments_are_a_new_message(specialist, case):
    record = RecordFactory(case=case)
    first = post(specialist, case, "Here it is")
    again = post(specialist, case, "Here it is", attachment_refs=[str(record.uuid)])
    assert again.pk != first.pk and list(again.attachments.all()) == [record]


def test_the_same_words_later_are_a_new_message(patient, case):
    first = post(patient, case, "Thank you")
    Message.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=10)
    )
    assert post(patient, case, "Thank you").pk != first.pk


# --- Who may post -----------------------------------------------------------------------
def test_outsiders_get_the_cases_404_and_nothing_is_written(
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
            post(person, case)
    assert not Message.objects.exists() and not Notification.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="messaging.").exists()


def test_a_draft_has_no_thread(patient):
    draft = CaseFactory(owner=patient)
    with pytest.raises(Http404):
        post(patient, draft)


@pytest.mark.parametrize("status", [CaseStatus.CLOSED, CaseStatus.WITHDRAWN, CaseStatus.CANCELLED])
def test_a_closed_case_is_read_only(patient, coordinator, specialist, case, status):
    case.status, case.closed_at = status, timezone.now()
    case.save()
    # A withdrawn request is no longer the care team's at all (requests_app.selectors).
    team = (coordinator, specialist) if status != CaseStatus.WITHDRAWN else ()
    for person in (patient, *team):
        with pytest.raises(services.MessageError, match="closed") as error:
            post(person, case)
        assert error.value.status == 409
    if status == CaseStatus.WITHDRAWN:
        for person in (coordinator, specialist):
            with pytest.raises(CaseAccessEnded):
                post(person, case)
    assert not Message.objects.exists()


# --- Attachments ------------------------------------------------------------------------
def test_a_message_attaches_records_of_the_case_the_sender_may_see(patient, specialist, case):
    record = RecordFactory(case=case, title="Pathology report")
    message = post(
        patient, case, "Here is the report you asked for.", attachment_refs=[record.uuid]
    )
    assert list(message.attachments.all()) == [record]
    assert str(record.uuid) in str(
        AuditEvent.objects.get(action="messaging.message.posted").new_values["attachments"]
    )
    post(specialist, case, "Thank you, noted.", attachment_refs=[record.uuid])


def test_no_record_of_another_case_or_one_the_sender_may_not_open(
    patient, outsider, specialist, case
):
    elsewhere = RecordFactory(case=CaseFactory(owner=outsider, submitted=True))
    scanning = RecordFactory(case=case, state="scanning")  # not checked: not the specialist's
    rejected = RecordFactory(case=case, state="rejected", reason="malware")
    for actor, record in ((patient, elsewhere), (specialist, scanning), (patient, rejected)):
        with pytest.raises(services.MessageError) as error:
            post(actor, case, attachment_refs=[record.uuid])
        assert "cannot be attached" in error.value.errors["attachments"][0]
    assert not Message.objects.exists()
    post(patient, case, attachment_refs=[scanning.uuid])  # the patient may: it is theirs


# --- Read marks ---------------------------------------------------------------------------
def test_marking_read_only_moves_forward(patient, case):
    later = timezone.now()
    earlier = later - datetime.timedelta(hours=1)
    services.thread_mark_read(actor=patient, case=case, until=later)
    services.thread_mark_read(actor=patient, case=case, until=earlier)
    assert ThreadRead.objects.get(case=case, user=patient).last_read_at == later


def test_posting_marks_the_thread_read_for_the_author(patient, specialist, case):
    MessageFactory(case=case, author=specialist)
    assert selectors.unread_count(viewer=patient, case=case) == 1
    post(patient, case, "Thanks")
    assert selectors.unread_count(viewer=patient, case=case) == 0


def test_an_outsider_cannot_mark_a_thread_read(case, other_coordinator):
    with pytest.raises(Http404):
        services.thread_mark_read(actor=other_coordinator, case=case)
    assert not ThreadRead.objects.exists()
