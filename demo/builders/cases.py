"""The demo patients' requests (`demo.data.cases`), made through the services
people use: sent, claimed, triaged, matched, offered, accepted, reviewed,
reported, released and shared as the people in the demo would, so every
timeline, notification and access-log row is the one the app itself writes."""

from django.utils import timezone

from demo.builders.files import upload_files
from demo.data import cases as data
from demo.data.documents import Upload
from records import checking as record_checking
from records import services as record_services
from records.storage import save_bytes
from requests_app import authorisation, services
from requests_app.aftercare import services as aftercare_services
from requests_app.models import Case, CaseQuestion, CaseSection, CaseStatus, SectionState
from requests_app.reports import services as report_services
from requests_app.sections import SECTIONS
from requests_app.workflow import case_transition
from secondop.accounts.models import User
from secondop.audit.models import AccessLog
from secondop.audit.services import log_access
from specialists import services as specialist_services
from specialists.models import Specialty


# --- The scenes --------------------------------------------------------------------
def lived_in_account(patient: User) -> None:
    """A lived-in account: a half-done draft, one sent, one withdrawn."""
    base = _base(patient, **data.MARIA)
    draft = Case.objects.create(owner=patient, **base, **data.DRAFT)
    CaseSection.objects.bulk_create(
        [
            *(
                CaseSection(case=draft, section=key, state=SectionState.COMPLETED)
                for key in data.DRAFT_SECTIONS_DONE
            ),
            CaseSection(
                case=draft, section=data.DRAFT_SECTION_STARTED, state=SectionState.IN_PROGRESS
            ),
        ]
    )
    sent = _complete(patient, base, **data.SENT)
    services.case_submit(actor=patient, case_ref=sent.uuid)
    for upload in data.SENT_RECORDS:
        _upload(patient, sent, upload)
    withdrawn = _complete(patient, base, **data.WITHDRAWN)
    services.case_submit(actor=patient, case_ref=withdrawn.uuid)
    services.case_withdraw(actor=patient, case_ref=withdrawn.uuid, reason=data.WITHDRAW_REASON)


def case_in_review(patient: User, coordinator: User, specialist: User) -> None:
    """Another patient's lung cancer case, sent, matched, offered to and
    accepted by `specialist`, through the same services people use: it fills
    their one slot, so matching shows them "at capacity"."""
    base = _base(patient, **data.DANIEL)
    case = _complete(patient, base, **data.IN_REVIEW)
    services.case_submit(actor=patient, case_ref=case.uuid)
    services.case_claim(actor=coordinator, case_ref=case.uuid)
    _visit(coordinator, case)
    case_transition(actor=coordinator, ref=case.uuid, to_status=CaseStatus.TRIAGE)
    case_transition(actor=coordinator, ref=case.uuid, to_status=CaseStatus.MATCHING)
    _fee_agreed(patient, coordinator, case)
    specialist_services.offer_make(
        actor=coordinator, case_ref=case.uuid, specialist_id=specialist.pk
    )
    for upload in data.IN_REVIEW_RECORDS:
        _upload(patient, case, upload)
    specialist_services.offer_accept(actor=specialist, case_ref=case.uuid, conflict_attested=True)
    _visit(specialist, case, records=True)


def cases_in_triage(patient: User, coordinator: User, oncologist: User) -> None:
    """The coordinator's work in progress, one case at each step: in triage,
    waiting for records (with the note the patient reads), and offered to a
    specialist who has not answered yet."""
    base = _base(patient, **data.JAMES)

    def sent(**fields) -> Case:
        case = _complete(patient, base, **fields)
        services.case_submit(actor=patient, case_ref=case.uuid)
        services.case_claim(actor=coordinator, case_ref=case.uuid)
        _visit(coordinator, case)
        case_transition(actor=coordinator, ref=case.uuid, to_status=CaseStatus.TRIAGE)
        return case

    sent(**data.IN_TRIAGE)
    waiting = sent(**data.AWAITING_RECORDS)
    record_services.record_request_create(
        actor=coordinator, case_ref=waiting.uuid, **data.RECORDS_ASKED
    )
    offered = sent(**data.OFFERED)
    case_transition(actor=coordinator, ref=offered.uuid, to_status=CaseStatus.MATCHING)
    _fee_agreed(patient, coordinator, offered)
    specialist_services.offer_make(
        actor=coordinator, case_ref=offered.uuid, specialist_id=oncologist.pk
    )


def cases_after_delivery(patient: User, coordinator: User, neurologist: User) -> None:
    """Two of the demo patient's requests past the report, made through the
    services people use: the specialist wrote, signed and the case manager
    released each report. The first is shared with her doctor (the email, with
    its link, goes to the console); on the second she has asked a follow-up
    question the specialist can answer."""
    base = _base(patient, **data.MARIA)
    migraine = _reviewed(
        patient, coordinator, neurologist, base, record=data.MIGRAINE_RECORD, **data.MIGRAINE
    )
    _report(migraine, neurologist, coordinator, **data.MIGRAINE_REPORT)
    aftercare_services.share_create(
        actor=patient,
        case_ref=migraine.uuid,
        email=migraine.pcp_email,
        name=migraine.pcp_name,
        consented=True,
    )
    ms = _reviewed(patient, coordinator, neurologist, base, record=data.MS_RECORD, **data.MS)
    _report(ms, neurologist, coordinator, **data.MS_REPORT)
    aftercare_services.follow_up_ask(actor=patient, case_ref=ms.uuid, text=data.MS_FOLLOW_UP)


