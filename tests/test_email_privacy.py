"""Every email SecondOp sends is free of medical detail (issue 11: "Every email the
app sends (subjects and both bodies) is checked against every case's diagnosis
text, condition name and record titles: none appears").

Three cases are driven through the services, with their on-commit work run as
production runs it with no broker (eager Celery: notification delivery, record
checks, the report's PDF, the physician's email), until every kind of
notification has been emailed at least once, and the physician's link too:

  A (breast cancer): intake section by section, submit, triage, the cost
    checked, records asked for, an answer changed after sending, a records office
    asked for them (the request signed, emailed with its letter, a day-10 reminder), a file
    rejected and the asked-for one checked, matching, offer and acceptance,
    a question (with the record), an internal note, the patient's answer, a
    message from the case manager, overdue, a consultation proposed, other times
    asked for, new times, booked (the .ics), moved, booked again, the day-before
    reminder, cancelled, a second one missed, then declined by the patient with
    her reason; the report signed, returned,
    signed, released; the physician's link; a follow-up asked and answered; an
    amendment signed, returned, signed, released; closed.
  B (glioblastoma): submitted, offered, declined, offered to another
    specialist, withdrawn by the patient.
  C (lymphoma): submitted, cancelled by the coordinator, with a digest window:
    the patient's two notices go out as one email.
  Accounts: a password change (the security notice), a staff invitation and the
  notice to an old address after an email change.

Every notification email has its own words per kind (no subject shared by two
kinds), greets the person by name and links to its page through sign-in.

Then every message in the outbox (subject, text body, HTML alternative, every
text attachment, and each decoded MIME part) is searched, case-insensitively,
for every case's diagnosis, its distinctive words, its ICD-10 code and title,
concerns, proposed treatment, symptoms and medications, questions, record
titles, record request notes, message bodies, consultation notes, exam notes
and video room, report text, amendment reasons, return comments and follow-ups.
"""

import datetime
import html
import re
from decimal import Decimal
from email.header import decode_header, make_header
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from records import services as records_services
from records.models import Record, RecordRequest
from records.retrieval import office_services
from records.retrieval import services as retrieval
from records.retrieval.models import OfficeLink
from requests_app import services as case_services
from requests_app.aftercare import services as aftercare_services
from requests_app.aftercare.models import FollowUpQuestion, PhysicianQuestion
from requests_app.caregivers.services import caregiver_invite
from requests_app.consultations import doctor_calls
from requests_app.consultations import services as consultations
from requests_app.consultations.models import Consultation, ConsultationEvent, DoctorCall
from requests_app.icd10.loading import load_icd10_codes
from requests_app.icd10.models import Icd10Code
from requests_app.messaging import services as messaging
from requests_app.messaging.models import Message
from requests_app.models import Case, CaseEvent, CaseStatus
from requests_app.notices import OFFER_MADE
from requests_app.outcomes import services as outcomes_services
from requests_app.reports import services as reports
from requests_app.reports.models import ReportAnswer, ReportVersion
from requests_app.workflow import case_transition
from secondop.accounts.models import User
from secondop.accounts.services import email_changed_notice_queue, staff_invite
from secondop.notifications import registry
from secondop.notifications.models import EmailStatus, Notification
from secondop.notifications.services import notification_deliver
from specialists import services as offers
from specialists.models import Specialty
from specialists.services import specialties_load
from tests.accounts.factories import PASSWORD, UserFactory, enrol_totp
from tests.records import samples
from tests.records.factories import RecordFactory
from tests.requests_app.factories import CaseFactory
from tests.specialists.factories import SpecialistFactory

pytestmark = pytest.mark.django_db

EASTERN = ZoneInfo(settings.TIME_ZONE)
PCP_EMAIL = "ana.ruiz@clinic.example"

# Kinds that no service can email, with the reason. Empty: every kind is sent below.
NOT_TRIGGERABLE: dict[str, str] = {}
RECORDS_OFFICE_EMAIL = "release@mercy.example"

