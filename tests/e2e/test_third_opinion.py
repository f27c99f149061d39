"""Issue 21, item 5, in Chromium with axe on every page: the patient whose report
says "a different diagnosis" asks for a third opinion from the report page; the
coordinator matches it (the second specialist is not offered, nor anyone at the
diagnosing hospital); the third specialist cannot open the second report, signs
blind, then compares; the case manager writes the reconciliation; the patient
sees the three views side by side."""

import re

import pytest
from django.urls import reverse

from requests_app.models import Case, CaseStatus
from requests_app.reports.models import ReportVersion
from requests_app.services import price_list_seed
from requests_app.workflow import case_transition
from specialists.services import offer_accept
from tests.accounts.factories import UserFactory, enrol_totp
from tests.aftercare.factories import delivered_case
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, screenshot
from tests.e2e.test_intake import sign_in, sign_out
from tests.e2e.test_sharing import _staff_sign_in
from tests.records.factories import RecordFactory
from tests.reports.factories import release, sign
from tests.specialists.factories import SpecialistFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
NOTE = (
    "The second and third specialists both think this is not cancer. Take both "
    "reports to your surgeon before the operation."
)


def _both_widths(page, name: str, what: str) -> None:
    assert_accessible(page, what)
    screenshot(page, name)
    page.set_viewport_size(PHONE)
    assert_accessible(page, f"{what} at 390 px")
    screenshot(page, f"{name}-390")
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture
def world(db):
    price_list_seed()
    patient = UserFactory(email="maria@example.com", full_name="Maria Lopez")
    coordinator = UserFactory(
        role="coordinator", email="grace@example.com", full_name="Grace Nurse"
    )
    enrol_totp(coordinator)
    second = SpecialistFactory(
        user__full_name="Dr. Helen Marsh", user__email="marsh@example.com", title="MD"
    ).user
    third = SpecialistFactory(
        user__full_name="Dr. Ravi Wu",
        user__email="wu@example.com",
        title="MD, PhD",
        institution="Lakeside University Hospital",
    ).user
    SpecialistFactory(user__full_name="Dr. Same Hospital", institution="Metro General")
    case = delivered_case(
        owner=patient,
        specialist=second,
        case_manager=coordinator,
        patient_name="Maria Lopez",
        diagnosis_opinion="different",
        treatment_opinion="alternative",
    )
    ReportVersion.objects.filter(report__case=case).update(
        diagnosis="Fibroadenoma of the left breast",
        reasons="The cells look benign on review.",
    )
    record = RecordFactory(case=case, title="Core biopsy, left breast")
    return patient, coordinator, second, third, case, record


