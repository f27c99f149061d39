"""Sending the report to the patient's physician: consent, the email, the
link (wrong, expired, revoked, another report's), openings, the task."""

import datetime
import hashlib
import logging
import re
import smtplib
from unittest import mock

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from requests_app.aftercare import consent, services, tasks
from requests_app.aftercare.models import Share, ShareOpening
from requests_app.aftercare.selectors import token_hash
from requests_app.reports.models import ReportAnswer
from secondop.audit.context import audit_source
from secondop.audit.models import AccessLog, AuditEvent
from secondop.timezones import format_local
from tests.aftercare.factories import PDF, delivered_case, release_report, sent_share
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver/shared/([A-Za-z0-9_-]{43})/")


@pytest.fixture
def case(patient, specialist):
    return delivered_case(owner=patient, specialist=specialist)


def share_url(case):
    return reverse("aftercare:share", args=[case.uuid])


def send(client, case, capture, **data):
    client.force_login(case.owner)
    post = {"email": "dr.primary@clinic.example", "consent": "on", **data}
    with capture(execute=True):
        return client.post(share_url(case), post)


# --- Consent and the form ------------------------------------------------------------------
def test_it_fills_in_the_physician_from_intake(client, case):
    client.force_login(case.owner)
    html = client.get(share_url(case)).content.decode()
    assert 'value="dr.primary@clinic.example"' in html and 'value="Dr. Primary"' in html
    assert str(consent.WORDING) in html


def test_it_will_not_send_without_consent(client, case, django_capture_on_commit_callbacks):
    response = send(client, case, django_capture_on_commit_callbacks, consent="")
    assert response.status_code == 400
    assert "Tick the box to agree to send your report." in response.content.decode()
    assert not Share.objects.exists() and mail.outbox == []
    with pytest.raises(services.AftercareError):
        services.share_create(
            actor=case.owner, case_ref=case.uuid, email="x@example.com", consented=False
        )


def test_it_stores_the_consent_with_its_version_and_time(
    client, case, django_capture_on_commit_callbacks
):
    before = timezone.now()
    send(client, case, django_capture_on_commit_callbacks, email="other.doctor@example.org")
    share = Share.objects.get()
    assert share.consent_version == consent.VERSION and share.consented_at >= before
    assert share.recipient_email == "other.doctor@example.org"
    assert share.expires_at - share.consented_at == datetime.timedelta(days=14)
    assert AuditEvent.objects.filter(action="aftercare.share.created").count() == 1


def test_there_is_nothing_to_send_before_the_report_is_released(client, patient):
    case = CaseFactory(owner=patient, submitted=True)
    client.force_login(patient)
    response = client.get(share_url(case))
    assert response.status_code == 302
    with pytest.raises(services.AftercareError):
        services.share_create(
            actor=patient, case_ref=case.uuid, email="x@example.com", consented=True
        )


def test_nobody_but_the_patient_sends_it(client, case, outsider, coordinator, specialist):
    for person in (outsider, coordinator, specialist):
        client.force_login(person)
        response = client.post(share_url(case), {"email": "x@example.com", "consent": "on"})
        assert response.status_code == 404
    assert not Share.objects.exists()


# --- The email -----------------------------------------------------------------------------
def test_the_email_says_only_that_a_patient_shared_a_report(
    client, case, django_capture_on_commit_callbacks
):
    from tests.records.factories import RecordFactory

    RecordFactory(case=case, title="Core biopsy, left breast")
    send(client, case, django_capture_on_commit_callbacks)
    [message] = mail.outbox
    assert message.to == ["dr.primary@clinic.example"]
    html = message.alternatives[0].content
    for text in (message.subject, message.body, html):
        assert "A patient" in text or "a patient" in text
        # No patient, no physician's name, no condition, no reference, no report words.
        for secret in (
            case.patient_name,
            case.owner.full_name,
            "Dr. Primary",
            "breast",
            "carcinoma",
            "Mastectomy",
            "cancer",
            case.reference,
            "Is surgery my only option?",
            "Invasive",
            "Metro General",
            "Core biopsy",
            case.owner.email,
        ):
            assert secret not in text, secret
    assert (
        "A patient of yours has shared a second-opinion report with you through SecondOp"
        in message.body
    )
    share = Share.objects.get()
    assert f"{timezone.localtime(share.expires_at):%-d %B %Y}" in message.body
    token = LINK.search(message.body)[1]
    assert LINK.search(html)[1] == token
    # Only the hash is kept, and it is the link's.
    assert share.token_hash == token_hash(token) and token not in str(share.__dict__)
    assert share.sent_at is not None


