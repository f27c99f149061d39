"""A match you can trust, in Chromium: the coordinator chooses the specialty of a
case whose patient was not sure and sees only specialists who practise it with a
verified licence; an administrator verifies a waiting licence and that specialist
then qualifies; a case no one can take is held and the patient reads why. axe on
every new page."""

import datetime
import re

import pytest
from django.utils import timezone

from requests_app.icd10.loading import load_icd10_codes
from requests_app.icd10.models import Icd10Code
from specialists.services import certifications_load, specialties_load
from tests.accounts.factories import UserFactory, enrol_totp, totp_code
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, screenshot
from tests.e2e.test_intake import sign_in
from tests.requests_app.factories import CaseFactory
from tests.specialists.factories import SpecialistFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(db):
    specialties_load()
    certifications_load()
    if not Icd10Code.objects.filter(code="Q21.0").exists():
        load_icd10_codes(Icd10Code)
    patient = UserFactory(email="ruth@example.com", full_name="Ruth Mendel")
    coordinator = UserFactory(
        role="coordinator", email="grace@example.com", full_name="Grace Nurse"
    )
    enrol_totp(coordinator)
    admin = UserFactory(
        role="admin",
        email="sam@example.com",
        full_name="Sam Admin",
        is_staff=True,
        is_superuser=True,
    )
    enrol_totp(admin)
    # A child's heart defect; the parent chose "I'm not sure".
    unsure = CaseFactory(
        owner=patient,
        submitted=True,
        status="triage",
        specialty=None,
        specialty_unsure=True,
        icd10=None,
        case_manager=coordinator,
        diagnosis="A hole in the heart (VSD)",
        patient_state="OH",
        diagnosing_institution="Lakeview Children's",
    )
    SpecialistFactory(
        user__full_name="Dr. Ana Peds",
        licensed_in=("OH",),
        certified=("abp-pediatric-cardiology",),
        specialty_slugs=(),
    )
    SpecialistFactory(
        user__full_name="Dr. Ben Waiting",
        licensed_in=("OH",),
        licence_verification="unverified",
        certified=("abp-pediatric-cardiology",),
        specialty_slugs=(),
    )
    SpecialistFactory(user__full_name="Dr. Carl Oncology", licensed_in=("OH",))
    # No one is licensed in Wyoming.
    far = CaseFactory(
        owner=patient,
        submitted=True,
        status="matching",
        icd10=None,
        patient_state="WY",
        case_manager=coordinator,
        due_at=timezone.now() + datetime.timedelta(days=7),
    )
    return patient, coordinator, admin, unsure, far


def _staff_sign_in(page, email):
    sign_in(page, email)
    page.locator("#id_code").fill(totp_code())
    page.get_by_role("button", name=re.compile("Sign in|Confirm|Verify", re.I)).click()
    page.wait_for_load_state()


def _other_page(browser, live_server):
    """A second person's browser, watched for console errors like the `page` fixture's."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    other = context.new_page()
    other.console_errors = []
    other.on(
        "console", lambda m: other.console_errors.append(m.text) if m.type == "error" else None
    )
    return context, other


def _ranked(page) -> list[str]:
    return [name.strip() for name in page.locator(".match-list h3").all_inner_texts()]


def test_the_coordinator_chooses_the_specialty_and_sees_only_verified_fits(
    page, world, browser, live_server
):
    _patient, coordinator, admin, unsure, _far = world
    _staff_sign_in(page, coordinator.email)
    page.goto(f"/requests/care/{unsure.uuid}/")
    page.get_by_role("link", name="choose the specialty").click()
    assert_accessible(page, "choose the specialty")
    page.get_by_label("The specialty this case needs").select_option(label="Pediatric Cardiology")
    page.get_by_label(re.compile("Why")).fill(
        "A heart defect in a child: a pediatric cardiologist reviews it."
    )
    page.get_by_role("button", name="Save the specialty").click()
    page.get_by_text("The case now asks for Pediatric Cardiology").wait_for()
    page.get_by_role("button", name="Triage done: find a specialist").click()
    page.get_by_role("link", name="Find a specialist").click()
    page.get_by_role("heading", name="1 specialist qualifies").wait_for()
    assert _ranked(page) == ["Dr. Ana Peds, MD"]
    assert "licensed in OH (verified" in page.locator(".match-why").first.inner_text()
    assert "1 not in Pediatric Cardiology" in page.locator("#excluded").inner_text()
    assert "Dr. Ben Waiting would qualify, but their licence in Ohio is not verified yet" in (
        page.locator("#nearest").inner_text()
    )
    assert_accessible(page, "matching")
    screenshot(page, "trusted-matching-coordinator")

    # The administrator verifies Dr. Waiting's licence against the state board.
    admin_context, admin_page = _other_page(browser, live_server)
    _staff_sign_in(admin_page, admin.email)
    admin_page.goto("/credentialing/")
    admin_page.get_by_role("heading", name="1 licence waiting to be verified").wait_for()
    assert_accessible(admin_page, "credentialing")
    screenshot(admin_page, "trusted-matching-credentialing")
    form = admin_page.get_by_role("form", name=re.compile("Verify Dr. Ben Waiting"))
    form.get_by_label("Where you checked it").select_option(value="state_board")
    form.get_by_role("button", name=re.compile("Mark as verified")).click()
    admin_page.get_by_text("The licence is verified.").wait_for()
    admin_page.get_by_role("heading", name="0 licences waiting to be verified").wait_for()
    assert_no_csp_violations(admin_page)
    admin_context.close()

    page.reload()
    page.get_by_role("heading", name="2 specialists qualify").wait_for()
    assert sorted(_ranked(page)) == ["Dr. Ana Peds, MD", "Dr. Ben Waiting, MD"]
    assert_no_csp_violations(page)


def test_a_case_no_one_can_take_is_held_and_the_patient_reads_why(
    page, world, browser, live_server
):
    patient, coordinator, _admin, unsure, far = world
    _staff_sign_in(page, coordinator.email)
    page.goto(f"/specialist/match/{far.uuid}/")
    page.get_by_text("No one qualifies.").wait_for()
    assert "3 specialists considered" in page.locator("#considered").inner_text()
    assert "without a verified licence in WY" in page.locator("#excluded").inner_text()
    page.get_by_label("We are looking for a specialist licensed in your state.").check()
    page.get_by_role("button", name="Hold the case").click()
    page.get_by_text("The case is on hold.").wait_for()
    assert "On hold until" in page.locator("#on-hold").inner_text()
    page.get_by_role("button", name="Send the message").click()
    page.get_by_text("Your message is in the request's messages.").wait_for()
    assert_accessible(page, "matching, held")
    page.goto("/requests/coordinator/")
    page.get_by_label("On hold: nobody qualified yet").check()
    page.get_by_role("button", name="Show cases").click()
    assert page.get_by_role("link", name=far.reference).is_visible()
    assert not page.get_by_role("link", name=unsure.reference).count()

    patient_context, patient_page = _other_page(browser, live_server)
    sign_in(patient_page, patient.email)
    patient_page.goto(f"/requests/{far.uuid}/")
    patient_page.get_by_text(
        "We are looking for a specialist licensed in your state."
    ).first.wait_for()
    assert "Nothing to do now: we will write to you by" in patient_page.content()
    assert_accessible(patient_page, "the patient's held case")
    screenshot(patient_page, "trusted-matching-patient-held")
    assert_no_csp_violations(patient_page)
    patient_context.close()
