"""A portal's "download my record" files in Chromium: the patient uploads a C-CDA
document and a FHIR bundle through the same Uppy widget, straight to the
S3-compatible test server; verification reads them; the specialist and the case
manager open each and read the summary. Axe on every page."""

import re

import pytest
from playwright.sync_api import expect

from records.models import Record
from requests_app.models import CaseStatus
from tests.accounts.factories import UserFactory, enrol_totp
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, screenshot
from tests.e2e.test_intake import sign_out
from tests.e2e.test_matching import _staff_sign_in
from tests.e2e.test_records_upload import (
    KIND,
    UPLOAD_TIMEOUT,
    _item,
    _open_records,
    _wait_for_reload_with_records,
)
from tests.records import health_samples
from tests.requests_app.factories import CaseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NOTE = '<script>alert("note")</script> Doing well after surgery.'


@pytest.fixture
def world(s3_storage, settings):
    settings.CLAMD_ADDRESS = ""
    patient = UserFactory(email="maria@example.com", full_name="Maria Lopez")
    coordinator = UserFactory(
        role="coordinator", email="grace@example.com", full_name="Grace Nurse"
    )
    specialist = UserFactory(
        role="specialist", email="marsh@example.com", full_name="Dr. Helen Marsh"
    )
    for person in (coordinator, specialist):
        enrol_totp(person)
    case = CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        case_manager=coordinator,
        specialist=specialist,
    )
    return patient, coordinator, specialist, case


def _files(tmp_path):
    ccda = tmp_path / "Mercy Hospital summary.xml"
    ccda.write_bytes(health_samples.ccda(note=NOTE))
    fhir = tmp_path / "Clinic export.json"
    fhir.write_bytes(health_samples.fhir_bundle(note=NOTE))
    return ccda, fhir


def _reads_the_summary(page, *, label: str):
    main = page.locator("main")
    expect(main).to_contain_text(label)
    summary = page.locator("section.health-summary")
    for heading in (
        "Problems and diagnoses",
        "Medications",
        "Allergies and intolerances",
        "Test results",
        "Procedures",
        "Notes",
    ):
        expect(summary.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(summary).to_contain_text("Non-small cell lung cancer")
    expect(summary).to_contain_text("osimertinib 80 MG Oral Tablet")
    expect(summary).to_contain_text("Penicillin G")
    expect(summary).to_contain_text("Lobectomy of lung")
    # The results table: a row per test, its header the test's name.
    results = summary.get_by_role("table")
    row = results.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=re.compile("^Hemoglobin"))
    )
    expect(row).to_contain_text("10.2 g/dL")
    expect(row).to_contain_text("12.0\N{EN DASH}15.5 g/dL")
    expect(row).to_contain_text("5 January 2024")
    # The note's markup is text on the page, never run.
    expect(summary).to_contain_text('<script>alert("note")</script>')
    assert page.evaluate("window.alerted") is None


def test_the_patient_uploads_portal_files_and_the_care_team_reads_them(
    page, live_server, world, tmp_path
):
    patient, coordinator, specialist, case = world
    ccda, fhir = _files(tmp_path)
    page.add_init_script("window.alert = () => { window.alerted = true; };")
    _open_records(page, patient, case)
    page.locator("[data-pick-files]").set_input_files([ccda, fhir])
    expect(page.locator("[data-item]")).to_have_count(2)
    for name in (ccda.name, fhir.name):
        _item(page, name).get_by_label(KIND).select_option("records")
    assert_accessible(page, "records page, portal files queued")
    page.get_by_role("button", name="Upload", exact=True).click()
    _wait_for_reload_with_records(page, 2)
    records = {r.title: r for r in Record.objects.filter(case=case)}
    assert {t: (r.state, r.reason) for t, r in records.items()} == {
        "Mercy Hospital summary": ("verified", ""),
        "Clinic export": ("verified", ""),
    }
    expect(page.locator(".record-row").filter(has_text="Mercy Hospital summary")).to_contain_text(
        "Health record summary (C-CDA)"
    )
    expect(page.locator(".record-row").filter(has_text="Clinic export")).to_contain_text(
        "Health record summary (FHIR)"
    )
    screenshot(page, "health-records-listed")
    page.get_by_role("link", name="Mercy Hospital summary").click()
    _reads_the_summary(page, label="Health record summary (C-CDA)")
    assert_accessible(page, "health record summary, patient")
    assert_no_csp_violations(page)
    sign_out(page)

    for person, who in ((specialist, "specialist"), (coordinator, "case manager")):
        _staff_sign_in(page, person.email)
        page.wait_for_load_state()
        page.goto(f"{live_server.url}/records/case/{case.uuid}/")
        expect(page.locator(".record-row")).to_have_count(2, timeout=UPLOAD_TIMEOUT)
        page.get_by_role("link", name="Mercy Hospital summary").click()
        _reads_the_summary(page, label="Health record summary (C-CDA)")
        expect(page.locator("section.health-summary")).to_contain_text(
            "Ada Testpatient, born 12 April 1970"
        )
        assert_accessible(page, f"C-CDA summary, {who}")
        screenshot(page, f"health-record-ccda-{who.replace(' ', '-')}")
        page.go_back()
        page.get_by_role("link", name="Clinic export").click()
        _reads_the_summary(page, label="Health record summary (FHIR)")
        assert_accessible(page, f"FHIR summary, {who}")
        assert_no_csp_violations(page)
        sign_out(page)


def test_a_hostile_file_is_refused_with_its_reason(page, live_server, world, tmp_path):
    patient, _coordinator, _specialist, case = world
    hostile = tmp_path / "summary.xml"
    hostile.write_bytes(health_samples.billion_laughs())
    _open_records(page, patient, case)
    page.locator("[data-pick-files]").set_input_files(hostile)
    _item(page, hostile.name).get_by_label(KIND).select_option("records")
    page.get_by_role("button", name="Upload", exact=True).click()
    row = page.locator(".record-row").filter(has_text="summary")
    expect(row).to_contain_text("Not accepted", timeout=UPLOAD_TIMEOUT)
    expect(row).to_contain_text("can't be accepted for safety reasons")
    assert Record.objects.get(case=case).state == "rejected"
    assert_accessible(page, "records page, a hostile file refused")