# --- The steps they are made of ------------------------------------------------------
def _base(patient: User, **fields) -> dict:
    return {
        "relationship": "self",
        "patient_name": patient.full_name,
        "patient_sex": "female",
        "preferred_language": "English",
        **fields,
    }


def _complete(
    patient: User,
    base: dict,
    *,
    questions: tuple[str, ...],
    symptoms: str,
    specialty: str = "oncology",
    **fields,
) -> Case:
    """A request with every section answered and complete (not yet sent)."""
    case = Case.objects.create(
        owner=patient,
        **base,
        **{
            **data.REQUEST_DEFAULTS,
            "reasons": list(data.REQUEST_DEFAULTS["reasons"]),
            "insurance_policyholder": patient.full_name,
            "symptoms": symptoms,
            "specialty": Specialty.objects.get(slug=specialty),
            "authorisation_version": authorisation.VERSION,
            "authorisation_signed_name": patient.full_name,
            "authorisation_signed_at": timezone.now(),
            **fields,
        },
    )
    CaseQuestion.objects.bulk_create(
        CaseQuestion(case=case, position=n, text=text) for n, text in enumerate(questions, start=1)
    )
    CaseSection.objects.bulk_create(
        CaseSection(case=case, section=s.key, state=SectionState.COMPLETED) for s in SECTIONS
    )
    return case


def _fee_agreed(patient: User, coordinator: User, case: Case) -> None:
    """Matching waits for the fee: the coordinator quotes it, the patient confirms."""
    services.case_insurance_check(
        actor=coordinator,
        case_ref=case.uuid,
        status="self_pay",
        fee_quoted=None,
        items=["written"],
    )
    services.case_fee_confirm(
        actor=patient, case_ref=case.uuid, fee_seen=Case.objects.get(uuid=case.uuid).fee_quoted
    )


def _reviewed(
    patient: User,
    coordinator: User,
    specialist: User,
    base: dict,
    *,
    record: Upload,
    **fields,
) -> Case:
    """A request sent, matched, accepted and in review, with one checked record."""
    case = _complete(patient, base, specialty="neurology", consultation_type="written", **fields)
    services.case_submit(actor=patient, case_ref=case.uuid)
    services.case_claim(actor=coordinator, case_ref=case.uuid)
    _visit(coordinator, case)
    case_transition(actor=coordinator, ref=case.uuid, to_status=CaseStatus.TRIAGE)
    case_transition(actor=coordinator, ref=case.uuid, to_status=CaseStatus.MATCHING)
    _fee_agreed(patient, coordinator, case)
    specialist_services.offer_make(
        actor=coordinator, case_ref=case.uuid, specialist_id=specialist.pk
    )
    specialist_services.offer_accept(actor=specialist, case_ref=case.uuid, conflict_attested=True)
    _upload(patient, case, record)
    # Checked now, not when the demo's transaction commits: the specialist
    # reviews it in the report below (the queued check then finds it done).
    for pk in case.records.values_list("pk", flat=True):
        record_checking.check_record(pk)
    _visit(specialist, case, records=True)
    return case


def _report(
    case: Case,
    specialist: User,
    coordinator: User,
    *,
    opinion: str,
    treatment: str,
    text: dict,
    answers: dict,
) -> None:
    """Write, sign and release the report (its PDF rendered now, as the task
    would after the commit)."""
    report_services.report_draft_save(
        actor=specialist,
        case_ref=case.uuid,
        text=text,
        diagnosis_opinion=opinion,
        treatment_opinion=treatment,
        answers=answers,
        records=[str(r.uuid) for r in case.records.all()],
    )
    version = report_services.report_sign(actor=specialist, case_ref=case.uuid)
    report_services.report_pdf_store(version_id=version.pk)
    _visit(coordinator, case)  # reads the case before releasing its report
    report_services.report_release(actor=coordinator, version_ref=version.uuid)


def _visit(viewer: User, case: Case, *, records: bool = False) -> None:
    """What the care team's work leaves in the access log, written the way their
    pages write it (the case page, and each record downloaded), at the step of
    the work where they would open it: the patient's "who has looked" shows it."""
    log_access(viewer=viewer, obj=case)
    if records:
        for record in case.records.all():
            log_access(viewer=viewer, obj=record, kind=AccessLog.Kind.DOWNLOAD)


def _upload(patient: User, case: Case, upload: Upload) -> None:
    """A record sent the way the browser sends one: a slot, the bytes where the
    slot says, confirm; verification runs when the demo's transaction commits."""
    files = upload_files(upload)
    slots = record_services.record_slots_create(
        actor=patient,
        case_ref=case.uuid,
        category=upload.category,
        title=upload.title,
        service_date=upload.service_date,
        answers=None,
        files=[
            {
                "client_id": name,
                "name": name.rsplit("/", 1)[-1],
                "size": len(content),
                "relative_path": name if len(files) > 1 else "",
                "type": "",
            }
            for name, content in files.items()
        ],
    )
    for slot in slots.files:
        save_bytes(slot.file.key, files[slot.client_id])
    record_services.record_confirm(actor=patient, record_ref=slots.record.uuid)