def test_the_email_is_in_the_language_the_patient_chose_for_their_doctor(
    client, case, django_capture_on_commit_callbacks
):
    case.owner.language = "en"
    case.owner.save(update_fields=["language"])
    send(client, case, django_capture_on_commit_callbacks, language="es")
    [message] = mail.outbox
    assert Share.objects.get().language == "es"
    assert "Un paciente" in message.body or "un paciente" in message.body
    assert "A patient of yours" not in message.body


def test_a_double_submit_sends_one_email(client, case, django_capture_on_commit_callbacks):
    first = send(client, case, django_capture_on_commit_callbacks)
    again = send(
        client, case, django_capture_on_commit_callbacks, email="DR.primary@clinic.example "
    )
    assert first.status_code == again.status_code == 302
    assert Share.objects.count() == 1 and len(mail.outbox) == 1
    # Another address is another disclosure; the same one later is a new link.
    send(client, case, django_capture_on_commit_callbacks, email="other.doctor@example.org")
    Share.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=10))
    send(client, case, django_capture_on_commit_callbacks)
    assert Share.objects.count() == 3 and len(mail.outbox) == 3


def test_the_task_gets_the_share_id_and_nothing_else(case):
    with mock.patch.object(tasks.share_send_task, "apply_async") as apply_async:
        services.share_enqueue(share_id=41)
    apply_async.assert_called_once_with((41,))


def test_sending_again_sends_nothing(case, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        share = services.share_create(
            actor=case.owner, case_ref=case.uuid, email="dr@example.org", consented=True
        )
    assert len(mail.outbox) == 1
    assert services.share_send(share_id=share.pk) == "nothing to send"
    assert tasks.share_send_task.delay(share.pk).get() == "nothing to send"
    assert services.shares_due_for_sweep(older_than=datetime.timedelta(0)) == []
    assert len(mail.outbox) == 1


def test_a_transient_failure_is_tried_again_and_only_the_last_link_opens(
    client, case, django_capture_on_commit_callbacks
):
    failing = mock.patch(
        "django.core.mail.EmailMultiAlternatives.send",
        side_effect=smtplib.SMTPServerDisconnected("gone"),
    )
    with failing, django_capture_on_commit_callbacks(execute=True):
        share = services.share_create(
            actor=case.owner, case_ref=case.uuid, email="dr@example.org", consented=True
        )
    share.refresh_from_db()
    assert share.sent_at is None and share.failed_at is None
    assert share.send_claimed_until is None and share.send_attempts == 1
    # The sweep finds it and sends it.
    Share.objects.filter(pk=share.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    assert tasks.shares_sweep.delay().get() == 1
    share.refresh_from_db()
    assert share.sent_at is not None and share.send_attempts == 2
    token = LINK.search(mail.outbox[-1].body)[1]
    assert client.get(reverse("aftercare:shared_report", args=[token])).status_code == 200


def test_a_refused_address_is_not_tried_again(case, django_capture_on_commit_callbacks):
    refused = smtplib.SMTPRecipientsRefused({"dr@example.org": (550, b"no such user")})
    with (
        mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=refused),
        django_capture_on_commit_callbacks(execute=True),
    ):
        share = services.share_create(
            actor=case.owner, case_ref=case.uuid, email="dr@example.org", consented=True
        )
    share.refresh_from_db()
    assert (
        share.failed_at is not None and share.failure_reason == "SMTPRecipientsRefused (SMTP 550)"
    )
    assert services.shares_due_for_sweep(older_than=datetime.timedelta(0)) == []


def test_a_worker_that_holds_the_share_keeps_others_away(case):
    share, _token = sent_share(case=case)
    Share.objects.filter(pk=share.pk).update(
        sent_at=None, send_claimed_until=timezone.now() + datetime.timedelta(minutes=5)
    )
    assert services.share_send(share_id=share.pk) == "nothing to send"
    assert mail.outbox == []


# --- The physician's link ------------------------------------------------------------------
def open_link(client, token, pdf=False):
    name = "aftercare:shared_report_pdf" if pdf else "aftercare:shared_report"
    return client.get(reverse(name, args=[token]))


def test_the_link_opens_the_report_without_an_account(client, case):
    _share, token = sent_share(case=case)
    response = open_link(client, token)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Invasive ductal carcinoma, grade 2." in html and case.patient_name in html
    assert "Agrees, with a refinement" in html and "Suggests changes to the plan" in html
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    assert "Download the signed PDF" in html


def test_every_opening_is_logged_without_the_token(client, case):
    share, token = sent_share(case=case)
    open_link(client, token)
    open_link(client, token)
    pdf = open_link(client, token, pdf=True)
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content) == PDF
    assert pdf["Referrer-Policy"] == "no-referrer" and "no-store" in pdf["Cache-Control"]
    kinds = list(ShareOpening.objects.filter(share=share).values_list("kind", flat=True))
    assert sorted(kinds) == ["download", "view", "view"]
    logged = AccessLog.objects.filter(object_type="aftercare.share", object_id=str(share.pk))
    assert logged.count() == 3 and not logged.exclude(actor=None).exists()
    assert {row.path for row in logged} == {"/shared/[token]/", "/shared/[token]/pdf/"}
    assert not AccessLog.objects.filter(path__contains=token).exists()
    assert all(row.ip_address == "127.0.0.1" for row in logged)


