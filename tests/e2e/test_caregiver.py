"""A caregiver with their own login, in Chromium: the patient invites her from
their account; she signs up from the emailed link and accepts; she reads the
status, writes a message the care team sees as hers, and cannot open the report
the patient kept to themselves; the patient sees her read in "who looked", then
removes her, and she sees nothing (404). axe on every page."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from playwright.sync_api import expect

from requests_app.messaging.models import Message
from requests_app.models import CaseStatus
from secondop.audit.models import AccessLog
from tests.accounts.factories import UserFactory
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, screenshot
from tests.e2e.test_intake import sign_in, sign_out
from tests.reports.factories import released_version
from tests.requests_app.factories import CaseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CAREGIVER_PASSWORD = "a-long-and-unusual-passphrase"


@pytest.fixture
def world(db):
    patient = UserFactory(email="maria@example.com", full_name="Maria Lopez")
    coordinator = UserFactory(role="coordinator", full_name="Grace Nurse")
    specialist = UserFactory(role="specialist", full_name="Dr. Helen Marsh")
    case = CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        case_manager=coordinator,
        specialist=specialist,
    )
    released_version(case, author=specialist, released_by=coordinator)
    return patient, case


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_a_caregiver_is_invited_follows_the_request_and_is_removed(page, world):
    patient, case = world

    # The patient invites Ana from their account: messages yes, the report no.
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/$"))
    page.get_by_role("link", name=case.reference, exact=True).click()
    page.get_by_role("link", name=re.compile("Invite a caregiver")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your caregivers")
    assert_accessible(page, "caregivers, none yet")

    # Their own address: a clear error, and what was typed is kept.
    page.get_by_label("Their name").fill("Ana Pérez")
    page.get_by_label("Their email address").fill(patient.email)
    page.get_by_label("Read and write messages to your care team").check()
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.locator(".error-summary")).to_contain_text("This is your own email address")
    expect(page.get_by_label("Their name")).to_have_value("Ana Pérez")
    expect(page.get_by_label("Read and write messages to your care team")).to_be_checked()
    assert_accessible(page, "caregivers, invitation error")

    page.get_by_label("Their email address").fill("ana@example.com")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_text("Your invitation is sent.")).to_be_visible()
    expect(page.get_by_role("heading", name="Ana Pérez")).to_be_visible()
    screenshot(page, "caregivers-list")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "caregivers-list-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_out(page)

    # The email: who asks and the link, nothing about the request.
    (invitation,) = [m for m in mail.outbox if m.to == ["ana@example.com"]]
    assert "Maria Lopez" in invitation.subject
    assert case.reference not in invitation.body
    assert case.diagnosis not in invitation.body
    link = re.search(r"https?://\S+/caregivers/accept/\S+/", invitation.body).group(0)

    # Ana opens it, creates her account with that address and confirms it.
    page.goto(_path(link))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Maria Lopez invites you")
    assert_accessible(page, "invitation, signed out")
    page.locator("#main").get_by_role("link", name="Create an account").click()
    page.get_by_label(re.compile("^Your full name")).fill("Ana Pérez")
    page.locator("#id_email").fill("ana@example.com")
    page.locator("#id_password1").fill(CAREGIVER_PASSWORD)
    page.locator("#id_password2").fill(CAREGIVER_PASSWORD)
    page.get_by_role("button", name=re.compile("Sign up|Create", re.I)).click()
    page.wait_for_url(re.compile("/accounts/confirm-email/"))
    confirm = [m for m in mail.outbox if m.to == ["ana@example.com"]][-1]
    confirm_link = re.search(r"https?://\S+/accounts/confirm-email/\S+", confirm.body).group(0)
    page.goto(_path(confirm_link))
    page.get_by_role("button", name=re.compile("Confirm", re.I)).click()
    # Back at the invitation, signed in: she accepts.
    page.wait_for_url(re.compile("/caregivers/accept/"))
    assert_accessible(page, "invitation, signed in")
    page.get_by_role("button", name="Accept the invitation").click()
    page.wait_for_url(re.compile("/requests/$"))
    followed = page.get_by_role("region", name="Requests you help with")
    followed.get_by_role("link", name=re.compile(case.reference)).click()

    # The status and the timeline; messages; no report.
    expect(page.get_by_text("You follow this request as Maria Lopez's caregiver.")).to_be_visible()
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("report", re.I))).to_have_count(0)
    assert_accessible(page, "followed request")
    screenshot(page, "caregiver-case")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "caregiver-case-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name="Read and write messages to the care team").click()
    assert_accessible(page, "thread, caregiver")
    page.get_by_label(re.compile("Your message")).fill("Maria asked me to ask: is the MRI enough?")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Your message is sent.")).to_be_visible()
    message = Message.objects.get(body__startswith="Maria asked me")
    assert message.author.email == "ana@example.com"

    # The report, kept from her: refused.
    response = page.goto(f"/reports/case/{case.uuid}/")
    assert response.status == 404
    sign_out(page)

    # The patient: Ana's read in "who looked", her message marked as hers; then removed.
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/$"))
    page.get_by_role("link", name=case.reference, exact=True).click()
    looked = page.get_by_role("region", name=re.compile("Who on the care team has looked"))
    expect(looked.get_by_role("row", name=re.compile("Ana Pérez.*Your caregiver"))).to_be_visible()
    page.goto(f"/messages/case/{case.uuid}/")
    expect(page.get_by_text("Ana Pérez, your caregiver")).to_be_visible()
    page.goto("/caregivers/")
    page.get_by_role("button", name=re.compile("Remove")).click()
    expect(page.get_by_text("Ana Pérez can no longer see your requests.")).to_be_visible()
    assert_accessible(page, "caregivers, after removing")
    sign_out(page)

    # Ana, at once: nothing.
    sign_in(page, "ana@example.com", CAREGIVER_PASSWORD)
    page.wait_for_url(re.compile("/requests/$"))
    expect(page.get_by_role("region", name="Requests you help with")).to_have_count(0)
    for url in (f"/caregivers/follow/{case.uuid}/", f"/messages/case/{case.uuid}/"):
        assert page.goto(url).status == 404
    # The link no longer works either.
    assert page.goto(_path(link)).status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("This invitation cannot be used")
    assert_accessible(page, "invitation, withdrawn")
    assert AccessLog.objects.filter(actor__email="ana@example.com").exists()
    assert_no_csp_violations(page)