def test_the_patient_asks_a_different_specialist_signs_blind_the_patient_sees_three(
    page, world, live_server
):
    patient, coordinator, second, third, case, record = world

    # The patient asks from the report page.
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/$"))
    page.goto(reverse("reports:case", args=[case.uuid]))
    assert page.get_by_role("heading", name="Two opinions, side by side").is_visible()
    assert_accessible(page, "report page with the offer of a third opinion")
    page.get_by_role("link", name="Ask for a third opinion").click()
    assert page.get_by_role("heading", level=1, name="Ask for a third opinion").is_visible()
    assert page.get_by_text("$750.00 (USD)").is_visible()
    page.get_by_role("button", name="Ask for a third opinion").click()
    assert page.get_by_role("alert").get_by_text("Tick the box to agree to the fee").is_visible()
    _both_widths(page, "third-opinion-ask", "third opinion ask, with an error")
    page.get_by_label("I agree to the fee shown for the third opinion").check()
    page.get_by_role("button", name="Ask for a third opinion").click()
    assert page.get_by_text("You asked for a third opinion.").is_visible()
    child = Case.objects.get(parent=case)
    page.wait_for_url(re.compile(f"{child.uuid}"))
    assert_accessible(page, "the third opinion's own request")
    assert_no_csp_violations(page)
    sign_out(page)

    # The coordinator matches it: the second specialist is not offered.
    for status in (CaseStatus.TRIAGE, CaseStatus.MATCHING):
        case_transition(actor=coordinator, ref=child.uuid, to_status=status)
    _staff_sign_in(page, coordinator.email)
    page.wait_for_url(re.compile("/requests/coordinator/"))
    page.goto(reverse("requests_app:staff_case", args=[child.uuid]))
    assert page.get_by_text(re.compile("A blinded third opinion on")).is_visible()
    page.get_by_role("link", name="Find a specialist").click()
    assert_accessible(page, "matching a third opinion")
    ranked = page.locator(".match-list > li")
    assert ranked.count() == 1 and "Dr. Ravi Wu" in ranked.first.inner_text()
    assert page.get_by_role("button", name=f"Offer to {second.full_name}").count() == 0
    excluded = page.locator("#excluded").inner_text()
    assert "1 gave the opinion this third opinion is on" in excluded
    assert "1 at the diagnosing institution" in excluded
    screenshot(page, "third-opinion-matching")
    page.get_by_role("button", name="Offer to Dr. Ravi Wu").click()
    assert page.get_by_text("The case is offered.").is_visible()
    sign_out(page)

    # The third specialist: the second report is closed to them until they sign.
    offer_accept(actor=third, case_ref=child.uuid, conflict_attested=True)
    second_version = ReportVersion.objects.get(report__case=case)
    _staff_sign_in(page, third.email)
    page.wait_for_url(re.compile("/specialist/"))
    for url in (
        reverse("reports:case", args=[case.uuid]),
        reverse("reports:pdf", args=[second_version.uuid]),
        reverse("reports:opinions", args=[child.uuid]),
    ):
        assert page.goto(url).status in (403, 404), url
    page.goto(reverse("requests_app:staff_case", args=[child.uuid]))
    assert page.get_by_text(re.compile("This is a blinded third opinion")).is_visible()
    assert page.get_by_text("Fibroadenoma").count() == 0
    assert_accessible(page, "the third specialist's case page")
    page.goto(reverse("records:case_records", args=[child.uuid]))
    assert page.get_by_text("Core biopsy, left breast").first.is_visible()
    sign(
        child,
        third,
        records=[str(record.uuid)],
        diagnosis_opinion="agrees",
        treatment_opinion="agrees",
    )
    page.goto(reverse("requests_app:staff_case", args=[child.uuid]))
    page.get_by_role("link", name="Compare the opinions side by side").click()
    assert page.get_by_text("Fibroadenoma of the left breast").is_visible()
    assert_accessible(page, "opinions side by side, for the third specialist")
    sign_out(page)

    # The case manager releases it and writes the reconciliation.
    release(child, coordinator)
    _staff_sign_in(page, coordinator.email)
    page.wait_for_url(re.compile("/requests/coordinator/"))
    page.goto(reverse("requests_app:staff_case", args=[child.uuid]))
    page.get_by_role("button", name="Save the reconciliation").click()
    assert page.get_by_role("alert").get_by_text("Write how the opinions compare").is_visible()
    assert_accessible(page, "reconciliation with an error")
    page.get_by_label("How the opinions compare").fill(NOTE)
    page.get_by_role("button", name="Save the reconciliation").click()
    assert page.get_by_text("Saved: the patient reads it").is_visible()
    assert_accessible(page, "staff case page, reconciled")
    sign_out(page)

    # The patient sees the three views and the note.
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/$"))
    page.goto(reverse("requests_app:case_detail", args=[child.uuid]))
    page.get_by_role("link", name="Compare the opinions side by side").click()
    assert page.get_by_text(NOTE).is_visible()
    table = page.locator(".opinions-table").inner_text()
    assert "Your first doctor said" in table and "The third opinion" in table
    assert "Fibroadenoma of the left breast" in table
    _both_widths(page, "third-opinion-compare", "the three opinions, for the patient")
    assert_no_csp_violations(page)
