"""The physician's share as a SMART Health Link, in Chromium with axe: the
patient sends their report with a QR code and a passcode and sees the QR code
(once); then an app (here urllib, as the physician's record system) resolves the
link from the page's text, decrypts the files with the link's key, and the
patient sees the opening."""

import hashlib
import json
import re
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pypdfium2
import pytest
from fhir.resources.R4B.bundle import Bundle

from requests_app.aftercare.models import SmartLink
from secondop import shlink
from tests.accounts.factories import UserFactory
from tests.aftercare.factories import delivered_case
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, screenshot
from tests.e2e.test_intake import sign_in
from tests.records.test_smart_links_in import REAL_PDF, released_with_a_real_pdf

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSCODE = "heron-lake-7"


def resolve(live_server, url: str, **body) -> tuple[int, dict]:
    request = urllib.request.Request(
        live_server.url + urlsplit(url).path,
        data=json.dumps({"recipient": "Dr. Ruiz's record system", **body}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_patient_makes_a_smart_health_link_and_an_app_reads_it(page, live_server, db):
    patient = UserFactory(email="maria@example.com", full_name="Maria Lopez")
    case = delivered_case(
        owner=patient,
        specialist=UserFactory(role="specialist"),
        patient_name="Maria Lopez",
        pcp_name="Dr. Ana Ruiz",
        pcp_email="ana.ruiz@clinic.example",
    )
    released_with_a_real_pdf(case)
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/$"))
    page.goto(f"{live_server.url}/aftercare/{case.uuid}/share/")
    assert_accessible(page, "share page with the SMART Health Link option")

    # A passcode without the box: said, and nothing typed is lost.
    page.get_by_label("Passcode for the QR code (optional)").fill(PASSCODE)
    page.get_by_label(re.compile("I agree that SecondOp sends a link")).check()
    page.get_by_role("button", name="Send the link to my doctor").click()
    assert page.get_by_role("alert").get_by_text("Tick this box to make the QR code").is_visible()
    assert page.get_by_label("Passcode for the QR code (optional)").input_value() == PASSCODE
    assert_accessible(page, "share page, passcode without the box")

    page.get_by_label("Also make a SMART Health Link (a QR code)").check()
    page.get_by_label(re.compile("I agree that SecondOp sends a link")).check()
    page.get_by_role("button", name="Send the link to my doctor").click()
    qr = page.get_by_role("img", name="QR code of your SMART Health Link")
    assert qr.is_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    link = page.get_by_label("The link, to copy").input_value()
    assert link.startswith("shlink:/")
    assert_accessible(page, "share page showing the SMART Health Link")
    assert_no_csp_violations(page)
    screenshot(page, "aftercare-smart-health-link")
    # On paper: a cover page with the QR code, then the signed report.
    with page.expect_download() as download:
        page.get_by_role("button", name="Download it to print (PDF)").click()
    printed = pypdfium2.PdfDocument(download.value.path())
    assert len(printed) == 1 + len(pypdfium2.PdfDocument(REAL_PDF))
    assert "Maria Lopez shares" in printed[0].get_textpage().get_text_range()

    # The physician's app: a wrong passcode is counted, the right one opens.
    payload = shlink.parse(link)
    assert payload.flag == "P"
    status, answer = resolve(live_server, payload.url, passcode="not-it")
    assert status == 401 and answer["remainingAttempts"] == 9
    status, answer = resolve(live_server, payload.url, passcode=PASSCODE)
    assert status == 200
    files = {f["contentType"]: f["embedded"] for f in answer["files"]}
    bundle, _cty = shlink.decrypt(files["application/fhir+json"], key=payload.key)
    assert Bundle.model_validate_json(bundle).type == "collection"
    pdf, _cty = shlink.decrypt(files["application/pdf"], key=payload.key)
    assert pdf == REAL_PDF
    assert hashlib.sha256(pdf).hexdigest() == SmartLink.objects.get().version.pdf_sha256

    # The patient sees the opening; the link itself is not shown again.
    page.goto(f"{live_server.url}/aftercare/{case.uuid}/share/")
    assert page.get_by_text(re.compile("Opened with the SMART Health Link by")).is_visible()
    assert page.get_by_text("Made, with a passcode").is_visible()
    assert page.get_by_label("The link, to copy").count() == 0
    assert_accessible(page, "share page after the app opened the link")

    # Withdrawn: the app gets nothing.
    page.get_by_role("button", name=re.compile("Withdraw the link sent to")).click()
    status, answer = resolve(live_server, payload.url, passcode=PASSCODE)
    assert status == 404 and "files" not in answer
