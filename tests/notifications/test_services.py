import smtplib
from datetime import timedelta
from itertools import pairwise

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from requests_app.consultations.notices import CONSULTATION
from requests_app.messaging.notices import MESSAGE
from requests_app.notices import CASE_UPDATE
from requests_app.reports.notices import REPORT_RELEASED
from secondop.accounts.notices import SECURITY
from secondop.notifications.models import EmailPreference, EmailStatus, Notification
from secondop.notifications.selectors import notifications_due_for_sweep
from secondop.notifications.services import (
    MAX_EMAIL_ATTEMPTS,
    EmailText,
    notification_claim_email,
    notification_deliver,
    notification_message_id,
    notify,
)

pytestmark = pytest.mark.django_db


def test_notify_delivers_in_app_and_by_email_after_commit(
    patient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        n = notify(
            recipient=patient,
            kind=CASE_UPDATE,
            title="Your report is ready",
            reference="SO-2026-000001",
            url="/home/",
        )
    n.refresh_from_db()
    assert n.delivered_at is not None
    assert n.email_status == EmailStatus.SENT
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [patient.email]
    assert "SO-2026-000001" in message.subject
    assert "sign in" in message.body.lower()
    # No medical detail in the email: the in-app title never goes out.
    assert "report is ready" not in message.body.lower()
    assert message.alternatives and message.alternatives[0][1] == "text/html"


def test_a_rolled_back_transaction_sends_nothing(patient, django_capture_on_commit_callbacks):
    class Boom(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        notify(recipient=patient, kind=CASE_UPDATE, title="x")
        raise Boom
    assert Notification.objects.count() == 0
    assert mail.outbox == []


def test_a_task_that_runs_twice_sends_once(patient):
    with transaction.atomic():
        n = notify(recipient=patient, kind=CASE_UPDATE, title="x", reference="SO-1")
    notification_deliver(notification_id=n.pk)
    notification_deliver(notification_id=n.pk)
    assert len(mail.outbox) == 1


def test_an_email_preference_off_skips_the_email_but_not_the_notification(
    patient, django_capture_on_commit_callbacks
):
    EmailPreference.objects.create(user=patient, kind=CASE_UPDATE, enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        n = notify(recipient=patient, kind=CASE_UPDATE, title="x")
    n.refresh_from_db()
    assert n.delivered_at is not None
    assert n.email_status == EmailStatus.SKIPPED
    assert mail.outbox == []


def test_security_emails_cannot_be_switched_off(patient, django_capture_on_commit_callbacks):
    EmailPreference.objects.create(user=patient, kind=SECURITY, enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipient=patient, kind=SECURITY, title="Password changed")
    assert len(mail.outbox) == 1


# --- Claiming, backoff and giving up ---------------------------------------------------
class Clock:
    """timezone.now() for the services, the selectors and the test: moved by hand."""

    def __init__(self, monkeypatch):
        self.now = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def travel(self, **delta) -> None:
        self.now += timedelta(**delta)

    def travel_to(self, moment) -> None:
        self.now = max(self.now, moment)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def smtp(monkeypatch):
    """Email goes to mail.outbox, except that the next errors queued are raised
    instead (the message is built first, so its headers are recorded either way)."""
    from django.core.mail import EmailMessage

    class Smtp:
        errors: list[Exception] = []
        failing_forever: Exception | None = None
        message_ids: list[str] = []

    real_send = EmailMessage.send

    def send(self, fail_silently=False):
        Smtp.message_ids.append(self.message()["Message-ID"])
        if Smtp.failing_forever is not None:
            raise Smtp.failing_forever
        if Smtp.errors:
            raise Smtp.errors.pop(0)
        return real_send(self, fail_silently)

    monkeypatch.setattr(EmailMessage, "send", send)
    Smtp.errors, Smtp.message_ids = [], []
    return Smtp


def _pending(recipient, kind=CASE_UPDATE) -> Notification:
    """A committed outbox row whose task has not run yet."""
    with transaction.atomic():
        return notify(recipient=recipient, kind=kind, title="x", reference="SO-2026-000007")


def _due_for_sweep() -> list[int]:
    return notifications_due_for_sweep(older_than=timedelta(0))


def test_it_lets_one_worker_claim_an_email_until_its_lease_runs_out(patient, clock, settings):
    settings.NOTIFICATIONS_EMAIL_LEASE = timedelta(minutes=5)
    n = _pending(patient)

    first = notification_claim_email(notification_id=n.pk)
    assert first is not None and first.email_status == EmailStatus.SENDING
    assert first.lease_until == clock.now + timedelta(minutes=5)
    # Another process got there first: nothing for a second claimer, or a re-run task.
    assert notification_claim_email(notification_id=n.pk) is None
    notification_deliver(notification_id=n.pk)
    assert mail.outbox == []
    clock.travel(minutes=4, seconds=59)
    assert notification_claim_email(notification_id=n.pk) is None
    assert _due_for_sweep() == []

    # The first worker died: once its lease runs out, the sweep and a claimer take over.
    clock.travel(seconds=2)
    assert _due_for_sweep() == [n.pk]
    second = notification_claim_email(notification_id=n.pk)
    assert second is not None
    assert second.email_attempts == 2
    assert notification_claim_email(notification_id=n.pk) is None


@pytest.mark.django_db(transaction=True)
def test_it_skips_a_row_another_process_is_claiming_instead_of_waiting(patient):
    import threading
    import time

    from django.db import connection

    # Written directly: committing notify() here would run its (eager) task at once.
    n = Notification.objects.create(
        recipient=patient, kind=CASE_UPDATE, title="x", next_attempt_at=timezone.now()
    )
    result = {}

    def other_worker():
        started = time.monotonic()
        try:
            result["claimed"] = notification_claim_email(notification_id=n.pk)
        finally:
            connection.close()
        result["seconds"] = time.monotonic() - started

    with transaction.atomic():
        # This process is in the middle of claiming it (row locked, not committed).
        Notification.objects.select_for_update().get(pk=n.pk)
        thread = threading.Thread(target=other_worker)
        thread.start()
        thread.join(10)
    assert result["claimed"] is None
    assert result["seconds"] < 5
    # Once the first claimer is done (here: it let go), the row can be claimed.
    assert notification_claim_email(notification_id=n.pk) is not None


def test_it_sends_the_same_message_id_on_every_attempt(patient, clock, smtp):
    import smtplib

    n = _pending(patient)
    smtp.errors = [smtplib.SMTPServerDisconnected("gone")]
    retry_at = notification_deliver(notification_id=n.pk)
    clock.travel_to(retry_at)
    assert notification_deliver(notification_id=n.pk) is None

    assert len(mail.outbox) == 1
    assert smtp.message_ids == [notification_message_id(n)] * 2
    assert mail.outbox[0].message()["Message-ID"] == f"<notification-{n.pk}@secondop.local>"


def test_it_backs_off_after_a_transient_failure_and_the_sweep_waits_for_it(
    patient, clock, smtp, settings
):
    import smtplib

    n = _pending(patient)
    smtp.errors = [smtplib.SMTPServerDisconnected("gone"), smtplib.SMTPServerDisconnected("gone")]

    retry_at = notification_deliver(notification_id=n.pk)
    n.refresh_from_db()
    assert n.delivered_at is not None  # in-app does not wait for the SMTP server
    assert n.email_status == EmailStatus.PENDING
    assert n.email_attempts == 1
    assert n.failure_reason == "SMTPServerDisconnected"
    assert n.next_attempt_at == retry_at
    assert clock.now + timedelta(seconds=15) <= retry_at <= clock.now + timedelta(seconds=30)

    # Not before it is due: not the sweep, and not a task that runs early.
    clock.travel_to(retry_at - timedelta(seconds=1))
    assert _due_for_sweep() == []
    assert notification_deliver(notification_id=n.pk) is None
    n.refresh_from_db()
    assert n.email_attempts == 1

    # Due, but its own task (queued with a countdown) gets NOTIFICATIONS_SWEEP_AFTER first.
    clock.travel_to(retry_at + timedelta(seconds=1))
    assert notifications_due_for_sweep(older_than=timedelta(minutes=2)) == []
    assert _due_for_sweep() == [n.pk]

    # The second failure waits about twice as long.
    second_retry_at = notification_deliver(notification_id=n.pk)
    assert clock.now + timedelta(seconds=30) <= second_retry_at <= clock.now + timedelta(seconds=60)
    clock.travel_to(second_retry_at)
    assert notification_deliver(notification_id=n.pk) is None
    n.refresh_from_db()
    assert n.email_status == EmailStatus.SENT
    assert n.email_attempts == 3
    assert n.failure_reason == ""
    assert len(mail.outbox) == 1
    assert _due_for_sweep() == []


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            smtplib.SMTPRecipientsRefused({"pat@example.com": (550, b"pat@example.com unknown")}),
            "SMTPRecipientsRefused (SMTP 550)",
        ),
        (smtplib.SMTPDataError(554, b"rejected as spam"), "SMTPDataError (SMTP 554)"),
        (ValueError("Invalid address"), "ValueError"),
    ],
)
def test_it_marks_a_permanent_failure_failed_with_its_reason(patient, smtp, error, reason):
    n = _pending(patient)
    smtp.errors = [error]

    assert notification_deliver(notification_id=n.pk) is None

    n.refresh_from_db()
    assert n.email_status == EmailStatus.FAILED
    assert n.failure_reason == reason
    assert patient.email not in n.failure_reason
    assert n.delivered_at is not None
    # Not pending: nothing will try it again.
    assert _due_for_sweep() == []
    notification_deliver(notification_id=n.pk)
    assert len(smtp.message_ids) == 1