# --- Case A: what the patient and the care team write -------------------------------------
A = {
    "diagnosis": "Invasive lobular carcinoma of the left breast, grade 2",
    "icd10": "C50.912",
    "concerns": "Whether the tamoxifen will stop the lobular cancer coming back",
    "proposed_treatment": "Bilateral mastectomy followed by tamoxifen for five years",
    "symptoms": "A hard lump near the left nipple since July, with dimpling of the skin",
    "symptoms_amended": "A hard lump near the left nipple since June, the skin now puckered",
    "medications": "Letrozole 2.5 mg trial stopped in September",
    "questions": [
        "Do I really need both breasts removed?",
        "Would an Oncotype DX score change the chemotherapy plan?",
    ],
    "record_request": "Your core needle biopsy pathology with the E-cadherin stain",
    "record": "Core needle biopsy, left breast, E-cadherin negative",
    "record_rejected": "Axillary ultrasound showing an enlarged lymph node",
    "study": "Breast MRI with a suspicious enhancing mass",
    "study_again": "Breast MRI again, the contrast series",
    # What the images of another person say (their name and birth date: never emailed).
    "dicom_name": "WHITAKER^ROSALIND",
    "dicom_birth_date": "19580214",
    "insurance_note": "Self-pay rate agreed; the mammography review is included",
    "thread_question": "Has the puckering of the left breast skin spread since the biopsy?",
    "internal_note": "Ask pathology to re-cut the block for HER2 immunohistochemistry.",
    "thread_answer": "Yes, the dimpling now reaches the areola on the left side.",
    "team_message": "Your pathology slides for the lobular carcinoma reached us from Metro.",
    "other_times": "Not mornings: I have radiotherapy planning at 9 every weekday",
    "reschedule": "I must move it: the tumour board for your mastectomy meets then",
    "cancel": "The chemotherapy port placement was booked for that afternoon",
    "decline": "My breast surgeon at Metro will examine the lump before the mastectomy instead",
    "report": {
        "summary": "Core biopsy shows a 2.1 cm grade 2 invasive lobular carcinoma, "
        "E-cadherin negative, ER strongly positive.",
        "diagnosis": "Invasive lobular carcinoma, left breast, stage IIA (T2 N0)",
        "diagnosis_comment": "MRI is needed: lobular tumours are often larger than mammography shows.",
        "recommendations": "Breast MRI first; lumpectomy is possible if it confirms a single focus.",
        "prognosis": "Favourable: hormone-receptor-positive lobular disease responds to letrozole.",
        "follow_up": "Bilateral breast MRI within two weeks; Oncotype DX on the surgical specimen.",
        "reasons": "Lobular carcinoma hides from mammography: the MRI decides the surgery.",
    },
    "answers": {
        1: "No: a single lobular focus can be treated by lumpectomy and radiotherapy.",
        2: "Yes: a low recurrence score would spare you chemotherapy.",
    },
    "return_comment": "Please state the MRI finding that would rule out lumpectomy.",
    "recommendations_v2": "Breast MRI first; lumpectomy unless it shows multicentric lobular "
    "disease, which would favour mastectomy.",
    "follow_up_question": "Can the breast MRI be done while I am still on letrozole?",
    "follow_up_answer": "Yes: letrozole does not change how the MRI shows the lobular tumour.",
    "physician_question": "Should she stop letrozole before the lumpectomy for the lobular focus?",
    "physician_answer": "Continue letrozole until the lumpectomy; the MRI shows one lobular focus.",
    "doctor_call_topic": "Whether the lobular focus changes the lumpectomy date",
    "doctor_call_note": "We agreed: MRI first, then lumpectomy if the lobular focus is single.",
    "amendment": "The MRI showed a second lobular focus at 4 o'clock in the left breast.",
    "prognosis_v3": "Still favourable after mastectomy of the multicentric lobular carcinoma.",
    "amendment_comment": "Add the size of the second focus seen on the MRI.",
    "words": [
        "carcinoma",
        "lobular",
        "breast",
        "mastectomy",
        "tamoxifen",
        "letrozole",
        "biopsy",
        "E-cadherin",
        "Oncotype",
        "chemotherapy",
        "radiotherapy",
        "tumour",
        "lumpectomy",
        "nipple",
        "areola",
        "axillary",
        "neoplasm",
        "malignant",
        "MRI",
    ],
}

# --- Case B ----------------------------------------------------------------------------------
B = {
    "diagnosis": "Glioblastoma of the right frontal lobe, IDH wild-type",
    "icd10": "C71.1",
    "concerns": "Whether a second resection of the glioblastoma is worth the risk",
    "proposed_treatment": "Temozolomide with radiotherapy after a subtotal resection",
    "symptoms": "Seizures and word-finding trouble since April",
    "record": "MRI brain with gadolinium, right frontal enhancing mass",
    "question": "Should the MGMT methylation status change my temozolomide plan?",
    "withdraw": "My neurosurgeon found a glioma trial for me closer to home",
    "words": [
        "glioblastoma",
        "frontal",
        "temozolomide",
        "resection",
        "seizure",
        "glioma",
        "MGMT",
        "gadolinium",
    ],
}

# --- Case C ----------------------------------------------------------------------------------
C = {
    "diagnosis": "Classical Hodgkin lymphoma, nodular sclerosis, stage IIB",
    "icd10": "C81.10",
    "concerns": "Whether ABVD will harm my fertility",
    "proposed_treatment": "Six cycles of ABVD chemotherapy then involved-site radiotherapy",
    "symptoms": "Night sweats, weight loss and a neck node since January",
    "record": "Excision biopsy of a left cervical lymph node, Reed-Sternberg cells",
    "cancel": "Duplicate of a request already opened for the lymphoma by phone",
    "words": ["Hodgkin", "lymphoma", "ABVD", "sclerosis", "Reed-Sternberg", "fertility"],
}


# --- Helpers ---------------------------------------------------------------------------------
@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """Run a service and then what it queued on commit, as production does with no
    broker: eager Celery tasks (which may queue more; those run too)."""

    def run(service, /, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return run


def _icd10(code: str) -> Icd10Code:
    if not Icd10Code.objects.filter(code=code).exists():
        load_icd10_codes(Icd10Code)
    return Icd10Code.objects.get(code=code)


def at(days: int, hour: int) -> datetime.datetime:
    day = timezone.localtime(timezone.now(), EASTERN).date() + datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=EASTERN)


def span(days: int, hour: int) -> tuple[datetime.datetime, datetime.datetime]:
    return at(days, hour), at(days, hour) + datetime.timedelta(minutes=45)


def newest_slot(consultation: Consultation):
    consultation.refresh_from_db()
    return consultation.slots.filter(round=consultation.round).order_by("starts_at").first()


