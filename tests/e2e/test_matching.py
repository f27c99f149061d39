"""A coordinator finds the right specialist, the specialist accepts, the
patient sees who it is: in Chromium, with axe on every page."""

import re

import pytest

from requests_app.icd10.loading import load_icd10_codes
from requests_app.icd10.models import Icd10Code
from requests_app.models import Case
from specialists.services import certifications_load, specialties_load
from tests.accounts.factories import UserFactory, enrol_totp, totp_code
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, screenshot
from tests.e2e.test_intake import sign_in, sign_out
from tests.requests_app.factories import CaseFactory
from tests.specialists.factories import SpecialistFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(db):
    specialties_load()
    certifications_load()
    if not Icd10Code.objects.filter(code="C50.911").exists():
        load_icd10_codes(Icd10Code)
    patient = UserFactory(email="maria@example.com", full_name="Maria Lopez")
    coordinator = UserFactory(
        role="coordinator", email="grace@example.com", full_name="Grace Nurse"
    )
    enrol_totp(coordinator)
    case = CaseFactory(owner=patient, submitted=True, icd10=Icd10Code.objects.get(code="C50.911"))
    CaseFactory(owner=patient, submitted=True, diagnosis="Knee pain", specialty=None)
    marsh = SpecialistFactory(
        user__full_name="Dr. Helen Marsh",
        user__email="marsh@example.com",
        title="MD, PhD",
        institution="Lakeside University Hospital",
        languages=["English", "Spanish"],
    )
    SpecialistFactory(user__full_name="Dr. Far Away", licensed_in=("CA",))
    SpecialistFactory(user__full_name="Dr. Same Hospital", institution="Metro General")
    return patient, coordinator, case, marsh


def _staff_sign_in(page, email):
    sign_in(page, email)
    page.locator("#id_code").fill(totp_code())
    page.get_by_role("button", name=re.compile("Sign in|Confirm|Verify", re.I)).click()


def test_a_coordinator_matches_the_specialist_accepts_the_patient_sees_them(page, world):
    patient, coordinator, case, marsh = world
    _staff_sign_in(page, coordinator.email)
    page.wait_for_url(re.compile("/requests/coordinator/"))
    page.get_by_label("No specialist yet").check()
    page.get_by_label("Specialty").select_option(label="Medical Oncology")
    page.get_by_role("button", name="Show cases").click()
    assert page.get_by_role("link", name=case.reference).is_visible()
    assert page.get_by_text("1 case", exact=True).is_visible()
    assert_accessible(page, "queue, filtered")

    page.get_by_role("link", name=case.reference).click()
    page.get_by_role("button", name="Claim and start triage").click()
    page.get_by_role("button", name="Triage done: find a specialist").click()
    page.get_by_role("link", name="Find a specialist").click()
    assert_accessible(page, "matching")
    ranked = page.locator(".match-list > li")
    assert ranked.count() == 1
    why = ranked.first.inner_text()
    assert "Dr. Helen Marsh" in why and "Board-certified in Medical Oncology" in why
    assert "licensed in NY" in why and "treats C50" in why
    excluded = page.locator("#excluded").inner_text()
    assert (
        "1 without a verified licence in NY" in excluded
        and "1 at the diagnosing institution" in excluded
    )
    screenshot(page, "matching")
    page.get_by_role("button", name="Offer to Dr. Helen Marsh").click()
    assert page.get_by_text("The case is offered.").is_visible()
    assert_no_csp_violations(page)
    sign_out(page)

    _staff_sign_in(page, marsh.user.email)
    page.wait_for_url(re.compile("/specialist/"))
    assert_accessible(page, "specialist workspace")
    page.get_by_role("link", name=case.reference).click()
    assert page.get_by_text("Early-stage breast cancer").is_visible()
    assert page.get_by_text("Maria Lopez").count() == 0  # a summary, no name
    assert_accessible(page, "offer")
    page.get_by_role("button", name="Accept the case").click()
    assert page.get_by_text("Confirm that you have no conflict of interest.").first.is_visible()
    assert_accessible(page, "offer with an error")
    page.get_by_label(re.compile("I have no conflict of interest")).check()
    page.get_by_role("button", name="Accept the case").click()
    assert page.get_by_text("The case is yours.").is_visible()
    assert page.get_by_role("heading", level=1).inner_text().endswith("Maria Lopez")
    screenshot(page, "specialist-case")
    sign_out(page)

    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/$"))
    page.get_by_role("link", name=case.reference).first.click()
    assert page.get_by_text(
        "Dr. Helen Marsh, MD, PhD (Medical Oncology, Lakeside University "
        "Hospital) has accepted your case."
    ).is_visible()
    current = page.locator(".step-tracker [aria-current=step]").inner_text()
    assert "now: the specialist is reviewing" in current
    assert_accessible(page, "patient case page with a specialist")
    screenshot(page, "patient-specialist-accepted")
    assert Case.objects.get(pk=case.pk).specialist == marsh.user
