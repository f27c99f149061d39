"""Steps the browser stories share: signing in as staff, axe and a screenshot at two
widths, the SURE questions, and the times a specialist proposes for a call."""

import datetime
import re
from zoneinfo import ZoneInfo

from django.utils import timezone

from requests_app.times import patient_zone_name
from tests.accounts.factories import totp_code
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import screenshot
from tests.e2e.test_intake import sign_in

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 900}
SURE_QUESTIONS = (
    "Do you feel SURE about the best choice for you?",
    "Do you know the benefits and risks of each option?",
    "Are you clear about which benefits and risks matter most to you?",
    "Do you have enough support and advice to make a choice?",
)


# The codes each person has signed in with: allauth refuses a code used again within its
# 30 s (replay), and a story signs the same person in twice in less than that.
_USED: set[tuple[str, str]] = set()


def fresh_code(email: str) -> str:
    """A valid authenticator code `email` has not used: this time step's, else the
    next or the last (both accepted: MFA_TOTP_TOLERANCE is one step)."""
    for offset in (0, 1, -1):
        code = totp_code(offset=offset)
        if (email, code) not in _USED:
            _USED.add((email, code))
            return code
    return totp_code()


def staff_sign_in(page, email) -> None:
    """Password, then the authenticator's code (staff sign in with two factors)."""
    sign_in(page, email)
    page.locator("#id_code").fill(fresh_code(email))
    page.get_by_role("button", name=re.compile("Sign in|Confirm|Verify", re.I)).click()


def both_widths(page, name: str, what: str) -> None:
    """axe and a screenshot at 1280 px, then at 390 px, then back."""
    assert_accessible(page, what)
    screenshot(page, name)
    page.set_viewport_size(PHONE)
    assert_accessible(page, f"{what} at 390 px")
    screenshot(page, f"{name}-390")
    page.set_viewport_size(LAPTOP)


def tick_sure(page, answers) -> None:
    """Tick one answer ("Yes"/"No") per SURE question, in order; fewer leaves the rest."""
    for question, answer in zip(SURE_QUESTIONS, answers, strict=False):
        page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()


def answer_sure(page, answers) -> None:
    tick_sure(page, answers)
    page.get_by_role("button", name="Send my answers").click()


def propose_call_times(page, case) -> None:
    """Two times three days from now, in the patient's zone, on the call's form."""
    day = timezone.localtime(timezone.now(), ZoneInfo(patient_zone_name(case))).date()
    day += datetime.timedelta(days=3)
    for row, (start, end) in enumerate((("9am", "9:30am"), ("2pm", "2:30pm")), start=1):
        page.locator(f"#id_date_{row}").fill(str(day.day))
        page.locator(f"#id_date_{row}_month").fill(str(day.month))
        page.locator(f"#id_date_{row}_year").fill(str(day.year))
        page.locator(f"#id_start_{row}").fill(start)
        page.locator(f"#id_end_{row}").fill(end)
