"""After delivery, in Chromium with axe on every page: the patient sends the
report to their physician, the physician opens it without an account, the
patient sees the opening and withdraws the link; follow-up questions; the
concordance figures."""

import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone

from requests_app.aftercare.models import ShareOpening
from specialists.models import Specialty
from tests.accounts.factories import UserFactory, enrol_totp
from tests.aftercare.factories import delivered_case
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, screenshot
from tests.e2e.steps import fresh_code
from tests.e2e.test_intake import sign_in, sign_out

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LINK = re.compile(r"http://[^/\s]+(/shared/[A-Za-z0-9_-]{43}/)")


@pytest.fixture
def world(db):
    patient = UserFactory(email="maria@example.com", full_name="Maria Lopez")
    coordinator = UserFactory(
        role="coordinator", email="grace@example.com", full_name="Grace Nurse"
    )
    enrol_totp(coordinator)
    specialist = UserFactory(
        role="specialist", email="marsh@example.com", full_name="Dr. Helen Marsh"
    )
    enrol_totp(specialist)
    case = delivered_case(
        owner=patient,
        specialist=specialist,
        case_manager=coordinator,
        patient_name="Maria Lopez",
        pcp_name="Dr. Ana Ruiz",
        pcp_email="ana.ruiz@clinic.example",
    )
    return patient, coordinator, specialist, case


def _staff_sign_in(page, email):
    sign_in(page, email)
    page.locator("#id_code").fill(fresh_code(email))
    page.get_by_role("button", name=re.compile("Sign in|Confirm|Verify", re.I)).click()


def test_the_patient_shares_the_physician_reads_and_the_patient_withdraws(
    page, browser, live_server, world
):
    patient, _coordinator, _specialist, case = world
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/$"))
    page.get_by_role("link", name=case.reference).first.click()
    assert_accessible(page, "case page, delivered")
    page.get_by_role("link", name="Send your report to your doctor").click()
    assert (
        page.get_by_label("Your doctor's email address").input_value() == "ana.ruiz@clinic.example"
    )
    assert_accessible(page, "share page")
    screenshot(page, "aftercare-share")

    # Consent first.
    page.get_by_role("button", name="Send the link to my doctor").click()
    assert page.get_by_role("alert").get_by_text("Tick the box to agree").is_visible()
    assert_accessible(page, "share page with an error")
    page.get_by_label(re.compile("I agree that SecondOp sends a link")).check()
    page.get_by_role("button", name="Send the link to my doctor").click()
    assert page.get_by_text("We are emailing the link to ana.ruiz@clinic.example").is_visible()
    assert page.get_by_text("Not opened yet").is_visible()
    [email] = mail.outbox
    assert "Maria" not in email.body and "breast" not in email.body
    path = LINK.search(email.body)[1]
    assert_no_csp_violations(page)
    sign_out(page)

    # The physician: no account, a browser of their own.
    physician = browser.new_context(base_url=live_server.url)
    doctor = physician.new_page()
    response = doctor.goto(path)
    assert response.status == 200
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "no-store" in response.headers["cache-control"]
    assert (
        doctor.get_by_role("heading", level=1).inner_text()
        == "Second-opinion report for Maria Lopez"
    )
    assert doctor.get_by_text("Invasive ductal carcinoma, grade 2.").is_visible()
    assert_accessible(doctor, "physician's page")
    screenshot(doctor, "aftercare-physician")
    with doctor.expect_download() as download:
        doctor.get_by_role("link", name=re.compile("Download the signed PDF")).click()
    assert download.value.suggested_filename == f"second-opinion-{case.reference}-v1.pdf"
    assert ShareOpening.objects.count() == 2

    # The patient sees it was opened, and withdraws the link.
    sign_in(page, patient.email)
    page.goto(f"/aftercare/{case.uuid}/share/")
    assert page.get_by_text(re.compile("Opened by your physician on")).is_visible()
    assert page.get_by_text(re.compile("Report downloaded by your physician on")).is_visible()
    page.get_by_role("button", name="Withdraw the link sent to Dr. Ana Ruiz").click()
    assert page.get_by_text("The link is withdrawn.").is_visible()
    assert_accessible(page, "share page, withdrawn")
    screenshot(page, "aftercare-share-withdrawn")

    response = doctor.goto(path)
    assert response.status == 410
    assert doctor.get_by_role("heading", level=1).inner_text() == "This link was withdrawn"
    assert doctor.get_by_text("Invasive ductal carcinoma").count() == 0
    assert_accessible(doctor, "withdrawn link")
    screenshot(doctor, "aftercare-revoked")
    physician.close()


