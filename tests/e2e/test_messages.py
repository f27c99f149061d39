"""The specialist asks the patient a question (with a record attached, and an
internal note beside it); the patient sees it as their next step, answers it in
the thread, and the case manager sees the answer marked new: in Chromium, with
axe on each thread page."""

import re

import pytest
from playwright.sync_api import expect

from requests_app.messaging.models import Message
from requests_app.models import CaseStatus
from tests.accounts.factories import UserFactory, enrol_totp
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, screenshot
from tests.e2e.test_intake import sign_in, sign_out
from tests.e2e.test_matching import _staff_sign_in
from tests.records.factories import RecordFactory
from tests.requests_app.factories import CaseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

QUESTION = "Have you had any imaging of the left breast since March? If so, where?"
NOTE = "Pathology slides requested from Metro General; chase on Friday."
ANSWER = "Yes: an MRI at Lakeside Imaging on 12 June. I will upload the report."


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
    case = CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        case_manager=coordinator,
        specialist=specialist,
    )
    record = RecordFactory(case=case, title="Core biopsy report")
    return patient, coordinator, specialist, case, record


def test_the_specialist_asks_and_the_patient_answers(page, world):
    patient, coordinator, specialist, case, record = world

    # The specialist opens the thread from the case page.
    _staff_sign_in(page, specialist.email)
    page.wait_for_url(re.compile("/specialist/"))
    page.get_by_role("link", name=case.reference, exact=True).click()
    page.get_by_role("link", name="Read and write messages").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Messages")
    assert_accessible(page, "thread, empty, specialist")

    # Nothing typed: the error summary says so, and the choices are kept.
    page.get_by_label(re.compile("A question the patient needs to answer")).check()
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator(".error-summary")).to_contain_text("Write your message")
    expect(page.get_by_label(re.compile("A question the patient needs to answer"))).to_be_checked()
    assert_accessible(page, "thread, with an error")
    screenshot(page, "messages-error")

    page.get_by_label("Your message").fill(QUESTION)
    page.get_by_label(re.compile("Core biopsy report")).check()
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Your question is sent.")).to_be_visible()
    waiting = page.get_by_role("region", name="Waiting on the patient")
    expect(waiting).to_contain_text(QUESTION)

    page.get_by_label(re.compile("An internal note for the care team")).check()
    page.get_by_label("Your message").fill(NOTE)
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Your internal note is saved.")).to_be_visible()
    expect(page.get_by_text("Internal note: not shown to the patient")).to_be_visible()
    assert_accessible(page, "thread, specialist")
    screenshot(page, "messages-specialist")
    page.get_by_role("link", name=f"Back to {case.reference}").click()
    expect(page.locator(".page-heading").first).to_contain_text("Waiting on the patient")
    screenshot(page, "messages-staff-case")
    page.goto("/specialist/")
    expect(page.get_by_role("row").filter(has_text=case.reference)).to_contain_text(
        "Waiting on the patient"
    )
    assert_accessible(page, "workspace, waiting on the patient")
    assert_no_csp_violations(page)
    sign_out(page)

    # The patient's next step is to answer; the internal note is nowhere.
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/$"))
    expect(page.get_by_text("Answer your care team's question")).to_be_visible()
    screenshot(page, "messages-dashboard")
    page.get_by_role("link", name=case.reference, exact=True).click()
    expect(page.get_by_role("region", name="Messages with your care team")).to_contain_text(
        QUESTION
    )
    assert_accessible(page, "case page, a question to answer")
    screenshot(page, "messages-case-page")
    page.get_by_role("link", name=re.compile("Read and answer it")).click()
    expect(page.get_by_role("heading", name="A question for you")).to_be_visible()
    expect(page.get_by_text(QUESTION).first).to_be_visible()
    expect(page.get_by_role("link", name="Core biopsy report")).to_be_visible()
    assert NOTE not in page.content() and "Internal note" not in page.content()
    assert_accessible(page, "thread, patient")
    screenshot(page, "messages-patient")

    expect(page.get_by_label("Yes: it answers the question above")).to_be_checked()
    page.get_by_label("Your message to your care team").fill(ANSWER)
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Your message is sent.")).to_be_visible()
    expect(page.get_by_role("heading", name="A question for you")).to_have_count(0)
    expect(page.get_by_text("Question: answered")).to_be_visible()
    page.get_by_role("link", name="Back to your request").click()
    expect(page.get_by_text("Answer your care team's question")).to_have_count(0)
    assert_no_csp_violations(page)
    sign_out(page)

    # The case manager sees the answer marked new, and no longer waits.
    _staff_sign_in(page, coordinator.email)
    page.wait_for_url(re.compile("/requests/coordinator/"))
    page.goto(f"/requests/care/{case.uuid}/")
    expect(page.get_by_text("Waiting on the patient")).to_have_count(0)
    page.get_by_role("link", name="Read and write messages").click()
    answer = page.locator(".message").filter(has_text=ANSWER)
    expect(answer).to_contain_text("New")
    expect(answer).to_contain_text("Maria Lopez (the patient)")
    assert_accessible(page, "thread, case manager")
    screenshot(page, "messages-case-manager")

    question = Message.objects.get(is_question=True)
    assert question.answered_by.body == ANSWER
    assert list(question.attachments.all()) == [record]
