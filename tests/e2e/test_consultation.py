"""A video consultation end to end, in Chromium with axe on every page: the
specialist proposes times in the patient's zone (one mistake first), the patient
in California chooses one and downloads the calendar file, the specialist
records it held."""

import datetime
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.utils import timezone
from icalendar import Calendar

from requests_app.consultations.models import Consultation
from requests_app.models import Case, CaseStatus
from specialists.services import certifications_load, specialties_load
from tests.accounts.factories import UserFactory
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, screenshot
from tests.e2e.test_intake import sign_in, sign_out
from tests.e2e.test_matching import _staff_sign_in
from tests.requests_app.factories import CaseFactory
from tests.specialists.factories import SpecialistFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PACIFIC = ZoneInfo("America/Los_Angeles")


@pytest.fixture
def world(db):
    specialties_load()
    certifications_load()
    patient = UserFactory(email="maria@example.com", full_name="Maria Lopez")
    marsh = SpecialistFactory(
        user__full_name="Dr. Helen Marsh",
        user__email="marsh@example.com",
        title="MD, PhD",
        licensed_in=("CA",),
    )
    case = CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        specialist=marsh.user,
        consultation_type="video",
        patient_state="CA",
        patient_name="Maria Lopez",
    )
    return patient, marsh.user, case


def fill_time(page, row: int, day: datetime.date, start: str, end: str) -> None:
    page.locator(f"#id_date_{row}").fill(str(day.day))
    page.locator(f"#id_date_{row}_month").fill(str(day.month))
    page.locator(f"#id_date_{row}_year").fill(str(day.year))
    page.locator(f"#id_start_{row}").fill(start)
    page.locator(f"#id_end_{row}").fill(end)


def test_a_specialist_proposes_the_patient_books_and_it_is_recorded_held(page, world):
    patient, specialist, case = world
    today_there = timezone.localtime(timezone.now(), PACIFIC).date()
    first_day = today_there + datetime.timedelta(days=3)
    second_day = today_there + datetime.timedelta(days=4)

    # --- The specialist proposes: one time only, then two.
    _staff_sign_in(page, specialist.email)
    page.wait_for_url(re.compile("/specialist/"))
    page.goto(f"/requests/care/{case.uuid}/")
    page.locator(".consultation-panel").scroll_into_view_if_needed()
    screenshot(page, "consultation-staff-case")
    page.get_by_role("link", name="Propose times").click()
    assert page.get_by_text("Write the times in the patient's time zone: Pacific Time").is_visible()
    assert_accessible(page, "proposal form")
    screenshot(page, "consultation-propose")
    fill_time(page, 1, first_day, "9:30am", "10:15am")
    page.get_by_role("button", name="Send the times to the patient").click()
    summary = page.locator(".error-summary")
    assert summary.is_visible() and "Propose at least two times" in summary.inner_text()
    assert page.locator("#id_start_1").input_value() == "9:30am"  # nothing typed is lost
    assert_accessible(page, "proposal form with an error")
    screenshot(page, "consultation-propose-error")
    fill_time(page, 2, second_day, "2pm", "2:45pm")
    page.get_by_role("button", name="Send the times to the patient").click()
    assert page.get_by_text("The times are sent.").is_visible()
    assert page.get_by_text("Times offered to the patient").is_visible()
    assert_accessible(page, "consultation, times offered")
    assert_no_csp_violations(page)
    sign_out(page)

    # --- The patient chooses the first time and downloads the invitation.
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/$"))
    page.get_by_role("link", name=case.reference).first.click()
    assert page.get_by_text("Choose a time for your consultation").is_visible()
    assert_accessible(page, "case page with times to choose")
    screenshot(page, "consultation-patient-case")
    page.get_by_role("link", name="See the times").click()
    assert page.get_by_text("Times are in your time zone: Pacific Time").is_visible()
    assert_accessible(page, "patient's choice")
    screenshot(page, "consultation-choose")
    page.get_by_label(re.compile(r"9:30 AM to 10:15 AM Pacific Time")).check()
    page.get_by_role("button", name="Book this time").click()
    assert page.get_by_text("Your consultation is booked for").is_visible()
    join = page.get_by_role("link", name="Join the video consultation")
    consultation = Consultation.objects.get(case=case)
    assert join.get_attribute("href") == consultation.video_url
    assert_accessible(page, "booked consultation")
    screenshot(page, "consultation-booked")
    with page.expect_download() as download:
        page.get_by_role("link", name="Add it to your calendar (.ics file)").click()
    calendar = Calendar.from_ical(Path(download.value.path()).read_bytes())
    event = calendar.walk("VEVENT")[0]
    assert str(calendar["method"]) == "REQUEST"
    expected = datetime.datetime.combine(first_day, datetime.time(9, 30), tzinfo=PACIFIC)
    assert event.decoded("dtstart") == expected
    assert event["dtstart"].to_ical().endswith(b"Z")
    assert consultation.video_room not in Path(download.value.path()).read_text()
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CONSULTATION
    assert_no_csp_violations(page)
    sign_out(page)

    # --- Time passes; the specialist records it held.
    start = timezone.now() - datetime.timedelta(minutes=40)
    Consultation.objects.filter(pk=consultation.pk).update(
        starts_at=start, ends_at=start + datetime.timedelta(minutes=30)
    )
    cache.clear()  # the specialist's code of a moment ago may be used again
    _staff_sign_in(page, specialist.email)
    page.wait_for_url(re.compile("/specialist/"))
    page.goto(f"/consultations/{consultation.uuid}/")
    page.get_by_role("link", name="Record what happened").click()
    assert_accessible(page, "outcome form")
    page.get_by_label("Yes, it took place").check()
    page.get_by_label("Exam notes").fill(
        "Firm, mobile 2 cm mass, upper outer quadrant. No axillary nodes felt."
    )
    page.get_by_role("button", name="Save").click()
    assert page.get_by_text("The consultation is recorded").is_visible()
    assert page.get_by_text("No axillary nodes felt.").is_visible()
    assert_accessible(page, "held consultation")
    screenshot(page, "consultation-held")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.IN_REVIEW
    assert_no_csp_violations(page)


