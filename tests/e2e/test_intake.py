import re

import pytest
from django.core import mail

from requests_app.icd10.loading import load_icd10_codes
from requests_app.icd10.models import Icd10Code
from requests_app.models import Case
from secondop.notifications.models import Notification
from specialists.models import Specialty
from specialists.services import specialties_load
from tests.accounts.factories import PASSWORD, UserFactory, enrol_totp, totp_code
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
CASE_URL = re.compile(r"/requests/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/$")


def sign_in(page, email, password=PASSWORD):
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_selector("text=Create an account")


def open_section(page, title, *, phone=True):
    page.get_by_role("link", name=title, exact=True).click()
    assert_accessible(page, title, phone=phone)


def fill_date(page, field_id, day, month, year):
    """The GOV.UK date input: three boxes, day, month and year."""
    page.locator(f"#{field_id}").fill(day)
    page.locator(f"#{field_id}_month").fill(month)
    page.locator(f"#{field_id}_year").fill(year)


def save_complete(page):
    page.get_by_role("button", name="Save and continue").click()


def at_section(page, title):
    """Save and continue lands on the next section not yet done."""
    page.get_by_role("heading", level=1, name=title).wait_for()
    assert_accessible(page, title)


@pytest.fixture
def people(db):
    # Earlier transactional tests flush what the migrations loaded.
    if not Specialty.objects.exists():
        specialties_load()
    if not Icd10Code.objects.exists():
        load_icd10_codes(Icd10Code)
    patient = UserFactory(email="maria@example.com", full_name="Maria Lopez")
    coordinator = UserFactory(
        role="coordinator", email="grace@example.com", full_name="Grace Nurse"
    )
    enrol_totp(coordinator)
    return patient, coordinator


