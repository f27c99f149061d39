"""The public check of a report (/reports/verify/): a code and a PDF file,
compared by SHA-256 with the signed original; no sign-in; rate-limited; it shows
who signed which version when, and nothing the report says."""

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from requests_app.reports import codes, services
from secondop.audit.models import AccessLog
from tests.reports.factories import ANSWER_1, assigned_case, release, sign

pytestmark = pytest.mark.django_db
URL = "/reports/verify/"


@pytest.fixture
def version(patient, coordinator, specialist):
    case = assigned_case(patient, coordinator, specialist)
    sign(case, specialist)
    return release(case, coordinator)


def check(client, code: str, data: bytes):
    return client.post(
        URL, {"code": code, "document": SimpleUploadedFile("report.pdf", data, "application/pdf")}
    )


def original(version) -> bytes:
    return default_storage.open(version.pdf_key).read()


# What the page must never show: anything the report or the case says.
CONTENT = (
    "Pat Patient",
    "Early-stage breast cancer",
    "Invasive ductal carcinoma",
    "Agrees, with a refinement",
    ANSWER_1,
    "Is surgery my only option?",
    "SO-2026-",
)


def test_it_is_at_the_public_address_for_anyone(client):
    assert reverse("reports:verify") == URL
    response = client.get(URL)
    assert response.status_code == 200 and "Verification code" in response.content.decode()


def test_it_confirms_an_authentic_pdf_without_showing_its_content(client, version):
    response = check(client, codes.grouped(version.verification_code), original(version))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Authentic" in html
    signed = timezone.localtime(version.signed_at)
    assert f"signed by Dr. Spec, MD, PhD on {signed:%-d %B %Y}, version 1" in html
    for text in CONTENT:
        assert text not in html, text
    assert AccessLog.objects.filter(actor=None, object_id=str(version.pk)).count() == 1


def test_one_changed_byte_does_not_match(client, version):
    data = bytearray(original(version))
    data[len(data) // 2] ^= 0x01
    html = check(client, version.verification_code, bytes(data)).content.decode()
    assert "Does not match" in html and "Authentic" not in html
    for text in CONTENT:
        assert text not in html, text


def test_a_wrong_code_looks_the_same_as_a_changed_file(client, version):
    other = "0" * 10 if version.verification_code != "0" * 10 else "1" * 10
    html = check(client, other, original(version)).content.decode()
    assert "Does not match" in html


def test_the_code_is_read_as_people_type_it(client, version):
    typed = codes.grouped(version.verification_code).lower().replace("0", "o").replace("1", "l")
    assert "Authentic" in check(client, f"  {typed} ", original(version)).content.decode()


def test_it_says_a_replaced_version_was_replaced(client, version, specialist, coordinator):
    case = version.report.case
    services.report_amend(actor=specialist, case_ref=case.uuid, reason="Typo")
    sign(case, specialist)
    release(case, coordinator)
    html = check(client, version.verification_code, original(version)).content.decode()
    assert "Authentic" in html and "A later version of this report replaced it" in html
    assert "Typo" not in html


def test_a_code_that_cannot_be_one_is_an_error_on_the_field(client):
    response = check(client, "ABC", b"%PDF-1.7")
    assert response.status_code == 400
    assert 'href="#id_code"' in response.content.decode()


def test_it_is_rate_limited(client, version, settings):
    from requests_app.reports import views

    data = original(version)
    for _ in range(views.VERIFY_PER_HOUR):
        assert check(client, version.verification_code, data).status_code == 200
    response = check(client, version.verification_code, data)
    assert response.status_code == 429 and "Too many checks" in response.content.decode()
    assert "Authentic" not in response.content.decode()


def test_a_body_over_the_limit_is_refused_without_being_read(client):
    """The body claims 30 MB; only a few bytes are there, and reading past them
    fails the test: the answer comes from Content-Length alone."""
    body = b'--x\r\nContent-Disposition: form-data; name="code"\r\n\r\n7KQ2M-XW9RB\r\n--x--\r\n'
    response = client.generic(
        "POST",
        URL,
        body,
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(30 * 1024 * 1024),
    )
    assert response.status_code == 413
    assert "The file is too large" in response.content.decode()


def test_the_rate_limit_comes_before_the_body(client, settings):
    from requests_app.reports import views

    for _ in range(views.VERIFY_PER_HOUR):
        client.post(URL, {"code": "x"})
    body = b"--x\r\n"
    response = client.generic(
        "POST", URL, body, content_type="multipart/form-data; boundary=x", CONTENT_LENGTH=str(1024)
    )
    assert response.status_code == 429


def test_the_csrf_check_still_holds(version):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        URL,
        {
            "code": version.verification_code,
            "document": SimpleUploadedFile("report.pdf", original(version), "application/pdf"),
        },
    )
    assert response.status_code == 403