def test_a_missing_pdf_is_the_refused_page_and_no_log_holds_the_token(client, case, caplog):
    _share, token = sent_share(case=case)
    caplog.set_level(logging.INFO)
    with mock.patch(
        "requests_app.aftercare.views.default_storage.open", side_effect=FileNotFoundError
    ):
        response = open_link(client, token, pdf=True)
    assert response.status_code == 410
    assert "This report is no longer available" in response.content.decode()
    assert response["Referrer-Policy"] == "no-referrer"
    assert caplog.records and token not in caplog.text
    assert not [r for r in caplog.records if r.name == "django.request"]


def test_the_patient_sees_when_their_physician_opened_it(client, case):
    _share, token = sent_share(case=case)
    open_link(client, token)
    client.force_login(case.owner)
    opened = ShareOpening.objects.get()
    when = format_local(opened.created_at)  # "6 December 2026, 10:50 PM EST"
    for url in (share_url(case), reverse("requests_app:case_detail", args=[case.uuid])):
        html = client.get(url).content.decode()
        assert f"Opened by your physician on {when}" in html


def test_wrong_tokens_are_not_found_then_rate_limited_and_a_right_one_always_opens(
    client, case, settings
):
    settings.SHARE_BAD_TOKEN_LIMIT = 3
    _share, token = sent_share(case=case)
    # Right tokens are never counted: a physician opening their link often is fine.
    for _ in range(5):
        assert open_link(client, token).status_code == 200
    for attempt in range(3):
        response = open_link(client, f"wrong-{attempt}")
        assert response.status_code == 404
        assert "This link is not valid" in response.content.decode()
    # Further wrong tokens from this address are refused until the window passes...
    response = open_link(client, "wrong-again")
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert case.patient_name not in response.content.decode()
    # ... but a right one still opens, from the same address (a hospital's physicians
    # share one): one person mistyping locks nobody else out.
    assert open_link(client, token).status_code == 200
    assert open_link(client, token, pdf=True).status_code == 200
    # Another address is not held back at all.
    assert (
        client.get(
            reverse("aftercare:shared_report", args=["wrong-elsewhere"]), REMOTE_ADDR="10.1.2.3"
        ).status_code
        == 404
    )


def test_an_expired_link_says_so_and_never_shows_the_report(client, case):
    _share, token = sent_share(case=case, expires_at=timezone.now() - datetime.timedelta(seconds=1))
    for pdf in (False, True):
        response = open_link(client, token, pdf=pdf)
        html = response.content.decode()
        assert response.status_code == 410
        assert "This link has expired" in html and "carcinoma" not in html
        assert case.patient_name not in html
    assert not ShareOpening.objects.exists()


def test_a_revoked_link_says_so_and_never_shows_the_report(client, case):
    share, token = sent_share(case=case)
    assert open_link(client, token).status_code == 200
    client.force_login(case.owner)
    response = client.post(reverse("aftercare:share_revoke", args=[share.uuid]))
    assert response.status_code == 302
    client.logout()
    for pdf in (False, True):
        response = open_link(client, token, pdf=pdf)
        assert response.status_code == 410
        html = response.content.decode()
        assert "This link was withdrawn" in html and "carcinoma" not in html
        assert response["Referrer-Policy"] == "no-referrer"
    assert ShareOpening.objects.count() == 1
    # Revoked and expired links are real links, not guesses: they are not counted.
    with audit_source("web", ip="127.0.0.1"):
        assert not services.too_many_bad_tokens()


