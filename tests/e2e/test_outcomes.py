"""Outcomes, in Chromium with axe on every page: the patient answers the SURE
questions when the request is sent, reads the report, answers them again and
sees their own change; an anonymous visitor opens the public figures."""

import re

import pytest

from requests_app.models import Case, CaseEvent, CaseStatus
from tests.accounts.factories import UserFactory
from tests.aftercare.factories import release_report
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, screenshot
from tests.e2e.test_intake import sign_in, sign_out
from tests.requests_app.factories import CaseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

QUESTIONS = (
    "Do you feel SURE about the best choice for you?",
    "Do you know the benefits and risks of each option?",
    "Are you clear about which benefits and risks matter most to you?",
    "Do you have enough support and advice to make a choice?",
)


def _answer(page, answers):
    for question, answer in zip(QUESTIONS, answers, strict=True):
        page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()
    page.get_by_role("button", name="Send my answers").click()


def test_sure_before_and_after_and_the_public_page(page, live_server):
    patient = UserFactory(email="maria@example.com", full_name="Maria Lopez")
    specialist = UserFactory(role="specialist", email="marsh@example.com")
    case = CaseFactory(owner=patient, submitted=True, patient_name="Maria Lopez")

    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/$"))
    page.goto(f"/requests/{case.uuid}/sent/")
    assert_accessible(page, "sent page with the SURE questions")
    # One left out: the form's error, the others kept.
    for question, answer in zip(QUESTIONS[:3], ("Yes", "No", "No"), strict=True):
        page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()
    page.get_by_role("button", name="Send my answers").click()
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_role("group", name=QUESTIONS[0]).get_by_label("Yes", exact=True).is_checked()
    assert_accessible(page, "SURE questions with an error")
    _answer(page, ("Yes", "No", "No", "No"))
    page.wait_for_url(re.compile(f"/requests/{case.uuid}/$"))
    assert page.get_by_text("Thank you for answering.").is_visible()

    # The report is delivered.
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.DELIVERED, specialist=specialist)
    CaseEvent.objects.create(
        case=case, old_status=CaseStatus.REPORT_READY, new_status=CaseStatus.DELIVERED
    )
    release_report(case=case, author=specialist)
    page.goto(f"/reports/case/{case.uuid}/")
    assert page.get_by_text("Now that you have read the report: how sure do you feel?").is_visible()
    assert_accessible(page, "report page with the SURE questions")
    _answer(page, ("Yes", "Yes", "Yes", "Yes"))
    page.wait_for_url(re.compile(f"/reports/case/{case.uuid}/$"))
    assert page.get_by_text("Before: 1 of 4 — after: 4 of 4").is_visible()
    assert_accessible(page, "report page with the patient's change")
    screenshot(page, "outcomes-sure-change")
    assert_no_csp_violations(page)
    sign_out(page)

    # Anyone, signed out: the public figures (one report: too few to show).
    page.get_by_role("link", name=re.compile("Our outcomes, published")).click()
    page.wait_for_url(re.compile("/outcomes/$"))
    assert page.get_by_role("heading", level=1).is_visible()
    assert page.get_by_text("1 report delivered so far.").is_visible()
    assert_accessible(page, "public outcomes page")
    screenshot(page, "outcomes-public")
    assert_no_csp_violations(page)
