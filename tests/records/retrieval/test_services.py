"""records.retrieval.services: listing sources, the patient's signature, sending
by email (the letter attached) or by fax or post, the clock, and the reminders."""

import datetime
import io
import smtplib

import pypdfium2
import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from records.retrieval import letter, selectors, services
from records.retrieval.models import Received, RecordSource, SentBy
from records.retrieval.notices import RECORDS_RETRIEVAL
from secondop import mailing
from secondop.audit.context import audit_source
from secondop.audit.models import AuditEvent
from secondop.notifications.models import Notification
from tests.accounts.factories import UserFactory
from tests.records.retrieval.factories import SourceFactory, sent_source
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db

DETAILS = {
    "name": "Mercy Hospital",
    "kind": "diagnosing_hospital",
    "email": "records@mercy.example",
    "fax": "",
    "postal_address": "",
    "wanted": ["visit_notes", "pathology_report", "pathology_slides"],
}


@pytest.fixture
def case(patient, coordinator):
    return CaseFactory(
        owner=patient, submitted=True, case_manager=coordinator, patient_name="Pat Patient"
    )


def pdf_text(data: bytes) -> str:
    document = pypdfium2.PdfDocument(io.BytesIO(data))
    return "\n".join(page.get_textpage().get_text_range() for page in document)


def sign(source, actor, name="Pat Patient"):
    return services.source_sign(actor=actor, source_ref=source.uuid, signature=name, agreed=True)


# --- Listing ----------------------------------------------------------------------------------
def test_it_adds_a_source_in_the_letters_order(case, patient):
    source = services.source_add(actor=patient, case_ref=case.uuid, **DETAILS)
    assert source.wanted == ["pathology_report", "pathology_slides", "visit_notes"]
    assert source.added_by == patient
    assert AuditEvent.objects.filter(action="retrieval.source.added").count() == 1


def test_the_case_manager_adds_one_from_what_the_patient_says(case, coordinator):
    source = services.source_add(
        actor=coordinator, case_ref=case.uuid, **{**DETAILS, "email": "", "fax": "617-555-0100"}
    )
    assert source.fax == "617-555-0100" and source.added_by == coordinator


def test_it_needs_one_way_to_reach_the_records_office(case, patient):
    with pytest.raises(services.RetrievalError) as refused:
        services.source_add(actor=patient, case_ref=case.uuid, **{**DETAILS, "email": ""})
    assert "at least one way to reach its records office" in refused.value.errors["__all__"][0]
    assert not RecordSource.objects.exists()


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"name": "  "}, "name", "Enter the name"),
        ({"kind": "spa"}, "kind", "Choose what kind"),
        ({"email": "not-an-address"}, "email", "name@hospital.org"),
        ({"fax": "call me"}, "fax", "area code"),
        ({"wanted": []}, "wanted", "Tick at least one"),
        ({"wanted": ["horoscope"]}, "wanted", "from the list"),
    ],
)
def test_it_says_what_is_wrong(case, patient, change, field, words):
    with pytest.raises(services.RetrievalError) as refused:
        services.source_add(actor=patient, case_ref=case.uuid, **{**DETAILS, **change})
    assert words in refused.value.errors[field][0]


def test_outsiders_get_the_cases_404_and_other_coordinators_cannot_add(case, outsider):
    with pytest.raises(Http404):
        services.source_add(actor=outsider, case_ref=case.uuid, **DETAILS)
    other = UserFactory(role="coordinator")
    with pytest.raises(PermissionDenied):
        services.source_add(actor=other, case_ref=case.uuid, **DETAILS)


def test_a_change_to_the_letter_takes_the_signature_off(case, patient):
    source = SourceFactory(case=case, signed=True)
    services.source_update(
        actor=patient, source_ref=source.uuid, **{**DETAILS, "wanted": ["recent_labs"]}
    )
    source.refresh_from_db()
    assert source.wanted == ["recent_labs"] and not source.is_signed


def test_a_new_fax_number_keeps_the_signature(case, patient):
    source = SourceFactory(
        case=case, signed=True, wanted=["pathology_report", "pathology_slides", "visit_notes"]
    )
    services.source_update(
        actor=patient, source_ref=source.uuid, **{**DETAILS, "fax": "617 555 0199"}
    )
    source.refresh_from_db()
    assert source.fax == "617 555 0199" and source.is_signed


def test_a_sent_request_is_neither_changed_nor_removed(case, patient):
    source = sent_source(case=case)
    with pytest.raises(services.RetrievalError) as refused:
        services.source_update(actor=patient, source_ref=source.uuid, **DETAILS)
    assert refused.value.status == 409
    with pytest.raises(services.RetrievalError):
        services.source_remove(actor=patient, source_ref=source.uuid)
    assert RecordSource.objects.filter(pk=source.pk).exists()