def test_a_refused_link_is_logged_without_its_token(client, case, caplog):
    _share, token = sent_share(case=case, revoked=True)
    with caplog.at_level(logging.WARNING):
        open_link(client, token)
    assert "/shared/[token]/" in caplog.text and token not in caplog.text


def test_another_reports_token_shows_only_that_report(client, case, outsider, specialist):
    other = delivered_case(
        owner=outsider,
        specialist=specialist,
        patient_name="Olly Outsider",
        diagnosis="Knee pain",
        proposed_treatment="Knee replacement",
    )
    other.report.versions.update(
        summary="Osteoarthritis of the right knee.", diagnosis="Osteoarthritis, right knee"
    )
    ReportAnswer.objects.filter(version__report__case=other).update(
        question_text="Do I need a new knee?", answer="Not yet."
    )
    _mine, my_token = sent_share(case=case)
    theirs, their_token = sent_share(case=other)
    html = open_link(client, their_token).content.decode()
    assert "Osteoarthritis of the right knee." in html and "Olly Outsider" in html
    assert "carcinoma" not in html and "breast" not in html and "Mastectomy" not in html
    assert case.patient_name not in html and case.reference not in html
    mine = open_link(client, my_token).content.decode()
    assert "Osteoarthritis" not in mine and "Olly Outsider" not in mine
    assert ShareOpening.objects.filter(share=theirs).count() == 1


def test_an_amendment_released_later_is_what_the_link_shows(client, case, specialist):
    _share, token = sent_share(case=case)
    release_report(case=case, author=specialist, summary="Amended: grade 1, not 2.")
    html = open_link(client, token).content.decode()
    assert "Amended: grade 1, not 2." in html and "grade 2." not in html


def test_only_the_patient_revokes(client, case, outsider, coordinator):
    share, _token = sent_share(case=case)
    for person in (outsider, coordinator):
        client.force_login(person)
        assert client.post(reverse("aftercare:share_revoke", args=[share.uuid])).status_code == 404
    share.refresh_from_db()
    assert share.revoked_at is None


def test_the_patient_revokes_from_their_page(client, case):
    share, _token = sent_share(case=case)
    client.force_login(case.owner)
    html = client.get(share_url(case)).content.decode()
    assert "Withdraw the link sent to dr.primary@clinic.example" in html
    client.post(reverse("aftercare:share_revoke", args=[share.uuid]))
    client.post(reverse("aftercare:share_revoke", args=[share.uuid]))  # twice: no change
    share.refresh_from_db()
    assert share.revoked_at is not None and share.revoked_by == case.owner
    assert AuditEvent.objects.filter(action="aftercare.share.revoked").count() == 1
    html = client.get(share_url(case)).content.decode()
    assert "Withdraw the link sent to" not in html and "Withdrawn" in html


def test_withdrawing_the_request_withdraws_its_links(client, case):
    from requests_app import services as request_services
    from requests_app.models import Case, CaseStatus
    from requests_app.workflow import TransitionError

    _share, token = sent_share(case=case)
    # A delivered request can no longer be withdrawn (its links are withdrawn one by one)...
    with pytest.raises(TransitionError, match="can no longer be withdrawn"):
        request_services.case_withdraw(
            actor=case.owner, case_ref=case.uuid, reason="My own doctor answered my questions."
        )
    # ... but one withdrawn after delivery before that rule still withdraws its links.
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.WITHDRAWN)
    response = open_link(client, token)
    assert response.status_code == 410
    assert "This link was withdrawn" in response.content.decode()
    with pytest.raises(services.AftercareError, match="withdrawn"):
        services.share_create(
            actor=case.owner, case_ref=case.uuid, email="x@example.com", consented=True
        )


# --- The physician's FHIR download -----------------------------------------------------------
def open_fhir(client, token):
    return client.get(reverse("aftercare:shared_report_fhir", args=[token]))