def test_a_follow_up_question_is_asked_and_answered(page, world):
    patient, _coordinator, specialist, case = world
    sign_in(page, patient.email)
    page.goto(f"/requests/{case.uuid}/")
    page.get_by_role("link", name="Ask a follow-up question").click()
    page.get_by_role("button", name="Send my question").click()
    assert page.get_by_role("alert").get_by_text("Enter your question.").is_visible()
    page.get_by_label("Your question").fill("Should I have the genomic test before surgery?")
    page.get_by_role("button", name="Send my question").click()
    assert page.get_by_text("Your question is sent to the specialist.").is_visible()
    assert page.get_by_text("Waiting for the specialist's answer").is_visible()
    assert_accessible(page, "follow-up page")
    screenshot(page, "aftercare-follow-up")
    sign_out(page)

    _staff_sign_in(page, specialist.email)
    page.wait_for_url(re.compile("/specialist/"))
    page.goto(f"/requests/care/{case.uuid}/")
    page.get_by_role("link", name="Answer question 1").click()
    assert_accessible(page, "answer page")
    page.get_by_label("Recommends further tests").check()
    page.get_by_label("Your answer").fill("Yes: the assay decides whether you need chemotherapy.")
    page.get_by_role("button", name="Send the answer").click()
    assert page.get_by_text("Your answer is sent to the patient.").is_visible()
    screenshot(page, "aftercare-answered-staff")
    sign_out(page)

    sign_in(page, patient.email)
    page.goto(f"/requests/{case.uuid}/")
    assert page.get_by_text("Yes: the assay decides whether you need chemotherapy.").is_visible()
    assert page.get_by_text("You can ask the specialist 2 more questions").is_visible()
    assert_accessible(page, "case page with an answer")
    screenshot(page, "aftercare-case-answered")


def test_the_coordinator_reads_the_concordance(page, world):
    patient, coordinator, specialist, _case = world
    cardiology = Specialty.objects.get(slug="cardiology")
    for days, opinion, treatment, specialty in (
        (2, "agrees", "agrees", None),
        (5, "different", "alternative", None),
        (9, "refined", "agrees", cardiology),
        (60, "undetermined", "changes", None),
    ):
        extra = {"specialty": specialty} if specialty else {}
        delivered_case(
            owner=patient,
            specialist=specialist,
            diagnosis_opinion=opinion,
            treatment_opinion=treatment,
            delivered_at=timezone.now() - datetime.timedelta(days=days),
            **extra,
        )
    _staff_sign_in(page, coordinator.email)
    page.wait_for_url(re.compile("/requests/coordinator/"))
    page.get_by_role("link", name="Concordance: how our opinions compare").click()
    # Five reports: too few to show any count (fewer than 11 could point to one patient;
    # tests/aftercare/test_suppression.py holds the rule), the published figures beside.
    assert page.get_by_text(re.compile("^Fewer than 11 reports were released")).is_visible()
    assert page.get_by_role("row", name=re.compile("Van Such et al. 2017")).is_visible()
    # A coordinator's page: its tables scroll inside their own regions on a phone.
    assert_accessible(page, "concordance", phone=False)
    screenshot(page, "aftercare-concordance")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV").click()
    assert download.value.suggested_filename.startswith("concordance-")
    assert_no_csp_violations(page)