def _unfold_ics(text: str) -> str:
    # RFC 5545 folds lines at 75 octets and escapes , ; and newlines in text values.
    text = re.sub(r"\r?\n[ \t]", "", text)
    return text.replace("\\n", " ").replace("\\N", " ").replace("\\,", ",").replace("\\;", ";")


def _readable_parts(message) -> dict[str, str]:
    """Everything a person (or their mail client) can read in the message."""
    parts = {"subject": message.subject, "text body": message.body}
    for n, alternative in enumerate(message.alternatives):
        content, mimetype = alternative[0], alternative[1]
        parts[f"alternative {n} ({mimetype})"] = html.unescape(content)
    for attachment in message.attachments:
        name, content, mimetype = attachment[0], attachment[1], attachment[2]
        if isinstance(content, bytes):
            content = content.decode("utf-8", errors="replace")
        parts[f"attachment {name} ({mimetype})"] = (
            _unfold_ics(content) if mimetype.startswith("text/calendar") else content
        )
    # The message as it goes over the wire, each part decoded: nothing hides in an
    # encoding (quoted-printable, base64) or a header.
    wire = message.message()
    parts["header Subject"] = str(make_header(decode_header(wire["Subject"])))
    for n, part in enumerate(wire.walk()):
        if part.get_content_maintype() != "text":
            continue
        text = part.get_payload(decode=True).decode(
            part.get_content_charset() or "utf-8", errors="replace"
        )
        if part.get_content_subtype() == "html":
            text = html.unescape(text)
        elif part.get_content_subtype() == "calendar":
            text = _unfold_ics(text)
        parts[f"MIME part {n} ({part.get_content_type()})"] = text
    return parts


def _normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


def _forbidden(case: Case, words: list[str]) -> set[str]:
    """What the case says about someone's health, as typed into SecondOp."""
    said = [
        case.diagnosis,
        case.concerns,
        case.proposed_treatment,
        case.symptoms,
        case.medications,
        case.other_conditions,
        case.insurance_note,
        *words,
    ]
    if case.icd10_id:
        said += [case.icd10.code, case.icd10.title]
    said += case.questions.values_list("text", flat=True)
    said += Record.objects.filter(case=case).values_list("title", flat=True)
    said += RecordRequest.objects.filter(case=case).values_list("note", flat=True)
    said += Message.objects.filter(case=case).values_list("body", flat=True)
    for consultation in Consultation.objects.filter(case=case):
        said += [consultation.video_room, consultation.exam_notes, consultation.place]
        if consultation.video_room:
            said.append(consultation.video_url)
    said += ConsultationEvent.objects.filter(consultation__case=case).values_list("note", flat=True)
    for version in ReportVersion.objects.filter(report__case=case):
        said += [
            version.summary,
            version.diagnosis,
            version.diagnosis_comment,
            version.recommendations,
            version.prognosis,
            version.follow_up,
            version.amendment_reason,
            version.return_comment,
        ]
        if version.icd10_id:
            said += [version.icd10.code, version.icd10.title]
    said += ReportAnswer.objects.filter(version__report__case=case).values_list("answer", flat=True)
    for question in FollowUpQuestion.objects.filter(case=case):
        said += [question.text, question.answer]
    for asked in PhysicianQuestion.objects.filter(case=case):
        said += [asked.text, asked.answer]
    for call in DoctorCall.objects.filter(case=case):
        said += [call.topic, call.outcome_note]
    # The patient's own reasons for withdrawing or cancelling (typed, not ours).
    said += CaseEvent.objects.filter(
        case=case, new_status__in=[CaseStatus.WITHDRAWN, CaseStatus.CANCELLED]
    ).values_list("reason", flat=True)
    return {s.strip() for s in said if s and s.strip()}


# --- The world ---------------------------------------------------------------------------------
@pytest.fixture
def people(db):
    if not Specialty.objects.exists():
        specialties_load()
    maria = UserFactory(email="maria@example.com", full_name="Maria Lopez")
    james = UserFactory(email="james@example.com", full_name="James Okafor")
    ruth = UserFactory(email="ruth@example.com", full_name="Ruth Stein")
    grace = UserFactory(role="coordinator", email="grace@example.com", full_name="Grace Nurse")
    enrol_totp(grace)
    # A second coordinator: told of what every coordinator is told, and of Grace's moves.
    omar = UserFactory(role="coordinator", email="omar@example.com", full_name="Omar Reyes")
    enrol_totp(omar)
    marsh = SpecialistFactory(
        user__full_name="Dr. Helen Marsh",
        user__email="marsh@example.com",
        title="MD, PhD",
        institution="Lakeside University Hospital",
    ).user
    wu = SpecialistFactory(user__full_name="Dr. Lin Wu", user__email="wu@example.com").user
    admin = UserFactory(
        role="admin",
        email="ada@example.com",
        full_name="Ada Admin",
        is_staff=True,
        is_superuser=True,
    )
    return {
        "maria": maria,
        "james": james,
        "ruth": ruth,
        "grace": grace,
        "omar": omar,
        "marsh": marsh,
        "wu": wu,
        "admin": admin,
    }