def test_an_unsent_source_is_removed(case, patient):
    source = SourceFactory(case=case)
    services.source_remove(actor=patient, source_ref=source.uuid)
    assert not RecordSource.objects.exists()
    assert AuditEvent.objects.filter(action="retrieval.source.removed").count() == 1


# --- Signing ------------------------------------------------------------------------------------
def test_the_patient_signs_with_the_patients_name(case, patient, coordinator):
    source = SourceFactory(case=case)
    with audit_source("web", ip="203.0.113.9"):
        sign(source, patient, name="  pat   PATIENT ")
    source.refresh_from_db()
    assert source.letter_version == letter.VERSION
    assert source.signed_name == "pat PATIENT"
    assert source.signed_ip == "203.0.113.9"
    assert source.signed_at is not None
    # The case manager is told it is ready to send.
    told = Notification.objects.get(kind=RECORDS_RETRIEVAL)
    assert told.recipient == coordinator and "ready to send" in told.title


def test_a_signature_must_match_and_be_agreed(case, patient):
    source = SourceFactory(case=case)
    with pytest.raises(services.RetrievalError) as refused:
        services.source_sign(
            actor=patient, source_ref=source.uuid, signature="Someone Else", agreed=False
        )
    assert "exactly as the request gives it: Pat Patient" in refused.value.errors["signature"][0]
    assert "Tick the box" in refused.value.errors["agree"][0]
    source.refresh_from_db()
    assert not source.is_signed


def test_only_the_patient_signs(case, coordinator):
    source = SourceFactory(case=case)
    with pytest.raises(PermissionDenied):
        sign(source, coordinator)


# --- Sending ------------------------------------------------------------------------------------
def test_an_unsigned_request_is_not_sent(case, coordinator):
    source = SourceFactory(case=case)
    with pytest.raises(services.RetrievalError) as refused:
        services.source_send_email(actor=coordinator, source_ref=source.uuid)
    assert "not signed" in refused.value.message


def test_the_patient_does_not_send_it(case, patient):
    source = SourceFactory(case=case, signed=True)
    with pytest.raises(PermissionDenied):
        services.source_send_email(actor=patient, source_ref=source.uuid)


