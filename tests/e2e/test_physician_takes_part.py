"""Issue 21, item 4's fault, in Chromium with axe: the patient takes back their
consent that their doctor takes part, and the doctor's links (the report's page,
with its question to the specialist, and the call's page) offer nothing more and
show nothing of the case. The doctor taking part (the call booked, the one
question asked and answered, all shown to the patient) is in the story of
tests/e2e/test_opinions_differ.py."""

import re

import pytest
from django.core import mail

from requests_app.consultations import doctor_calls
from tests.aftercare.factories import sent_share
from tests.consultations.conftest import span
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, new_page
from tests.e2e.test_intake import sign_in
from tests.e2e.test_sharing import world as sharing_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

world = pytest.fixture(sharing_world.__wrapped__, name="world")

CALL_LINK = re.compile(r"http://[^/\s]+(/doctor-call/[A-Za-z0-9_-]{43}/)")


def test_after_the_patient_takes_consent_back_the_doctors_links_show_nothing(
    page, browser, live_server, world
):
    patient, _coordinator, specialist, case = world
    share, token = sent_share(case=case, email="ana.ruiz@clinic.example", participation=True)
    share.recipient_name = "Dr. Ana Ruiz"
    share.save(update_fields=["recipient_name"])
    call = doctor_calls.doctor_call_request(
        actor=patient, case_ref=case.uuid, share_ref=share.uuid, topic="The operation date"
    )
    doctor_calls.doctor_call_propose(
        actor=specialist, ref=call.uuid, slots=[span(3, 9), span(3, 14)]
    )
    call_path = CALL_LINK.search(mail.outbox[-1].body)[1]

    # Before: the doctor may book the call and ask a question.
    doctor = new_page(browser, live_server.url)
    try:
        doctor.goto(call_path)
        assert doctor.get_by_role("button", name="Book this time").is_visible()
        doctor.goto(f"/shared/{token}/")
        assert doctor.get_by_role("button", name="Send the question").is_visible()

        sign_in(page, patient.email)
        page.wait_for_url(re.compile("/requests/$"))
        page.goto(f"/aftercare/{case.uuid}/share/")
        page.get_by_role("button", name="Stop Dr. Ana Ruiz taking part").click()
        assert page.get_by_text("Your doctor can no longer ask questions").is_visible()
        assert page.get_by_text(re.compile("No: you took it back on")).is_visible()
        assert_accessible(page, "share page, participation withdrawn")
        assert_no_csp_violations(page)

        # After: the call's page shows nothing of the case; no question is offered.
        doctor.goto(call_path)
        assert doctor.get_by_role("heading", name="The patient has not agreed to this").is_visible()
        assert doctor.get_by_text("The operation date").count() == 0
        assert doctor.get_by_text("Maria").count() == 0
        assert_accessible(doctor, "the doctor's call page after consent is withdrawn")
        doctor.goto(f"/shared/{token}/")
        assert doctor.get_by_role("button", name="Send the question").count() == 0
        assert_accessible(doctor, "the doctor's report page after consent is withdrawn")
        assert_no_csp_violations(doctor)
    finally:
        doctor.context.close()
