"""Issue 11's acceptance, in Chromium: one case through the three roles and on
to the patient's own doctor. The patient lives in Colorado (Mountain Time; the
care team's clock is Eastern), asked for a video consultation and two
questions, and sent a checked biopsy record; the specialist is assigned and a
coordinator manages the case.

1. The specialist asks the patient a question; it comes before anything else
   on the patient's list, and the patient answers it in the thread.
2. The specialist proposes times; the patient books one and downloads the
   invitation (.ics, parsed); the specialist records the consultation held.
3. The specialist writes the report and signs it after re-entering their password.
4. The case manager releases it.
5. The patient reads it (each question beside its answer) and downloads the PDF,
   whose text holds the opinion and the answers.
6. The patient sends it to their doctor; the doctor's link (from the email)
   opens it with no account; the patient sees the opening, withdraws the link,
   and the link says so.
7. axe on every page each person sees, and no CSP violation anywhere.

Each role has a browser of its own, as in life: nobody signs out and in again."""

import datetime
import re
import shutil
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdfium2 as pdfium
import pytest
from django.core import mail
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import expect

from requests_app.aftercare.models import Share, ShareOpening
from requests_app.consultations.models import Consultation
from requests_app.messaging.models import Message
from requests_app.models import Case, CaseQuestion, CaseStatus
from requests_app.reports import codes
from requests_app.reports.models import ReportVersion
from specialists.models import Specialty
from specialists.services import specialties_load
from tests.accounts.factories import PASSWORD, UserFactory, enrol_totp, totp_code
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import ARTIFACTS, assert_no_csp_violations, new_page, screenshot
from tests.helpers import wait_until
from tests.records.factories import RecordFactory
from tests.requests_app.factories import CaseFactory
from tests.specialists.factories import SpecialistFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MOUNTAIN = ZoneInfo("America/Denver")
PCP_EMAIL = "ana.ruiz@clinic.example"
QUESTION_2 = "Should anything be done before surgery?"
RECORD_TITLE = "Core biopsy, left breast"

THREAD_QUESTION = "Has the lump changed in size since the biopsy on 30 September?"
THREAD_ANSWER = "It feels a little bigger to me, but nobody has measured it since."
EXAM_NOTES = "Firm, mobile 2 cm mass, upper outer quadrant. No axillary nodes felt."
SUMMARY = "A 1.4 cm grade 2 invasive ductal carcinoma, ER and PR positive, HER2 negative."
DIAGNOSIS = "Invasive ductal carcinoma, stage IA"
RECOMMENDATIONS = "Lumpectomy with a sentinel node biopsy, then radiotherapy."
REASONS = "A tumour this small is removed as safely by a lumpectomy as by a mastectomy."
ANSWER_1 = "No. For a tumour this size, breast-conserving surgery works as well."
ANSWER_2 = "Yes: a sentinel node biopsy first, to see whether the cancer has spread."
OPINION_PLAIN = "The specialist agrees with your diagnosis and makes it more precise."

LINK = re.compile(r"http://[^/\s]+(/shared/[A-Za-z0-9_-]{43}/)")


@pytest.fixture
def world(db):
    if not Specialty.objects.exists():  # earlier transactional tests flush it
        specialties_load()
    patient = UserFactory(email="maria@example.com", full_name="Maria Lopez")
    coordinator = UserFactory(
        role="coordinator", email="grace@example.com", full_name="Grace Nurse"
    )
    enrol_totp(coordinator)
    marsh = SpecialistFactory(
        user__full_name="Dr. Helen Marsh",
        user__email="marsh@example.com",
        title="MD, PhD",
        institution="Lakeside University Hospital",
        licensed_in=("CO",),
    )
    case = CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        case_manager=coordinator,
        specialist=marsh.user,
        consultation_type="video",
        patient_state="CO",
        pcp_name="Dr. Ana Ruiz",
        pcp_email=PCP_EMAIL,
        pcp_consent_to_share=True,
    )
    CaseQuestion.objects.create(case=case, position=2, text=QUESTION_2)
    RecordFactory(case=case, title=RECORD_TITLE)
    return patient, coordinator, marsh.user, case