def test_a_template_error_is_a_permanent_failure(patient, monkeypatch):
    from django.template import TemplateSyntaxError

    from secondop.notifications import services

    def broken(*args, **kwargs):
        raise TemplateSyntaxError("bad tag")

    monkeypatch.setattr(services, "render_to_string", broken)
    n = _pending(patient)
    notification_deliver(notification_id=n.pk)
    n.refresh_from_db()
    assert (n.email_status, n.failure_reason) == (EmailStatus.FAILED, "TemplateSyntaxError")


def test_a_greylisting_refusal_is_transient(patient, smtp):
    n = _pending(patient)
    smtp.errors = [smtplib.SMTPRecipientsRefused({"pat@example.com": (451, b"try later")})]
    assert notification_deliver(notification_id=n.pk) is not None
    n.refresh_from_db()
    assert (n.email_status, n.failure_reason) == (
        EmailStatus.PENDING,
        "SMTPRecipientsRefused (SMTP 451)",
    )


def _fail_until_given_up(n, clock) -> list:
    """Run every attempt when it is due until the row stops being pending; returns
    the times at which the attempts failed."""
    failed_at = []
    while True:
        n.refresh_from_db()
        if n.email_status != EmailStatus.PENDING:
            return failed_at
        clock.travel_to(n.next_attempt_at)
        notification_deliver(notification_id=n.pk)
        failed_at.append(clock.now)
        assert len(failed_at) < 200