def test_the_patient_declines_and_the_report_can_then_be_signed(page, world):
    """Signing waits for the consultation the patient asked for; the patient
    declines it; the signing page says so and lets the specialist sign."""
    import shutil

    from tests.accounts.factories import enrol_totp
    from tests.reports.factories import assigned_case, write_draft

    patient, specialist, _case = world
    coordinator = UserFactory(role="coordinator", email="grace@example.com")
    enrol_totp(coordinator)
    case = assigned_case(
        patient,
        coordinator,
        specialist,
        consultation_type="video",
        patient_state="CA",
        patient_name="Maria Lopez",
    )
    write_draft(case, specialist)

    def shot(name):
        shutil.copy(screenshot(page, name), f"/tmp/{name}.png")

    # --- The specialist cannot sign yet: the signing page says why.
    _staff_sign_in(page, specialist.email)
    page.wait_for_url(re.compile("/specialist/"))
    page.goto(f"/reports/case/{case.uuid}/sign/")
    summary = page.locator(".error-summary")
    assert "none has been proposed" in summary.inner_text()
    assert page.get_by_role("button", name="Sign the report").count() == 0
    assert_accessible(page, "signing page, consultation not settled")
    shot("sign-consultation-unsettled")
    sign_out(page)

    # --- The patient declines it, saying why; it is on their timeline.
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/$"))
    page.goto(f"/requests/{case.uuid}/")
    page.get_by_role("link", name="I no longer want a consultation").click()
    assert_accessible(page, "decline form")
    shot("consultation-decline")
    page.get_by_label(re.compile("Anything your specialist should know")).fill(
        "My own doctor examined me last week"
    )
    page.get_by_role("button", name="Decline the consultation").click()
    assert page.get_by_text("You declined the consultation.").first.is_visible()
    assert_accessible(page, "declined consultation")
    page.goto(f"/requests/{case.uuid}/")
    assert page.get_by_text("The consultation was declined by the patient.").is_visible()
    assert page.get_by_text("My own doctor examined me last week").is_visible()
    shot("consultation-declined-case")
    assert_no_csp_violations(page)
    sign_out(page)

    # --- The signing page now says which, and offers the signature.
    cache.clear()
    _staff_sign_in(page, specialist.email)
    page.wait_for_url(re.compile("/specialist/"))
    page.goto(f"/reports/case/{case.uuid}/sign/")
    assert page.get_by_text("The patient declined the consultation on").is_visible()
    assert page.get_by_role("button", name="Sign the report").is_visible()
    assert_accessible(page, "signing page, consultation declined")
    shot("sign-consultation-declined")
    assert_no_csp_violations(page)
