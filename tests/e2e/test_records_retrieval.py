"""We get your records, issue 19's acceptance as one story in Chromium, axe on every
page: the patient lists two places that hold their records and signs a request to each;
the case manager emails one (the email is caught, its PDF read: it names the patient
and the records asked for) and records the other as faxed; the queue finds the case
waiting on a records office; the records office opens the link from the email with no
account and uploads a PDF and a folder of DICOM straight to S3 (moto) through the same
Uppy widget as the patient's; the patient sees "received" against that source and the
clock of the other; the patient uploads a C-CDA document and a FHIR bundle from their
portal and the specialist reads both summaries."""

import datetime
import io
import re
from urllib.parse import urlsplit

import pypdfium2
import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from records.models import Record
from records.retrieval.models import OfficeUpload, Received, RecordSource
from requests_app.models import CaseStatus
from tests.accounts.factories import UserFactory, enrol_totp
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, screenshot
from tests.e2e.test_health_records import NOTE, _reads_the_summary
from tests.e2e.test_intake import fill_date, sign_in, sign_out
from tests.e2e.test_matching import _staff_sign_in
from tests.e2e.test_records_upload import (
    CSP_WATCH,
    KIND,
    UPLOAD_TIMEOUT,
    _item,
    _pdf,
    _wait_for_reload_with_records,
)
from tests.records import health_samples, samples
from tests.requests_app.factories import CaseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(db, s3_storage, settings):
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


@pytest.fixture
def files(tmp_path):
    """What the records office sends (a pathology PDF and a CD's folder of DICOM) and
    what the patient downloads from their portal (a C-CDA document, a FHIR bundle)."""
    pdf = tmp_path / "Pathology report.pdf"
    pdf.write_bytes(_pdf())
    cd = tmp_path / "CT study"
    cd.mkdir()
    # Labelled for nobody (anonymised): whose images they are is test_imaging's (and tests/records/test_identity.py).
    (cd / "IM0001").write_bytes(samples.anonymised("CT_small.dcm"))
    (cd / "IM0002").write_bytes(samples.anonymised("CT_small.dcm"))
    ccda = tmp_path / "Mercy Hospital summary.xml"
    ccda.write_bytes(health_samples.ccda(note=NOTE))
    fhir = tmp_path / "Clinic export.json"
    fhir.write_bytes(health_samples.fhir_bundle(note=NOTE))
    return {"pdf": pdf, "cd": cd, "ccda": ccda, "fhir": fhir}


def _day(day: datetime.date) -> str:
    return f"{day.day} {day.strftime('%B')}"


def add_source(page, name, kind, *, email="", fax="", wanted=()):
    page.get_by_label("Name of the hospital, clinic or lab").fill(name)
    page.get_by_label(kind).check()
    if email:
        page.get_by_label("Records office email (optional)").fill(email)
    if fax:
        page.get_by_label("Records office fax number (optional)").fill(fax)
    for item in wanted:
        page.get_by_label(item, exact=True).check()
    page.get_by_role("button", name="Add this place").click()


def sign_request(page, name):
    page.get_by_role("link", name="Read and sign the request").click()
    assert page.get_by_text("45 CFR 164.524(c)(3)(ii)").is_visible()
    assert_accessible(page, "sign page")
    page.get_by_label("Type the patient's full name to sign").fill("Maria Lopes")
    page.get_by_role("button", name="Sign the request").click()
    assert page.get_by_role("alert").get_by_text("Tick the box").is_visible()
    assert page.get_by_role("alert").get_by_text("exactly as the request gives it").is_visible()
    assert_accessible(page, "sign page with errors")
    page.get_by_label("I have read this request and I want it sent").check()
    page.get_by_label("Type the patient's full name to sign").fill(name)
    page.get_by_role("button", name="Sign the request").click()
    assert page.get_by_text("Signed. Your care team sends it").is_visible()