def test_a_security_notice_keeps_retrying_for_24_hours(patient, clock, smtp, settings):
    settings.NOTIFICATIONS_EMAIL_GIVE_UP_AFTER = timedelta(hours=1)  # not for security notices
    smtp.failing_forever = smtplib.SMTPServerDisconnected("outage")
    n = _pending(patient, kind=SECURITY)
    created = n.created_at

    failed_at = _fail_until_given_up(n, clock)

    n.refresh_from_db()
    assert n.email_status == EmailStatus.FAILED
    # Every failure within the first 24 hours left it pending; the last try was at 24 h.
    assert failed_at[-1] >= created + timedelta(hours=24)
    assert failed_at[-2] < created + timedelta(hours=24)
    assert n.email_attempts == len(failed_at) > MAX_EMAIL_ATTEMPTS
    assert n.failure_reason == f"Gave up after {n.email_attempts} attempts: SMTPServerDisconnected"
    # Backoff is capped: no gap between attempts is longer than 30 minutes.
    gaps = [b - a for a, b in pairwise(failed_at)]
    assert max(gaps) <= timedelta(minutes=30)
    assert mail.outbox == []


def test_a_10_minute_outage_loses_no_security_notice(patient, clock, smtp):
    smtp.failing_forever = smtplib.SMTPServerDisconnected("outage")
    n = _pending(patient, kind=SECURITY)
    outage_ends = clock.now + timedelta(minutes=10)
    while clock.now < outage_ends:
        n.refresh_from_db()
        clock.travel_to(n.next_attempt_at)
        notification_deliver(notification_id=n.pk)
    smtp.failing_forever = None
    n.refresh_from_db()
    clock.travel_to(n.next_attempt_at)
    notification_deliver(notification_id=n.pk)
    n.refresh_from_db()
    assert n.email_status == EmailStatus.SENT
    assert len(mail.outbox) == 1


