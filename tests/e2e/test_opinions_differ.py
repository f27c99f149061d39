"""Issue 21's acceptance, one story in Chromium with axe on every page (at 1280 and
320 px; the pages new in issue 21 at 390 px too). Each person has a browser of
their own, as in life.

1. The patient answers the SURE questions while the request is with the specialist.
2. The specialist writes and signs "a different diagnosis" in the browser, with a
   trial to ask about and their reasons; the case manager releases it.
3. The patient reads the two opinions side by side (the operation booked soon is
   named, the trial links to its registry page), answers the SURE questions again
   and sees their own change, sends the report to their doctor with consent that
   the doctor takes part, and asks for a call between the doctors.
4. The specialist proposes times; the treating physician, from the emailed links
   with no account, books the call and asks one question (a second is not
   offered); the specialist answers it and records the call held with a note.
   The patient's page shows everything the doctor did.
5. The patient asks for a third opinion; matching leaves out the second
   specialist and anyone at the diagnosing hospital; the third specialist cannot
   open the second report, signs blind, then compares; the case manager writes
   the reconciliation; the patient sees the three views and the note."""

import datetime
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from requests_app.aftercare.models import PhysicianQuestion, Share, ShareOpening
from requests_app.consultations.models import DoctorCall
from requests_app.models import Case, CaseStatus
from requests_app.outcomes.models import SureAnswer
from requests_app.reports.models import ReportVersion
from requests_app.services import price_list_seed
from requests_app.workflow import case_transition
from specialists.services import offer_accept
from tests.accounts.factories import PASSWORD, UserFactory, enrol_totp
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, new_page, screenshot
from tests.e2e.steps import (
    answer_sure,
    both_widths,
    propose_call_times,
    staff_sign_in,
    tick_sure,
)
from tests.e2e.test_intake import sign_in
from tests.e2e.test_sharing import LINK
from tests.helpers import wait_until
from tests.records.factories import RecordFactory
from tests.reports.factories import COMPLETE, release, sign
from tests.requests_app.factories import CaseFactory
from tests.specialists.factories import SpecialistFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PCP_EMAIL = "ana.ruiz@clinic.example"
CALL_LINK = re.compile(r"http://[^/\s]+(/doctor-call/[A-Za-z0-9_-]{43}/)")
TRIAL = "NCT01234567"
DIAGNOSIS = "Fibroadenoma, left breast"
REASONS = "The biopsy shows a benign tumour, not a cancer: no operation is needed."
ANSWER_1 = "No. A fibroadenoma does not need a mastectomy; it can be watched."
TOPIC = "Whether the operation date should move"
QUESTION = "Would a short course of steroids change the plan before surgery?"
ANSWER = "No: steroids would not change the plan. Keep the operation date."
CALL_NOTE = "We agreed to hold the operation and repeat the scan in six months."
RECONCILIATION = (
    "The second and third specialists both think this is not cancer. Take both "
    "reports to your surgeon before the operation."
)


@pytest.fixture
def world(db):
    price_list_seed()
    patient = UserFactory(email="maria@example.com", full_name="Maria Lopez")
    coordinator = UserFactory(
        role="coordinator", email="grace@example.com", full_name="Grace Nurse"
    )
    enrol_totp(coordinator)
    second = SpecialistFactory(
        user__full_name="Dr. Helen Marsh",
        user__email="marsh@example.com",
        title="MD, PhD",
        institution="Lakeside University Hospital",
    ).user
    third = SpecialistFactory(
        user__full_name="Dr. Ravi Wu",
        user__email="wu@example.com",
        title="MD",
        institution="Riverside Cancer Centre",
    ).user
    # Same hospital as the diagnosis (CaseFactory's Metro General): never matched.
    SpecialistFactory(user__full_name="Dr. Same Hospital", institution="Metro General")
    case = CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        case_manager=coordinator,
        specialist=second,
        patient_name="Maria Lopez",
        diagnosis="Breast cancer, left side",
        proposed_treatment="Mastectomy",
        treatment_date=timezone.localdate() + datetime.timedelta(days=12),
        pcp_name="Dr. Ana Ruiz",
        pcp_email=PCP_EMAIL,
    )
    record = RecordFactory(case=case, title="Core biopsy, left breast")
    return patient, coordinator, second, third, case, record


def test_when_the_opinions_differ_the_doctors_talk_and_a_third_opinion_settles_it(
    page, browser, live_server, world
):
    patient, coordinator, second, third, case, record = world
    others = []

    def browser_for() -> object:
        other = new_page(browser, live_server.url)
        others.append(other)
        return other

    try:
        _the_story(page, browser_for, patient, coordinator, second, third, case, record)
    finally:
        for other in others:
            other.context.close()


