"""A SMART Health Link pasted in, in Chromium with axe: the patient of case B
pastes the link a physician share of case A produced (made here through the
services, SecondOp as the real issuer on the live server) with its passcode; a
wrong passcode first is said on the form, the link kept and the passcode not;
then the FHIR Bundle and the PDF show as checked records, the FHIR one with its
summary."""

import re

import pytest
from playwright.sync_api import expect

from records.models import Record
from requests_app.aftercare import services as aftercare_services
from tests.accounts.factories import UserFactory
from tests.aftercare.factories import delivered_case
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, screenshot
from tests.e2e.test_intake import sign_in
from tests.records.test_smart_links_in import _qr_picture, released_with_a_real_pdf
from tests.requests_app.factories import CaseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSCODE = "kestrel-bay-31"


def test_the_patient_brings_records_in_with_a_smart_health_link(page, live_server, settings):
    settings.SITE_URL = live_server.url
    settings.SMART_LINK_FETCH_ALLOW_LOOPBACK_HTTP = True
    settings.CLAMD_ADDRESS = ""
    ann = UserFactory(role="patient", email="ann@example.com", full_name="Ann Able")
    case_a = delivered_case(owner=ann, specialist=UserFactory(role="specialist"))
    released_with_a_real_pdf(case_a)
    link = aftercare_services.share_create_with_smart_link(
        actor=ann,
        case_ref=case_a.uuid,
        email="dr.lee@clinic.example",
        consented=True,
        passcode=PASSCODE,
    ).link
    bea = UserFactory(role="patient", email="bea@example.com", full_name="Bea Brown")
    case_b = CaseFactory(owner=bea, submitted=True)

    sign_in(page, bea.email)
    page.wait_for_url(re.compile("/requests/$"))
    page.goto(f"{live_server.url}/records/case/{case_b.uuid}/")
    page.get_by_role("link", name="Add records from a SMART Health Link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Add records from a SMART Health Link"
    )
    assert_accessible(page, "SMART Health Link form")

    page.get_by_label("The SMART Health Link").fill(link)
    page.get_by_label("Passcode (if you were given one)").fill("not-the-passcode")
    page.get_by_role("button", name="Fetch my records").click()
    expect(page.get_by_role("alert")).to_contain_text("The passcode is not right")
    assert page.get_by_label("The SMART Health Link").input_value() == link
    assert page.get_by_label("Passcode (if you were given one)").input_value() == ""
    assert not Record.objects.filter(case=case_b).exists()
    assert_accessible(page, "SMART Health Link form, wrong passcode")

    # This time from a picture of the link's QR code (a phone's screenshot).
    page.get_by_label("The SMART Health Link").fill("")
    page.get_by_label("Or a picture of its QR code").set_input_files(
        files=[{"name": "IMG_2041.png", "mimeType": "image/png", "buffer": _qr_picture(link)}]
    )
    page.get_by_label("Passcode (if you were given one)").fill(PASSCODE)
    screenshot(page, "smart-health-link-form-with-a-picture")
    page.get_by_role("button", name="Fetch my records").click()
    page.wait_for_url(re.compile(f"/records/case/{case_b.uuid}/$"))
    expect(page.get_by_text("2 records came from the link")).to_be_visible()
    rows = page.locator(".record-row")
    expect(rows).to_have_count(2)
    fhir_row = rows.filter(has_text="health record (FHIR)")
    expect(fhir_row).to_contain_text("Health record summary (FHIR)", timeout=15_000)
    expect(rows.filter(has_text="document (PDF)")).not_to_contain_text("Not accepted")
    assert set(Record.objects.filter(case=case_b).values_list("state", flat=True)) == {"verified"}
    assert_accessible(page, "records page with the link's records")
    assert_no_csp_violations(page)
    screenshot(page, "records-from-a-smart-health-link")

    fhir_row.get_by_role("link").first.click()
    expect(page.locator("section.health-summary")).to_be_visible()
    assert_accessible(page, "the FHIR record from the link, its summary")