def test_other_kinds_give_up_after_max_attempts(patient, clock, smtp):
    smtp.failing_forever = smtplib.SMTPServerDisconnected("outage")
    n = _pending(patient)

    failed_at = _fail_until_given_up(n, clock)

    n.refresh_from_db()
    assert n.email_status == EmailStatus.FAILED
    assert len(failed_at) == n.email_attempts == MAX_EMAIL_ATTEMPTS
    assert n.failure_reason.startswith(f"Gave up after {MAX_EMAIL_ATTEMPTS} attempts")


def test_other_kinds_give_up_after_the_configured_window(patient, clock, smtp, settings):
    settings.NOTIFICATIONS_EMAIL_GIVE_UP_AFTER = timedelta(minutes=3)
    smtp.failing_forever = smtplib.SMTPServerDisconnected("outage")
    n = _pending(patient)

    failed_at = _fail_until_given_up(n, clock)

    assert failed_at[-1] == n.created_at + timedelta(minutes=3)
    n.refresh_from_db()
    assert n.email_status == EmailStatus.FAILED
    assert n.email_attempts < MAX_EMAIL_ATTEMPTS


def test_an_email_that_keeps_killing_its_worker_is_given_up(patient, clock, settings):
    n = _pending(patient)
    Notification.objects.filter(pk=n.pk).update(
        email_status=EmailStatus.SENDING,
        email_attempts=MAX_EMAIL_ATTEMPTS,
        lease_until=clock.now - timedelta(seconds=1),
    )
    assert notification_claim_email(notification_id=n.pk) is None
    n.refresh_from_db()
    assert n.email_status == EmailStatus.FAILED
    assert n.failure_reason == f"Gave up after {MAX_EMAIL_ATTEMPTS} attempts: worker lost"


def test_a_recipient_without_an_email_address_fails_at_once(patient):
    n = _pending(patient, kind=SECURITY)
    type(patient).objects.filter(pk=patient.pk).update(email="")
    notification_deliver(notification_id=n.pk)
    n.refresh_from_db()
    assert (n.email_status, n.failure_reason) == (
        EmailStatus.FAILED,
        "The recipient has no email address",
    )


def test_a_finished_send_is_recorded_even_if_the_lease_ran_out_meanwhile(patient, clock, settings):
    from secondop.notifications import services

    n = _pending(patient)
    slow = notification_claim_email(notification_id=n.pk)
    clock.travel(seconds=settings.NOTIFICATIONS_EMAIL_LEASE.total_seconds() + 1)
    assert notification_claim_email(notification_id=n.pk) is not None  # taken over
    services._attempt_email(slow)  # the slow worker's send completes after all
    n.refresh_from_db()
    assert n.email_status == EmailStatus.SENT
    assert n.lease_until is None
    assert len(mail.outbox) == 1


# --- What an email says: its words, the greeting, the link ------------------------------
def _said(
    recipient,
    *,
    subject="Your second-opinion report is ready (SO-2026-000007)",
    sentence="Your second-opinion report is ready.",
    action="Read your report",
    url="/reports/case/6b7c/",
    kind=REPORT_RELEASED,
    **extra,
) -> Notification:
    with transaction.atomic():
        return notify(
            recipient=recipient,
            kind=kind,
            title="in-app only",
            url=url,
            reference="SO-2026-000007",
            email=EmailText(subject=subject, sentence=sentence, action=action),
            **extra,
        )


