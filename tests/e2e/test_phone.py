"""Phones and WCAG 2.2 AA in Chromium: a sticky bar never hides the focused field
(2.4.11), at a phone's 390 px and a laptop's 1280 px; the intake's longest
pages at 390x844 (screenshots) and 320 px (no sideways scroll, axe: the
shared assert_accessible checks both widths on every page the e2e tests visit)."""

import re

import pytest

from requests_app.models import CaseSection, SectionState
from requests_app.sections import SECTIONS
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, screenshot
from tests.e2e.test_intake import sign_in
from tests.e2e.test_report import _staff_sign_in, world  # noqa: F401 (a fixture)
from tests.requests_app.factories import CaseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FOCUS_CLEAR_OF_BAR = """async () => {
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    const el = document.activeElement;
    const bar = document.querySelector("[data-sticky-bar]");
    if (!el || bar.contains(el)) return {inBar: true};
    const box = el.getBoundingClientRect();
    const barTop = bar.getBoundingClientRect().top;
    return {inBar: false, id: el.id || el.name || el.tagName, top: box.top, bottom: box.bottom,
            barTop: barTop, barHeight: bar.offsetHeight};
}"""


@pytest.mark.parametrize("size", [(390, 844), (1280, 900)])
def test_the_report_forms_bar_never_hides_the_focused_field(page, world, size):  # noqa: F811
    _patient, _coordinator, specialist, _case = world
    page.set_viewport_size({"width": size[0], "height": size[1]})
    _staff_sign_in(page, specialist.email)
    page.wait_for_url(re.compile("/specialist/"))
    page.get_by_role("link", name=re.compile("Write the report")).click()
    page.get_by_role("link", name="Write the report").click()
    page.wait_for_url(re.compile("/write/$"))
    if size[0] < 640:
        bar = page.locator("[data-sticky-bar]").bounding_box()
        assert bar["height"] <= 0.2 * size[1], bar  # a small bar on a phone
    page.locator("form [name]:not([type=hidden])").first.focus()
    checked = 0
    for _ in range(60):
        state = page.evaluate(FOCUS_CLEAR_OF_BAR)
        if state["inBar"]:
            break
        # Entirely clear of the bar, or (a box taller than the space) its top in view.
        assert state["top"] >= 0, state
        assert state["bottom"] <= state["barTop"] + 1 or state["top"] <= 24, state
        checked += 1
        page.keyboard.press("Tab")
    assert checked >= 5
    assert_no_csp_violations(page)


def test_the_authorisation_and_the_check_page_on_a_phone(page, db):
    case = CaseFactory(
        owner__email="linda@example.com",
        owner__full_name="Linda Moore",
        complete=True,
        payment="insurance",
        insurance_carrier="Blue Cross",
        insurance_member_id="XKB123456789",
        insurance_policyholder="Linda Moore",
    )
    for section in SECTIONS:
        CaseSection.objects.update_or_create(
            case=case, section=section.key, defaults={"state": SectionState.COMPLETED}
        )
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "linda@example.com")
    page.wait_for_url(re.compile("/requests/$"))
    page.goto(f"/requests/{case.uuid}/section/authorisation/")
    assert page.get_by_role("heading", name="What you agree to").is_visible()
    assert_accessible(page, "the authorisation on a phone")
    screenshot(page, "phone-authorisation")
    page.goto(f"/requests/{case.uuid}/check/")
    assert page.get_by_role("button", name="Send my request").is_visible()
    assert_accessible(page, "the check page on a phone")
    screenshot(page, "phone-check")
    # The footer's emergency line and the tags at 16 px or more.
    sizes = page.evaluate("""() => [...document.querySelectorAll(
        '.site-footer, .site-footer p, .tag, time, main p, main dd, main dt')]
        .filter(el => el.offsetParent !== null && el.textContent.trim())
        .map(el => [el.className || el.tagName, parseFloat(getComputedStyle(el).fontSize)])""")
    assert sizes and all(size >= 16 for _name, size in sizes), [s for s in sizes if s[1] < 16]
    assert_no_csp_violations(page)
