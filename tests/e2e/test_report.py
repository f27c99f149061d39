"""The written report in Chromium: the specialist drafts it (saved in the
background as they type), signs it after confirming their password, the case
manager releases it, and the patient reads each question with its answer and
downloads the PDF. axe on every page. The specialist gives a different diagnosis:
signing asks for their reasons, and the patient's page opens with the two
opinions side by side, naming the operation booked soon."""

import datetime
import re
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from requests_app.models import CaseQuestion, CaseStatus
from requests_app.reports.models import ReportVersion
from specialists.services import specialties_load
from tests.accounts.factories import UserFactory, enrol_totp, totp_code
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, screenshot
from tests.e2e.test_intake import sign_in, sign_out
from tests.helpers import wait_until
from tests.records.factories import RecordFactory
from tests.requests_app.factories import CaseFactory
from tests.specialists.factories import SpecialistFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ANSWER_1 = "No. For a tumour this size, breast-conserving surgery works as well."
ANSWER_2 = "Yes: a sentinel node biopsy first, to see whether the cancer has spread."


@pytest.fixture
def world(db):
    specialties_load()
    patient = UserFactory(email="maria@example.com", full_name="Maria Lopez")
    coordinator = UserFactory(
        role="coordinator", email="grace@example.com", full_name="Grace Nurse"
    )
    enrol_totp(coordinator)
    marsh = SpecialistFactory(
        user__full_name="Dr. Helen Marsh",
        user__email="marsh@example.com",
        title="MD, PhD",
        institution="Lakeside University Hospital",
    )
    case = CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        case_manager=coordinator,
        specialist=marsh.user,
        diagnosis="Breast cancer, left side",
        proposed_treatment="Mastectomy",
        treatment_date=timezone.localdate() + datetime.timedelta(days=12),
    )
    CaseQuestion.objects.create(case=case, position=2, text="Should anything be done first?")
    RecordFactory(case=case, title="Core biopsy, left breast")
    return patient, coordinator, marsh.user, case


def _staff_sign_in(page, email):
    sign_in(page, email)
    page.locator("#id_code").fill(totp_code())
    page.get_by_role("button", name=re.compile("Sign in|Confirm|Verify", re.I)).click()