def test_the_physician_downloads_the_report_as_fhir(client, case):
    share, token = sent_share(case=case)
    html = open_link(client, token).content.decode()
    assert reverse("aftercare:shared_report_fhir", args=[token]) in html
    assert "Download for another health system (FHIR)" in html
    response = open_fhir(client, token)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    assert f'filename="{case.reference}-opinion-v1.fhir.json"' in response["Content-Disposition"]
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Referrer-Policy"] == "no-referrer" and "no-store" in response["Cache-Control"]
    bundle = Bundle.model_validate_json(response.content)
    [report] = [
        e.resource for e in bundle.entry if e.resource.get_resource_type() == "DiagnosticReport"
    ]
    version = case.report.versions.get()
    assert report.presentedForm[0].data == PDF
    assert hashlib.sha256(report.presentedForm[0].data).hexdigest() == version.pdf_sha256
    # Recorded as a download, for the patient and in the access log, without the token.
    assert list(ShareOpening.objects.values_list("kind", flat=True).order_by("pk")) == [
        "view",
        "download",
    ]
    logged = AccessLog.objects.filter(object_type="aftercare.share", object_id=str(share.pk))
    assert logged.filter(kind="download", path="/shared/[token]/fhir/").count() == 1
    assert not AccessLog.objects.filter(path__contains=token).exists()


def test_the_fhir_download_is_refused_like_the_pdf(client, case):
    _expired, expired_token = sent_share(
        case=case, expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    _revoked, revoked_token = sent_share(case=case, revoked=True)
    for token, words in (
        (expired_token, "This link has expired"),
        (revoked_token, "This link was withdrawn"),
    ):
        response = open_fhir(client, token)
        assert response.status_code == 410
        assert words in response.content.decode()
        assert response["Content-Type"].startswith("text/html")
    assert open_fhir(client, "not-a-token").status_code == 404
    assert not ShareOpening.objects.exists()


def test_the_fhir_download_after_revocation_by_the_patient(client, case):
    share, token = sent_share(case=case)
    assert open_fhir(client, token).status_code == 200
    client.force_login(case.owner)
    client.post(reverse("aftercare:share_revoke", args=[share.uuid]))
    client.logout()
    response = open_fhir(client, token)
    assert response.status_code == 410 and case.patient_name not in response.content.decode()


def test_the_fhir_download_carries_the_amendment_released_later(client, case, specialist):
    _share, token = sent_share(case=case)
    newer = release_report(case=case, author=specialist, summary="Amended: grade 1, not 2.")
    bundle = Bundle.model_validate_json(open_fhir(client, token).content)
    [document] = [
        e.resource for e in bundle.entry if e.resource.get_resource_type() == "DocumentReference"
    ]
    assert document.masterIdentifier.value == f"urn:uuid:{newer.uuid}"
    assert document.docStatus == "amended"


def test_a_pdf_missing_from_the_fhir_download_is_the_refused_page(client, case, caplog):
    _share, token = sent_share(case=case)
    with mock.patch("secondop.storage.read_bytes", side_effect=FileNotFoundError):
        response = open_fhir(client, token)
    assert response.status_code == 410
    assert "This report is no longer available" in response.content.decode()
    assert token not in caplog.text


def test_a_link_returned_later_shows_as_not_delivered(client, case, settings):
    from tests.platform.test_mailing import dsn

    settings.MAIL_BOUNCE_TOKEN = "hook-secret-123"
    share, _token = sent_share(case=case)
    response = client.post(
        "/hooks/mail/bounces",
        dsn(f"<share-{share.uuid}@secondop.local>"),
        content_type="message/rfc822",
        headers={"Authorization": "Bearer hook-secret-123"},
    )
    assert response.json() == {"changed": 1}
    share.refresh_from_db()
    assert share.failed_at is not None and share.failure_reason == "Returned (SMTP 5.1.1)"
    assert AuditEvent.objects.filter(action="aftercare.share.bounced").count() == 1
    client.force_login(case.owner)
    page = client.get(reverse("aftercare:share", args=[case.uuid])).content.decode()
    assert "Not delivered" in page and "sent it back" in page


def test_a_bounce_for_a_link_already_opened_changes_nothing(client, case):
    from secondop import mailing

    share, token = sent_share(case=case)
    assert client.get(reverse("aftercare:shared_report", args=[token])).status_code == 200
    bounce = mailing.Bounce("share", str(share.uuid), "5.1.1", "SMTP 5.1.1")
    assert services.share_bounced(bounce) is False
