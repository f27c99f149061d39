"""Issue 21, items 3 and 4, in Chromium with axe on every page at 1280 and 390 px:
the patient sends the report with consent that their doctor takes part; the
doctor, from the emailed link with no account, asks the specialist one question
(a second is not offered); the specialist answers; the patient asks, from the
report's side-by-side view, for a call between the doctors; the specialist
proposes times; the doctor, from the call's emailed link with no account, books
one; the specialist records the call held with a note; the patient and the
doctor both read the answer and the note, and the patient's page lists what the
doctor did; the patient takes the consent back and the doctor's links (the
report's questions and the call's page) show nothing more."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from requests_app.aftercare.models import PhysicianQuestion
from requests_app.consultations.models import DoctorCall
from requests_app.times import patient_zone_name
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
TOPIC = "Whether the operation date should move"
NOTE = "We agreed to keep the operation date and repeat the scan after it."
CALL_LINK = re.compile(r"http://[^/\s]+(/doctor-call/[A-Za-z0-9_-]{43}/)")


def _propose_times(page, case) -> None:
    """Two times three days from now, in the patient's zone."""
    day = timezone.localtime(timezone.now(), ZoneInfo(patient_zone_name(case))).date()
    day += datetime.timedelta(days=3)
    for row, (start, end) in enumerate((("9am", "9:30am"), ("2pm", "2:30pm")), start=1):
        page.locator(f"#id_date_{row}").fill(str(day.day))
        page.locator(f"#id_date_{row}_month").fill(str(day.month))
        page.locator(f"#id_date_{row}_year").fill(str(day.year))
        page.locator(f"#id_start_{row}").fill(start)
        page.locator(f"#id_end_{row}").fill(end)


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

    # The patient asks, from the report's side-by-side view, for a call between the doctors.
    sign_in(page, patient.email)
    page.goto(f"/reports/case/{case.uuid}/")
    page.get_by_role("link", name="Ask for a call between your doctors").click()
    page.get_by_role("button", name="Ask for the call").click()
    assert (
        page.get_by_role("alert")
        .get_by_text("Choose the doctor the specialist should call.")
        .is_visible()
    )
    _both_widths(page, "doctor-call-ask", "asking for a call, with an error")
    page.get_by_label(re.compile("Dr. Ana Ruiz")).check()
    page.get_by_label("What should they talk about? (optional)").fill(TOPIC)
    page.get_by_role("button", name="Ask for the call").click()
    assert page.get_by_text("We have asked the specialist to propose times.").is_visible()
    assert page.get_by_text(re.compile("Waiting for the specialist to propose times")).is_visible()
    sign_out(page)

    # The specialist proposes times from the case page.
    mail.outbox.clear()
    _staff_sign_in(page, specialist.email)
    page.wait_for_url(re.compile("/specialist/"))
    page.goto(f"/requests/care/{case.uuid}/")
    page.get_by_role("link", name="Open the call").click()
    assert page.get_by_text(TOPIC).is_visible()
    page.get_by_role("button", name="Send the times to the doctor").click()
    assert page.get_by_role("alert").is_visible()
    _both_widths(page, "doctor-call-propose-error", "proposing call times, with an error")
    _propose_times(page, case)
    page.get_by_role("button", name="Send the times to the doctor").click()
    assert page.get_by_text("The times are sent to the doctor.").is_visible()
    _both_widths(page, "doctor-call-proposed", "the call's page, times proposed")
    [invite] = [m for m in mail.outbox if m.to == ["ana.ruiz@clinic.example"]]
    call_path = CALL_LINK.search(invite.body)[1]
    assert "Maria" not in invite.body and TOPIC not in invite.body

    # The doctor books a time from the call's emailed link, with no account.
    doctor.goto(call_path)
    assert doctor.get_by_text(TOPIC).is_visible()
    doctor.get_by_role("button", name="Book this time").click()
    assert doctor.get_by_role("alert").get_by_text("Choose one of the times offered.").is_visible()
    _both_widths(doctor, "doctor-call-book-error", "the doctor's call page, with an error")
    doctor.get_by_role("radio").first.check()
    doctor.get_by_label("The number the specialist should ring").fill("617 555 0100")
    doctor.get_by_role("button", name="Book this time").click()
    assert doctor.get_by_text("The call is booked. The specialist will ring you then.").is_visible()
    assert doctor.get_by_role("link", name="Add it to your calendar (.ics file)").is_visible()
    _both_widths(doctor, "doctor-call-booked", "the doctor's call page, booked")
    assert_no_csp_violations(doctor)

    # The call has taken place: the specialist records it, with a note for the patient.
    call = DoctorCall.objects.get(case=case)
    assert call.status == "booked"
    DoctorCall.objects.filter(pk=call.pk).update(
        starts_at=timezone.now() - datetime.timedelta(hours=1),
        ends_at=timezone.now() - datetime.timedelta(minutes=30),
    )
    page.reload()
    assert page.get_by_text("617 555 0100").is_visible()
    page.get_by_label("Yes, we talked").check()
    page.get_by_label("A short note for the patient").fill(NOTE)
    page.get_by_role("button", name="Save").click()
    assert page.get_by_text("The call is recorded. The patient reads your note.").is_visible()
    _both_widths(page, "doctor-call-held", "the call's page, held")
    sign_out(page)

    # The doctor reads the answer, and the specialist's note, on their link.
    doctor.goto(path)
    assert doctor.get_by_text(ANSWER).is_visible()
    assert doctor.get_by_text(NOTE).is_visible()
    _both_widths(doctor, "physician-answered", "physician's page, answered")
    # With the patient's consent the doctor may send records too: the upload page.
    doctor.get_by_role("link", name="Send records").click()
    assert doctor.get_by_role("heading", name="Send records for your patient").is_visible()
    assert doctor.get_by_role("heading", name="Upload records").is_visible()
    _both_widths(doctor, "physician-records", "the doctor's records upload page")
    assert_no_csp_violations(doctor)

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
    assert panel.get_by_text(NOTE).is_visible()
    assert panel.get_by_text(
        re.compile("Dr. Ana Ruiz booked the call with the specialist")
    ).is_visible()
    _both_widths(page, "physician-patient-sees", "patient's case page with their doctor")
    page.goto(f"/aftercare/{case.uuid}/share/")
    page.get_by_role("button", name="Stop Dr. Ana Ruiz taking part").click()
    assert page.get_by_text("Your doctor can no longer ask questions").is_visible()
    assert page.get_by_text(re.compile("No: you took it back on")).is_visible()
    assert_accessible(page, "share page, participation withdrawn")
    assert_no_csp_violations(page)
    # The doctor's call page now shows nothing of the case.
    doctor.goto(call_path)
    assert doctor.get_by_role("heading", name="The patient has not agreed to this").is_visible()
    assert doctor.get_by_text(NOTE).count() == 0 and doctor.get_by_text("Maria").count() == 0
    assert_accessible(doctor, "the doctor's call page after consent is withdrawn")
    doctor.context.close()