def test_the_specialist_writes_and_signs_the_manager_releases_the_patient_reads(page, world):
    patient, coordinator, specialist, case = world

    # --- The specialist drafts; the draft saves itself ---------------------------------
    _staff_sign_in(page, specialist.email)
    page.wait_for_url(re.compile("/specialist/"))
    page.get_by_role("link", name=re.compile("Write the report")).click()
    assert_accessible(page, "the report, not started")
    page.get_by_role("link", name="Write the report").click()
    page.wait_for_url(re.compile("/write/$"))
    assert_accessible(page, "the report form")
    page.get_by_label(re.compile("Core biopsy, left breast")).check()
    page.get_by_role("textbox", name="Clinical summary and findings").fill(
        "A 1.4 cm grade 2 invasive ductal carcinoma, ER and PR positive, HER2 negative."
    )
    status = page.locator("#autosave-status")
    status.get_by_text(re.compile(r"Saved at \d{1,2}:\d\d")).wait_for()
    draft = ReportVersion.objects.get()
    assert draft.summary.startswith("A 1.4 cm") and draft.reviewed.count() == 1

    page.get_by_label("A different diagnosis").check()
    page.get_by_label("Second-opinion diagnosis").fill("Fibroadenoma, left breast")
    page.get_by_label("Suggests changes to the plan").check()
    page.get_by_label("Treatment recommendations").fill("Lumpectomy, then radiotherapy.")
    page.get_by_label(re.compile("Question 1")).fill(ANSWER_1)
    page.get_by_label(re.compile("Question 2")).fill(ANSWER_2)
    page.wait_for_function(
        "() => document.querySelector('#autosave-status').textContent.includes('Saved at')"
        " && !document.querySelector('#autosave-status').classList.contains('autosave-status-busy')"
    )
    # The last answer is saved too once the idle delay has passed: wait for that state.
    wait_until(
        lambda: (
            list(draft.answers.order_by("position").values_list("answer", flat=True))
            == [ANSWER_1, ANSWER_2]
        ),
        60,
        0.25,
    )
    draft.refresh_from_db()
    assert list(draft.answers.values_list("answer", flat=True)) == [ANSWER_1, ANSWER_2]
    assert draft.diagnosis_opinion == "different"
    # A trial to ask about, typed in lower case: saved in upper case.
    page.get_by_label("ClinicalTrials.gov identifiers (optional)").fill("nct01234567")
    page.get_by_label("Evidence you rely on (optional)").fill(
        "WHO Classification of Breast Tumours, 5th ed. (PMID: 31433515)"
    )
    screenshot(page, "report-form")
    page.get_by_label(re.compile("Question 1")).scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot(page, "report-form").with_name("report-form-window.png")))

    # --- Signing asks who it is ------------------------------------------------------------
    page.get_by_role("button", name="Save and check before signing").click()
    page.wait_for_url(re.compile("/sign/$"))
    # A different diagnosis: signing needs the reasons, in plain words.
    page.get_by_role("link", name=re.compile("Say why your opinion differs")).click()
    page.wait_for_url(re.compile("/write/#id_reasons$"))
    reasons = page.get_by_label("Why your opinion differs, in plain words")
    reasons.fill("The biopsy shows a benign tumour, not a cancer: no operation is needed.")
    page.get_by_role("button", name="Save and check before signing").click()
    page.wait_for_url(re.compile("/sign/$"))
    assert_accessible(page, "sign")
    assert ReportVersion.objects.get().trial_ids == ["NCT01234567"]
    page.get_by_role("button", name="Sign the report").click()
    page.wait_for_url(re.compile("/accounts/reauthenticate/"))
    assert ReportVersion.objects.get().status == "draft"
    page.locator("#id_password").fill("correct-horse-battery-staple")
    page.get_by_role("button", name=re.compile("Confirm", re.I)).click()
    page.wait_for_url(re.compile("/reports/versions/"))
    assert page.get_by_text("Version 1 is signed.").is_visible()
    version = ReportVersion.objects.get()
    assert version.status == "signed" and version.pdf_ready  # rendered on commit (eager)
    assert page.get_by_text(ANSWER_2).is_visible()
    assert_accessible(page, "signed version")
    assert_no_csp_violations(page)
    sign_out(page)

    # --- The case manager releases it ----------------------------------------------------------
    _staff_sign_in(page, coordinator.email)
    page.wait_for_url(re.compile("/requests/coordinator/"))
    page.goto(f"/requests/care/{case.uuid}/")
    page.get_by_role("link", name="Review the report").click()
    assert_accessible(page, "the report, for the case manager")
    page.get_by_role("link", name="Review version 1").click()
    assert_accessible(page, "review")
    screenshot(page, "report-review")
    page.get_by_role("button", name="Release the report to the patient").click()
    assert page.get_by_text("Released. The patient is told their report is ready.").is_visible()
    case.refresh_from_db()
    assert case.status == CaseStatus.DELIVERED
    sign_out(page)

    # --- The patient reads it and downloads the PDF ---------------------------------------------
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/$"))
    page.get_by_role("link", name=case.reference).first.click()
    page.get_by_role("link", name="Read your report").click()
    assert page.get_by_role("heading", name="Your second-opinion report").is_visible()
    questions = page.locator(".report-qa")
    assert questions.count() == 2
    assert "Is surgery my only option?" in questions.nth(0).inner_text()
    assert ANSWER_1 in questions.nth(0).inner_text()
    assert ANSWER_2 in questions.nth(1).inner_text()
    # --- The two opinions side by side, first ---------------------------------------------
    compare = page.get_by_role("region", name="Two opinions, side by side")
    table = compare.get_by_role("table")
    assert table.get_by_role("columnheader", name="Your first doctor said").is_visible()
    assert table.get_by_role("columnheader", name="The specialist says").is_visible()
    diagnosis_row = table.get_by_role("row", name=re.compile("^Diagnosis"))
    assert "Breast cancer, left side" in diagnosis_row.inner_text()
    assert "Fibroadenoma, left breast" in diagnosis_row.inner_text()
    assert "Mastectomy" in table.get_by_role("row", name=re.compile("^Treatment")).inner_text()
    assert compare.get_by_text("The biopsy shows a benign tumour").is_visible()
    day = case.treatment_date
    assert compare.get_by_text(
        f"Talk to your surgeon or doctor before your treatment on {day:%A} {day.day} {day:%B}."
    ).is_visible()
    assert compare.get_by_role("link", name="Share the report with your doctor").is_visible()
    # The trial, linked to its page on ClinicalTrials.gov.
    trial = page.get_by_role("link", name="NCT01234567")
    assert trial.get_attribute("href") == "https://clinicaltrials.gov/study/NCT01234567"
    assert page.get_by_role("link", name="PMID: 31433515").get_attribute("href") == (
        "https://pubmed.ncbi.nlm.nih.gov/31433515/"
    )
    # Two columns on a laptop; stacked on a phone, each cell naming its column.
    cells = table.locator("tbody tr").first.locator("td")
    first, second = cells.nth(0).bounding_box(), cells.nth(1).bounding_box()
    assert first and second and second["x"] > first["x"] + 100
    assert_accessible(page, "the patient's report")
    assert_no_csp_violations(page)
    screenshot(page, "report-patient")
    page.set_viewport_size({"width": 390, "height": 844})
    first, second = cells.nth(0).bounding_box(), cells.nth(1).bounding_box()
    assert first and second and second["y"] > first["y"] + first["height"] - 1
    assert abs(second["x"] - first["x"]) < 2
    screenshot(page, "report-patient-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download the report as a PDF")).click()
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"%PDF-") and data == default_storage.open(version.pdf_key).read()
    assert download.value.suggested_filename == f"SecondOp report {case.reference} v1.pdf"

    # --- Their doctor checks the PDF, signed out ----------------------------------------------------
    sign_out(page)
    page.goto("/reports/verify/")
    assert_accessible(page, "verify")
    page.get_by_label("Verification code").fill(version.verification_code.lower())
    page.get_by_label("The report's PDF file").set_input_files(download.value.path())
    page.get_by_role("button", name="Check the report").click()
    assert page.get_by_role("heading", name="Authentic").is_visible()
    assert page.get_by_text("signed by Dr. Helen Marsh, MD, PhD on").is_visible()
    assert page.get_by_text(ANSWER_1).count() == 0 and page.get_by_text("Maria Lopez").count() == 0
    assert_accessible(page, "verify, authentic")
    screenshot(page, "report-verify")
