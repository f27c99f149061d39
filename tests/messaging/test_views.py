"""requests_app.messaging.views: the thread page, and the messages on the case
pages, the dashboard and the specialist's workspace."""

import datetime
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from requests_app.messaging.models import Message
from requests_app.models import CaseStatus
from secondop.audit.models import AccessLog
from secondop.notifications.models import Notification
from specialists.models import Offer
from tests.helpers import assert_constant_queries
from tests.messaging.factories import MessageFactory
from tests.records.factories import RecordFactory
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db

NOTE = "Tumour board thinks the margins look involved; discuss before telling the patient."


def thread_url(case):
    return reverse("messaging:thread", args=[case.uuid])


def get(client, user, url):
    client.force_login(user)
    return client.get(url)


def send(client, user, case, **data):
    client.force_login(user)
    return client.post(thread_url(case), {"kind": "message", **data})


def patient_pages(client, patient, case) -> str:
    """Every page of the patient's that speaks of the case, as one text."""
    return "".join(
        get(client, patient, url).content.decode()
        for url in (
            thread_url(case),
            reverse("requests_app:case_detail", args=[case.uuid]),
            reverse("requests_app:dashboard"),
        )
    )


# --- Reading -------------------------------------------------------------------------------
def test_it_shows_the_patient_the_thread_with_who_wrote_what(client, patient, specialist, case):
    MessageFactory(case=case, author=specialist, body="Have you had a <b>scan</b>?")
    MessageFactory(case=case, author=patient, body="Yes, in June.")
    response = get(client, patient, thread_url(case))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Dr. Spec, your specialist" in html and ">You<" in html
    assert "Have you had a &lt;b&gt;scan&lt;/b&gt;?" in html  # escaped
    assert "Yes, in June." in html
    assert "Your message to your care team" in html
    assert 'name="kind"' not in html  # patients send messages, nothing else


def test_the_care_team_sees_internal_notes_marked_as_such(client, coordinator, specialist, case):
    MessageFactory(case=case, author=specialist, body=NOTE, internal=True)
    html = get(client, coordinator, thread_url(case)).content.decode()
    assert NOTE in html
    assert "Internal note: not shown to the patient" in html
    assert "Dr. Spec, specialist" in html
    assert "An internal note for the care team: never shown to the patient" in html


def test_a_staff_read_is_logged(client, coordinator, case):
    message = MessageFactory(case=case)
    get(client, coordinator, thread_url(case))
    assert AccessLog.objects.filter(
        actor=coordinator,
        object_type="requests_app.case",
        object_id=str(case.pk),
        path=thread_url(case),
    ).exists()
    assert AccessLog.objects.get(actor=coordinator, object_type="messaging.message").listed == [
        str(message.uuid)
    ]


def test_outsiders_get_404_to_read_and_to_post(
    client, case, outsider, other_coordinator, other_specialist
):
    offered = CaseFactory(
        owner=case.owner, submitted=True, status=CaseStatus.OFFERED, case_manager=case.case_manager
    )
    Offer.objects.create(
        case=offered,
        specialist=other_specialist,
        offered_by=case.case_manager,
        status="open",
        deadline=timezone.now() + datetime.timedelta(days=1),
    )
    MessageFactory(case=case, body="Secret words")
    for person in (outsider, other_coordinator, other_specialist):
        for target in (case, offered):
            assert get(client, person, thread_url(target)).status_code == 404
            response = send(client, person, target, body="Let me in")
            assert response.status_code == 404 and b"Secret words" not in response.content
    assert not Message.objects.filter(body="Let me in").exists()
    assert not AccessLog.objects.filter(object_type="messaging.message").exists()


def test_anonymous_people_are_sent_to_sign_in(client, case):
    response = client.get(thread_url(case))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_draft_has_no_thread(client, patient):
    draft = CaseFactory(owner=patient)
    assert get(client, patient, thread_url(draft)).status_code == 404


def test_the_thread_takes_the_same_queries_however_long(client, patient, specialist, case):
    record = RecordFactory(case=case)

    def grow(n):
        for _ in range(n - Message.objects.count()):
            MessageFactory(case=case, author=specialist).attachments.add(record)

    client.force_login(specialist)
    assert_constant_queries(client, lambda n: thread_url(case), grow, sizes=(2, 30))


# --- Posting -------------------------------------------------------------------------------
def test_the_patient_writes_and_lands_on_their_message(client, patient, coordinator, case):
    response = send(client, patient, case, body="Thank you for looking at my case.")
    message = Message.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{thread_url(case)}#message-{message.uuid}"
    html = client.get(response["Location"]).content.decode()
    assert "Your message is sent." in html and "Thank you for looking at my case." in html


