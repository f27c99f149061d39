"""In Chromium: after the patient withdraws, the case manager opening the case (from
the notification's link) sees "The patient withdrew this request" and nothing of
it; the concordance page shows no count under 11. Axe on both pages."""

import re

import pytest

from requests_app import services
from specialists.models import Specialty
from specialists.services import specialties_load
from tests.accounts.factories import UserFactory, enrol_totp
from tests.aftercare.factories import delivered_case
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, screenshot
from tests.e2e.test_matching import _staff_sign_in
from tests.reports.factories import assigned_case

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def team(db):
    patient = UserFactory(role="patient", full_name="Pat Patient")
    coordinator = UserFactory(role="coordinator", full_name="Cora Coordinator")
    specialist = UserFactory(role="specialist", full_name="Dr. Spec")
    for person in (coordinator, specialist):
        enrol_totp(person)
    return patient, coordinator, specialist


def test_the_case_manager_meets_the_withdrawn_page(page, team):
    patient, coordinator, specialist = team
    case = assigned_case(patient, coordinator, specialist)
    services.case_withdraw(actor=patient, case_ref=case.uuid, reason="I changed my mind")

    _staff_sign_in(page, coordinator.email)
    page.wait_for_url(re.compile("/requests/coordinator/"))
    response = page.goto(f"/requests/care/{case.uuid}/")
    assert response.status == 404
    assert page.get_by_role("heading", name="The patient withdrew this request").is_visible()
    text = page.locator("main").inner_text()
    assert case.reference not in text and "breast" not in text.lower()
    assert_accessible(page, "withdrawn")
    assert_no_csp_violations(page)
    screenshot(page, "access-ended-withdrawn")
    assert page.goto(f"/records/case/{case.uuid}/").status == 404
    assert page.get_by_role("heading", name="The patient withdrew this request").is_visible()


def test_concordance_shows_no_count_under_11(page, team):
    patient, coordinator, specialist = team
    if not Specialty.objects.exists():  # a transactional test starts with empty tables
        specialties_load()
    cardiology = Specialty.objects.get(slug="cardiology")
    for n, diagnosis, treatment, specialty in (
        (14, "agrees", "agrees", None),
        (12, "refined", "changes", None),
        (3, "different", "alternative", None),
        (12, "agrees", "agrees", cardiology),
        (1, "undetermined", "agrees", cardiology),
    ):
        extra = {"specialty": specialty} if specialty else {}
        for _ in range(n):
            delivered_case(
                owner=patient,
                specialist=specialist,
                diagnosis_opinion=diagnosis,
                treatment_opinion=treatment,
                **extra,
            )
    _staff_sign_in(page, coordinator.email)
    page.wait_for_url(re.compile("/requests/coordinator/"))
    page.goto("/aftercare/concordance/")
    page.get_by_label("From the month").fill("2026-01")
    page.get_by_role("button", name="Show the figures").click()
    assert page.get_by_text("fewer than 11").first.is_visible()
    tables = page.locator("table.concordance-table").all()[:2]
    shown = [
        int(n)
        for table in tables
        for n in re.findall(r"^(\d+)", "\n".join(table.locator("td").all_inner_texts()), re.M)
    ]
    assert shown and all(n == 0 or n >= 11 for n in shown)
    # A coordinator's page (issue 16's 320 px rule is for patients', physicians' and
    # specialists' pages): its tables scroll inside their own regions.
    assert_accessible(page, "concordance", phone=False)
    assert_no_csp_violations(page)
    screenshot(page, "concordance-suppressed")