def _case_a(deliver, p) -> Case:
    """Case A from the first answer to closed."""
    maria, grace, marsh = p["maria"], p["grace"], p["marsh"]
    oncology = Specialty.objects.get(slug="oncology")
    today = timezone.localdate()

    # --- Intake, section by section, and submit ---------------------------------------------
    case = case_services.case_start(actor=maria)
    answers = {
        "who": {"relationship": "self"},
        "about": {
            "patient_dob": datetime.date(1968, 4, 2),
            "patient_sex": "female",
            "patient_phone": "212 555 0199",
            "patient_state": "NY",
            "preferred_language": "English",
        },
        "diagnosis": {
            "diagnosis": A["diagnosis"],
            "icd10": _icd10(A["icd10"]),
            "diagnosed_on": today - datetime.timedelta(days=60),
            "diagnosing_physician": "Dr. Paul Weiss",
            "diagnosing_institution": "Metro General",
        },
        "treatment": {"proposed_treatment": A["proposed_treatment"], "treatment_started": "no"},
        "reasons": {
            "reasons": ["confirm_diagnosis", "compare_treatments"],
            "concerns": A["concerns"],
            "questions": A["questions"],
        },
        "background": {"symptoms": A["symptoms"], "medications": A["medications"]},
        "specialist": {"specialty": oncology, "consultation_type": "video"},
        "pcp": {
            "pcp_name": "Dr. Ana Ruiz",
            "pcp_email": PCP_EMAIL,
            "pcp_referred": "yes",
            "pcp_consent_to_share": True,
        },
        "insurance": {"payment": "self_pay"},
        "authorisation": {"signature": maria.full_name},
    }
    for section, data in answers.items():
        case_services.case_section_save(
            actor=maria, case_ref=case.uuid, section=section, data=data, complete=True
        )
    case = deliver(case_services.case_submit, actor=maria, case_ref=case.uuid)  # SUBMITTED

    # --- Triage: the cost, records asked for, an answer changed ---------------------------------
    deliver(case_services.case_claim, actor=grace, case_ref=case.uuid)
    deliver(case_transition, actor=grace, ref=case.uuid, to_status=CaseStatus.TRIAGE)
    deliver(
        case_services.case_insurance_check,
        actor=grace,
        case_ref=case.uuid,
        status="self_pay",
        fee_quoted=Decimal("450.00"),
        note=A["insurance_note"],
    )
    deliver(
        case_services.case_fee_confirm, actor=maria, case_ref=case.uuid, fee_seen=Decimal("450.00")
    )  # the case manager is told
    asked = deliver(
        records_services.record_request_create,
        actor=grace,
        case_ref=case.uuid,
        note=A["record_request"],
        category="pathology",
    )  # RECORDS_REQUESTED
    deliver(
        case_services.case_section_save,
        actor=maria,
        case_ref=case.uuid,
        section="background",
        data={"symptoms": A["symptoms_amended"]},
    )  # AMENDED

    # --- Records retrieval: a source listed and signed, the request emailed, a reminder ----------
    source = deliver(
        retrieval.source_add,
        actor=maria,
        case_ref=case.uuid,
        name="Mercy Hospital",
        kind="pathology",
        email=RECORDS_OFFICE_EMAIL,
        wanted=["pathology_report", "pathology_slides", "imaging_dicom"],
    )
    deliver(
        retrieval.source_sign,
        actor=maria,
        source_ref=source.uuid,
        signature=maria.full_name,
        agreed=True,
    )  # RECORDS_RETRIEVAL: ready to send
    deliver(retrieval.source_send_email, actor=grace, source_ref=source.uuid)  # the letter
    source.refresh_from_db()
    assert source.sent_on is not None
    deliver(
        retrieval.source_reminders_send, today=source.sent_on + datetime.timedelta(days=10)
    )  # RECORDS_RETRIEVAL: day 10

    # --- Uploads: one file refused, the asked-for record checked ------------------------------
    def upload(title: str, data: bytes, answers=None) -> Record:
        made = records_services.record_slots_create(
            actor=maria,
            case_ref=case.uuid,
            category="pathology",
            title=title,
            service_date=today - datetime.timedelta(days=40),
            answers=answers,
            files=[
                {
                    "client_id": "f1",
                    "name": "lobular-carcinoma-biopsy.pdf",
                    "size": len(data),
                    "type": "application/pdf",
                }
            ],
        )
        default_storage.save(made.files[0].file.key, ContentFile(data))
        deliver(records_services.record_confirm, actor=maria, record_ref=made.record.uuid)
        made.record.refresh_from_db()
        return made.record

    refused = upload(A["record_rejected"], samples.executable())
    assert refused.state == "rejected"  # CASE_UPDATE: a file could not be accepted
    record = upload(A["record"], samples.pdf(), answers=asked.uuid)
    assert record.state == "verified"  # RECORDS_RECEIVED: the case is back in triage
    assert Case.objects.get(pk=case.pk).status == CaseStatus.TRIAGE

    # --- A study labelled for another person (the patient is asked), then the same study
    # again as a ZIP (kept once: the patient is told) --------------------------------------
    def upload_files(title: str, files: dict[str, bytes]) -> Record:
        made = records_services.record_slots_create(
            actor=maria,
            case_ref=case.uuid,
            category="imaging",
            title=title,
            service_date=None,
            answers=None,
            files=[
                {
                    "client_id": f"f{n}",
                    "name": name.rsplit("/", 1)[-1],
                    "relative_path": name,
                    "size": len(data),
                    "type": "",
                }
                for n, (name, data) in enumerate(files.items())
            ],
        )
        for slot, data in zip(made.files, files.values(), strict=True):
            default_storage.save(slot.file.key, ContentFile(data))
        deliver(records_services.record_confirm, actor=maria, record_ref=made.record.uuid)
        made.record.refresh_from_db()
        return made.record

    disc = samples.study_files(
        series=1, instances=2, patient_name=A["dicom_name"], birth_date=A["dicom_birth_date"]
    )
    flagged = upload_files(A["study"], disc)
    assert flagged.identity == "asked"  # CASE_UPDATE: please check a record: is it yours?
    again = upload_files(A["study_again"], {"CD/scans.zip": samples.zip_of(disc)})
    assert again.reason == "duplicate_study"  # CASE_UPDATE: you already sent this

    # --- Matching, offer, acceptance ----------------------------------------------------------
    deliver(case_transition, actor=grace, ref=case.uuid, to_status=CaseStatus.MATCHING)
    deliver(offers.offer_make, actor=grace, case_ref=case.uuid, specialist_id=marsh.pk)
    deliver(offers.offer_accept, actor=marsh, case_ref=case.uuid, conflict_attested=True)

    # --- Messages ------------------------------------------------------------------------------
    deliver(
        messaging.message_post,
        actor=marsh,
        case_ref=case.uuid,
        question=True,
        body=A["thread_question"],
        attachment_refs=[record.uuid],
    )
    deliver(
        messaging.message_post,
        actor=marsh,
        case_ref=case.uuid,
        internal=True,
        body=A["internal_note"],
    )
    deliver(messaging.message_post, actor=maria, case_ref=case.uuid, body=A["thread_answer"])
    deliver(messaging.message_post, actor=grace, case_ref=case.uuid, body=A["team_message"])

    # --- Past its due date ------------------------------------------------------------------------
    case.refresh_from_db()
    assert (
        deliver(case_services.cases_flag_overdue, now=case.due_at + datetime.timedelta(hours=1))
        == 1
    )  # OVERDUE

    # --- Consultations ---------------------------------------------------------------------------
    consultation = deliver(
        consultations.consultation_propose,
        actor=marsh,
        case_ref=case.uuid,
        slots=[span(3, 10), span(4, 15)],
    )
    deliver(
        consultations.consultation_ask_other_times,
        actor=maria,
        ref=consultation.uuid,
        note=A["other_times"],
    )
    deliver(
        consultations.consultation_reschedule,
        actor=marsh,
        ref=consultation.uuid,
        slots=[span(5, 13), span(6, 15)],
    )
    deliver(
        consultations.consultation_book,
        actor=maria,
        ref=consultation.uuid,
        slot_ref=newest_slot(consultation).uuid,
    )  # the .ics: REQUEST
    deliver(
        consultations.consultation_reschedule,
        actor=marsh,
        ref=consultation.uuid,
        slots=[span(7, 13), span(8, 15)],
        reason=A["reschedule"],
    )  # the .ics: CANCEL
    deliver(
        consultations.consultation_book,
        actor=maria,
        ref=consultation.uuid,
        slot_ref=newest_slot(consultation).uuid,
    )
    consultation.refresh_from_db()
    assert (
        deliver(
            consultations.consultation_reminders_send,
            now=consultation.starts_at - datetime.timedelta(hours=12),
        )
        == 1
    )  # REMINDER
    deliver(
        consultations.consultation_cancel, actor=maria, ref=consultation.uuid, reason=A["cancel"]
    )
    second = deliver(
        consultations.consultation_propose,
        actor=marsh,
        case_ref=case.uuid,
        slots=[span(9, 13), span(10, 15)],
    )
    deliver(
        consultations.consultation_book,
        actor=maria,
        ref=second.uuid,
        slot_ref=newest_slot(second).uuid,
    )
    past = timezone.now() - datetime.timedelta(hours=2)
    Consultation.objects.filter(pk=second.pk).update(
        starts_at=past, ends_at=past + datetime.timedelta(minutes=45)
    )
    deliver(
        consultations.consultation_record_outcome, actor=marsh, ref=second.uuid, outcome="missed"
    )
    assert Case.objects.get(pk=case.pk).status == CaseStatus.IN_REVIEW
    # Settled before signing: the patient declines another one, saying why.
    deliver(consultations.consultation_decline, actor=maria, case_ref=case.uuid, note=A["decline"])

    # --- The report: signed, returned, signed again, released ------------------------------------
    deliver(
        reports.report_draft_save,
        actor=marsh,
        case_ref=case.uuid,
        text=A["report"],
        diagnosis_opinion="refined",
        treatment_opinion="changes",
        icd10=_icd10(A["icd10"]),
        records=[record.uuid],
        answers=A["answers"],
    )
    first = deliver(reports.report_sign, actor=marsh, case_ref=case.uuid)  # REPORT_SUBMITTED
    deliver(
        reports.report_return, actor=grace, version_ref=first.uuid, comment=A["return_comment"]
    )  # REPORT_RETURNED
    deliver(
        reports.report_draft_save,
        actor=marsh,
        case_ref=case.uuid,
        text={**A["report"], "recommendations": A["recommendations_v2"]},
        diagnosis_opinion="refined",
        treatment_opinion="changes",
        icd10=_icd10(A["icd10"]),
        records=[record.uuid],
        answers=A["answers"],
    )
    signed = deliver(reports.report_sign, actor=marsh, case_ref=case.uuid)
    deliver(reports.report_release, actor=grace, version_ref=signed.uuid)  # REPORT_RELEASED
    assert Case.objects.get(pk=case.pk).status == CaseStatus.DELIVERED

    # --- Aftercare: the physician's link, a follow-up question and its answer ----------------------
    deliver(
        aftercare_services.share_create,
        actor=maria,
        case_ref=case.uuid,
        email=PCP_EMAIL,
        name="Dr. Ana Ruiz",
        consented=True,
        participation=True,
    )
    # The physician's one question, through the link in their email (PHYSICIAN).
    physician_email = next(m for m in mail.outbox if m.to == [PCP_EMAIL])
    physician_token = re.search(r"/shared/([^/\s]+)/", physician_email.body)[1]
    asked = deliver(
        aftercare_services.physician_question_ask,
        token=physician_token,
        text=A["physician_question"],
    )
    deliver(
        aftercare_services.physician_question_answer,
        actor=marsh,
        question_ref=asked.uuid,
        answer=A["physician_answer"],
    )
    # A call between the doctors (DOCTOR_CALL): the physician asks through their link,
    # the specialist proposes times (the physician's own email with their call's link),
    # the physician books (the specialist's .ics), the specialist records it held.
    call = deliver(
        doctor_calls.doctor_call_request_by_physician,
        token=physician_token,
        topic=A["doctor_call_topic"],
    )
    deliver(
        doctor_calls.doctor_call_propose,
        actor=marsh,
        ref=call.uuid,
        slots=[span(4, 10), span(4, 13)],
    )
    call_email = next(m for m in reversed(mail.outbox) if m.to == [PCP_EMAIL])
    call_token = re.search(r"/doctor-call/([^/\s]+)/", call_email.body)[1]
    deliver(
        doctor_calls.doctor_call_book,
        token=call_token,
        slot_ref=call.slots.first().uuid,
        phone="617 555 0100",
    )
    DoctorCall.objects.filter(pk=call.pk).update(
        starts_at=timezone.now() - datetime.timedelta(hours=1),
        ends_at=timezone.now() - datetime.timedelta(minutes=30),
    )
    deliver(
        doctor_calls.doctor_call_record_outcome,
        actor=marsh,
        ref=call.uuid,
        outcome="held",
        note=A["doctor_call_note"],
    )
    question = deliver(
        aftercare_services.follow_up_ask,
        actor=maria,
        case_ref=case.uuid,
        text=A["follow_up_question"],
    )  # FOLLOW_UP
    deliver(
        aftercare_services.follow_up_answer,
        actor=marsh,
        question_ref=question.uuid,
        kind="tests",
        answer=A["follow_up_answer"],
    )
    # Three months on (the beat's service, for this case): did it change the treatment?
    deliver(outcomes_services.outcome_ask, case_id=case.pk)  # OUTCOME_ASKED

    # --- An amendment: signed, returned, signed again, released -------------------------------------
    deliver(reports.report_amend, actor=marsh, case_ref=case.uuid, reason=A["amendment"])
    deliver(
        reports.report_draft_save,
        actor=marsh,
        case_ref=case.uuid,
        text={
            **A["report"],
            "recommendations": A["recommendations_v2"],
            "prognosis": A["prognosis_v3"],
        },
        diagnosis_opinion="refined",
        treatment_opinion="changes",
        icd10=_icd10(A["icd10"]),
        records=[record.uuid],
        answers=A["answers"],
    )
    amended = deliver(reports.report_sign, actor=marsh, case_ref=case.uuid)
    deliver(
        reports.report_return, actor=grace, version_ref=amended.uuid, comment=A["amendment_comment"]
    )
    amended = deliver(reports.report_sign, actor=marsh, case_ref=case.uuid)
    deliver(reports.report_release, actor=grace, version_ref=amended.uuid)

    # --- Closed ------------------------------------------------------------------------------------
    deliver(case_transition, actor=grace, ref=case.uuid, to_status=CaseStatus.CLOSED)  # CLOSED
    return Case.objects.get(pk=case.pk)


