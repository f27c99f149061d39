"""A portal's "download my record" files in Chromium. Uploading a C-CDA document and a
FHIR bundle and reading their summaries is part of issue 19's one story
(test_records_retrieval); here: a hostile one is refused with its reason. The summary
reader below is shared with that story."""

import re

import pytest
from playwright.sync_api import expect

from records.models import Record
from requests_app.models import CaseStatus
from tests.accounts.factories import UserFactory, enrol_totp
from tests.e2e.a11y import assert_accessible
from tests.e2e.test_records_upload import (
    KIND,
    UPLOAD_TIMEOUT,
    _item,
    _open_records,
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