@pytest.fixture
def browser_for(browser, live_server, request):
    """`browser_for(name)`: a page in a browser context of its own (its own cookies),
    with the console watched for CSP reports like the rig's `page`. A failing test
    leaves a picture of each."""
    opened = []

    def open_page(name: str):
        page = new_page(browser, live_server.url)
        opened.append((name, page.context, page))
        return page

    yield open_page
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for name, context, page in opened:
        if failed:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(
                path=str(ARTIFACTS / f"{request.node.name}-{name}-failure.png"), full_page=True
            )
        context.close()


# --- Signing in, with axe on the sign-in pages too ----------------------------------------
def _sign_in(page, email: str, who: str) -> None:
    page.goto("/accounts/login/")
    assert_accessible(page, f"sign-in page ({who})")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()


def _staff_sign_in(page, email: str, who: str) -> None:
    _sign_in(page, email, who)
    page.locator("#id_code").wait_for()
    assert_accessible(page, f"authenticator code ({who})")
    page.locator("#id_code").fill(totp_code())
    page.get_by_role("button", name=re.compile("Sign in|Confirm|Verify", re.I)).click()


def _fill_time(page, row: int, day: datetime.date, start: str, end: str) -> None:
    page.locator(f"#id_date_{row}").fill(str(day.day))
    page.locator(f"#id_date_{row}_month").fill(str(day.month))
    page.locator(f"#id_date_{row}_year").fill(str(day.year))
    page.locator(f"#id_start_{row}").fill(start)
    page.locator(f"#id_end_{row}").fill(end)


def _next_step(page):
    """What the patient's case page says they need to do."""
    return (
        page.locator(".summary-list > div")
        .filter(has=page.get_by_text("What you need to do", exact=True))
        .locator("dd strong")
    )


def _pdf_text(data: bytes) -> str:
    document = pdfium.PdfDocument(data)
    try:
        text = " ".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()
    return " ".join(text.split())  # lines wrap anywhere: compare words, not lines


def _render_pages(pdf_path: Path, prefix: str) -> list[Path]:
    """The PDF's pages as PNGs in test-artifacts/, to look at (poppler-utils)."""
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm is missing: apt-get install -y poppler-utils"
    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob(f"{prefix}-*.png"):
        old.unlink()
    subprocess.run(
        [pdftoppm, "-png", "-r", "80", str(pdf_path), str(ARTIFACTS / prefix)],
        check=True,
        timeout=60,
    )
    return sorted(ARTIFACTS.glob(f"{prefix}-*.png"))


