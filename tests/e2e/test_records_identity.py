"""A study labelled for another person, in Chromium (local storage mode): the patient
uploads a CD whose images carry another name and birth date; the records page asks
them "Labelled for another person?" with what the images say, before anyone else
sees it; the case manager sees that one waits, the specialist sees nothing of it (its
page is a 404); the patient answers "It is mine" and the specialist then opens it.
Axe on every page; the question photographed at 1280 and 390 px."""

import re

import pytest
from playwright.sync_api import expect

from records.models import Identity, Record
from requests_app.models import CaseStatus
from tests.accounts.factories import UserFactory, enrol_totp
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import ARTIFACTS, assert_no_csp_violations, new_page, screenshot
from tests.e2e.test_intake import sign_in
from tests.e2e.test_matching import _staff_sign_in
from tests.records import samples
from tests.requests_app.factories import CaseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

UPLOAD_TIMEOUT = 120_000


@pytest.fixture
def world(settings, tmp_path):
    settings.CLAMD_ADDRESS = ""
    patient = UserFactory(email="maria@example.com", full_name="Maria Lopez")
    coordinator = UserFactory(
        role="coordinator", email="grace@example.com", full_name="Grace Nurse"
    )
    specialist = UserFactory(
        role="specialist", email="marsh@example.com", full_name="Dr. Helen Marsh"
    )
    for person in (coordinator, specialist):
        enrol_totp(person)
    case = CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        case_manager=coordinator,
        specialist=specialist,
    )
    # A disc from another hospital, labelled for someone else.
    cd = tmp_path / "Chest CT"
    for name, data in samples.study_files(
        series=1, instances=2, patient_name="WHITAKER^ROSALIND", birth_date="19580214"
    ).items():
        path = cd / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return patient, coordinator, specialist, case, cd


def _staff_page(browser, live_server, person):
    page = new_page(browser, live_server.url)
    _staff_sign_in(page, person.email)
    page.wait_for_load_state()
    return page


def test_a_study_for_another_person_waits_for_the_patient_who_says_it_is_theirs(
    page, browser, live_server, world
):
    patient, coordinator, specialist, case, cd = world
    records_url = f"/records/case/{case.uuid}/"

    # The patient uploads the disc.
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/"))
    page.goto(records_url)
    page.locator("[data-pick-folder]").set_input_files(cd)
    expect(page.locator("[data-item]")).to_have_count(1)
    page.get_by_role("button", name="Upload", exact=True).click()
    question = page.locator("[data-identity-question]")
    expect(question).to_be_visible(timeout=UPLOAD_TIMEOUT)
    record = Record.objects.get(case=case)
    assert record.identity == Identity.ASKED

    # It asks, with what the images say and what the request says.
    summary = page.locator("[data-identity-summary]")
    expect(summary).to_contain_text("A study you sent may be another person's")
    expect(summary.get_by_role("link", name="Answer for “Chest CT”")).to_be_visible()
    expect(question.get_by_role("heading", name="Labelled for another person?")).to_be_visible()
    expect(question).to_contain_text("ROSALIND WHITAKER")
    expect(question).to_contain_text("14 February 1958")
    expect(question).to_contain_text("Maria Lopez, born 17 May 1970")
    row = page.locator(".record-row").filter(has=question)
    expect(row.locator(".tag")).to_have_text("Labelled for another person?")
    assert_accessible(page, "records page, the question")
    screenshot(page, "identity-question-1280")
    question.screenshot(path=str(ARTIFACTS / "identity-question-1280-detail.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    question.scroll_into_view_if_needed()
    screenshot(page, "identity-question-390")
    question.screenshot(path=str(ARTIFACTS / "identity-question-390-detail.png"))
    page.set_viewport_size({"width": 1280, "height": 900})

    # The case manager sees that one waits; the specialist sees nothing of it.
    grace = _staff_page(browser, live_server, coordinator)
    grace.goto(f"/requests/care/{case.uuid}/")
    expect(grace.locator("[data-identity-flag]")).to_have_text(
        "1 study labelled for another person? Waiting for the patient"
    )
    assert_accessible(grace, "staff case page, the flag", phone=False)
    grace.goto(records_url)
    expect(grace.locator("[data-identity-flag]")).to_contain_text(
        "1 study sent for this request is labelled for another person"
    )
    expect(grace.locator(".record-row")).to_have_count(0)
    grace.context.close()

    marsh = _staff_page(browser, live_server, specialist)
    marsh.goto(records_url)
    expect(marsh.get_by_role("heading", level=1)).to_be_visible()
    expect(marsh.locator(".record-row")).to_have_count(0)
    missing = marsh.goto(f"/records/{record.uuid}/")
    assert missing.status == 404
    thumbnail = marsh.request.get(f"{live_server.url}/records/{record.uuid}/series/1/thumbnail/")
    assert thumbnail.status == 404

    # The patient answers "It is mine".
    question.get_by_role("button", name=re.compile("^It is mine")).click()
    expect(page.locator("[data-identity-question]")).to_have_count(0)
    expect(page.get_by_text(re.compile("is kept with your records"))).to_be_visible()
    expect(page.locator("[data-identity-confirmed]")).to_contain_text("you told us on")
    assert_accessible(page, "records page, answered")
    record.refresh_from_db()
    assert record.identity == Identity.CONFIRMED and record.identity_answered_by == patient

    # Now the specialist sees it.
    marsh.goto(records_url)
    expect(marsh.locator(".record-row")).to_have_count(1)
    marsh.locator(".record-row a[data-record-title]").click()
    expect(marsh.locator("[data-identity-confirmed]")).to_contain_text("the patient confirmed on")
    assert_accessible(marsh, "record page, specialist", phone=False)
    assert_no_csp_violations(page)
    assert_no_csp_violations(marsh)
    marsh.context.close()
