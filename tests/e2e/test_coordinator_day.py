"""The coordinator's day and the price before matching, in Chromium with axe on
every page: claim and start triage from the queue, the insurance check with
priced services, matching waiting for the patient, the patient confirming the
fee, and a second coordinator taking the case over with a reason."""

import re

import pytest

from requests_app import services
from requests_app.models import Case, CaseStatus
from secondop.notifications.models import Notification
from tests.accounts.factories import UserFactory, enrol_totp
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, screenshot
from tests.e2e.test_intake import sign_in, sign_out
from tests.e2e.test_matching import _staff_sign_in
from tests.requests_app.factories import CaseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(db):
    services.price_list_seed()
    patient = UserFactory(email="maria@example.com", full_name="Maria Lopez")
    grace = UserFactory(role="coordinator", email="grace@example.com", full_name="Grace Nurse")
    omar = UserFactory(role="coordinator", email="omar@example.com", full_name="Omar Reyes")
    enrol_totp(grace)
    enrol_totp(omar)
    case = CaseFactory(owner=patient, submitted=True, fee_agreed=False, urgency="urgent")
    return patient, grace, omar, case


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_claim_triage_fee_confirmation_and_take_over(page, world):
    patient, grace, omar, case = world

    # --- Grace: claim and start triage from the queue, in one action ---------------------
    _staff_sign_in(page, grace.email)
    page.wait_for_url(re.compile("/requests/coordinator/"))
    row = page.get_by_role("row", name=re.compile(case.reference))
    assert "In this status for" in page.locator("table.queue thead").inner_text()
    assert re.search(r"\d+ minutes? ago", row.inner_text())
    assert_accessible(page, "queue with waits")
    row.get_by_role("button", name=re.compile("Claim and start triage")).click()
    assert page.get_by_text(f"You manage {case.reference} and its triage has started.").is_visible()
    strip = page.get_by_role("region", name="Case summary").inner_text()
    assert "Urgent" in strip and "left" in strip and "Not checked yet" in strip
    assert "0 checked, 0 being checked" in strip and "You" in strip
    assert_accessible(page, "staff case page, in triage")
    screenshot(page, "staff-case-strip")

    # --- The insurance check with priced services; matching waits for the patient ------
    page.get_by_label("Not covered: the patient pays").check()
    page.get_by_role("checkbox", name=re.compile(r"^Written opinion: \$750\.00")).check()
    page.get_by_role("checkbox", name=re.compile(r"^Pathology slide re-read")).check()
    page.get_by_role("button", name="Save the insurance check").click()
    assert page.get_by_text("The insurance check is saved").is_visible()
    assert (
        "Quoted, waiting for the patient to confirm"
        in page.get_by_role("region", name="Case summary").inner_text()
    )
    page.get_by_role("button", name="Triage done: find a specialist").click()
    page.get_by_role("link", name="Find a specialist").click()
    assert page.get_by_text("The case cannot be offered yet.").is_visible()
    assert page.get_by_text("The patient has not confirmed the fee yet.").is_visible()
    facts = page.locator("dl.summary-list").first.inner_text()
    assert "Urgent" in facts and "left" in facts
    assert_accessible(page, "matching, fee not confirmed")
    assert_no_csp_violations(page)
    sign_out(page)

    # --- The patient confirms the fee -----------------------------------------------------
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/$"))
    assert page.get_by_text("Confirm the fee for your second opinion").is_visible()
    page.get_by_role("link", name=re.compile("Read and confirm the fee")).click()
    assert page.get_by_text("$1,050.00 (USD)").is_visible()
    assert page.get_by_text("Pathology slide re-read: $300.00 (USD)").first.is_visible()
    assert_accessible(page, "fee page")
    page.get_by_role("button", name="Confirm the fee").click()
    assert page.get_by_text("Tick the box to confirm the fee.").first.is_visible()
    assert_accessible(page, "fee page with an error")
    page.get_by_label("I understand this fee and I want to go ahead").check()
    page.get_by_role("button", name="Confirm the fee").click()
    assert page.get_by_text("Thank you: the fee is confirmed.").is_visible()
    assert page.locator(".step-tracker").get_by_text("Fee confirmed").is_visible()
    screenshot(page, "patient-fee-confirmed")
    sign_out(page)

    # --- Omar takes the case over, with a reason Grace is told ----------------------------
    _staff_sign_in(page, omar.email)
    page.wait_for_url(re.compile("/requests/coordinator/"))
    page.get_by_role("link", name=case.reference).click()
    assert page.get_by_text("Grace Nurse manages this case.").is_visible()
    page.get_by_role("button", name="Take over as case manager").click()
    assert page.get_by_text("Say why you are taking it over").first.is_visible()
    assert_accessible(page, "take-over refused without a reason")
    page.get_by_label("Why are you taking it over?").fill("Grace is on leave until Monday")
    page.get_by_role("button", name="Take over as case manager").click()
    assert page.get_by_text(f"You are now the case manager of {case.reference}.").is_visible()
    timeline = page.get_by_role("region", name="Timeline").inner_text()
    assert "Omar Reyes took over as case manager from Grace Nurse." in timeline
    assert "Grace is on leave until Monday" in timeline
    page.get_by_role("link", name="Find a specialist").click()
    assert page.get_by_text("The case cannot be offered yet.").count() == 0
    assert_no_csp_violations(page)

    # The page on a phone: one column, nothing scrolls sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/requests/care/{case.uuid}/")
    _no_sideways_scroll(page)
    assert_accessible(page, "staff case page at 390 px")
    screenshot(page, "staff-case-phone")

    case.refresh_from_db()
    assert case.case_manager == omar and case.status == CaseStatus.MATCHING
    assert case.fee_confirmed_at is not None
    assert Notification.objects.filter(recipient=grace, title__contains="took over").count() == 1
    assert Case.objects.get(pk=case.pk).manager_changes.count() == 1
