"""The public outcomes page, in Chromium with axe: an anonymous visitor follows the
footer's link and reads SecondOp's own figures (one report so far: too few to
show any cell). The SURE questions before and after the report are in the story
of tests/e2e/test_opinions_differ.py."""

import re

import pytest

from tests.accounts.factories import UserFactory
from tests.aftercare.factories import delivered_case
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_anyone_signed_out_reads_the_public_figures(page, live_server):
    patient = UserFactory(email="maria@example.com", full_name="Maria Lopez")
    specialist = UserFactory(role="specialist", email="marsh@example.com")
    delivered_case(owner=patient, specialist=specialist, patient_name="Maria Lopez")

    page.goto("/")
    page.get_by_role("link", name=re.compile("Our outcomes, published")).click()
    page.wait_for_url(re.compile("/outcomes/$"))
    assert page.get_by_role("heading", level=1).is_visible()
    assert page.get_by_text("1 report delivered so far.").is_visible()
    assert page.get_by_text("Maria Lopez").count() == 0
    assert_accessible(page, "public outcomes page")
    screenshot(page, "outcomes-public")
    assert_no_csp_violations(page)
