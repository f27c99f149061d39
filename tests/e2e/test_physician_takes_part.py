"""Issue 21, item 4, in Chromium with axe on every page at 1280 and 390 px: the
patient sends the report with consent that their doctor takes part; the doctor,
from the emailed link with no account, asks the specialist one question (a
second is not offered); the specialist answers; the patient and the doctor both
read the answer, and the patient's page lists what the doctor did; the patient
takes the consent back and the doctor's link asks nothing more."""

import re

import pytest
from django.core import mail

from requests_app.aftercare.models import PhysicianQuestion
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, new_page, screenshot
from tests.e2e.test_intake import sign_in, sign_out
from tests.e2e.test_sharing import LINK, _staff_sign_in
from tests.e2e.test_sharing import world as sharing_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

world = pytest.fixture(sharing_world.__wrapped__, name="world")

PHONE = {"width": 390, "height": 844}
QUESTION = "Would a short course of steroids change the plan before surgery?"
ANSWER = "No: steroids would not change the plan. Keep the operation date."


def _both_widths(page, name: str, what: str) -> None:
    """axe and a screenshot at 1280 px, then at 390 px, then back."""
    assert_accessible(page, what)
    screenshot(page, name)
    page.set_viewport_size(PHONE)
    assert_accessible(page, f"{what} at 390 px")
    screenshot(page, f"{name}-390")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_the_doctor_asks_the_specialist_answers_the_patient_sees_it_all(
    page, browser, live_server, world
):
    patient, _coordinator, specialist, case = world
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/$"))
    page.goto(f"/aftercare/{case.uuid}/share/")
    page.get_by_label(re.compile("I agree that SecondOp sends a link")).check()
    page.get_by_label(re.compile("My doctor may ask the specialist one question")).check()
    page.get_by_role("button", name="Send the link to my doctor").click()
    assert page.get_by_text("We are emailing the link to ana.ruiz@clinic.example").is_visible()
    assert page.get_by_text(re.compile("Yes: one question to the specialist")).is_visible()
    _both_widths(page, "physician-share-consented", "share page with participation")
    [email] = mail.outbox
    path = LINK.search(email.body)[1]
    sign_out(page)

    # The doctor: no account, a browser of their own.
    doctor = new_page(browser, live_server.url)
    doctor.goto(path)
    form = doctor.get_by_role("region", name="Ask the specialist")
    form.get_by_role("button", name="Send the question").click()
    assert doctor.get_by_role("alert").get_by_text("Enter your question.").is_visible()
    assert_accessible(doctor, "physician's page with an error")
    doctor.get_by_label("Your question to the specialist").fill(QUESTION)
    doctor.get_by_role("button", name="Send the question").click()
    assert doctor.get_by_text("Your question is sent to the specialist.").is_visible()
    assert doctor.get_by_text("Waiting for the specialist's answer").is_visible()
    assert doctor.get_by_role("button", name="Send the question").count() == 0
    _both_widths(doctor, "physician-asked", "physician's page, question asked")
    assert PhysicianQuestion.objects.count() == 1
    assert_no_csp_violations(doctor)

    # The specialist answers from the case page.
    _staff_sign_in(page, specialist.email)
    page.wait_for_url(re.compile("/specialist/"))
    page.goto(f"/requests/care/{case.uuid}/")
    assert page.get_by_text(QUESTION).is_visible()
    page.get_by_role("link", name="Answer the doctor's question").click()
    page.get_by_role("button", name="Send the answer").click()
    assert page.get_by_role("alert").get_by_text("Enter your answer.").is_visible()
    _both_widths(page, "physician-answer-form", "answer to the doctor, with an error")
    page.get_by_label("Your answer").fill(ANSWER)
    page.get_by_role("button", name="Send the answer").click()
    assert page.get_by_text("Your answer is sent to the patient and their doctor.").is_visible()
    sign_out(page)

    # The doctor reads the answer on their link.
    doctor.goto(path)
    assert doctor.get_by_text(ANSWER).is_visible()
    _both_widths(doctor, "physician-answered", "physician's page, answered")

    # The patient sees it all, then takes the consent back.
    sign_in(page, patient.email)
    page.goto(f"/requests/{case.uuid}/")
    panel = page.get_by_role("region", name="Your doctor")
    assert panel.get_by_text(QUESTION).is_visible()
    assert panel.get_by_text(ANSWER).is_visible()
    assert panel.get_by_text(
        re.compile("Dr. Ana Ruiz asked the specialist a question")
    ).is_visible()
    assert panel.get_by_text(re.compile("Dr. Ana Ruiz opened your report")).first.is_visible()
    _both_widths(page, "physician-patient-sees", "patient's case page with their doctor")
    page.goto(f"/aftercare/{case.uuid}/share/")
    page.get_by_role("button", name="Stop Dr. Ana Ruiz taking part").click()
    assert page.get_by_text("Your doctor can no longer ask questions").is_visible()
    assert page.get_by_text(re.compile("No: you took it back on")).is_visible()
    assert_accessible(page, "share page, participation withdrawn")
    assert_no_csp_violations(page)
    doctor.context.close()
