"""Writes for the written report: the specialist's draft, signing, amendments,
the case manager's release or return, and storing the rendered PDF.

Every service loads the case through the access rule (`case_for_viewer`, the row
locked), so an outsider gets the same 404 as for a case that does not exist; an
insider without the right (the case manager writing, the specialist releasing)
gets a 403. Status moves of the case go through `case_transition`; what a move
that is not a case move tells whom is declared in requests_app.workflow."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Collection
from typing import TYPE_CHECKING
from uuid import UUID

from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from records.models import Category, Record
from records.selectors import records_for_viewer
from requests_app.access import STAFF_CARE_TEAM, Relation, get_or_404
from requests_app.consultations.selectors import consultation_standing
from requests_app.icd10.models import Icd10Code
from requests_app.models import Case, CaseStatus
from requests_app.workflow import (
    NOTICE_REPORT_AMENDMENT_RELEASED,
    NOTICE_REPORT_AMENDMENT_RETURNED,
    NOTICE_REPORT_AMENDMENT_SIGNED,
    case_transition,
    send_notices,
)
from secondop import storage
from secondop.audit.services import log_event
from secondop.queueing import queue_on_commit
from secondop.refusals import Refusal
from secondop.types import Text

from . import codes, references
from .models import (
    NEEDS_DIAGNOSIS,
    DiagnosisOpinion,
    Report,
    ReportAnswer,
    ReportVersion,
    ReviewedRecord,
    TreatmentOpinion,
    VersionStatus,
)
from .selectors import AUTHOR, MANAGER, case_for_report

if TYPE_CHECKING:
    from secondop.accounts.models import User

# Queued by name: tasks import the services, never the other way round.
RENDER_TASK = "requests_app.reports.tasks.report_render"

S = CaseStatus
V = VersionStatus

# Where the first draft may be started: the specialist has the case.
WRITABLE_STATUSES = frozenset({S.IN_REVIEW, S.CONSULTATION, S.AWAITING_RECORDS})
# Where a signed report may be amended: signed and waiting, or released.
AMENDABLE_STATUSES = frozenset({S.REPORT_READY, S.DELIVERED, S.FOLLOW_UP})
# What the draft form writes, as plain data (the service never sees a form).
TEXT_FIELDS = (
    "summary",
    "diagnosis",
    "diagnosis_comment",
    "recommendations",
    "prognosis",
    "follow_up",
    "reasons",
    "trials_note",
    "evidence",
)


class ReportError(Refusal):
    """A refusal fit to show a person. `problems` are (field, message) pairs, for
    an error summary that links to each field; they are the refusal's `errors`
    too (field -> messages), for a form to place."""

    def __init__(
        self,
        message: Text,
        problems: list[tuple[str, str]] | None = None,
        *,
        status: int | None = None,
    ) -> None:
        self.problems = list(problems or [])
        errors: dict[str, list[str]] = {}
        for field, text in self.problems:
            errors.setdefault(field, []).append(str(text))
        super().__init__(message, errors, status=status)


def report_url(case: Case, user: User) -> str:
    """Where a notification about the report takes its reader: the report page."""
    return reverse("reports:case", args=[case.uuid])


# --- Loading, as one role or another ---------------------------------------------------
def _case_as(actor: User, case_ref: UUID | str, needs: Collection[Relation]) -> Case:
    """The case, locked. The patient (who never sees a draft) and outsiders get a
    404; the other insider gets a 403."""
    return case_for_report(
        viewer=actor, ref=case_ref, sees=STAFF_CARE_TEAM, needs=needs, for_update=True
    )


def _version_as(
    actor: User, version_ref: UUID | str, needs: Collection[Relation]
) -> tuple[Case, ReportVersion]:
    found = get_or_404(ReportVersion.objects.select_related("report__case"), uuid=version_ref)
    case = _case_as(actor, found.report.case.uuid, needs)
    version = (
        ReportVersion.objects.select_for_update().select_related("report").get(uuid=version_ref)
    )
    version.report.case = case
    return case, version


def _newest_number(report: Report) -> int:
    return report.versions.aggregate(n=Max("number"))["n"] or 0


def _draft(report: Report) -> ReportVersion | None:
    return report.versions.select_for_update().filter(status=V.DRAFT).first()


# --- The draft -----------------------------------------------------------------------------
def report_draft_save(
    *,
    actor: User,
    case_ref: UUID | str,
    text: dict[str, str],
    diagnosis_opinion: str = "",
    treatment_opinion: str = "",
    icd10: Icd10Code | None = None,
    trial_ids: list[str] | None = None,
    records: list[UUID | str] | None = None,
    attached_record: UUID | str | None = None,
    answers: dict[int, str] | None = None,
) -> ReportVersion:
    """Save the specialist's draft (starting it on the first save). `answers` maps
    a question's position to its answer; `records` are the reviewed records' UUIDs.
    A signed version is never changed: it is amended (a new version)."""
    if diagnosis_opinion and diagnosis_opinion not in DiagnosisOpinion.values:
        raise ReportError(_("Choose one of the opinions on the diagnosis."))
    if treatment_opinion and treatment_opinion not in TreatmentOpinion.values:
        raise ReportError(_("Choose one of the opinions on the treatment plan."))
    try:  # the form reads them the same way; a caller without one is checked here
        trial_ids = references.parse_trial_ids(" ".join(trial_ids or []))
    except references.TrialIdsInvalid:
        raise ReportError(
            _("Name each trial once, by its ClinicalTrials.gov identifier (NCT and 8 digits)."),
            [("trial_ids", _("Write “NCT” and 8 digits, each trial once."))],
        ) from None
    with transaction.atomic():
        case = _case_as(actor, case_ref, AUTHOR)
        report, _created = Report.objects.get_or_create(case=case)
        draft = _draft(report)
        if draft is None:
            if report.versions.exists():
                raise ReportError(
                    _(
                        "This report is signed and can no longer be changed. To "
                        "change it, amend it: that makes a new version."
                    )
                )
            if case.status not in WRITABLE_STATUSES:
                raise ReportError(_("A report can be written while the case is in review."))
            draft = ReportVersion.objects.create(report=report, number=1, author=actor)
            log_event(
                actor=actor,
                action="reports.version.started",
                obj=draft,
                new={"number": 1},
            )
        for field in TEXT_FIELDS:
            setattr(draft, field, (text.get(field) or "").strip())
        draft.diagnosis_opinion = diagnosis_opinion
        draft.treatment_opinion = treatment_opinion
        draft.icd10 = icd10
        draft.trial_ids = trial_ids
        visible = records_for_viewer(viewer=actor, case=case)
        draft.attached_record = None
        if attached_record:
            draft.attached_record = visible.filter(
                uuid=attached_record, category=Category.SPECIALIST_REPORT, mime="application/pdf"
            ).first()
            if draft.attached_record is None:
                raise ReportError(
                    _("The signed PDF named is not one of this case's checked records."),
                    [("attached_record", _("Choose a checked PDF you uploaded."))],
                )
        draft.author = actor
        draft.save()
        if records is not None:
            _set_reviewed(draft, list(visible.filter(uuid__in=[str(r) for r in records])))
        _sync_answers(draft, case, answers)
    return draft


def _set_reviewed(version: ReportVersion, records: list[Record]) -> None:
    version.reviewed.all().delete()
    ReviewedRecord.objects.bulk_create(
        ReviewedRecord(
            version=version,
            record=record,
            title=record.title,
            category=str(Category(record.category).label),
            service_date=record.service_date,
        )
        for record in records
    )


def _sync_answers(version: ReportVersion, case: Case, answers: dict[int, str] | None) -> None:
    """One answer row per question the patient asks now, in their order, keeping
    answers already written where no new one is given."""
    kept = {a.position: a.answer for a in version.answers.all()}
    version.answers.all().delete()
    ReportAnswer.objects.bulk_create(
        ReportAnswer(
            version=version,
            question=question,
            position=question.position,
            question_text=question.text,
            answer=(
                (answers or {}).get(question.position, kept.get(question.position)) or ""
            ).strip(),
        )
        for question in case.questions.all()
    )


# --- Signing -----------------------------------------------------------------------------------
def signing_problems(version: ReportVersion) -> list[tuple[str, str]]:
    """What stops `version` being signed, as (form field, message) pairs."""
    problems = []
    if not version.diagnosis_opinion:
        problems.append(("diagnosis_opinion", _("Choose your opinion on the diagnosis.")))
    elif version.diagnosis_opinion in NEEDS_DIAGNOSIS and not version.diagnosis.strip():
        problems.append(
            (
                "diagnosis",
                _("Write the second-opinion diagnosis: you chose “%(opinion)s”.")
                % {"opinion": DiagnosisOpinion(version.diagnosis_opinion).label},
            )
        )
    if not version.treatment_opinion:
        problems.append(("treatment_opinion", _("Choose your opinion on the treatment plan.")))
    if version.differs and not version.reasons.strip():
        problems.append(
            (
                "reasons",
                _(
                    "Say why your opinion differs, in plain words: the patient reads it "
                    "beside what their first doctor said."
                ),
            )
        )
    for answer in version.answers.all():
        if not answer.answer.strip():
            problems.append(
                (
                    f"answer_{answer.position}",
                    _("Answer the patient's question %(n)s: “%(question)s”.")
                    % {"n": answer.position, "question": answer.question_text},
                )
            )
    if not version.reviewed.exists():
        problems.append(("records", _("Tick at least one record you reviewed.")))
    # The first report of a case whose patient asked for a consultation waits until
    # it was held, declined, or cancelled with a reason the patient reads (an
    # amendment comes after the report was released, when that was settled).
    case = version.report.case
    if case.status in WRITABLE_STATUSES:
        standing = consultation_standing(case=case)
        if standing is not None and not standing.settled:
            problems.append(("consultation", standing.text))
    return problems


def _unique_code() -> str:
    while True:  # 50 random bits: a repeat is all but impossible, and checked anyway
        code = codes.new_code()
        if not ReportVersion.objects.filter(verification_code=code).exists():
            return code


def _signer(actor: User) -> dict[str, str]:
    profile = getattr(actor, "specialist_profile", None)
    if profile is None:
        return {"signer_name": actor.full_name}
    return {
        "signer_name": actor.full_name,
        "signer_credentials": profile.title,
        "signer_specialties": ", ".join(s.name for s in profile.specialties.all()),
        "signer_institution": profile.institution,
    }


def report_sign(*, actor: User, case_ref: UUID | str) -> ReportVersion:
    """Sign the draft: it is locked for good, given its verification code, and its
    PDF is rendered in the background (readable once stored). The first signed
    version sends the case to the case manager (in review -> report ready)."""
    with transaction.atomic():
        case = _case_as(actor, case_ref, AUTHOR)
        report = Report.objects.filter(case=case).first()
        draft = _draft(report) if report else None
        if draft is None:
            if report and report.versions.exists():
                raise ReportError(_("This version is already signed."))
            raise ReportError(_("There is no draft to sign yet."))
        if case.status not in {S.IN_REVIEW, *AMENDABLE_STATUSES}:
            raise ReportError(
                _(
                    "The case is at “%(status)s”: the report can be signed once "
                    "the case is back in review."
                )
                % {"status": S(case.status).label}
            )
        problems = signing_problems(draft)
        if problems:
            raise ReportError(_("The report is not ready to sign."), problems)
        now = timezone.now()
        for field, value in _signer(actor).items():
            setattr(draft, field, value)
        draft.status = V.SIGNED
        draft.signed_at = now
        draft.verification_code = _unique_code()
        draft.save()
        log_event(
            actor=actor,
            action="reports.version.signed",
            obj=draft,
            old={"status": V.DRAFT},
            new={
                "status": V.SIGNED,
                "number": draft.number,
                "verification_code": draft.verification_code,
            },
        )
        if case.status == S.IN_REVIEW:
            case_transition(actor=actor, ref=case.uuid, to_status=S.REPORT_READY)
        else:
            send_notices(case, NOTICE_REPORT_AMENDMENT_SIGNED, actor=actor, url_for=report_url)
        _queue_render(draft.pk)
    return draft


def _queue_render(version_id: int) -> None:
    # Broker down: the version waits for reports_sweep ("Preparing the PDF…").
    queue_on_commit(RENDER_TASK, version_id)


# --- Amendments ------------------------------------------------------------------------------
def _copy_as_draft(source: ReportVersion, *, actor: User, reason: str) -> ReportVersion:
    """A new draft that starts from what `source` says."""
    draft = ReportVersion.objects.create(
        report=source.report,
        number=_newest_number(source.report) + 1,
        author=actor,
        amendment_reason=reason,
        summary=source.summary,
        diagnosis_opinion=source.diagnosis_opinion,
        diagnosis=source.diagnosis,
        icd10_id=source.icd10_id,
        diagnosis_comment=source.diagnosis_comment,
        treatment_opinion=source.treatment_opinion,
        recommendations=source.recommendations,
        prognosis=source.prognosis,
        follow_up=source.follow_up,
        reasons=source.reasons,
        trials_note=source.trials_note,
        trial_ids=list(source.trial_ids),
        evidence=source.evidence,
        attached_record_id=source.attached_record_id,
    )
    ReportAnswer.objects.bulk_create(
        ReportAnswer(
            version=draft,
            question_id=a.question_id,
            position=a.position,
            question_text=a.question_text,
            answer=a.answer,
        )
        for a in source.answers.all()
    )
    ReviewedRecord.objects.bulk_create(
        ReviewedRecord(
            version=draft,
            record_id=r.record_id,
            title=r.title,
            category=r.category,
            service_date=r.service_date,
        )
        for r in source.reviewed.all()
    )
    return draft


def report_amend(*, actor: User, case_ref: UUID | str, reason: str) -> ReportVersion:
    """Start an amendment: a new draft version, with its reason, from the newest
    signed one. The earlier versions stay as they are (and readable); they are
    marked superseded when the amendment is released."""
    reason = (reason or "").strip()
    with transaction.atomic():
        case = _case_as(actor, case_ref, AUTHOR)
        report = Report.objects.filter(case=case).first()
        newest = report.versions.select_for_update().order_by("-number").first() if report else None
        if newest is None:
            raise ReportError(_("There is no signed report to amend yet."))
        if newest.status == V.DRAFT:
            return newest  # already being amended (or a second click)
        if case.status not in AMENDABLE_STATUSES:
            raise ReportError(
                _("The case is at “%(status)s”: its report cannot be amended now.")
                % {"status": S(case.status).label}
            )
        if not reason:
            raise ReportError(
                _("Give the reason for the amendment."),
                [("reason", _("Give the reason for the amendment."))],
            )
        draft = _copy_as_draft(newest, actor=actor, reason=reason)
        _sync_answers(draft, case, None)
        log_event(
            actor=actor,
            action="reports.version.amendment_started",
            obj=draft,
            new={"number": draft.number, "reason": reason, "amends": newest.number},
        )
    return draft


# --- The case manager's review -----------------------------------------------------------------
def _check_reviewable(version: ReportVersion) -> None:
    if version.status == V.DRAFT:
        raise ReportError(_("This version is still a draft."))
    if not version.pdf_ready:
        raise ReportError(_("The PDF is still being prepared. Try again in a moment."))
    if _newest_number(version.report) != version.number:
        raise ReportError(_("There is a newer version of this report; review that one."))


def report_release(*, actor: User, version_ref: UUID | str) -> ReportVersion:
    """Release a signed version to the patient. The first release delivers the
    case (report ready -> delivered); an amendment's release tells the patient
    the same way. Earlier versions are marked superseded by this one."""
    with transaction.atomic():
        case, version = _version_as(actor, version_ref, MANAGER)
        if version.status == V.RELEASED:
            return version  # a second click
        _check_reviewable(version)
        if version.status != V.SIGNED:
            raise ReportError(_("Only a signed version waiting for release can be released."))
        if case.status not in AMENDABLE_STATUSES:
            raise ReportError(
                _("The case is at “%(status)s”: the report cannot be released now.")
                % {"status": S(case.status).label}
            )
        now = timezone.now()
        version.status = V.RELEASED
        version.released_at = now
        version.released_by = actor
        version.save(update_fields=["status", "released_at", "released_by", "updated_at"])
        ReportVersion.objects.filter(
            report=version.report, number__lt=version.number, superseded_at__isnull=True
        ).update(superseded_at=now, superseded_by=version)
        log_event(
            actor=actor,
            action="reports.version.released",
            obj=version,
            old={"status": V.SIGNED},
            new={"status": V.RELEASED, "number": version.number},
        )
        if case.status == S.REPORT_READY:
            case_transition(actor=actor, ref=case.uuid, to_status=S.DELIVERED)
        else:
            send_notices(case, NOTICE_REPORT_AMENDMENT_RELEASED, actor=actor, url_for=report_url)
    return version


def report_return(*, actor: User, version_ref: UUID | str, comment: str) -> ReportVersion:
    """Send a signed version back to the specialist with a comment. It stays as it
    is (readable to the care team, never to the patient); a new draft starts from
    it, and the case goes back to review when it was waiting for release."""
    comment = (comment or "").strip()
    with transaction.atomic():
        case, version = _version_as(actor, version_ref, MANAGER)
        if version.status == V.RETURNED:
            return version  # a second click
        _check_reviewable(version)
        if version.status != V.SIGNED:
            raise ReportError(_("Only a signed version waiting for release can be returned."))
        if not comment:
            raise ReportError(
                _("Say what the specialist should change."),
                [("comment", _("Say what the specialist should change."))],
            )
        version.status = V.RETURNED
        version.returned_at = timezone.now()
        version.returned_by = actor
        version.return_comment = comment
        version.save(
            update_fields=["status", "returned_at", "returned_by", "return_comment", "updated_at"]
        )
        draft = _copy_as_draft(version, actor=version.author, reason=version.amendment_reason)
        _sync_answers(draft, case, None)
        log_event(
            actor=actor,
            action="reports.version.returned",
            obj=version,
            old={"status": V.SIGNED},
            new={"status": V.RETURNED, "number": version.number, "comment": comment},
        )
        # The comment is for the specialist: it is not the case event's reason, which
        # the patient reads on their timeline.
        if case.status == S.REPORT_READY:
            case_transition(actor=actor, ref=case.uuid, to_status=S.IN_REVIEW)
        else:
            send_notices(case, NOTICE_REPORT_AMENDMENT_RETURNED, actor=actor, url_for=report_url)
    return version


# --- The PDF ------------------------------------------------------------------------------------
def pdf_key(version: ReportVersion) -> str:
    return f"cases/{version.report.case.uuid}/reports/{version.uuid}.pdf"


def report_pdf_store(*, version_id: int) -> str:
    """Render a signed version's PDF and store it with its SHA-256 (the task's
    work). Idempotent: a version whose PDF is stored is left alone. The row is
    locked while rendering, so two workers never store two different files. When
    storage is down, StorageUnavailable leaves everything as it was."""
    from . import pdf

    with transaction.atomic():
        version = (
            ReportVersion.objects.select_for_update(of=("self",))
            .select_related("report__case")
            .filter(pk=version_id)
            .first()
        )
        if version is None or version.status == V.DRAFT:
            return "nothing"
        if version.pdf_ready:
            return "done"
        data = pdf.render_version(version)
        key = pdf_key(version)
        storage.save_bytes(key, data, "application/pdf")
        version.pdf_key = key
        version.pdf_sha256 = hashlib.sha256(data).hexdigest()
        version.pdf_size = len(data)
        version.pdf_stored_at = timezone.now()
        version.save(
            update_fields=["pdf_key", "pdf_sha256", "pdf_size", "pdf_stored_at", "updated_at"]
        )
        log_event(
            actor=None,
            action="reports.version.pdf_stored",
            obj=version,
            new={"sha256": version.pdf_sha256, "size": version.pdf_size},
        )
    return "stored"


# A signed version without its PDF this long after signing had its task lost.
PDF_LOST_AFTER = datetime.timedelta(seconds=60)


def versions_waiting_for_pdf() -> list[int]:
    """Signed versions whose PDF is not stored a minute after signing (a lost task,
    a worker that died rendering it, storage down for longer than the task's
    retries): the sweep queues them again. A version being rendered right now is
    locked by its worker (report_pdf_store) and skipped; a dead worker's lock went
    with its database connection."""
    since = timezone.now() - PDF_LOST_AFTER
    with transaction.atomic():
        return list(
            ReportVersion.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pdf_sha256="", signed_at__lt=since)
            .exclude(status=V.DRAFT)
            .order_by("pk")
            .values_list("pk", flat=True)[:500]
        )
