"""The physician's share as a SMART Health Link: the link and its QR code shown
once, the manifest an app resolves (JWE files that decrypt with the link's key
to the FHIR Bundle and the signed PDF), the passcode, and the share's rules
(revoked, expired, withdrawn, amended), every opening logged without the token
or the passcode."""

import base64
import datetime
import hashlib
import json
import logging

import pytest
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from requests_app.aftercare import services
from requests_app.aftercare.models import Share, ShareOpening, SmartLink
from secondop import shlink
from secondop.audit.models import AccessLog, AuditEvent
from tests.aftercare.factories import PDF, delivered_case, release_report, smart_link

pytestmark = pytest.mark.django_db

PASSCODE = "blue-heron-42"
APP = "Dr. Lee's record system"


@pytest.fixture
def case(patient, specialist):
    return delivered_case(owner=patient, specialist=specialist)


def manifest(client, url_or_token, **body):
    token = url_or_token.rstrip("/").rpartition("/")[2]
    return client.post(
        reverse("aftercare:smart_link_manifest", args=[token]),
        json.dumps({"recipient": APP, **body}),
        content_type="application/json",
    )


# --- The link ------------------------------------------------------------------------------
def test_it_decodes_to_the_spec_payload(case):
    shared, payload, _token = smart_link(case=case, passcode=PASSCODE)
    assert shared.link.startswith("shlink:/")
    raw = json.loads(base64.urlsafe_b64decode(shared.link[8:] + "=" * (-len(shared.link[8:]) % 4)))
    assert set(raw) == {"url", "key", "exp", "flag", "label"}
    assert raw["flag"] == "P" and raw["exp"] == int(shared.share.expires_at.timestamp())
    assert len(base64.urlsafe_b64decode(raw["key"] + "=")) == 32
    assert raw["url"].startswith("http://testserver/shl/") and len(raw["url"]) <= 128
    assert payload.key == raw["key"]


def test_without_a_passcode_it_has_no_flag(case):
    _shared, payload, _token = smart_link(case=case)
    assert payload.flag == ""


def test_the_server_keeps_neither_the_key_nor_the_token_nor_the_passcode(case):
    _shared, payload, token = smart_link(case=case, passcode=PASSCODE)
    link = SmartLink.objects.get()
    row = json.dumps(list(SmartLink.objects.values()), default=str)
    assert payload.key not in row and token not in row and PASSCODE not in row
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    events = json.dumps(list(AuditEvent.objects.values("new_values", "old_values")), default=str)
    assert payload.key not in events and token not in events and PASSCODE not in events


# --- The manifest ----------------------------------------------------------------------------
def test_the_files_decrypt_to_the_fhir_bundle_and_the_signed_pdf(client, case):
    _shared, payload, _token = smart_link(case=case)
    response = manifest(client, payload.url)
    assert response.status_code == 200 and response["Access-Control-Allow-Origin"] == "*"
    files = response.json()["files"]
    assert [f["contentType"] for f in files] == ["application/fhir+json", "application/pdf"]
    for file in files:
        header = json.loads(base64.urlsafe_b64decode(file["embedded"].split(".")[0] + "=="))
        assert header == {"alg": "dir", "enc": "A256GCM", "cty": file["contentType"]}
    bundle_bytes, cty = shlink.decrypt(files[0]["embedded"], key=payload.key)
    assert cty == "application/fhir+json"
    bundle = Bundle.model_validate_json(bundle_bytes)
    kinds = {entry.resource.get_resource_type() for entry in bundle.entry}
    assert {"Patient", "DiagnosticReport", "DocumentReference"} <= kinds
    pdf, cty = shlink.decrypt(files[1]["embedded"], key=payload.key)
    version = case.report.versions.get()
    assert cty == "application/pdf" and pdf == PDF
    assert hashlib.sha256(pdf).hexdigest() == version.pdf_sha256


def test_another_key_does_not_decrypt(client, case):
    _shared, payload, _token = smart_link(case=case)
    embedded = manifest(client, payload.url).json()["files"][0]["embedded"]
    with pytest.raises(Exception):  # noqa: B017 (jwcrypto's InvalidJWEData)
        shlink.decrypt(embedded, key=shlink.new_key())


def test_every_opening_is_shown_to_the_patient_and_logged_without_the_token(client, case):
    _shared, payload, token = smart_link(case=case)
    manifest(client, payload.url)
    opening = ShareOpening.objects.get()
    assert opening.kind == "shl" and opening.recipient == APP
    logged = AccessLog.objects.get(actor=None)
    assert logged.kind == "download" and logged.path == "/shl/[token]" and token not in logged.path
    client.force_login(case.owner)
    html = client.get(reverse("aftercare:share", args=[case.uuid])).content.decode()
    assert "Opened with the SMART Health Link by “Dr. Lee&#x27;s record system”" in html


def test_it_needs_json_with_a_recipient(client, case):
    _shared, _payload, token = smart_link(case=case)
    url = reverse("aftercare:smart_link_manifest", args=[token])
    assert client.post(url, {"recipient": "x"}).status_code == 400
    assert client.post(url, "{}", content_type="application/json").status_code == 400
    assert client.get(url).status_code == 405
    assert client.options(url).status_code == 204
    assert not ShareOpening.objects.exists()