def test_we_get_your_records_from_the_sources_to_the_specialists_summaries(
    page, live_server, s3_server, world, files
):
    patient, coordinator, specialist, case = world
    page.add_init_script(CSP_WATCH + "window.alert = () => { window.alerted = true; };")
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/$"))
    page.goto(f"/records/case/{case.uuid}/")
    assert page.get_by_role("heading", name="We can get your records for you").is_visible()
    assert_accessible(page, "records page, no source yet")
    page.get_by_role("link", name="Tell us where your records are").click()
    assert_accessible(page, "sources page")

    # Nothing to reach the records office by: told so, nothing lost.
    add_source(page, "Mercy Hospital", "The hospital that made the diagnosis")
    assert page.get_by_role("alert").get_by_text("Give at least one way to reach").is_visible()
    assert page.get_by_label("Name of the hospital, clinic or lab").input_value() == (
        "Mercy Hospital"
    )
    assert_accessible(page, "sources page with errors")
    page.get_by_label("Records office email (optional)").fill("records@mercy.example")
    page.get_by_label("Pathology report", exact=True).check()
    page.get_by_label("Imaging studies (DICOM images)").check()
    page.get_by_role("button", name="Add this place").click()
    assert page.get_by_text("Mercy Hospital is added.").is_visible()
    assert page.get_by_text("Waiting for your signature").is_visible()
    assert_accessible(page, "source page, not signed")
    sign_request(page, "Maria Lopez")
    screenshot(page, "retrieval-sources-patient")

    add_source(
        page,
        "Valley Pathology Lab",
        "A pathology lab",
        fax="617 555 0100",
        wanted=("Pathology slides and blocks", "Pathology report"),
    )
    sign_request(page, "maria lopez")
    assert page.get_by_text(re.compile("Valley Pathology Lab: Signed on")).is_visible()
    assert_no_csp_violations(page)
    sign_out(page)

    # The case manager: one by email, one faxed.
    _staff_sign_in(page, coordinator.email)
    page.wait_for_url(re.compile("/requests/coordinator/"))
    page.goto(f"/requests/care/{case.uuid}/")
    assert page.get_by_role("heading", name="Records from hospitals, clinics and labs").is_visible()
    assert_accessible(page, "staff case page with sources")
    page.get_by_role("link", name="Mercy Hospital").click()
    assert page.get_by_text(re.compile("ready to send")).first.is_visible()
    assert_accessible(page, "source page, ready to send")
    page.get_by_label("Email it to the records office now").check()
    page.get_by_role("button", name="Send or record it").click()
    today = timezone.localdate()
    due = today + datetime.timedelta(days=30)
    assert page.get_by_text(f"asked on {_day(today)}, due by {_day(due)}").first.is_visible()
    [email] = [m for m in mail.outbox if m.to == ["records@mercy.example"]]
    assert email.to == ["records@mercy.example"]
    assert "Maria" not in email.body
    [(_name, data, mime)] = email.attachments
    assert mime == "application/pdf"
    document = pypdfium2.PdfDocument(io.BytesIO(data))
    text = " ".join(" ".join(p.get_textpage().get_text_range() for p in document).split())
    assert "Maria Lopez" in text and "17 May 1970" in text
    assert "Pathology report" in text and "Imaging studies (DICOM images)" in text
    [link] = re.findall(r"https?://\S+/records-requests/from/[^/\s]+/", email.body)
    screenshot(page, "retrieval-source-emailed")

    page.get_by_role("link", name="Back to the list of places").click()
    assert_accessible(page, "sources page, staff")
    page.get_by_role("link", name="Valley Pathology Lab").click()
    page.get_by_label("I faxed it").check()
    page.get_by_role("button", name="Send or record it").click()
    assert page.get_by_role("alert").get_by_text("Enter the day it was faxed").is_visible()
    assert_accessible(page, "source page with errors")
    page.get_by_label("I faxed it").check()
    fill_date(page, "id_sent_on", str(today.day), str(today.month), str(today.year))
    page.get_by_role("button", name="Send or record it").click()
    assert page.get_by_text(re.compile("Recorded: the request was sent on")).is_visible()
    assert page.get_by_role("heading", name="What has arrived").is_visible()
    assert_accessible(page, "source page, sent")
    faxed = RecordSource.objects.get(name="Valley Pathology Lab")
    assert faxed.sent_by == "fax" and faxed.due_on == due

    # The queue finds the case waiting on a records office.
    page.goto("/requests/coordinator/")
    page.get_by_label("Waiting on a records office").check()
    page.get_by_role("button", name="Show cases").click()
    assert page.get_by_role("link", name=case.reference).first.is_visible()
    assert_accessible(page, "queue filtered on records offices")
    assert_no_csp_violations(page)
    sign_out(page)

    # The records office opens the link from the email: no account, no sign-in.
    path = urlsplit(link).path
    response = page.goto(path)
    assert response.status == 200
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "no-store" in response.headers["cache-control"]
    expect(page.get_by_role("heading", name="Send records to SecondOp")).to_be_visible()
    expect(page.get_by_text("Maria Lopez")).to_be_visible()
    assert urlsplit(page.url).path == path
    assert_accessible(page, "records office upload page")
    page.locator("[data-pick-files]").set_input_files(files["pdf"])
    page.locator("[data-pick-folder]").set_input_files(files["cd"])
    expect(page.locator("[data-item]")).to_have_count(2)
    # Only what was asked for can be chosen: pathology, imaging, other records.
    kinds = _item(page, "Pathology report.pdf").get_by_label(KIND)
    assert not any("specialist" in o.lower() for o in kinds.locator("option").all_inner_texts())
    kinds.select_option("pathology")
    expect(_item(page, "CT study").get_by_label(KIND)).to_have_value("imaging")
    assert_accessible(page, "records office upload page, two items queued")
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("[data-live]")).to_contain_text(
        "All done, we are now checking your files.", timeout=UPLOAD_TIMEOUT
    )
    sent = page.locator("section").filter(
        has=page.get_by_role("heading", name="Sent through this link")
    )
    expect(sent.locator("li")).to_have_count(2, timeout=UPLOAD_TIMEOUT)
    expect(sent.locator("li").filter(has_text="Checked and ready")).to_have_count(2)
    assert page.evaluate("window.cspViolations") == []
    screenshot(page, "records-office-sent")
    office = list(Record.objects.filter(case=case))
    assert sorted((r.title, r.state) for r in office) == [
        ("CT study", "verified"),
        ("Pathology report", "verified"),
    ]
    for record in office:
        assert record.uploaded_by is None and record.sender_name == "Mercy Hospital"
    assert OfficeUpload.objects.filter(source__name="Mercy Hospital").count() == 2
    assert RecordSource.objects.get(name="Mercy Hospital").received == Received.PARTLY
    page.context.clear_cookies()

    # The patient sees "received" against Mercy Hospital and the other one's clock.
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/$"))
    page.goto(f"/records-requests/case/{case.uuid}/")
    mercy = page.locator(".source-item").filter(has_text="Mercy Hospital")
    expect(mercy.locator(".tag")).to_have_text("Received in part")
    expect(mercy).to_contain_text(f"Mercy Hospital sent 3 files on {_day(today)}")
    valley = page.locator(".source-item").filter(has_text="Valley Pathology Lab")
    expect(valley).to_contain_text(f"asked on {_day(today)}, due by {_day(due)}")
    assert_accessible(page, "the patient's sources after the office sent records")
    page.goto(f"/records/case/{case.uuid}/")
    expect(
        page.get_by_text(f"Valley Pathology Lab: asked on {_day(today)}, due by {_day(due)}")
    ).to_be_visible()
    expect(page.get_by_text(re.compile("Mercy Hospital: .*received in part"))).to_be_visible()
    assert_accessible(page, "records page with clocks")
    screenshot(page, "retrieval-patient-clocks")

    # The patient's own portal downloads: a C-CDA document and a FHIR bundle.
    page.locator("[data-pick-files]").set_input_files([files["ccda"], files["fhir"]])
    expect(page.locator("[data-item]")).to_have_count(2)
    for name in (files["ccda"].name, files["fhir"].name):
        _item(page, name).get_by_label(KIND).select_option("records")
    assert_accessible(page, "records page, portal files queued")
    page.get_by_role("button", name="Upload", exact=True).click()
    _wait_for_reload_with_records(page, 4)
    expect(page.locator(".record-row").filter(has_text="Mercy Hospital summary")).to_contain_text(
        "Health record summary (C-CDA)"
    )
    expect(page.locator(".record-row").filter(has_text="Clinic export")).to_contain_text(
        "Health record summary (FHIR)"
    )
    assert_no_csp_violations(page)
    sign_out(page)

    # The specialist reads both summaries.
    _staff_sign_in(page, specialist.email)
    page.wait_for_load_state()
    page.goto(f"/records/case/{case.uuid}/")
    expect(page.locator(".record-row")).to_have_count(4, timeout=UPLOAD_TIMEOUT)
    page.get_by_role("link", name="Mercy Hospital summary").click()
    _reads_the_summary(page, label="Health record summary (C-CDA)")
    assert_accessible(page, "C-CDA summary, specialist")
    screenshot(page, "health-record-ccda-specialist")
    page.go_back()
    page.get_by_role("link", name="Clinic export").click()
    _reads_the_summary(page, label="Health record summary (FHIR)")
    assert_accessible(page, "FHIR summary, specialist")
    assert_no_csp_violations(page)
