"""A records office sends records through its own link, in Chromium with axe: the case
manager emails the signed letter (through the services); the records office opens the
link from the email with no account and uploads a PDF and a folder of DICOM straight to
S3 (moto) through the same Uppy widget as the patient's; the files are checked; the
patient signs in and sees the source "received in part" and what it sent."""

import datetime
import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from records.models import Record
from records.retrieval import services
from records.retrieval.models import OfficeUpload, Received, RecordSource
from requests_app.models import CaseStatus
from tests.accounts.factories import UserFactory, enrol_totp
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, screenshot
from tests.e2e.test_intake import sign_in
from tests.e2e.test_records_upload import CSP_WATCH, KIND, UPLOAD_TIMEOUT, _item, _pdf
from tests.records import samples
from tests.records.retrieval.factories import SourceFactory
from tests.requests_app.factories import CaseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def emailed(db):
    """A case whose source (Mercy Hospital) was emailed the signed letter by its case
    manager; returns the patient, the source and the link the email carries."""
    patient = UserFactory(email="maria@example.com", full_name="Maria Lopez")
    coordinator = UserFactory(
        role="coordinator", email="grace@example.com", full_name="Grace Nurse"
    )
    enrol_totp(coordinator)
    case = CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.TRIAGE,
        case_manager=coordinator,
        patient_name="Maria Lopez",
        patient_dob=datetime.date(1970, 3, 4),
    )
    source = SourceFactory(case=case, signed=True)
    services.source_send_email(actor=coordinator, source_ref=source.uuid)
    [email] = [m for m in mail.outbox if m.to == ["records@mercy.example"]]
    [link] = re.findall(r"https?://\S+/records-requests/from/[^/\s]+/", email.body)
    source.refresh_from_db()
    assert source.is_sent
    return patient, source, urlsplit(link).path


@pytest.fixture
def files(tmp_path):
    pdf = tmp_path / "Pathology report.pdf"
    pdf.write_bytes(_pdf())
    cd = tmp_path / "CT study"
    cd.mkdir()
    # Labelled for nobody (anonymised): whose images they are is test_records_identity's.
    (cd / "IM0001").write_bytes(samples.anonymised("CT_small.dcm"))
    (cd / "IM0002").write_bytes(samples.anonymised("CT_small.dcm"))
    return {"pdf": pdf, "cd": cd}


def test_a_records_office_uploads_through_its_link_and_the_patient_sees_it(
    page, live_server, s3_storage, s3_server, emailed, files
):
    patient, source, path = emailed
    page.add_init_script(CSP_WATCH)
    response = page.goto(path)
    assert response.status == 200
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "no-store" in response.headers["cache-control"]
    expect(page.get_by_role("heading", name="Send records to SecondOp")).to_be_visible()
    expect(page.get_by_text("Maria Lopez")).to_be_visible()
    assert urlsplit(page.url).path == path  # no sign-in asked for
    assert_accessible(page, "records office upload page")

    page.locator("[data-pick-files]").set_input_files(files["pdf"])
    page.locator("[data-pick-folder]").set_input_files(files["cd"])
    expect(page.locator("[data-item]")).to_have_count(2)
    # Only what was asked for can be chosen: pathology, imaging, other records.
    kinds = _item(page, "Pathology report.pdf").get_by_label(KIND)
    options = kinds.locator("option").all_inner_texts()
    assert not any("specialist" in option.lower() for option in options)
    kinds.select_option("pathology")
    expect(_item(page, "CT study").get_by_label(KIND)).to_have_value("imaging")
    assert_accessible(page, "records office upload page, two items queued")
    page.get_by_role("button", name="Upload", exact=True).click()

    expect(page.locator("[data-live]")).to_contain_text(
        "All done, we are now checking your files.", timeout=UPLOAD_TIMEOUT
    )
    assert_no_csp_violations(page)
    # The page reloads and lists what was sent through this link.
    sent = page.locator("section").filter(
        has=page.get_by_role("heading", name="Sent through this link")
    )
    expect(sent.locator("li")).to_have_count(2, timeout=UPLOAD_TIMEOUT)
    # Checked as each was confirmed (the tests' tasks run eagerly), before the reload.
    expect(sent.locator("li").filter(has_text="Checked and ready")).to_have_count(2)
    assert page.evaluate("window.cspViolations") == []
    screenshot(page, "records-office-sent")

    records = list(Record.objects.all())
    assert [r.state for r in records] == ["verified", "verified"]
    assert {r.title for r in records} == {"Pathology report", "CT study"}
    for record in records:
        assert record.uploaded_by is None and record.sender_name == "Mercy Hospital"
        assert record.office_upload.source == source
    assert OfficeUpload.objects.count() == 2
    source = RecordSource.objects.get(pk=source.pk)
    assert source.received == Received.PARTLY

    # The patient signs in and sees it against the source.
    page.context.clear_cookies()
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/"))
    page.goto(f"/records-requests/case/{source.case.uuid}/")
    item = page.locator(".source-item").filter(has_text="Mercy Hospital")
    expect(item.locator(".tag")).to_have_text("Received in part")
    expect(item).to_contain_text("received in part")
    today = timezone.localdate()
    expect(item).to_contain_text(
        f"Mercy Hospital sent 3 files on {today.day} {today.strftime('%B')}"
    )
    assert_accessible(page, "the patient's sources after the office sent records")
    assert_no_csp_violations(page)