# --- The passcode ------------------------------------------------------------------------------
def test_the_right_passcode_opens(client, case):
    _shared, payload, _token = smart_link(case=case, passcode=PASSCODE)
    assert manifest(client, payload.url, passcode=PASSCODE).status_code == 200


def test_a_wrong_passcode_counts_down_then_the_link_stops(client, case, settings, caplog):
    settings.SMART_LINK_PASSCODE_ATTEMPTS = 3
    _shared, payload, token = smart_link(case=case, passcode=PASSCODE)
    with caplog.at_level(logging.INFO):
        first = manifest(client, payload.url, passcode="wrong-one")
        assert first.status_code == 401 and first.json()["remainingAttempts"] == 2
        assert manifest(client, payload.url).json()["remainingAttempts"] == 1  # none given
        assert manifest(client, payload.url, passcode="wrong").json()["remainingAttempts"] == 0
        # Stopped: even the right passcode opens nothing now.
        assert manifest(client, payload.url, passcode=PASSCODE).status_code == 404
    assert SmartLink.objects.get().disabled_at is not None
    assert not ShareOpening.objects.exists()
    assert token not in caplog.text and "wrong-one" not in caplog.text
    rows = json.dumps(list(AuditEvent.objects.values("new_values", "old_values")), default=str)
    assert "wrong-one" not in rows and PASSCODE not in rows
    assert AuditEvent.objects.filter(action="aftercare.smart_link.wrong_passcode").count() == 3
    client.force_login(case.owner)
    html = client.get(reverse("aftercare:share", args=[case.uuid])).content.decode()
    assert "Stopped after too many wrong passcodes" in html


# --- The share's rules ------------------------------------------------------------------------
def test_a_revoked_share_stops_its_smart_link(client, case):
    shared, payload, _token = smart_link(case=case)
    services.share_revoke(actor=case.owner, share_ref=shared.share.uuid)
    response = manifest(client, payload.url)
    assert response.status_code == 404 and "files" not in response.json()


def test_an_expired_share_stops_its_smart_link(client, case):
    shared, payload, _token = smart_link(case=case)
    Share.objects.filter(pk=shared.share.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert manifest(client, payload.url).status_code == 404


def test_withdrawing_the_request_stops_it(client, case):
    _shared, payload, _token = smart_link(case=case)
    case.status = "withdrawn"
    case.save(update_fields=["status"])
    assert manifest(client, payload.url).status_code == 404


def test_an_amendment_released_later_stops_the_link_made_before(client, case, specialist):
    _shared, payload, _token = smart_link(case=case)
    release_report(case=case, author=specialist, summary="Amended.")
    assert manifest(client, payload.url).status_code == 404


def test_wrong_tokens_are_not_found_then_rate_limited(client, case, settings):
    settings.SHARE_BAD_TOKEN_LIMIT = 2
    _shared, payload, _token = smart_link(case=case)
    assert manifest(client, "bogus-1").status_code == 404
    assert manifest(client, "bogus-2").status_code == 404
    assert manifest(client, "bogus-3").status_code == 429
    assert manifest(client, payload.url).status_code == 200  # a right token always opens


# --- The patient's page -----------------------------------------------------------------------
def test_the_patient_sees_the_qr_code_once(client, case, django_capture_on_commit_callbacks):
    client.force_login(case.owner)
    url = reverse("aftercare:share", args=[case.uuid])
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            url,
            {
                "email": "dr.primary@clinic.example",
                "consent": "on",
                "smart_link": "on",
                "passcode": PASSCODE,
            },
        )
    assert response.status_code == 200 and "no-cache" in response["Cache-Control"]
    html = response.content.decode()
    assert 'src="data:image/svg+xml' in html and "shlink:/" in html
    link = html.split("shlink:/", 1)[1].split("<", 1)[0]
    payload = shlink.parse("shlink:/" + link)
    assert payload.flag == "P"
    assert PASSCODE not in html  # the form is fresh: the passcode is not shown back
    again = client.get(url).content.decode()
    assert "shlink:/" not in again and "Made, with a passcode" in again


