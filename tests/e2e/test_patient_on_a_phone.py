"""Issue 16's acceptance, in Chromium on a 390x844 phone: a new patient signs up,
sees the price, sends a request and reads the confirmation page, confirms the fee
the coordinator quoted, uploads a file that is refused and hears why (the live
region's words), and reads a delivered case: no due date, times labelled with
their zone. Every page is checked with axe at 390 px and at 320 px, where none
may scroll sideways (tests/e2e/a11y.py)."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from requests_app import services
from requests_app.models import Case, CaseEvent, CaseStatus
from secondop.accounts.models import User
from specialists.models import Specialty
from specialists.services import specialties_load
from tests.accounts.factories import UserFactory
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, new_page, screenshot
from tests.e2e.test_records_upload import KIND, UPLOAD_TIMEOUT, WINDOWS_PROGRAM, _item
from tests.requests_app.factories import CaseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
PHONE = {"width": 390, "height": 844}
# "7 Dec 2026, 9:40 PM EST": a time shown to a New York patient, with its zone.
EASTERN_TIME = re.compile(r"\d{1,2}:\d\d [AP]M E[SD]T")


@pytest.fixture
def phone(browser, live_server):
    page = new_page(browser, live_server.url, viewport=PHONE, timezone_id="America/New_York")
    yield page
    page.context.close()


@pytest.fixture
def world(db):
    # Earlier transactional tests flush what the migrations loaded.
    if not Specialty.objects.exists():
        specialties_load()
    services.price_list_seed()
    return UserFactory(role="coordinator", email="grace@example.com", full_name="Grace Nurse")


def _sign_up(page, live_server, *, name: str, email: str) -> None:
    """Sign up, confirm the email from the link it sends, signed in at once."""
    page.goto("/")
    assert_accessible(page, "home")
    page.get_by_role("link", name="Create an account").first.click()
    assert_accessible(page, "sign-up")
    page.get_by_label(re.compile("^Your full name")).fill(name)
    page.locator("#id_email").fill(email)
    page.locator("#id_password1").fill("a-long-and-unusual-passphrase")
    page.locator("#id_password2").fill("a-long-and-unusual-passphrase")
    page.get_by_role("button", name=re.compile("Sign up|Create", re.I)).click()
    page.wait_for_url(re.compile("/accounts/confirm-email/"))
    assert_accessible(page, "check your email")
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mail.outbox[-1].body).group(0)
    page.goto(link.replace("http://testserver", live_server.url))
    assert_accessible(page, "confirm your email")
    page.get_by_role("button", name=re.compile("Confirm", re.I)).click()
    page.wait_for_url(re.compile("/requests/$"))


def test_a_new_patient_on_a_phone_from_sign_up_to_a_delivered_report(
    phone, live_server, world, tmp_path
):
    page, coordinator = phone, world

    # --- Sign up ------------------------------------------------------------------------
    _sign_up(page, live_server, name="Rosa Diaz", email="rosa@example.com")
    patient = User.objects.get(email="rosa@example.com")
    assert patient.role == "patient"
    assert_accessible(page, "dashboard, new patient")

    # --- The price, before sending: on the task list and the check page ------------------
    # Her answers (the intake's ten sections are driven in tests/e2e/test_intake.py).
    case = CaseFactory(owner=patient, complete=True, patient_state="NY")
    page.goto(f"/requests/{case.uuid}/")
    for where in ("task list", "check page"):
        prices = page.get_by_role("region", name="What it costs")
        expect(prices).to_contain_text(re.compile(r"Written opinion[\s\S]*?\$750\.00"))
        expect(prices).to_contain_text("What insurance usually pays")
        assert_accessible(page, where)
        if where == "task list":
            page.goto(f"/requests/{case.uuid}/check/")

    # --- Send it: the confirmation page ---------------------------------------------------
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_url(re.compile(rf"/requests/{UUID}/sent/$"))
    case.refresh_from_db()
    assert page.get_by_role("heading", level=1).inner_text() == "Your request is sent"
    assert page.locator(".confirmation-reference").inner_text() == case.reference
    assert page.get_by_role("heading", name="What happens next").is_visible()
    assert EASTERN_TIME.search(page.locator("main").inner_text())
    assert_accessible(page, "confirmation page")
    screenshot(page, "phone-journey-confirmation")

    # --- The fee step: the coordinator checks the insurance; she confirms the fee -------
    services.case_claim(actor=coordinator, case_ref=case.uuid, start_triage=True)
    services.case_insurance_check(
        actor=coordinator, case_ref=case.uuid, status="self_pay", fee_quoted=None, items=["written"]
    )
    page.goto("/requests/")
    assert page.get_by_text("Confirm the fee for your second opinion").is_visible()
    assert_accessible(page, "dashboard, fee to confirm")
    page.get_by_role("link", name=re.compile("Read and confirm the fee")).click()
    assert page.get_by_text("$750.00 (USD)").first.is_visible()
    assert_accessible(page, "fee page")
    page.get_by_label("I understand this fee and I want to go ahead").check()
    page.get_by_role("button", name="Confirm the fee").click()
    assert page.get_by_text("Thank you: the fee is confirmed.").is_visible()
    assert page.locator(".step-tracker").get_by_text("Fee confirmed").is_visible()
    assert_accessible(page, "case page, fee confirmed")
    case.refresh_from_db()
    assert case.fee_confirmed_at is not None

    # --- A refused file, heard ------------------------------------------------------------
    page.goto(f"/records/case/{case.uuid}/")
    expect(page.locator("[data-uploader-form]")).to_be_visible()
    assert_accessible(page, "records page")
    fake = tmp_path / "Blood test.pdf"
    fake.write_bytes(WINDOWS_PROGRAM)
    page.locator("[data-pick-files]").set_input_files([fake])
    expect(page.locator("[data-item]")).to_have_count(1)
    _item(page, "Blood test.pdf").get_by_label(KIND).select_option("labs")
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("[data-live]")).to_contain_text(
        "Blood test.pdf was not accepted", timeout=UPLOAD_TIMEOUT
    )
    # After the page's reload, the live region says what became of the file, and why.
    records_live = page.locator("[data-records-live]")
    expect(records_live).to_contain_text(
        "Blood test: not accepted. Named “.pdf”, but it is really a Windows program.",
        timeout=UPLOAD_TIMEOUT,
    )
    expect(page.locator("[data-records-outcome-text]")).to_contain_text("not accepted")
    assert "Your files were uploaded" not in page.content()
    assert_accessible(page, "records page after a refused upload")
    screenshot(page, "phone-journey-refused")

    # --- A delivered case: no due date, times with their zone ----------------------------
    delivered = CaseFactory(
        owner=patient, submitted=True, status=CaseStatus.DELIVERED, patient_state="NY"
    )
    CaseEvent.objects.create(
        case=delivered, old_status=CaseStatus.REPORT_READY, new_status=CaseStatus.DELIVERED
    )
    page.goto("/requests/")
    assert_accessible(page, "dashboard with a delivered case")
    page.goto(f"/requests/{delivered.uuid}/")
    main = page.locator("main").inner_text()
    assert "Report delivered on" in main
    assert "Report expected by" not in main and "due" not in main.lower()
    assert page.get_by_role("link", name="Withdraw the request").count() == 0
    times = [t.inner_text() for t in page.locator("main time").all()]
    clock = [t for t in times if re.search(r"\d:\d\d", t)]
    assert clock and all(EASTERN_TIME.search(t) for t in clock), times
    assert "UTC" not in main
    assert_accessible(page, "delivered case")
    screenshot(page, "phone-journey-delivered")

    assert Case.objects.filter(owner=patient).count() == 2
    assert_no_csp_violations(page)