def _case_b(deliver, p) -> Case:
    """Offered, declined, offered to another specialist, withdrawn by the patient."""
    james, grace = p["james"], p["grace"]
    draft = CaseFactory(
        owner=james,
        complete=True,
        diagnosis=B["diagnosis"],
        icd10=_icd10(B["icd10"]),
        concerns=B["concerns"],
        proposed_treatment=B["proposed_treatment"],
        symptoms=B["symptoms"],
    )
    draft.questions.update(text=B["question"])
    case = deliver(case_services.case_submit, actor=james, case_ref=draft.uuid)
    RecordFactory(case=case, title=B["record"], uploaded_by=james)
    deliver(case_services.case_claim, actor=grace, case_ref=case.uuid)
    deliver(case_transition, actor=grace, ref=case.uuid, to_status=CaseStatus.TRIAGE)
    deliver(case_transition, actor=grace, ref=case.uuid, to_status=CaseStatus.MATCHING)
    deliver(
        case_services.case_fee_waive,
        actor=grace,
        case_ref=case.uuid,
        reason="The insurer pays the service directly",
    )
    deliver(offers.offer_make, actor=grace, case_ref=case.uuid, specialist_id=p["marsh"].pk)
    deliver(
        offers.offer_decline,
        actor=p["marsh"],
        case_ref=case.uuid,
        reason="capacity",
        note="Three glioblastoma cases this week already",
    )  # OFFER_DECLINED
    deliver(offers.offer_make, actor=grace, case_ref=case.uuid, specialist_id=p["wu"].pk)
    # Wu types a new number for his New York licence: it waits to be verified again,
    # and the offer is taken back (OFFER_WITHDRAWN).
    from specialists.profile_services import specialist_licence_update

    wu_profile = p["wu"].specialist_profile
    ny = wu_profile.licences.get(state="NY")
    deliver(
        specialist_licence_update,
        actor=p["wu"],
        profile=wu_profile,
        state="NY",
        number="NY-RENUMBERED",
        expires_on=ny.expires_on,
    )
    deliver(
        case_services.case_withdraw, actor=james, case_ref=case.uuid, reason=B["withdraw"]
    )  # WITHDRAWN
    return Case.objects.get(pk=case.pk)


