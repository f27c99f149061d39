"""In Chromium on a phone: a patient sends a request, reads the confirmation page,
and the case page's sentence, next step and tracker agree; a delivered case says
when it was delivered and offers no due date, Withdraw or Change. A coordinator's
zone is taken from their browser on the first sign-in, and their times carry it."""

import re

import pytest

from requests_app.models import CaseEvent, CaseStatus
from specialists.models import Specialty
from specialists.services import specialties_load
from tests.accounts.factories import UserFactory, enrol_totp, totp_code
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, new_page
from tests.e2e.test_intake import sign_in
from tests.helpers import wait_until
from tests.requests_app.factories import CaseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, live_server):
    page = new_page(browser, live_server.url, viewport=PHONE, timezone_id="America/New_York")
    yield page
    page.context.close()


@pytest.fixture
def patient(db):
    if not Specialty.objects.exists():
        specialties_load()
    return UserFactory(email="ruth@example.com", full_name="Ruth Green")


def test_a_patient_sends_reads_the_confirmation_and_one_truthful_status(phone, patient):
    page = phone
    case = CaseFactory(owner=patient, complete=True, patient_state="NY")
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/$"))
    page.goto(f"/requests/{case.uuid}/check/")
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_url(re.compile(rf"/requests/{UUID}/sent/$"))
    case.refresh_from_db()

    assert page.get_by_role("heading", level=1).inner_text() == "Your request is sent"
    assert page.locator(".confirmation-reference").inner_text() == case.reference
    assert page.get_by_role("heading", name="What happens next").is_visible()
    assert re.search(
        r"We received it on \d+ \w+ 20\d\d, \d+:\d\d [AP]M E[SD]T",
        page.locator("main").inner_text(),
    )
    assert page.get_by_text("You have not sent any yet", exact=False).is_visible()
    assert page.get_by_role("link", name="Send your records now").is_visible()
    assert_accessible(page, "confirmation page")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path="/tmp/h6-confirmation-390.png", full_page=True)

    page.get_by_role("link", name="Later: go to my request").click()
    page.wait_for_url(re.compile(rf"/requests/{UUID}/$"))
    main = page.locator("main").inner_text()
    assert "Received: a nurse coordinator will check it soon" in main
    assert "Send your medical records: the specialist needs them" in main
    assert "None sent yet" in main
    current = page.locator(".step-tracker [aria-current=step]").inner_text()
    assert "now: waiting for a nurse coordinator" in current
    # The old words that contradicted the case: no records were sent.
    assert "records being checked" not in main and "Nothing to do now" not in main
    assert "Report expected by" in main
    assert_accessible(page, "case page after sending")
    page.screenshot(path="/tmp/h6-case-after-sending-390.png", full_page=True)

    # The records link of the next step goes where the records are sent.
    page.get_by_role("link", name="Go to your records").first.click()
    page.wait_for_url(re.compile(rf"/records/case/{UUID}/$"))
    assert_no_csp_violations(page)


def test_a_delivered_case_says_when_and_offers_no_due_date_withdraw_or_change(phone, patient):
    page = phone
    case = CaseFactory(
        owner=patient, submitted=True, status=CaseStatus.DELIVERED, patient_state="NY"
    )
    CaseEvent.objects.create(
        case=case, old_status=CaseStatus.REPORT_READY, new_status=CaseStatus.DELIVERED
    )
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/$"))
    main = page.locator("main").inner_text()
    assert "Report delivered on" in main and "Report expected by" not in main
    page.goto(f"/requests/{case.uuid}/")
    main = page.locator("main").inner_text()
    assert "Report delivered on" in main
    assert "Report expected by" not in main
    assert page.get_by_role("link", name="Withdraw the request").count() == 0
    assert page.get_by_role("link", name=re.compile("^Change")).count() == 0
    assert "can no longer be changed" in main
    assert page.locator(".step-tracker [aria-current=step]").count() == 0
    assert_accessible(page, "delivered case")
    page.screenshot(path="/tmp/h6-delivered-390.png", full_page=True)


def test_a_coordinators_zone_comes_from_their_browser_and_labels_their_times(browser, live_server):
    coordinator = UserFactory(role="coordinator", email="lee@example.com", full_name="Lee Nurse")
    enrol_totp(coordinator)
    page = new_page(browser, live_server.url, timezone_id="America/Los_Angeles")
    context = page.context
    try:
        sign_in(page, coordinator.email)
        page.locator("#id_code").fill(totp_code())
        page.get_by_role("button", name=re.compile("Sign in|Confirm|Verify", re.I)).click()
        page.wait_for_url(re.compile("/requests/coordinator/$"))

        def zone():
            coordinator.refresh_from_db()
            return coordinator.time_zone

        assert wait_until(zone, timeout=10) == "America/Los_Angeles"
        page.goto("/home/time-zone/")
        assert page.locator("#id_time_zone").input_value() == "America/Los_Angeles"
        assert re.search(
            r"It is now \d+ \w+ 20\d\d, \d+:\d\d [AP]M P[SD]T", page.locator("main").inner_text()
        )
        assert_accessible(page, "time zone page")
        page.locator("#id_time_zone").select_option("America/Chicago")
        page.get_by_role("button", name="Save time zone").click()
        assert page.get_by_text("Your time zone is saved: America/Chicago.").is_visible()
        assert re.search(r"It is now .* C[SD]T", page.locator("main").inner_text())
        page.screenshot(path="/tmp/h6-time-zone.png", full_page=True)
    finally:
        context.close()