def test_it_emails_the_letter_to_the_records_office(
    case, coordinator, django_capture_on_commit_callbacks
):
    source = SourceFactory(case=case, signed=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.source_send_email(actor=coordinator, source_ref=source.uuid)
    [email] = mail.outbox
    assert email.to == ["records@mercy.example"]
    assert case.reference in email.subject
    # The body: no patient's name, nothing medical.
    assert "Pat Patient" not in email.body and "breast" not in email.body.lower()
    assert "45 CFR 164.524" in email.body
    [(name, data, mime)] = email.attachments
    assert mime == "application/pdf" and name.endswith(".pdf")
    text = " ".join(pdf_text(data).split())
    assert "Pat Patient" in text and "17 May 1970" in text
    for wanted in ("Pathology report", "Imaging studies (DICOM images)", "Visit notes"):
        assert wanted in text
    assert "164.524(c)(3)" in text and "records@secondop.local" in text
    assert "Signed electronically by Pat Patient" in text
    source.refresh_from_db()
    today = selectors.today_for(case)
    assert source.sent_by == SentBy.EMAIL and source.sent_on == today
    assert source.due_on == today + datetime.timedelta(days=30)
    assert not source.is_sending


def test_slides_are_asked_for_by_post(case, coordinator, django_capture_on_commit_callbacks):
    source = SourceFactory(case=case, signed=True, wanted=["pathology_slides"])
    with django_capture_on_commit_callbacks(execute=True):
        services.source_send_email(actor=coordinator, source_ref=source.uuid)
    text = " ".join(pdf_text(mail.outbox[0].attachments[0][1]).split())
    assert "Slides and blocks by post to:" in text and "Boston, MA 02110" in text


def test_a_refused_address_shows_on_the_tracker(
    case, coordinator, monkeypatch, django_capture_on_commit_callbacks
):
    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPRecipientsRefused({"records@mercy.example": (550, b"No such user")})

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    source = SourceFactory(case=case, signed=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.source_send_email(actor=coordinator, source_ref=source.uuid)
    source.refresh_from_db()
    assert source.email_failed_at is not None and not source.is_sent
    assert "SMTP 550" in source.email_failure_reason
    source.case = case
    state = selectors.describe(source, for_patient=False, today=timezone.localdate())
    assert state.tag == "Email not delivered" and "SMTP 550" in state.words
    # The address corrected, it goes again.
    assert source.is_editable
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        services.source_send_email(actor=coordinator, source_ref=source.uuid)
    source.refresh_from_db()
    assert source.is_sent and len(mail.outbox) == 1


def test_a_transient_failure_is_left_for_the_retry(case, coordinator, monkeypatch):
    def away(self, *args, **kwargs):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", away)
    source = SourceFactory(case=case, signed=True, email_queued_at=timezone.now())
    with pytest.raises(services.SendFailed) as failed:
        services.source_email_send(source_id=source.pk)
    assert failed.value.transient
    source.refresh_from_db()
    assert source.email_failed_at is None and source.email_claimed_until is None


def test_sending_twice_sends_once(case, coordinator):
    source = SourceFactory(case=case, signed=True, email_queued_at=timezone.now())
    assert services.source_email_send(source_id=source.pk) == "sent"
    assert services.source_email_send(source_id=source.pk) == "nothing to send"
    assert len(mail.outbox) == 1


def test_a_fax_is_recorded_with_its_day(case, coordinator):
    source = SourceFactory(case=case, signed=True)
    yesterday = selectors.today_for(case) - datetime.timedelta(days=1)
    source.signed_at = timezone.now() - datetime.timedelta(days=3)
    source.save()
    services.source_record_sent(
        actor=coordinator, source_ref=source.uuid, how=SentBy.FAX, sent_on=yesterday
    )
    source.refresh_from_db()
    assert source.sent_by == SentBy.FAX and source.sent_on == yesterday
    assert source.due_on == yesterday + datetime.timedelta(days=30)
    assert source.sent_recorded_by == coordinator
    with pytest.raises(services.RetrievalError) as again:
        services.source_record_sent(
            actor=coordinator, source_ref=source.uuid, how=SentBy.POST, sent_on=yesterday
        )
    assert again.value.status == 409


def test_a_fax_day_in_the_future_or_before_signing_is_refused(case, coordinator):
    source = SourceFactory(case=case, signed=True)
    today = selectors.today_for(case)
    for day, words in (
        (today + datetime.timedelta(days=1), "in the future"),
        (today - datetime.timedelta(days=5), "before the patient signed"),
    ):
        with pytest.raises(services.RetrievalError) as refused:
            services.source_record_sent(
                actor=coordinator, source_ref=source.uuid, how=SentBy.FAX, sent_on=day
            )
        assert words in refused.value.errors["sent_on"][0]


# --- The clock ------------------------------------------------------------------------------------
def test_one_extension_with_its_reason(case, coordinator):
    source = sent_source(case=case, days_ago=25)
    due = source.due_on
    with pytest.raises(services.RetrievalError) as refused:
        services.source_extend(actor=coordinator, source_ref=source.uuid, reason=" ")
    assert "reason" in refused.value.errors
    services.source_extend(
        actor=coordinator, source_ref=source.uuid, reason="Slides are in off-site storage"
    )
    source.refresh_from_db()
    assert source.due_on == due + datetime.timedelta(days=30)
    assert source.extension_reason == "Slides are in off-site storage"
    with pytest.raises(services.RetrievalError) as twice:
        services.source_extend(actor=coordinator, source_ref=source.uuid, reason="Again")
    assert "one 30-day extension" in twice.value.message


def test_received_in_part_then_in_full(case, coordinator):
    source = sent_source(case=case, days_ago=40)
    source.case = case
    today = selectors.today_for(case)
    assert selectors.is_late(source, today=today)
    services.source_mark_received(
        actor=coordinator, source_ref=source.uuid, received=Received.PARTLY, note="Report only"
    )
    source.refresh_from_db()
    source.case = case
    assert selectors.describe(source, for_patient=True, today=today).late
    services.source_mark_received(actor=coordinator, source_ref=source.uuid, received="fully")
    source.refresh_from_db()
    source.case = case
    state = selectors.describe(source, for_patient=True, today=today)
    assert not state.late and "received in full" in state.words


def test_nothing_is_received_before_it_is_sent(case, coordinator):
    source = SourceFactory(case=case, signed=True)
    with pytest.raises(services.RetrievalError):
        services.source_mark_received(actor=coordinator, source_ref=source.uuid, received="fully")


def test_an_ended_request_changes_nothing(patient, coordinator):
    case = CaseFactory(owner=patient, withdrawn=True, case_manager=coordinator)
    source = SourceFactory(case=case)
    with pytest.raises(services.RetrievalError) as refused:
        services.source_remove(actor=patient, source_ref=source.uuid)
    assert refused.value.status == 409


# --- Reminders ------------------------------------------------------------------------------------
def reminders():
    return list(
        Notification.objects.filter(kind=RECORDS_RETRIEVAL)
        .order_by("pk")
        .values_list("title", flat=True)
    )


def test_reminders_on_day_10_20_and_28_once_each(case, coordinator):
    source = sent_source(case=case)
    sent_on = source.sent_on
    assert services.source_reminders_send(today=sent_on + datetime.timedelta(days=9)) == 0
    assert services.source_reminders_send(today=sent_on + datetime.timedelta(days=10)) == 1
    assert services.source_reminders_send(today=sent_on + datetime.timedelta(days=10)) == 0
    assert services.source_reminders_send(today=sent_on + datetime.timedelta(days=15)) == 0
    assert services.source_reminders_send(today=sent_on + datetime.timedelta(days=20)) == 1
    assert services.source_reminders_send(today=sent_on + datetime.timedelta(days=28)) == 1
    assert services.source_reminders_send(today=sent_on + datetime.timedelta(days=40)) == 0
    assert [t.split(": ")[1] for t in reminders()] == [
        "day 10, not fully received",
        "day 20, not fully received",
        "day 28, not fully received",
    ]
    assert Notification.objects.filter(kind=RECORDS_RETRIEVAL, recipient=coordinator).count() == 3


def test_a_late_sweep_sends_one_reminder_for_the_last_day_reached(case):
    source = sent_source(case=case)
    assert services.source_reminders_send(today=source.sent_on + datetime.timedelta(days=22)) == 1
    assert reminders() == [f"Records request on {case.reference}: day 20, not fully received"]


def test_no_reminder_once_everything_arrived(case):
    sent_source(case=case, received=Received.FULLY)
    assert (
        services.source_reminders_send(today=timezone.localdate() + datetime.timedelta(days=10))
        == 0
    )


def test_the_sweep_queues_a_lost_email(case):
    source = SourceFactory(
        case=case, signed=True, email_queued_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    assert services.source_emails_due_for_sweep() == [source.pk]
    source.email_claimed_until = timezone.now() + datetime.timedelta(seconds=30)
    source.save()
    assert services.source_emails_due_for_sweep() == []


def test_a_letter_returned_later_shows_on_the_tracker_and_goes_again(
    case, coordinator, patient, settings, client, django_capture_on_commit_callbacks
):
    from tests.platform.test_mailing import dsn

    settings.MAIL_BOUNCE_TOKEN = "hook-secret-123"
    source = SourceFactory(case=case, signed=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.source_send_email(actor=coordinator, source_ref=source.uuid)
    [email] = mail.outbox
    source.refresh_from_db()
    assert source.is_sent and source.due_on is not None
    # Hours later the records office's server returns it: the provider posts the bounce.
    response = client.post(
        "/hooks/mail/bounces",
        dsn(email.extra_headers["Message-ID"]),
        content_type="message/rfc822",
        headers={"Authorization": "Bearer hook-secret-123"},
    )
    assert response.json() == {"changed": 1}
    source.refresh_from_db()
    assert not source.is_sent and source.due_on is None  # it never reached them: no clock
    assert source.email_failed_at is not None and source.is_editable
    source.case = case
    state = selectors.describe(source, for_patient=False, today=timezone.localdate())
    assert state.tag == "Email not delivered"
    assert "mail server returned it (SMTP 5.1.1)" in state.words
    assert AuditEvent.objects.filter(action="retrieval.source.email_bounced").count() == 1
    # The same bounce again changes nothing; the address corrected, it goes again.
    assert (
        services.source_email_bounced(
            mailing.Bounce("records-request", str(source.uuid), "5.1.1", "SMTP 5.1.1")
        )
        is False
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.source_send_email(actor=coordinator, source_ref=source.uuid)
    source.refresh_from_db()
    assert source.is_sent and len(mail.outbox) == 2


def test_a_bounce_after_the_office_answered_changes_nothing(case):
    source = sent_source(case=case, by=SentBy.EMAIL, received=Received.PARTLY)
    bounce = mailing.Bounce("records-request", str(source.uuid), "5.1.1", "SMTP 5.1.1")
    assert services.source_email_bounced(bounce) is False
    faxed = sent_source(case=case)
    assert (
        services.source_email_bounced(
            mailing.Bounce("records-request", str(faxed.uuid), "5.1.1", "SMTP 5.1.1")
        )
        is False
    )
    source.refresh_from_db()
    assert source.is_sent