def _case_c(deliver, p, settings) -> Case:
    """Submitted, then cancelled by the coordinator, within a digest window: Ruth
    gets one email for both."""
    ruth = p["ruth"]
    settings.NOTIFICATIONS_DIGEST_WINDOW = datetime.timedelta(minutes=3)
    draft = CaseFactory(
        owner=ruth,
        complete=True,
        diagnosis=C["diagnosis"],
        icd10=_icd10(C["icd10"]),
        concerns=C["concerns"],
        proposed_treatment=C["proposed_treatment"],
        symptoms=C["symptoms"],
    )
    case = deliver(case_services.case_submit, actor=ruth, case_ref=draft.uuid)
    RecordFactory(case=case, title=C["record"], uploaded_by=ruth)
    deliver(
        case_transition,
        actor=p["omar"],
        ref=case.uuid,
        to_status=CaseStatus.CANCELLED,
        reason=C["cancel"],
    )  # CANCELLED
    # The window ends: each email task queued with its countdown comes back.
    waiting = Notification.objects.filter(email_status=EmailStatus.PENDING)
    assert waiting.filter(recipient=ruth).count() == 2
    waiting.update(next_attempt_at=timezone.now())
    for pk in waiting.order_by("created_at", "pk").values_list("pk", flat=True):
        notification_deliver(notification_id=pk)
    settings.NOTIFICATIONS_DIGEST_WINDOW = datetime.timedelta(0)
    return Case.objects.get(pk=case.pk)


