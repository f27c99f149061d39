"""The released report as FHIR, in Chromium with axe: the patient downloads it
from their report page, and the physician from the link the patient sent; each
file parses with fhir.resources R4B and carries the stored, signed PDF."""

import hashlib
import re
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from requests_app.aftercare.models import ShareOpening
from secondop.audit.models import AccessLog
from tests.accounts.factories import UserFactory
from tests.aftercare.factories import PDF, delivered_case, sent_share
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, new_page, screenshot
from tests.e2e.test_intake import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FHIR_LINK = re.compile(r"Download for another health system \(FHIR\)")


def _report_in(path: str):
    bundle = Bundle.model_validate_json(Path(path).read_bytes())
    [report] = [
        e.resource for e in bundle.entry if e.resource.get_resource_type() == "DiagnosticReport"
    ]
    return bundle, report


def test_the_patient_and_their_physician_download_the_report_as_fhir(page, browser, live_server):
    patient = UserFactory(email="maria@example.com", full_name="Maria Lopez")
    specialist = UserFactory(role="specialist", full_name="Dr. Helen Marsh")
    case = delivered_case(owner=patient, specialist=specialist, patient_name="Maria Lopez")
    version = case.report.versions.get()

    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/$"))
    page.get_by_role("link", name=case.reference).first.click()
    page.get_by_role("link", name="Read your report").click()
    link = page.get_by_role("link", name=FHIR_LINK)
    assert link.is_visible()
    assert "hospital record systems read" in page.locator("#fhir-hint").inner_text()
    assert_accessible(page, "the patient's report, with its FHIR download")
    screenshot(page, "report-fhir-download")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == f"{case.reference}-opinion-v1.fhir.json"
    bundle, report = _report_in(download.value.path())
    patient_entry = next(e for e in bundle.entry if e.resource.get_resource_type() == "Patient")
    assert patient_entry.resource.name[0].text == "Maria Lopez"
    assert report.subject.reference == patient_entry.fullUrl
    assert report.presentedForm[0].data == PDF
    assert hashlib.sha256(report.presentedForm[0].data).hexdigest() == version.pdf_sha256
    assert AccessLog.objects.filter(actor=patient, kind="download").count() == 1
    assert_no_csp_violations(page)

    # The physician, with the link the patient sent: no account, a browser of their own.
    _share, token = sent_share(case=case)
    doctor = new_page(browser, live_server.url)
    doctor.goto(f"/shared/{token}/")
    assert_accessible(doctor, "physician's page, with its FHIR download")
    with doctor.expect_download() as download:
        doctor.get_by_role("link", name=FHIR_LINK).click()
    assert download.value.suggested_filename == f"{case.reference}-opinion-v1.fhir.json"
    _bundle, report = _report_in(download.value.path())
    assert hashlib.sha256(report.presentedForm[0].data).hexdigest() == version.pdf_sha256
    assert list(ShareOpening.objects.order_by("pk").values_list("kind", flat=True)) == [
        "view",
        "download",
    ]
    assert_no_csp_violations(doctor)
    doctor.context.close()

    # The patient sees that their physician downloaded it.
    page.goto(f"/aftercare/{case.uuid}/share/")
    assert page.get_by_text(re.compile("Report downloaded by your physician on")).is_visible()