@pytest.mark.parametrize(
    "body,error",
    [
        ("", "Write your message"),
        ("  ", "Write your message"),
        ("A long story." * 400, "You have 200 characters too many"),
    ],
)
def test_a_bad_message_is_shown_again_with_the_problem_and_nothing_typed_is_lost(
    client, specialist, case, body, error
):
    record = RecordFactory(case=case)
    response = send(
        client, specialist, case, body=body, kind="question", attachments=[str(record.uuid)]
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in html and error in html
    assert html.count(error) >= 2  # in the summary and beside the field
    assert body.strip()[:50] in html  # what was typed is still in the box
    assert re.search(r'value="question"[^>]*checked', html)  # and the choices made
    assert re.search(rf'value="{record.uuid}"[^>]*checked', html)
    assert "<title>Error:" in html
    assert not Message.objects.exists()


def test_a_record_the_sender_may_not_open_cannot_be_attached(client, specialist, case):
    RecordFactory(case=case, title="Checked")
    scanning = RecordFactory(case=case, state="scanning", title="Still being checked")
    elsewhere = RecordFactory(title="Another patient's record")
    for record in (scanning, elsewhere):
        response = send(
            client, specialist, case, body="See attached", attachments=[str(record.uuid)]
        )
        assert response.status_code == 400
        html = response.content.decode()
        assert "One of the records you chose cannot be attached" in html
        assert record.title not in html.replace("&#x27;", "'")
    assert not Message.objects.exists()


def test_an_attached_record_is_linked_for_those_who_may_open_it(client, patient, specialist, case):
    record = RecordFactory(case=case, title="MRI report, June")
    send(client, patient, case, body="Here is the MRI report.", attachments=[str(record.uuid)])
    html = get(client, specialist, thread_url(case)).content.decode()
    assert reverse("records:detail", args=[record.uuid]) in html and "MRI report, June" in html
    assert reverse("records:case_records", args=[case.uuid]) in html  # to upload a new one


def test_a_closed_case_is_read_only_with_a_clear_message(client, patient, coordinator, case):
    MessageFactory(case=case, body="An old message")
    case.status, case.closed_at = CaseStatus.CLOSED, timezone.now()
    case.save()
    for person in (patient, coordinator):
        html = get(client, person, thread_url(case)).content.decode()
        assert "This request is closed, so no new messages can be sent." in html
        assert "An old message" in html and "<textarea" not in html
        response = send(client, person, case, body="Anyone there?")
        assert response.status_code == 302
        assert "no new messages can be sent" in client.get(response["Location"]).content.decode()
    assert Message.objects.count() == 1


# --- Internal notes never reach the patient -------------------------------------------------
def test_an_internal_note_appears_on_no_patient_page_and_in_no_email(
    client, patient, coordinator, specialist, case, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = send(client, specialist, case, body=NOTE, kind="internal")
    assert response.status_code == 302
    assert Message.objects.get().internal
    assert "Your internal note is saved." in client.get(response["Location"]).content.decode()
    pages = patient_pages(client, patient, case)
    assert NOTE not in pages and "Internal note" not in pages and "You have 1 unread" not in pages
    assert not Notification.objects.filter(recipient=patient).exists()
    for email in mail.outbox:
        text = " ".join([email.subject, email.body, *(c for c, _t in email.alternatives)])
        assert NOTE not in text and "margins" not in text and "Tumour" not in text
    assert [email.to for email in mail.outbox] == [[coordinator.email]]


def test_no_email_carries_a_message_or_medical_words(
    client, patient, coordinator, specialist, case, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send(
            client,
            specialist,
            case,
            body="Is the lump in your left breast painful?",
            kind="question",
        )
    with django_capture_on_commit_callbacks(execute=True):
        send(client, patient, case, body="Yes, since my mastectomy was proposed.")
    assert not Message.objects.filter(is_question=True, answered_at__isnull=True).exists()
    assert len(mail.outbox) == 4
    for email in mail.outbox:
        text = " ".join([email.subject, email.body, *(c for c, _t in email.alternatives)]).lower()
        for word in ("lump", "breast", "painful", "mastectomy", "cancer"):
            assert word not in text, (word, email.subject)
        assert case.reference.lower() in text


# --- Questions: the patient's next step -------------------------------------------------------
def test_a_null_character_is_the_forms_error_not_a_500(client, patient, case):
    response = send(client, patient, case, body="An MRI\x00 in June.")
    assert response.status_code == 400
    assert "Null characters are not allowed." in response.content.decode()
    assert not Message.objects.exists()


def test_a_question_becomes_the_patients_next_step_until_they_reply(
    client, patient, coordinator, specialist, case
):
    send(client, specialist, case, body="Have you had any imaging since March?", kind="question")

    detail = get(client, patient, reverse("requests_app:case_detail", args=[case.uuid]))
    html = detail.content.decode()
    assert "Answer your care team&#x27;s question" in html
    assert "Have you had any imaging since March?" in html  # in the messages panel
    assert f'href="{thread_url(case)}"' in html
    dashboard = get(client, patient, reverse("requests_app:dashboard")).content.decode()
    assert "Answer your care team&#x27;s question" in dashboard
    assert (
        "Waiting on the patient"
        in get(
            client, coordinator, reverse("requests_app:staff_case", args=[case.uuid])
        ).content.decode()
    )
    workspace = get(client, specialist, reverse("specialists:home")).content.decode()
    assert "Waiting on the patient" in workspace

    thread = get(client, patient, thread_url(case)).content.decode()
    assert "A question for you" in thread and "Yes: it answers the question above" in thread
    question = Message.objects.get()
    send(client, patient, case, body="Yes, an MRI in June.", answers=str(question.uuid))

    question.refresh_from_db()
    assert question.answered_at is not None
    html = get(
        client, patient, reverse("requests_app:case_detail", args=[case.uuid])
    ).content.decode()
    assert "Answer your care team" not in html
    # The question answered, the next step is the next true one: no record was sent.
    assert "Send your medical records: the specialist needs them" in html
    assert (
        "Waiting on the patient"
        not in get(client, specialist, reverse("specialists:home")).content.decode()
    )
    assert "Question: answered" in get(client, specialist, thread_url(case)).content.decode()


def test_answer_this_question_chooses_it_on_the_form(client, patient, specialist, case):
    first = MessageFactory(case=case, author=specialist, is_question=True, body="Allergies?")
    second = MessageFactory(case=case, author=specialist, is_question=True, body="Which hospital?")
    html = get(client, patient, thread_url(case) + f"?answer={second.uuid}").content.decode()
    assert "2 questions for you" in html
    assert re.search(rf'value="{second.uuid}"[^>]*checked', html)
    assert not re.search(rf'value="{first.uuid}"[^>]*checked', html)
    send(client, patient, case, body="Metro General", answers=str(second.uuid))
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.answered_at is None and second.answered_at is not None


def test_a_reply_without_choosing_answers_every_question(client, patient, specialist, case):
    MessageFactory(case=case, author=specialist, is_question=True)
    MessageFactory(case=case, author=specialist, is_question=True)
    send(client, patient, case, body="Answers to both: no, and Metro General.", answers="all")
    assert not Message.objects.filter(is_question=True, answered_at__isnull=True).exists()


# --- Unread markers ------------------------------------------------------------------------
def test_unread_messages_are_marked_new_and_counted_on_the_case_pages(
    client, patient, coordinator, specialist, case
):
    old = MessageFactory(
        case=case,
        author=specialist,
        body="Old news",
        created_at=timezone.now() - datetime.timedelta(hours=1),
    )
    get(client, patient, thread_url(case))  # read up to here
    new = MessageFactory(case=case, author=coordinator, body="Fresh news")

    detail = get(client, patient, reverse("requests_app:case_detail", args=[case.uuid]))
    assert "You have 1 unread message." in detail.content.decode()
    assert (
        "1 unread message"
        in get(client, patient, reverse("requests_app:dashboard")).content.decode()
    )
    staff = get(client, specialist, reverse("requests_app:staff_case", args=[case.uuid]))
    assert "You have 1 unread message." in staff.content.decode()  # the coordinator's

    html = get(client, patient, thread_url(case)).content.decode()
    marked = re.findall(
        r'<li class="message[^"]*message-unread[^"]*" id="message-([0-9a-f-]+)"', html
    )
    assert marked == [str(new.uuid)] and str(old.uuid) in html
    assert "1 new message: go to it" in html

    detail = get(client, patient, reverse("requests_app:case_detail", args=[case.uuid]))
    assert "You have no unread messages." in detail.content.decode()
    assert "New</span>" not in get(client, patient, thread_url(case)).content.decode()


def test_another_coordinator_is_told_to_claim_the_case_to_read_messages(
    client, case, other_coordinator
):
    MessageFactory(case=case, body="Private words")
    html = get(
        client, other_coordinator, reverse("requests_app:staff_case", args=[case.uuid])
    ).content.decode()
    assert "Claim the case to see them" in html and "Private words" not in html
    assert thread_url(case) not in html