def test_an_email_says_its_own_words_greets_by_name_and_links_through_sign_in(db):
    from tests.accounts.factories import UserFactory

    margaret = UserFactory(role="patient", full_name="Margaret Hale")
    n = _said(margaret)
    notification_deliver(notification_id=n.pk)
    message = mail.outbox[0]
    assert message.subject == "Your second-opinion report is ready (SO-2026-000007)"
    assert message.body.startswith("Dear Margaret,")
    assert "Your second-opinion report is ready." in message.body
    link = "http://testserver/accounts/login/?next=%2Freports%2Fcase%2F6b7c%2F"
    assert f"Read your report:\n{link}" in message.body
    html_part = message.alternatives[0][0]
    assert f'<a href="{link}">Read your report</a>' in html_part.replace("&amp;", "&")
    assert "in-app only" not in message.body


@pytest.mark.parametrize(
    ("full_name", "role", "greeting"),
    [
        ("Dr. Helen Marsh", "specialist", "Dear Dr. Marsh,"),
        ("Helen Marsh, MD", "specialist", "Dear Dr. Marsh,"),
        ("Grace Liu", "coordinator", "Dear Grace,"),
        ("Dr. Anh Do", "patient", "Dear Anh,"),
        ("", "specialist", "Hello,"),
        ("Dr.", "specialist", "Hello,"),
    ],
)
def test_the_greeting_uses_the_persons_proper_name_or_none(db, full_name, role, greeting):
    from tests.accounts.factories import UserFactory

    person = UserFactory(role=role, full_name=full_name)
    notification_deliver(notification_id=_said(person).pk)
    assert mail.outbox[0].body.startswith(greeting)
    assert "Dr.," not in mail.outbox[0].body


def test_a_link_that_is_not_a_path_of_ours_goes_to_sign_in_only():
    from secondop.notifications.services import notification_link

    login = "http://testserver/accounts/login/"
    assert notification_link("https://evil.example/x") == login
    assert notification_link("//evil.example/x") == login
    assert notification_link("") == login
    assert notification_link("/requests/1/") == f"{login}?next=%2Frequests%2F1%2F"


def test_the_sign_in_link_brings_a_signed_in_person_straight_to_the_page(client, patient):
    from secondop.notifications.services import notification_link

    client.force_login(patient)
    link = notification_link("/notifications/")
    response = client.get(link.removeprefix("http://testserver"))
    assert response.status_code == 302 and response.url == "/notifications/"


def test_without_its_own_words_an_email_says_there_is_news_on_the_reference(patient):
    notification_deliver(notification_id=_pending(patient).pk)
    assert mail.outbox[0].subject == "There is news on SO-2026-000007"
    assert "There is news on SO-2026-000007." in mail.outbox[0].body


# --- A digest of several notices -------------------------------------------------------
@pytest.fixture
def window(settings):
    settings.NOTIFICATIONS_DIGEST_WINDOW = timedelta(minutes=3)
    return settings.NOTIFICATIONS_DIGEST_WINDOW