def test_a_patient_writes_saves_resumes_and_submits_a_request(page, people):
    patient, coordinator = people
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/$"))
    assert_accessible(page, "empty dashboard")
    page.get_by_role("button", name="Start a new request").click()
    page.wait_for_url(CASE_URL)
    assert_accessible(page, "task list")

    # Who: with the keyboard alone.
    open_section(page, "Who the request is for")
    page.locator("#id_relationship_0").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    while not page.evaluate("document.activeElement.textContent.includes('Save and continue')"):
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    # About: a mistake first, then fixed; what was typed is kept.
    at_section(page, "About the patient")
    fill_date(page, "id_patient_dob", "1", "1", "2031")
    page.locator("#id_patient_phone").fill("212 555 0123")
    save_complete(page)
    assert page.get_by_text("There is a problem").is_visible()
    assert page.locator("#id_patient_phone").input_value() == "212 555 0123"
    assert_accessible(page, "section with errors")
    screenshot(page, "intake-section-errors")
    assert page.locator("#id_patient_dob_year").input_value() == "2031"
    fill_date(page, "id_patient_dob", "27", "3", "1975")
    page.locator("#id_patient_sex_0").check()
    page.locator("#id_patient_state").select_option("NY")
    save_complete(page)

    at_section(page, "The diagnosis")
    page.locator("#id_diagnosis").fill("Early-stage breast cancer")
    page.get_by_role("button", name="Save and come back later").click()
    page.wait_for_url(CASE_URL)
    screenshot(page, "intake-task-list")
    assert page.get_by_text("You have completed 2 of 10 sections").is_visible()

    sign_out(page)
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/$"))
    page.get_by_role("link", name=re.compile("Your request")).click()

    open_section(page, "The diagnosis")
    assert page.locator("#id_diagnosis").input_value() == "Early-stage breast cancer"
    # The code waits behind "I have a code from my doctor".
    assert not page.locator("#id_icd10").is_visible()
    page.get_by_label("I have a code from my doctor").check()
    # The ICD-10 type-ahead, with the keyboard: a patient types the organ's name
    # alone and breast cancer comes first; arrow down, Enter.
    page.locator("#id_icd10").fill("")
    page.locator("#id_icd10").press_sequentially("breast", delay=30)
    page.locator("#id_icd10_results [role=option]").first.wait_for()
    assert (
        "Malignant neoplasm of breast"
        in page.locator("#id_icd10_results [role=option]").first.inner_text()
    )
    assert_accessible(page, "diagnosis with suggestions open")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    code = page.locator("#id_icd10").input_value()
    assert re.fullmatch(r"C50(\.\w+)?", code), code
    save_complete(page)
    at_section(page, "Proposed treatment")
    page.locator("#id_proposed_treatment").fill("Mastectomy")
    page.locator("#id_treatment_started_1").check()
    save_complete(page)
    at_section(page, "Why you want a second opinion")
    page.locator("#id_reasons_0").check()
    page.get_by_label("What worries you most, in your own words").fill(
        "Whether losing the whole breast is really needed"
    )
    page.locator("#id_questions").fill("Is surgery my only option?\nWhat about radiation?")
    save_complete(page)
    at_section(page, "Health background")
    page.locator("#id_symptoms").fill("A lump since August")
    save_complete(page)
    at_section(page, "Specialist preferences")
    page.locator("#id_specialty").select_option(label="Medical Oncology")
    page.locator("#id_consultation_type_0").check()
    save_complete(page)
    at_section(page, "Primary care physician")
    page.locator("#id_pcp_name").fill("Dr. Ana Reyes")
    page.locator("#id_pcp_referred_0").check()
    save_complete(page)
    at_section(page, "Insurance")
    # The policy questions appear only for someone paying through insurance.
    assert not page.get_by_label("Member ID").is_visible()
    page.get_by_label("Through my health insurance").check()
    assert page.get_by_label("Member ID").is_visible()
    page.locator("#id_payment_0").check()
    assert not page.get_by_label("Member ID").is_visible()
    save_complete(page)
    at_section(page, "Authorisation to use your records")
    # A plain summary first; the legal text one tap away.
    assert page.get_by_role("heading", name="What you agree to").is_visible()
    legal = page.get_by_text("I authorise SecondOp, its nurse coordinators")
    assert not legal.is_visible()
    page.get_by_text("Read the full authorisation").click()
    assert legal.is_visible()
    page.locator("#id_agree").check()
    page.locator("#id_signature").fill("Maria Lopez")
    page.get_by_role("button", name="Sign and save").click()

    page.get_by_role("heading", level=1, name="Check your answers and send").wait_for()
    assert_accessible(page, "check answers")
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_url(re.compile(r"/sent/$"))  # the confirmation page (tests/e2e/test_status.py)
    page.get_by_role("link", name="Later: go to my request").click()
    page.wait_for_url(CASE_URL)
    case = Case.objects.get(owner=patient)
    assert case.icd10_id == code
    assert page.get_by_role("heading", level=1).inner_text() == f"Request {case.reference}"
    assert page.get_by_text("Received: a nurse coordinator will check it soon").first.is_visible()
    assert page.get_by_text("What you need to do").is_visible()
    assert_accessible(page, "case page")
    page.get_by_role("link", name="Withdraw the request").click()
    assert_accessible(page, "withdraw page")
    page.go_back()

    page.goto("/requests/")
    assert page.get_by_text(case.reference).first.is_visible()
    assert_accessible(page, "dashboard")
    screenshot(page, "intake-dashboard")
    assert_no_csp_violations(page)

    # The coordinator was notified (in-app and by email) and sees it in the list.
    note = Notification.objects.get(recipient=coordinator)
    assert note.delivered_at is not None and note.reference == case.reference
    assert any(coordinator.email in m.to and case.reference in m.subject for m in mail.outbox)
    sign_out(page)
    sign_in(page, coordinator.email)
    page.locator("#id_code").fill(totp_code())
    page.get_by_role("button", name=re.compile("Sign in|Confirm|Verify", re.I)).click()
    page.wait_for_url(re.compile("/requests/coordinator/"))
    assert page.get_by_role("cell", name=case.reference).is_visible()
    assert page.get_by_role("cell", name="Maria Lopez").is_visible()
    assert page.locator(".badge").inner_text() == "1"
    assert_accessible(page, "case queue")
    # Filters: urgent only hides it (it is routine); a search by name finds it.
    page.get_by_label("Urgency").select_option("urgent")
    page.get_by_role("button", name="Show cases").click()
    assert page.get_by_text("No open case matches these filters.").is_visible()
    page.get_by_role("link", name="Clear filters").click()
    page.get_by_label("Reference or patient's name").fill("lopez")
    assert "lopez" not in page.url
    page.get_by_role("button", name="Show cases").click()
    screenshot(page, "case-queue")
    # The coordinator opens it: every answer, the patient's concerns included.
    page.get_by_role("link", name=case.reference).click()
    assert page.get_by_text("Whether losing the whole breast is really needed").is_visible()
    assert_accessible(page, "staff case page")
    page.get_by_role("button", name="Claim and start triage").click()
    assert page.get_by_text(f"You manage {case.reference} and its triage has started.").is_visible()
    # Asking for records without a note is refused, and says why.
    page.get_by_role("button", name="Ask the patient for records").click()
    assert page.get_by_text("Write a note for the patient saying why.").first.is_visible()
    assert_accessible(page, "staff case page with an error")
    page.get_by_label("Note for the patient", exact=True).fill(
        "Your biopsy pathology report from October"
    )
    page.get_by_role("button", name="Ask the patient for records").click()
    assert page.get_by_text("Waiting for records").first.is_visible()
    screenshot(page, "staff-case")
    case.refresh_from_db()
    assert case.status == "awaiting_records" and case.case_manager == coordinator