def test_a_passcode_without_the_box_is_refused_and_keeps_what_was_typed(client, case):
    client.force_login(case.owner)
    response = client.post(
        reverse("aftercare:share", args=[case.uuid]),
        {"email": "dr.other@clinic.example", "consent": "on", "passcode": PASSCODE},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Tick this box to make the QR code" in html and "dr.other@clinic.example" in html
    assert not Share.objects.exists()


def test_a_short_passcode_is_refused(client, case):
    client.force_login(case.owner)
    response = client.post(
        reverse("aftercare:share", args=[case.uuid]),
        {
            "email": "dr.primary@clinic.example",
            "consent": "on",
            "smart_link": "on",
            "passcode": "123",
        },
    )
    assert response.status_code == 400 and "at least 6 characters" in response.content.decode()
    assert not Share.objects.filter(Q(smart_link__isnull=False)).exists()


# --- On paper: a cover page with the QR code, then the signed report -------------------------
def _printed(client, case, link):
    client.force_login(case.owner)
    return client.post(reverse("aftercare:share_printed", args=[case.uuid]), {"link": link})


def test_the_printed_link_is_a_cover_with_its_qr_code_then_the_signed_report(client, case):
    import io

    import pypdfium2
    import zxingcpp
    from django.core.files.storage import default_storage

    from tests.records.test_smart_links_in import REAL_PDF, released_with_a_real_pdf

    released_with_a_real_pdf(case)
    shared, _payload, _token = smart_link(case=case, passcode=PASSCODE)
    version = shared.share.report.versions.get()
    response = _printed(client, case, shared.link)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "no-cache" in response["Cache-Control"]
    assert "attachment" in response["Content-Disposition"]
    document = pypdfium2.PdfDocument(io.BytesIO(response.content))
    report = pypdfium2.PdfDocument(REAL_PDF)
    assert len(document) == 1 + len(report)
    cover = " ".join(document[0].get_textpage().get_text_range().split())
    assert case.patient_name in cover and "Scan the QR code" in cover
    assert "ask the patient for it" in cover  # the link has a passcode
    assert "dr.primary@clinic.example" in cover
    # The QR code on the cover reads back as the very link the patient was shown.
    picture = document[0].render(scale=2).to_pil()
    [code] = zxingcpp.read_barcodes(picture)
    assert code.text == shared.link
    # The report's own pages follow, and the stored signed PDF is untouched.
    assert document[1].get_textpage().get_text_range() == report[0].get_textpage().get_text_range()
    with default_storage.open(version.pdf_key, "rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == version.pdf_sha256
    event = AuditEvent.objects.get(action="aftercare.smart_link.printed")
    assert event.actor == case.owner
    assert shared.link not in json.dumps(event.new_values)


def test_a_link_not_of_this_report_or_no_longer_working_is_not_printed(
    client, case, patient, specialist
):
    shared, _payload, _token = smart_link(case=case)
    other = delivered_case(owner=patient, specialist=specialist)
    theirs, _p, _t = smart_link(case=other)
    for text, words in (
        ("shlink:/not-a-link", "not a SMART Health Link of this report"),
        (theirs.link, "not a SMART Health Link of this report"),
    ):
        response = _printed(client, case, text)
        assert response.status_code == 302
        assert words in client.get(response["Location"]).content.decode()
    services.share_revoke(actor=case.owner, share_ref=shared.share.uuid)
    response = _printed(client, case, shared.link)
    assert "no longer works" in client.get(response["Location"]).content.decode()
    assert not AuditEvent.objects.filter(action="aftercare.smart_link.printed").exists()


def test_only_the_patient_prints_their_link(client, case, specialist):
    shared, _payload, _token = smart_link(case=case)
    client.force_login(specialist)
    url = reverse("aftercare:share_printed", args=[case.uuid])
    assert client.post(url, {"link": shared.link}).status_code == 404
    client.force_login(case.owner)
    assert client.get(url).status_code == 405


# --- A stopped link's encrypted files are deleted -------------------------------------------
def _stored(link) -> bool:
    from django.core.files.storage import default_storage

    return default_storage.exists(link.bundle_key) or default_storage.exists(link.pdf_key)


def test_withdrawing_the_link_deletes_its_encrypted_files(
    client, case, django_capture_on_commit_callbacks
):
    shared, payload, _token = smart_link(case=case)
    link = SmartLink.objects.get()
    assert _stored(link)
    with django_capture_on_commit_callbacks(execute=True):
        services.share_revoke(actor=case.owner, share_ref=shared.share.uuid)
    link.refresh_from_db()
    assert link.files_deleted_at is not None and not _stored(link)
    assert AuditEvent.objects.filter(action="aftercare.smart_link.files_deleted").count() == 1
    assert manifest(client, payload.url).status_code == 404


def test_the_sweep_deletes_the_files_of_links_that_stopped_and_keeps_live_ones(
    case, patient, specialist
):
    from requests_app.aftercare.tasks import smart_links_sweep

    live, _p, _t = smart_link(case=case)
    expired_case = delivered_case(owner=patient, specialist=specialist)
    expired, _p, _t = smart_link(case=expired_case)
    Share.objects.filter(pk=expired.share.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    withdrawn_case = delivered_case(owner=patient, specialist=specialist)
    smart_link(case=withdrawn_case)
    withdrawn_case.status = "withdrawn"
    withdrawn_case.save(update_fields=["status"])
    replaced_case = delivered_case(owner=patient, specialist=specialist)
    smart_link(case=replaced_case)
    release_report(case=replaced_case, author=specialist, summary="Amended.")

    assert smart_links_sweep.apply().result == 3
    kept = SmartLink.objects.get(share=live.share)
    assert kept.files_deleted_at is None and _stored(kept)
    for link in SmartLink.objects.exclude(pk=kept.pk):
        assert link.files_deleted_at is not None and not _stored(link)
    assert smart_links_sweep.apply().result == 0  # nothing twice
    assert services.smart_link_files_delete(link_id=kept.pk) is False  # a live one stays
