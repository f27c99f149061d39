import re

import pytest
from django.core import mail

from secondop.accounts.models import User
from tests.accounts.factories import PASSWORD, UserFactory, totp_code
from tests.e2e.conftest import assert_no_csp_violations, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_patient_signs_up_verifies_their_email_and_signs_in(page, live_server):
    page.goto("/")
    screenshot(page, "home")
    page.get_by_role("link", name="Create an account").first.click()
    page.get_by_label(re.compile("^Your full name")).fill("Jo Bloggs")
    page.locator("#id_email").fill("jo@example.com")
    page.locator("#id_password1").fill("a-long-and-unusual-passphrase")
    page.locator("#id_password2").fill("a-long-and-unusual-passphrase")
    page.get_by_role("button", name=re.compile("Sign up|Create", re.I)).click()
    page.wait_for_url(re.compile("/accounts/confirm-email/"))

    # The verification email arrived (the live server shares this process's outbox).
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mail.outbox[0].body).group(0)
    page.goto(link.replace("http://testserver", live_server.url))
    assert page.title() == "Confirm your email address · SecondOp"
    screenshot(page, "confirm-email")
    page.get_by_role("button", name=re.compile("Confirm", re.I)).click()
    # Confirmed in the browser that signed up: signed in, no second sign-in.
    page.wait_for_url(re.compile("/requests/$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Your requests"

    page.goto("/accounts/logout/")
    page.locator("#main").get_by_role("button", name="Sign out").click()
    page.goto("/accounts/login/")
    assert page.title() == "Sign in · SecondOp"
    screenshot(page, "sign-in")
    page.locator("#id_login").fill("jo@example.com")
    page.locator("#id_password").fill("a-long-and-unusual-passphrase")
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    page.wait_for_url(re.compile("/requests/$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Your requests"
    assert User.objects.get(email="jo@example.com").role == "patient"
    assert_no_csp_violations(page)


def test_a_coordinator_enrols_mfa_before_reaching_the_coordinator_home(page):
    coordinator = UserFactory(role="coordinator", email="cora@example.com", full_name="Cora Coord")
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(coordinator.email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()

    page.wait_for_url(re.compile("/accounts/2fa/totp/activate/"))
    screenshot(page, "staff-mfa-prompt")
    assert page.get_by_text("two-factor authentication", exact=False).first.is_visible()
    # Trying to go straight to the staff page sends them back to enrolment.
    page.goto("/requests/coordinator/")
    page.wait_for_url(re.compile("/accounts/2fa/totp/activate/"))

    secret = re.sub(r"\s", "", page.locator("#authenticator_secret").input_value())
    page.locator("#id_code").fill(totp_code(secret))
    page.get_by_role("button", name=re.compile("Turn on|Activate", re.I)).click()
    page.wait_for_url(re.compile("/accounts/2fa/"))

    page.goto("/home/")
    page.wait_for_url(re.compile("/requests/coordinator/"))
    assert page.get_by_role("heading", level=1).inner_text() == "Case queue"
    assert_no_csp_violations(page)