def test_notices_within_the_window_go_out_as_one_email(patient, coordinator, clock, window):
    first = _said(patient)
    notification_deliver(notification_id=first.pk)  # its task on commit: in-app at once
    first.refresh_from_db()
    assert first.delivered_at is not None and mail.outbox == []
    clock.travel(seconds=50)
    second = _said(
        patient,
        subject="Your care team asked you a question (SO-2026-000007)",
        sentence="Your care team asked you a question.",
        action="Answer the question",
        url="/messages/case/6b7c/",
        kind=MESSAGE,
    )
    notification_deliver(notification_id=second.pk)
    other = _said(coordinator)  # someone else's: never in the patient's email
    assert mail.outbox == []

    clock.travel_to(first.next_attempt_at)
    notification_deliver(notification_id=first.pk)  # the task with the countdown
    assert len(mail.outbox) == 1
    digest = mail.outbox[0]
    assert digest.to == [patient.email]
    assert digest.subject == "2 updates on SO-2026-000007"
    assert "1. Your second-opinion report is ready." in digest.body
    assert "2. Your care team asked you a question." in digest.body
    assert "next=%2Fmessages%2Fcase%2F6b7c%2F" in digest.body
    assert digest.extra_headers["Message-ID"] == f"<notification-{first.pk}@secondop.local>"
    for n in (first, second):
        n.refresh_from_db()
        assert (n.email_status, n.emailed_with_id) == (EmailStatus.SENT, first.pk)

    # The second one's own task comes later and sends nothing twice; the coordinator's
    # goes on its own.
    clock.travel(minutes=3)
    assert notification_deliver(notification_id=second.pk) is None
    notification_deliver(notification_id=other.pk)
    assert [m.to for m in mail.outbox] == [[patient.email], [coordinator.email]]


def test_a_security_notice_and_a_calendar_file_go_at_once_and_alone(patient, clock, window):
    from secondop.notifications.services import CalendarInvite

    waiting = _said(patient)
    security = _pending(patient, kind=SECURITY)
    assert security.next_attempt_at == clock.now
    notification_deliver(notification_id=security.pk)
    ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    invite = _said(patient, kind=CONSULTATION, calendar=CalendarInvite(ics=ics, method="REQUEST"))
    notification_deliver(notification_id=invite.pk)
    assert len(mail.outbox) == 2
    assert all(len(m.body.split("\n1. ")) == 1 for m in mail.outbox)  # no digest list
    waiting.refresh_from_db()
    assert waiting.email_status == EmailStatus.PENDING  # still gathering


def test_a_digest_that_fails_is_retried_whole_and_nothing_is_lost(patient, clock, window, smtp):
    import smtplib

    first, second = _said(patient), _said(patient, kind=MESSAGE)
    clock.travel_to(second.next_attempt_at)
    smtp.errors = [smtplib.SMTPServerDisconnected("gone")]
    retry_at = notification_deliver(notification_id=first.pk)
    assert retry_at is not None and mail.outbox == []
    for n in (first, second):
        n.refresh_from_db()
        assert (n.email_status, n.email_attempts) == (EmailStatus.PENDING, 1)

    clock.travel_to(retry_at + timedelta(seconds=5))
    assert set(_due_for_sweep()) >= {first.pk, second.pk}  # the sweep would find both
    assert notification_deliver(notification_id=second.pk) is None  # one email for both
    assert notification_deliver(notification_id=first.pk) is None
    assert len(mail.outbox) == 1 and mail.outbox[0].subject == "2 updates on SO-2026-000007"
    assert smtp.message_ids == [f"<notification-{first.pk}@secondop.local>"] * 2
    assert set(Notification.objects.values_list("email_status", flat=True)) == {EmailStatus.SENT}


def test_an_email_waiting_for_its_window_is_swept_only_once_it_is_overdue(patient, clock, window):
    n = _said(patient)
    clock.travel(minutes=2)
    assert _due_for_sweep() == [n.pk]  # in-app delivery was lost: that part is swept at once
    notification_deliver(notification_id=n.pk)
    assert _due_for_sweep() == [] and mail.outbox == []
    clock.travel_to(n.next_attempt_at + timedelta(seconds=1))
    assert _due_for_sweep() == [n.pk]
    notification_deliver(notification_id=n.pk)
    assert len(mail.outbox) == 1


def test_the_email_task_is_queued_for_when_the_window_ends(
    patient, window, monkeypatch, django_capture_on_commit_callbacks
):
    from secondop.notifications import tasks

    queued = []
    monkeypatch.setattr(
        tasks.notification_deliver_task,
        "apply_async",
        lambda args, countdown=None: queued.append((args, countdown)),
    )
    with django_capture_on_commit_callbacks(execute=True):
        n = notify(recipient=patient, kind=CASE_UPDATE, title="x")
    assert queued == [((n.pk,), None), ((n.pk,), window.total_seconds() + 1)]