def test_one_case_through_the_patient_the_specialist_the_case_manager_and_the_doctor(
    page, browser_for, world
):
    patient, coordinator, specialist, case = world
    specialist_page = browser_for("specialist")
    manager_page = browser_for("case-manager")
    today_there = timezone.localtime(timezone.now(), MOUNTAIN).date()
    first_day = today_there + datetime.timedelta(days=3)
    second_day = today_there + datetime.timedelta(days=4)

    # === 1. The specialist asks a question and proposes times ================================
    sp = specialist_page
    _staff_sign_in(sp, specialist.email, "specialist")
    sp.wait_for_url(re.compile("/specialist/$"))
    assert_accessible(sp, "specialist's workspace")
    sp.get_by_role("link", name=case.reference, exact=True).click()
    expect(sp.get_by_role("heading", level=1)).to_have_text(re.compile("Maria Lopez$"))
    assert_accessible(sp, "case page, specialist")
    sp.get_by_role("link", name="Read and write messages").click()
    sp.wait_for_url(re.compile(f"/messages/.*{case.uuid}"))
    assert_accessible(sp, "thread, specialist, empty")
    sp.get_by_label(re.compile("A question the patient needs to answer")).check()
    sp.get_by_label("Your message").fill(THREAD_QUESTION)
    sp.get_by_role("button", name="Send").click()
    expect(sp.get_by_text("Your question is sent.")).to_be_visible()
    expect(sp.get_by_role("region", name="Waiting on the patient")).to_contain_text(THREAD_QUESTION)
    assert_accessible(sp, "thread, specialist, question asked")
    sp.get_by_role("link", name=f"Back to {case.reference}").click()
    sp.wait_for_url(re.compile(f"/requests/care/{case.uuid}/$"))
    assert_accessible(sp, "case page, specialist, waiting on the patient")
    sp.get_by_role("link", name="Propose times").click()
    # The patient's clock, not the care team's: Colorado is on Mountain Time.
    expect(
        sp.get_by_text("Write the times in the patient's time zone: Mountain Time")
    ).to_be_visible()
    assert_accessible(sp, "proposal form")
    _fill_time(sp, 1, first_day, "9:30am", "10:15am")
    _fill_time(sp, 2, second_day, "2pm", "2:45pm")
    sp.get_by_role("button", name="Send the times to the patient").click()
    expect(sp.get_by_text("The times are sent.")).to_be_visible()
    assert_accessible(sp, "consultation, times offered")
    assert_no_csp_violations(sp)

    # === The patient: the question first, then a time ============================================
    _sign_in(page, patient.email, "patient")
    page.wait_for_url(re.compile("/requests/$"))
    expect(page.get_by_text("Answer your care team's question")).to_be_visible()
    assert_accessible(page, "patient's dashboard, a question to answer")
    page.get_by_role("link", name=case.reference, exact=True).click()
    page.wait_for_url(re.compile(f"/requests/{case.uuid}/$"))
    # Times are waiting too, but answering the care team comes first.
    expect(_next_step(page)).to_have_text("Answer your care team's question")
    expect(page.get_by_role("region", name="Messages with your care team")).to_contain_text(
        THREAD_QUESTION
    )
    assert_accessible(page, "case page, patient, a question to answer")
    screenshot(page, "second-opinion-patient-question-first")
    page.get_by_role("link", name="Read and answer it").click()
    expect(page.get_by_role("heading", name="A question for you")).to_be_visible()
    expect(page.get_by_text(THREAD_QUESTION).first).to_be_visible()
    assert_accessible(page, "thread, patient, a question to answer")
    expect(page.get_by_label("Yes: it answers the question above")).to_be_checked()
    page.get_by_label("Your message to your care team").fill(THREAD_ANSWER)
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Your message is sent.")).to_be_visible()
    expect(page.get_by_text("Question: answered")).to_be_visible()
    assert_accessible(page, "thread, patient, answered")
    question = Message.objects.get(is_question=True)
    assert question.answered_by.body == THREAD_ANSWER

    page.get_by_role("link", name="Back to your request").click()
    page.wait_for_url(re.compile(f"/requests/{case.uuid}/$"))
    expect(_next_step(page)).to_have_text(re.compile("^Choose a time for your consultation"))
    assert_accessible(page, "case page, patient, times to choose")
    page.get_by_role("link", name="See the times").click()
    expect(page.get_by_text("Times are in your time zone: Mountain Time")).to_be_visible()
    assert_accessible(page, "patient's choice of times")
    page.get_by_label(re.compile(r"9:30 AM to 10:15 AM Mountain Time")).check()
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_text("Your consultation is booked for")).to_be_visible()
    assert_accessible(page, "booked consultation, patient")
    screenshot(page, "second-opinion-patient-booked")
    with page.expect_download() as download:
        page.get_by_role("link", name="Add it to your calendar (.ics file)").click()
    ics = Path(download.value.path()).read_bytes()
    calendar = Calendar.from_ical(ics)
    assert str(calendar["method"]) == "REQUEST"
    [event] = calendar.walk("VEVENT")
    consultation = Consultation.objects.get(case=case)
    assert str(event["uid"]) and consultation.uuid.hex[:8] in str(event["uid"])
    assert event.decoded("dtstart") == datetime.datetime.combine(
        first_day, datetime.time(9, 30), tzinfo=MOUNTAIN
    )
    assert consultation.video_room not in ics.decode()  # the room's key stays behind sign-in
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CONSULTATION
    assert_no_csp_violations(page)

    # === 2. (cont.) The consultation takes place; the specialist records it ======================
    start = timezone.now() - datetime.timedelta(minutes=40)
    Consultation.objects.filter(pk=consultation.pk).update(
        starts_at=start, ends_at=start + datetime.timedelta(minutes=45)
    )
    sp.goto(f"/consultations/{consultation.uuid}/")
    assert_accessible(sp, "consultation, specialist, time has come")
    sp.get_by_role("link", name="Record what happened").click()
    sp.wait_for_url(re.compile("/outcome/$"))
    assert_accessible(sp, "outcome form")
    sp.get_by_label("Yes, it took place").check()
    sp.get_by_label("Exam notes").fill(EXAM_NOTES)
    sp.get_by_role("button", name="Save").click()
    expect(sp.get_by_text("The consultation is recorded")).to_be_visible()
    assert_accessible(sp, "held consultation")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.IN_REVIEW

    # === 3. The specialist writes the report and signs it ========================================
    sp.goto("/specialist/")
    assert_accessible(sp, "specialist's workspace, in review")
    sp.get_by_role("link", name=re.compile("Write the report")).click()
    sp.wait_for_url(re.compile(f"/reports/case/{case.uuid}/$"))
    assert_accessible(sp, "the report, not started")
    sp.get_by_role("link", name="Write the report").click()
    sp.wait_for_url(re.compile("/write/$"))
    assert_accessible(sp, "the report form")
    sp.get_by_label(re.compile(RECORD_TITLE)).check()
    sp.get_by_role("textbox", name="Clinical summary and findings").fill(SUMMARY)
    sp.get_by_label("Agrees, with a refinement").check()
    sp.get_by_label("Second-opinion diagnosis").fill(DIAGNOSIS)
    sp.get_by_label("Suggests changes to the plan").check()
    sp.get_by_label("Treatment recommendations").fill(RECOMMENDATIONS)
    # Changes to the plan: signing needs the reasons, in plain words.
    sp.get_by_label("Why your opinion differs, in plain words").fill(REASONS)
    sp.get_by_label(re.compile("Question 1")).fill(ANSWER_1)
    sp.get_by_label(re.compile("Question 2")).fill(ANSWER_2)
    # Let the background save settle, so it cannot land after the button's save: the
    # last answer typed is in the draft, and no save is under way.
    wait_until(
        lambda: ReportVersion.objects.filter(report__case=case, answers__answer=ANSWER_2).exists(),
        60,
        0.25,
    )
    sp.wait_for_function(
        "() => !document.querySelector('#autosave-status').classList"
        ".contains('autosave-status-busy')"
    )
    sp.get_by_role("button", name="Save and check before signing").click()
    sp.wait_for_url(re.compile("/sign/$"))
    assert_accessible(sp, "check before signing")
    sp.get_by_role("button", name="Sign the report").click()
    sp.wait_for_url(re.compile("/accounts/reauthenticate/"))
    assert ReportVersion.objects.get().status == "draft"  # not before the password
    assert_accessible(sp, "re-authentication")
    sp.locator("#id_password").fill(PASSWORD)
    sp.get_by_role("button", name=re.compile("Confirm", re.I)).click()
    sp.wait_for_url(re.compile("/reports/versions/"))
    expect(sp.get_by_text("Version 1 is signed.")).to_be_visible()
    assert_accessible(sp, "signed version")
    version = ReportVersion.objects.get()
    assert version.status == "signed" and version.pdf_ready
    assert Case.objects.get(pk=case.pk).status == CaseStatus.REPORT_READY
    assert_no_csp_violations(sp)

    # === 4. The case manager releases it ===========================================================
    mp = manager_page
    _staff_sign_in(mp, coordinator.email, "case manager")
    mp.wait_for_url(re.compile("/requests/coordinator/"))
    assert_accessible(mp, "coordinator's queue")
    mp.goto(f"/requests/care/{case.uuid}/")
    assert_accessible(mp, "case page, case manager")
    mp.get_by_role("link", name="Review the report").click()
    mp.wait_for_url(re.compile(f"/reports/case/{case.uuid}/$"))
    assert_accessible(mp, "the report, case manager")
    mp.get_by_role("link", name="Review version 1").click()
    mp.wait_for_url(re.compile("/reports/versions/"))
    assert_accessible(mp, "review before release")
    mp.get_by_role("button", name="Release the report to the patient").click()
    expect(mp.get_by_text("Released. The patient is told their report is ready.")).to_be_visible()
    assert_accessible(mp, "released")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.DELIVERED
    assert_no_csp_violations(mp)

    # === 5. The patient reads the report and downloads the PDF =====================================
    page.goto(f"/requests/{case.uuid}/")
    assert_accessible(page, "case page, patient, report released")
    page.get_by_role("link", name="Read your report").click()
    expect(page.get_by_role("heading", name="Your second-opinion report")).to_be_visible()
    expect(page.get_by_text(OPINION_PLAIN).first).to_be_visible()
    qa = page.locator(".report-qa")
    assert qa.count() == 2
    for n, (asked, answered) in enumerate(
        (("Is surgery my only option?", ANSWER_1), (QUESTION_2, ANSWER_2))
    ):
        # Each question is the heading right above its own answer.
        assert qa.nth(n).locator(".report-question").inner_text() == asked
        assert qa.nth(n).locator(".report-answer").inner_text() == answered
    assert DIAGNOSIS in page.content()
    assert_accessible(page, "the patient's report")
    screenshot(page, "second-opinion-patient-report")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download the report as a PDF")).click()
    pdf_path = Path(download.value.path())
    data = pdf_path.read_bytes()
    assert data.startswith(b"%PDF-")
    text = _pdf_text(data)
    for expected in (
        "Agrees, with a refinement",
        DIAGNOSIS,
        "Is surgery my only option?",
        ANSWER_1,
        QUESTION_2,
        ANSWER_2,
        RECOMMENDATIONS,
        REASONS,
        "Maria Lopez",
        codes.grouped(version.verification_code),
    ):
        assert expected in text, f"the PDF's text lacks {expected!r}"
    pages = _render_pages(pdf_path, "second-opinion-report-pdf")
    assert pages, "pdftoppm rendered no page"

    # === 6. The patient sends it to their doctor =====================================================
    page.get_by_role("link", name="Back to your request").click()
    page.get_by_role("link", name="Send your report to your doctor").click()
    page.wait_for_url(re.compile(f"/aftercare/{case.uuid}/share/$"))
    # The address the patient gave at intake is there already.
    assert page.get_by_label("Your doctor's email address").input_value() == PCP_EMAIL
    assert_accessible(page, "share page")
    page.get_by_label(re.compile("I agree that SecondOp sends a link")).check()
    page.get_by_role("button", name="Send the link to my doctor").click()
    expect(page.get_by_text(f"We are emailing the link to {PCP_EMAIL}")).to_be_visible()
    expect(page.get_by_text("Not opened yet")).to_be_visible()
    assert_accessible(page, "share page, sent")
    [email] = [m for m in mail.outbox if m.to == [PCP_EMAIL]]
    path = LINK.search(email.body)[1]
    for secret in ("Maria", "carcinoma", "breast", DIAGNOSIS, ANSWER_1):
        assert secret not in email.subject + email.body, f"the doctor's email names {secret!r}"
    assert_no_csp_violations(page)

    # The doctor: no account, a browser of their own.
    doctor = browser_for("doctor")
    response = doctor.goto(path)
    assert response.status == 200
    assert (
        doctor.get_by_role("heading", level=1).inner_text()
        == "Second-opinion report for Maria Lopez"
    )
    assert doctor.get_by_role("button", name="Sign out").count() == 0
    expect(doctor.get_by_text(DIAGNOSIS).first).to_be_visible()
    expect(doctor.get_by_text(ANSWER_2).first).to_be_visible()
    assert_accessible(doctor, "the doctor's page")
    screenshot(doctor, "second-opinion-doctor")
    assert ShareOpening.objects.filter(share__recipient_email=PCP_EMAIL).count() == 1

    # The patient sees the opening, and withdraws the link.
    page.reload()
    expect(page.get_by_text(re.compile("Opened by your physician on"))).to_be_visible()
    assert_accessible(page, "share page, opened")
    screenshot(page, "second-opinion-patient-share-opened")
    page.get_by_role("button", name="Withdraw the link sent to Dr. Ana Ruiz").click()
    expect(page.get_by_text("The link is withdrawn.")).to_be_visible()
    assert_accessible(page, "share page, withdrawn")
    assert Share.objects.get().revoked_at is not None

    response = doctor.goto(path)
    assert response.status == 410
    assert doctor.get_by_role("heading", level=1).inner_text() == "This link was withdrawn"
    assert doctor.get_by_text(DIAGNOSIS).count() == 0
    assert_accessible(doctor, "the doctor's page, withdrawn")
    screenshot(doctor, "second-opinion-doctor-withdrawn")

    # === 7. No page broke the content security policy ==============================================
    for someone in (page, sp, mp, doctor):
        assert_no_csp_violations(someone)
    # And no email on the way said anything medical (tests/test_email_privacy.py does it all).
    for message in mail.outbox:
        said = message.subject + message.body
        for secret in (
            "carcinoma",
            "breast",
            THREAD_QUESTION,
            THREAD_ANSWER,
            EXAM_NOTES,
            consultation.video_room,
        ):
            assert secret not in said, f"an email to {message.to} says {secret!r}"