def _the_story(page, browser_for, patient, coordinator, second, third, case, record):
    # === 1. SURE, before: while the request is with the specialist ===========================
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/$"))
    page.goto(reverse("requests_app:case_sent", args=[case.uuid]))
    assert_accessible(page, "sent page with the SURE questions")
    # One left out: the form's error, the others kept.
    tick_sure(page, ("Yes", "No", "No"))
    page.get_by_role("button", name="Send my answers").click()
    assert page.get_by_role("alert").is_visible()
    assert (
        page.get_by_role("group", name=re.compile("SURE about"))
        .get_by_label("Yes", exact=True)
        .is_checked()
    )
    assert_accessible(page, "SURE questions with an error")
    answer_sure(page, ("Yes", "No", "No", "No"))
    page.wait_for_url(re.compile(f"/requests/{case.uuid}/$"))
    assert page.get_by_text("Thank you for answering.").is_visible()

    # === 2. The specialist signs "a different diagnosis" with a trial to ask about ===========
    sp = browser_for()
    staff_sign_in(sp, second.email)
    sp.wait_for_url(re.compile("/specialist/"))
    sp.get_by_role("link", name=re.compile("Write the report")).click()
    sp.get_by_role("link", name="Write the report").click()
    sp.wait_for_url(re.compile("/write/$"))
    assert_accessible(sp, "the report form")
    sp.get_by_label(re.compile("Core biopsy, left breast")).check()
    sp.get_by_role("textbox", name="Clinical summary and findings").fill(
        "A 1.4 cm well-defined mass; the core biopsy shows a fibroadenoma, no carcinoma."
    )
    sp.get_by_label("A different diagnosis").check()
    sp.get_by_label("Second-opinion diagnosis").fill(DIAGNOSIS)
    sp.get_by_label("Suggests changes to the plan").check()
    sp.get_by_label("Treatment recommendations").fill("No operation now; a scan in six months.")
    sp.get_by_label("Why your opinion differs, in plain words").fill(REASONS)
    sp.get_by_label("ClinicalTrials.gov identifiers (optional)").fill(TRIAL)
    sp.get_by_label("Evidence you rely on (optional)").fill(
        "WHO Classification of Breast Tumours, 5th ed. (PMID: 31433515)"
    )
    sp.get_by_label(re.compile("Question 1")).fill(ANSWER_1)
    # Let the background save settle, so it cannot land after the button's save.
    wait_until(
        lambda: ReportVersion.objects.filter(report__case=case, answers__answer=ANSWER_1).exists(),
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
    sp.locator("#id_password").fill(PASSWORD)
    sp.get_by_role("button", name=re.compile("Confirm", re.I)).click()
    sp.wait_for_url(re.compile("/reports/versions/"))
    assert sp.get_by_text("Version 1 is signed.").is_visible()
    assert_accessible(sp, "signed version")
    version = ReportVersion.objects.get(report__case=case)
    assert version.status == "signed" and version.diagnosis_opinion == "different"
    assert version.trial_ids == [TRIAL] and version.reasons == REASONS

    # The case manager releases it.
    mp = browser_for()
    staff_sign_in(mp, coordinator.email)
    mp.wait_for_url(re.compile("/requests/coordinator/"))
    mp.goto(reverse("requests_app:staff_case", args=[case.uuid]))
    mp.get_by_role("link", name="Review the report").click()
    mp.get_by_role("link", name="Review version 1").click()
    assert_accessible(mp, "review before release")
    mp.get_by_role("button", name="Release the report to the patient").click()
    assert mp.get_by_text("Released. The patient is told their report is ready.").is_visible()
    assert Case.objects.get(pk=case.pk).status == CaseStatus.DELIVERED

    # === 3. The patient: two opinions side by side; SURE after ===============================
    page.goto(reverse("reports:case", args=[case.uuid]))
    compare = page.get_by_role("region", name="Two opinions, side by side")
    table = compare.get_by_role("table")
    assert table.get_by_role("columnheader", name="Your first doctor said").is_visible()
    assert table.get_by_role("columnheader", name="The specialist says").is_visible()
    diagnosis_row = table.get_by_role("row", name=re.compile("^Diagnosis")).inner_text()
    assert "Breast cancer, left side" in diagnosis_row and DIAGNOSIS in diagnosis_row
    assert "Mastectomy" in table.get_by_role("row", name=re.compile("^Treatment")).inner_text()
    assert compare.get_by_text(REASONS).is_visible()
    day = case.treatment_date
    assert compare.get_by_text(
        f"Talk to your surgeon or doctor before your treatment on {day:%A} {day.day} {day:%B}."
    ).is_visible()
    trial = page.get_by_role("link", name=TRIAL)
    assert trial.get_attribute("href") == f"https://clinicaltrials.gov/study/{TRIAL}"
    assert page.get_by_text("Now that you have read the report: how sure do you feel?").is_visible()
    both_widths(page, "opinions-differ-report", "the patient's report, opinions differ")
    answer_sure(page, ("Yes", "Yes", "Yes", "No"))
    page.wait_for_url(re.compile(f"/reports/case/{case.uuid}/$"))
    assert page.get_by_text("Before: 1 of 4 — after: 3 of 4").is_visible()
    assert_accessible(page, "report page with the patient's change")
    assert SureAnswer.objects.filter(case=case).count() == 2

    # The patient sends the report to their doctor, who may take part.
    compare.get_by_role("link", name="Share the report with your doctor").click()
    page.wait_for_url(re.compile(f"/aftercare/{case.uuid}/share/$"))
    assert page.get_by_label("Your doctor's email address").input_value() == PCP_EMAIL
    page.get_by_label(re.compile("I agree that SecondOp sends a link")).check()
    page.get_by_label(re.compile("My doctor may ask the specialist one question")).check()
    page.get_by_role("button", name="Send the link to my doctor").click()
    assert page.get_by_text(f"We are emailing the link to {PCP_EMAIL}").is_visible()
    assert page.get_by_text(re.compile("Yes: one question to the specialist")).is_visible()
    both_widths(page, "opinions-differ-share", "share page with participation")
    [email] = [m for m in mail.outbox if m.to == [PCP_EMAIL]]
    share_path = LINK.search(email.body)[1]

    # ... and asks, from the side-by-side view, for a call between the doctors.
    page.goto(reverse("reports:case", args=[case.uuid]))
    page.get_by_role("link", name="Ask for a call between your doctors").click()
    page.get_by_role("button", name="Ask for the call").click()
    assert (
        page.get_by_role("alert")
        .get_by_text("Choose the doctor the specialist should call.")
        .is_visible()
    )
    both_widths(page, "doctor-call-ask", "asking for a call, with an error")
    page.get_by_label(re.compile("Dr. Ana Ruiz")).check()
    page.get_by_label("What should they talk about? (optional)").fill(TOPIC)
    page.get_by_role("button", name="Ask for the call").click()
    assert page.get_by_text("We have asked the specialist to propose times.").is_visible()
    assert page.get_by_text(re.compile("Waiting for the specialist to propose times")).is_visible()
    assert_accessible(page, "the call asked for")
    assert_no_csp_violations(page)

    # === 4. The specialist proposes times ===================================================
    mail.outbox.clear()
    sp.goto(reverse("requests_app:staff_case", args=[case.uuid]))
    sp.get_by_role("link", name="Open the call").click()
    assert sp.get_by_text(TOPIC).is_visible()
    sp.get_by_role("button", name="Send the times to the doctor").click()
    assert sp.get_by_role("alert").is_visible()
    both_widths(sp, "doctor-call-propose-error", "proposing call times, with an error")
    propose_call_times(sp, case)
    sp.get_by_role("button", name="Send the times to the doctor").click()
    assert sp.get_by_text("The times are sent to the doctor.").is_visible()
    both_widths(sp, "doctor-call-proposed", "the call's page, times proposed")
    [invite] = [m for m in mail.outbox if m.to == [PCP_EMAIL]]
    call_path = CALL_LINK.search(invite.body)[1]
    assert "Maria" not in invite.body and TOPIC not in invite.body

    # The treating physician, no account, a browser of their own: books the call ...
    doctor = browser_for()
    doctor.goto(call_path)
    assert doctor.get_by_text(TOPIC).is_visible()
    assert doctor.get_by_role("button", name="Sign out").count() == 0
    doctor.get_by_role("button", name="Book this time").click()
    assert doctor.get_by_role("alert").get_by_text("Choose one of the times offered.").is_visible()
    both_widths(doctor, "doctor-call-book-error", "the doctor's call page, with an error")
    doctor.get_by_role("radio").first.check()
    doctor.get_by_label("The number the specialist should ring").fill("617 555 0100")
    doctor.get_by_role("button", name="Book this time").click()
    assert doctor.get_by_text("The call is booked. The specialist will ring you then.").is_visible()
    assert doctor.get_by_role("link", name="Add it to your calendar (.ics file)").is_visible()
    both_widths(doctor, "doctor-call-booked", "the doctor's call page, booked")
    assert DoctorCall.objects.get(case=case).status == "booked"

    # ... and, from the report's emailed link, asks the specialist one question.
    doctor.goto(share_path)
    assert doctor.get_by_text(DIAGNOSIS).first.is_visible()
    form = doctor.get_by_role("region", name="Ask the specialist")
    form.get_by_role("button", name="Send the question").click()
    assert doctor.get_by_role("alert").get_by_text("Enter your question.").is_visible()
    assert_accessible(doctor, "physician's page with an error")
    doctor.get_by_label("Your question to the specialist").fill(QUESTION)
    doctor.get_by_role("button", name="Send the question").click()
    assert doctor.get_by_text("Your question is sent to the specialist.").is_visible()
    assert doctor.get_by_text("Waiting for the specialist's answer").is_visible()
    # One question: a second is not offered.
    assert doctor.get_by_role("button", name="Send the question").count() == 0
    both_widths(doctor, "physician-asked", "physician's page, question asked")
    assert PhysicianQuestion.objects.count() == 1
    # With the patient's consent the doctor may send records too: the upload page.
    doctor.get_by_role("link", name="Send records").click()
    assert doctor.get_by_role("heading", name="Send records for your patient").is_visible()
    both_widths(doctor, "physician-records", "the doctor's records upload page")
    assert ShareOpening.objects.filter(share__recipient_email=PCP_EMAIL).exists()

    # The specialist answers the question ...
    sp.goto(reverse("requests_app:staff_case", args=[case.uuid]))
    assert sp.get_by_text(QUESTION).is_visible()
    sp.get_by_role("link", name="Answer the doctor's question").click()
    sp.get_by_role("button", name="Send the answer").click()
    assert sp.get_by_role("alert").get_by_text("Enter your answer.").is_visible()
    both_widths(sp, "physician-answer-form", "answer to the doctor, with an error")
    sp.get_by_label("Your answer").fill(ANSWER)
    sp.get_by_role("button", name="Send the answer").click()
    assert sp.get_by_text("Your answer is sent to the patient and their doctor.").is_visible()
    assert_accessible(sp, "the answer sent")

    # ... and, once the call has taken place, records it with a note for the patient.
    DoctorCall.objects.filter(case=case).update(
        starts_at=timezone.now() - datetime.timedelta(hours=1),
        ends_at=timezone.now() - datetime.timedelta(minutes=30),
    )
    sp.goto(reverse("requests_app:staff_case", args=[case.uuid]))
    sp.get_by_role("link", name="Open the call").click()
    assert sp.get_by_text("617 555 0100").is_visible()
    sp.get_by_label("Yes, we talked").check()
    sp.get_by_label("A short note for the patient").fill(CALL_NOTE)
    sp.get_by_role("button", name="Save").click()
    assert sp.get_by_text("The call is recorded. The patient reads your note.").is_visible()
    both_widths(sp, "doctor-call-held", "the call's page, held")

    # The doctor reads the answer and the note on their link.
    doctor.goto(share_path)
    assert doctor.get_by_text(ANSWER).is_visible()
    assert doctor.get_by_text(CALL_NOTE).is_visible()
    both_widths(doctor, "physician-answered", "physician's page, answered")
    assert_no_csp_violations(doctor)

    # The patient's page shows everything the doctor did.
    page.goto(reverse("requests_app:case_detail", args=[case.uuid]))
    panel = page.get_by_role("region", name="Your doctor")
    assert panel.get_by_text(QUESTION).is_visible()
    assert panel.get_by_text(ANSWER).is_visible()
    assert panel.get_by_text(CALL_NOTE).is_visible()
    for did in ("asked the specialist a question", "booked the call with the specialist"):
        assert panel.get_by_text(re.compile(f"Dr. Ana Ruiz {did}")).is_visible(), did
    assert panel.get_by_text(re.compile("Dr. Ana Ruiz opened your report")).first.is_visible()
    both_widths(page, "physician-patient-sees", "patient's case page with their doctor")

    # === 5. A third opinion ====================================================================
    page.goto(reverse("reports:case", args=[case.uuid]))
    page.get_by_role("link", name="Ask for a third opinion").click()
    assert page.get_by_role("heading", level=1, name="Ask for a third opinion").is_visible()
    assert page.get_by_text("$750.00 (USD)").is_visible()
    page.get_by_role("button", name="Ask for a third opinion").click()
    assert page.get_by_role("alert").get_by_text("Tick the box to agree to the fee").is_visible()
    both_widths(page, "third-opinion-ask", "third opinion ask, with an error")
    page.get_by_label("I agree to the fee shown for the third opinion").check()
    page.get_by_role("button", name="Ask for a third opinion").click()
    assert page.get_by_text("You asked for a third opinion.").is_visible()
    child = Case.objects.get(parent=case)
    page.wait_for_url(re.compile(f"{child.uuid}"))
    assert_accessible(page, "the third opinion's own request")
    assert_no_csp_violations(page)

    # The coordinator matches it: not the second specialist, nor the diagnosing hospital.
    for status in (CaseStatus.TRIAGE, CaseStatus.MATCHING):
        case_transition(actor=coordinator, ref=child.uuid, to_status=status)
    mp.goto(reverse("requests_app:staff_case", args=[child.uuid]))
    assert mp.get_by_text(re.compile("A blinded third opinion on")).is_visible()
    mp.get_by_role("link", name="Find a specialist").click()
    assert_accessible(mp, "matching a third opinion")
    ranked = mp.locator(".match-list > li")
    assert ranked.count() == 1 and "Dr. Ravi Wu" in ranked.first.inner_text()
    assert mp.get_by_role("button", name=f"Offer to {second.full_name}").count() == 0
    excluded = mp.locator("#excluded").inner_text()
    assert "1 gave the opinion this third opinion is on" in excluded
    assert "1 at the diagnosing institution" in excluded
    screenshot(mp, "third-opinion-matching")
    mp.get_by_role("button", name="Offer to Dr. Ravi Wu").click()
    assert mp.get_by_text("The case is offered.").is_visible()

    # The third specialist: the second report is closed to them until they sign.
    offer_accept(actor=third, case_ref=child.uuid, conflict_attested=True)
    tp = browser_for()
    staff_sign_in(tp, third.email)
    tp.wait_for_url(re.compile("/specialist/"))
    for url in (
        reverse("reports:case", args=[case.uuid]),
        reverse("reports:pdf", args=[version.uuid]),
        reverse("reports:opinions", args=[child.uuid]),
    ):
        assert tp.goto(url).status in (403, 404), url
    tp.goto(reverse("requests_app:staff_case", args=[child.uuid]))
    assert tp.get_by_text(re.compile("This is a blinded third opinion")).is_visible()
    assert tp.get_by_text("Fibroadenoma").count() == 0
    assert_accessible(tp, "the third specialist's case page")
    tp.goto(reverse("records:case_records", args=[child.uuid]))
    assert tp.get_by_text("Core biopsy, left breast").first.is_visible()
    sign(
        child,
        third,
        records=[str(record.uuid)],
        diagnosis_opinion="different",
        treatment_opinion="changes",
        text={
            **COMPLETE["text"],
            "diagnosis": "Fibroadenoma of the left breast",
            "recommendations": "No operation; an ultrasound scan in six months.",
            "reasons": "A benign tumour on the biopsy: watching it is enough.",
        },
    )
    tp.goto(reverse("requests_app:staff_case", args=[child.uuid]))
    tp.get_by_role("link", name="Compare the opinions side by side").click()
    assert tp.get_by_text(DIAGNOSIS).is_visible()
    assert_accessible(tp, "opinions side by side, for the third specialist")
    assert_no_csp_violations(tp)

    # The case manager releases it and writes the reconciliation.
    release(child, coordinator)
    mp.goto(reverse("requests_app:staff_case", args=[child.uuid]))
    mp.get_by_role("button", name="Save the reconciliation").click()
    assert mp.get_by_role("alert").get_by_text("Write how the opinions compare").is_visible()
    assert_accessible(mp, "reconciliation with an error")
    mp.get_by_label("How the opinions compare").fill(RECONCILIATION)
    mp.get_by_role("button", name="Save the reconciliation").click()
    assert mp.get_by_text("Saved: the patient reads it").is_visible()
    assert_accessible(mp, "staff case page, reconciled")
    assert_no_csp_violations(mp)
    assert_no_csp_violations(sp)

    # The patient sees the three views and the reconciliation.
    page.goto(reverse("requests_app:case_detail", args=[child.uuid]))
    page.get_by_role("link", name="Compare the opinions side by side").click()
    assert page.get_by_text(RECONCILIATION).is_visible()
    table = page.locator(".opinions-table").inner_text()
    for view in ("Your first doctor said", "Breast cancer, left side", DIAGNOSIS):
        assert view in table, view
    assert "The third opinion" in table and "Fibroadenoma of the left breast" in table
    both_widths(page, "third-opinion-compare", "the three opinions, for the patient")
    assert_no_csp_violations(page)
    assert not Share.objects.filter(revoked_at__isnull=False).exists()