def _accounts(deliver, p, client) -> None:
    """The security notice (a notification kind), and the account emails beside it."""
    client.force_login(p["maria"])
    changed = deliver(
        client.post,
        path=reverse("account_change_password"),
        data={
            "oldpassword": PASSWORD,
            "password1": "a-new-long-passphrase-9",
            "password2": "a-new-long-passphrase-9",
        },
    )  # SECURITY
    assert changed.status_code == 302, changed.content.decode()[:2000]
    deliver(
        staff_invite,
        actor=p["admin"],
        email="new.nurse@example.com",
        full_name="New Nurse",
        role="coordinator",
    )
    deliver(email_changed_notice_queue, user=p["james"], old_email="james.old@example.com")
    # A specialist's new licence, verified by an administrator (CREDENTIALING).
    from specialists.credentialing import licence_verify
    from specialists.models import Licence

    licence = Licence.objects.create(
        profile=p["wu"].specialist_profile,
        state="NJ",
        number="25MA00001",
        expires_on=datetime.date(2030, 1, 1),
    )
    deliver(licence_verify, actor=p["admin"], licence_id=licence.pk, source="state_board")


# --- The test ------------------------------------------------------------------------------------
def test_no_email_the_app_sends_names_anything_medical(deliver, people, client, settings):
    cases = [
        (_case_a(deliver, people), A["words"]),
        (_case_b(deliver, people), B["words"]),
        (_case_c(deliver, people, settings), C["words"]),
    ]
    _accounts(deliver, people, client)
    # A caregiver invited to follow case A: the email names who asks, nothing medical.
    case_a = cases[0][0]
    deliver(
        caregiver_invite,
        actor=case_a.owner,
        name="Ana Perez",
        email="ana.caregiver@example.com",
        case_refs=[case_a.uuid],
        messages=True,
        report=True,
    )
    assert [m for m in mail.outbox if m.to == ["ana.caregiver@example.com"]]

    # Every kind of notification went out by email, and every one was sent (a digest
    # carries the id of its first notification; each row says which email carried it).
    carried: dict[int, list[Notification]] = {}
    for n in Notification.objects.all():
        carried.setdefault(n.emailed_with_id, []).append(n)
    emailed_kinds, subjects_by_kind, notification_emails = set(), {}, []
    for message in mail.outbox:
        found = re.match(r"<notification-(\d+)@", message.extra_headers.get("Message-ID", ""))
        if not found:
            continue
        rows = carried[int(found.group(1))]
        notification_emails.append((message, rows))
        emailed_kinds |= {n.kind for n in rows}
        if len(rows) == 1:
            subjects_by_kind.setdefault(message.subject, set()).add(rows[0].kind)
    missing = {k.name for k in registry.registered()} - emailed_kinds - set(NOT_TRIGGERABLE)
    assert not missing, f"these kinds of notification were never emailed: {sorted(missing)}"
    unsent = Notification.objects.exclude(email_status=EmailStatus.SENT)
    assert not unsent.exists(), [(n.kind, n.email_status, n.failure_reason) for n in unsent]
    # Each kind says what happened in its own words: no subject serves two kinds.
    shared = {subject: kinds for subject, kinds in subjects_by_kind.items() if len(kinds) > 1}
    assert not shared, shared
    assert len(subjects_by_kind) >= 50
    # Each greets its reader by name and links to its page through sign-in.
    greetings = {
        "maria@example.com": "Dear Maria,",
        "marsh@example.com": "Dear Dr. Marsh,",
        "wu@example.com": "Dear Dr. Wu,",
        "grace@example.com": "Dear Grace,",
        "omar@example.com": "Dear Omar,",
        "ruth@example.com": "Dear Ruth,",
        "james@example.com": "Dear James,",
    }
    for message, rows in notification_emails:
        assert message.body.startswith(greetings[message.to[0]]), message.body[:80]
        for n in rows:
            assert n.url.startswith("/") and n.email_subject and n.email_sentence, n.kind
            assert f"/accounts/login/?next={quote(n.url, safe='')}" in message.body, n.kind
    digests = [message for message, rows in notification_emails if len(rows) > 1]
    assert [(m.to, m.subject) for m in digests] == [
        (["ruth@example.com"], f"2 updates on {cases[2][0].reference}")
    ]
    offer = next(m for m, rows in notification_emails if rows[0].kind == OFFER_MADE)
    assert re.search(
        r"A case is offered to you\. Please answer by \w+day \d+ \w+, "
        r"\d+:\d\d [AP]M Eastern Time \(E[SD]T\)\.",
        offer.body,
    ), offer.body

    # The records office's email: the letter attached (a PDF), the body without the
    # patient's name or anything medical (the search below reads it too).
    [letter] = [m for m in mail.outbox if m.to == [RECORDS_OFFICE_EMAIL]]
    assert [a[2] for a in letter.attachments] == ["application/pdf"]
    assert "45 CFR 164.524" in letter.body and "Maria" not in letter.body
    # Its body carries the records office's upload link on a line of its own (a link
    # that opens for this source), and nothing of what is asked for or why.
    assert "Please upload electronic copies at this private link" in letter.body
    [upload_link] = re.findall(
        rf"^{re.escape(settings.SITE_URL)}/records-requests/from/([^/\s]+)/$",
        letter.body,
        re.MULTILINE,
    )
    # (the case has closed since, so the link no longer opens; its hash is the source's)
    assert OfficeLink.objects.filter(
        token_hash=office_services.token_hash(upload_link), source__email=RECORDS_OFFICE_EMAIL
    ).exists()
    body = letter.body.lower()
    assert not [w for w in ("pathology", "imaging", "dicom", "slides", "biopsy") if w in body]
    shares = [m for m in mail.outbox if m.to == [PCP_EMAIL] and "/shared/" in m.body]
    assert len(shares) == 1
    # The physician's call: its own email, with its own link and nothing of the case.
    calls = [m for m in mail.outbox if m.to == [PCP_EMAIL] and "/doctor-call/" in m.body]
    assert len(calls) == 1 and "Maria" not in calls[0].body
    assert {m.to[0] for m in mail.outbox if "/doctor-call/" in m.body} == {PCP_EMAIL}
    calendars = {a[2] for m in mail.outbox if m is not letter for a in m.attachments}
    assert calendars == {"text/calendar; method=REQUEST", "text/calendar; method=CANCEL"}

    # The search is not vacuous: it reads the parts where a leak would be.
    reminder = next(m for m in mail.outbox if "reminder" in m.subject.lower())
    case_a = cases[0][0]
    assert case_a.reference in _readable_parts(reminder)["subject"]
    booked = next(m for m in mail.outbox if any(a[2].endswith("REQUEST") for a in m.attachments))
    ics = next(
        text for name, text in _readable_parts(booked).items() if name.startswith("attachment")
    )
    assert "BEGIN:VCALENDAR" in ics and case_a.reference in ics
    assert any("text/html" in name for name in _readable_parts(booked))

    # And nothing medical in any of them.
    _assert_no_medical_detail(cases)


