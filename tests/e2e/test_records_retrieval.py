"""We get your records, in Chromium with axe on every page: the patient lists two
places that hold their records and signs a request to each; the case manager emails
one (the email is caught, its PDF read: it names the patient and the records asked
for) and records the other as faxed; the queue finds the case waiting on a records
office; the patient sees both clocks in plain words."""

import datetime
import io
import re

import pypdfium2
import pytest
from django.core import mail
from django.utils import timezone

from records.retrieval.models import RecordSource
from requests_app.models import CaseStatus
from tests.accounts.factories import UserFactory, enrol_totp
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, screenshot
from tests.e2e.test_intake import fill_date, sign_in, sign_out
from tests.e2e.test_matching import _staff_sign_in
from tests.requests_app.factories import CaseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(db):
    patient = UserFactory(email="maria@example.com", full_name="Maria Lopez")
    coordinator = UserFactory(
        role="coordinator", email="grace@example.com", full_name="Grace Nurse"
    )
    enrol_totp(coordinator)
    case = CaseFactory(
        owner=patient, submitted=True, status=CaseStatus.TRIAGE, case_manager=coordinator
    )
    return patient, coordinator, case


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


def test_the_patient_lists_and_signs_the_coordinator_sends_the_patient_sees_the_clocks(page, world):
    patient, coordinator, case = world
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

    # The patient sees both clocks in plain words.
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/$"))
    page.goto(f"/records/case/{case.uuid}/")
    for name in ("Mercy Hospital", "Valley Pathology Lab"):
        assert page.get_by_text(f"{name}: asked on {_day(today)}, due by {_day(due)}").is_visible()
    assert_accessible(page, "records page with clocks")
    screenshot(page, "retrieval-patient-clocks")