def test_a_parent_asks_for_their_child_and_no_one_else_is_named_the_patient(page, people):
    patient, _coordinator = people
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/$"))
    page.get_by_role("button", name="Start a new request").click()
    page.wait_for_url(CASE_URL)
    # "Myself" first, then changed to "My child" before any child's name is given.
    open_section(page, "Who the request is for")
    page.get_by_label("Myself").check()
    # Acting for herself: no legal authority to confirm, no name to give.
    assert not page.locator("#id_patient_name").is_visible()
    save_complete(page)
    at_section(page, "About the patient")
    page.get_by_role("link", name="Back to the task list").click()
    open_section(page, "Who the request is for")
    page.get_by_label("My child (I am their parent)").check()
    assert page.get_by_label(re.compile("I confirm I have the legal authority")).is_visible()
    assert page.locator("#id_patient_name").input_value() == ""
    page.get_by_role("button", name="Save and come back later").click()
    page.wait_for_url(CASE_URL)
    banner = page.get_by_role("region", name="Whose request this is")
    assert "Maria Lopez" not in banner.inner_text()
    assert "for someone else, as their parent" in banner.inner_text()
    assert_accessible(page, "task list, a child not yet named")
    open_section(page, "Who the request is for")
    page.locator("#id_patient_name").fill("Sofia Lopez")
    page.get_by_label(re.compile("I confirm I have the legal authority")).check()
    save_complete(page)
    at_section(page, "About the patient")
    text = banner.inner_text()
    assert "You are making this request for Sofia Lopez, as their parent." in text
    assert "((" not in text and "))" not in text
    screenshot(page, "intake-parent-banner")


def test_a_huge_paste_is_counted_refused_with_a_message_and_kept_whole(page, people):
    patient, _coordinator = people
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/$"))
    page.get_by_role("button", name="Start a new request").click()
    page.wait_for_url(CASE_URL)
    # Checked at 320 px in the first test: after a viewport change Chromium re-wraps
    # a 2 MB text box so slowly that the page's picture times out.
    open_section(page, "Health background", phone=False)
    pasted = ("I have had headaches every morning. " * 58_255).strip()  # about 2 MB
    field = page.locator("#id_symptoms")
    field.fill(pasted)
    too_many = f"{len(pasted) - 2000:,}"
    page.get_by_text(f"You have {too_many} characters too many").first.wait_for()
    assert len(field.input_value()) == len(pasted)  # nothing cut in the browser
    save_complete(page)
    assert page.get_by_text("There is a problem").is_visible()
    assert (
        page.locator(".error-summary")
        .get_by_text(f"You have {too_many} characters too many")
        .is_visible()
    )
    assert len(page.locator("#id_symptoms").input_value()) == len(pasted)  # kept in full
    assert_accessible(page, "huge paste refused", phone=False)
    screenshot(page, "intake-character-count")


def test_the_accessibility_check_can_fail(page):
    page.set_content(
        "<html lang='en'><body><main><img src='x.png'><input type='text'></main></body></html>"
    )
    with pytest.raises(AssertionError, match="image-alt"):
        assert_accessible(page, "a page with problems")


def test_the_phone_check_fails_on_a_page_that_scrolls_sideways(page):
    page.set_content(
        "<html lang='en'><head><title>Wide</title></head><body><main>"
        "<h1>Wide</h1><p style='white-space: nowrap'>" + "word " * 100 + "</p></main></body></html>"
    )
    with pytest.raises(AssertionError, match="at 320 px scrolls sideways"):
        assert_accessible(page, "a wide page")