def _assert_no_medical_detail(cases) -> None:
    forbidden = set()
    for case, words in cases:
        forbidden |= _forbidden(case, words)
    # The name and birth date a study labelled for another person carries: never emailed.
    forbidden |= {"Whitaker", "Rosalind", "1958", "14 February", "14 de febrero"}
    assert len(forbidden) > 80  # what the three cases say (a guard against an empty search)
    leaks = []
    for message in mail.outbox:
        for part, text in _readable_parts(message).items():
            said = _normalise(text)
            leaks += [
                f"{message.to[0]} · {message.subject!r} · {part}: {term!r}"
                for term in sorted(forbidden)
                if _normalise(term) in said
            ]
    assert not leaks, "medical detail in email:\n" + "\n".join(leaks)


# The languages the run below reads its emails in (tests/i18n names it).
LANGUAGES = ("es",)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_email_names_anything_medical_in_another_language(
    deliver, people, client, settings, language
):
    # Everyone reads SecondOp in `language`: the same three cases, the same search.
    User.objects.filter(pk__in=[u.pk for u in people.values()]).update(language=language)
    for user in people.values():
        user.language = language
    cases = [
        (_case_a(deliver, people), A["words"]),
        (_case_b(deliver, people), B["words"]),
        (_case_c(deliver, people, settings), C["words"]),
    ]
    _accounts(deliver, people, client)
    notices = [m for m in mail.outbox if m.extra_headers.get("Message-ID", "").startswith("<notif")]
    assert len(notices) > 50
    # Each in its reader's language: greeted in it, and none in English.
    assert all(m.body.startswith("Estimado(a) ") for m in notices), [
        m.body[:40] for m in notices if not m.body.startswith("Estimado(a) ")
    ]
    assert not [m.subject for m in notices if re.search(r"\b(the|your|is)\b", m.subject)]
    _assert_no_medical_detail(cases)
