"""Whose images: a verified study labelled for another person waits for the patient
(records.verification.identity says why), and the patient answers: "It is mine"
(recorded: who, when, in the audit log; the care team then sees it) or "Remove it"
(its files deleted, the row taken off every list, as a dismissed refusal is).

And the same study sent twice: a study whose every series is already in the case
(as many images or more, in one earlier record or several) is not kept twice."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.db import transaction
from django.http import Http404
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from requests_app import access
from requests_app.access import case_for_viewer
from requests_app.models import Relationship
from requests_app.notices import CASE_UPDATE
from secondop.audit.services import log_event
from secondop.languages import speaking_to
from secondop.notifications.services import notify

from ..models import Bundle, Identity, Record, State
from ..verification.identity import MISMATCH, check_identity
from .bundles import bundles_delete
from .common import RecordError, case_name, email_text, records_url, remove_later

if TYPE_CHECKING:
    from secondop.accounts.models import User


# --- Whose images ------------------------------------------------------------------------
def patient_name_for(record: Record) -> str:
    """The name of the person the request is for: the one written on the request, or
    the account holder's when they ask for themselves. A parent's own name is never
    compared with their child's scans."""
    case = record.case
    if case.patient_name:
        return case.patient_name
    if case.relationship in ("", Relationship.SELF):
        return case.owner.full_name
    return ""


def identity_check(record: Record) -> None:
    """Part of record_verified (inside its transaction, the row locked): compare the
    study's labels with the patient and set `identity`; a mismatch flags the record
    and tells the patient. The caller saves `identity` and `labelled_as`."""
    labels = [
        (str(label[0] or ""), str(label[1] or ""))
        for study in record.study.get("studies", [])
        for label in study.get("patients", [])
        if isinstance(label, list | tuple) and len(label) == 2
    ]
    if not record.study.get("studies"):
        return
    outcome = check_identity(
        labels, name=patient_name_for(record), birth_date=record.case.patient_dob
    )
    if outcome.result != MISMATCH:
        record.identity = outcome.result
        record.labelled_as = []
        return
    record.identity = Identity.ASKED
    record.labelled_as = [label.as_json() for label in outcome.labels]
    log_event(
        actor=None,
        action="records.record.identity_flagged",
        obj=record,
        # Which parts differ, not the values (the patient's page shows those).
        new={
            "names_differ": sum(label.name_differs for label in outcome.labels),
            "birth_dates_differ": sum(label.birth_date_differs for label in outcome.labels),
        },
    )
    with speaking_to(record.case.owner):
        notify(
            recipient=record.case.owner,
            kind=CASE_UPDATE,
            title=_("Please check a record sent for %(ref)s: is it yours?")
            % {"ref": case_name(record.case)},
            url=records_url(record.case),
            reference=record.case.reference or "",
            email=email_text(
                record.case,
                _("Please check a record sent for %(ref)s"),
                _(
                    "A record sent for your request %(ref)s carries another person's name "
                    "or date of birth. Please tell us whether it is yours: your care team "
                    "will not see it until you do."
                ),
                _("Check it"),
            ),
        )


MINE = "mine"
REMOVE = "remove"


def record_identity_answer(*, actor: User, record_ref: UUID | str, answer: str) -> Record:
    """The patient answers for a study labelled for another person: MINE (the care
    team sees it from now on; who and when are recorded) or REMOVE (its files are
    deleted and it leaves every list; the row and the audit keep that it happened).
    Only the account holder answers; anyone else gets the record's 404. A second
    answer of the same kind changes nothing."""
    if answer not in (MINE, REMOVE):
        raise RecordError(_("Choose whether these images are yours or should be removed."))
    with transaction.atomic():
        record = access.get_or_404(
            Record.objects.select_for_update().select_related("case"), uuid=record_ref
        )
        case = case_for_viewer(viewer=actor, ref=record.case.uuid, for_update=True)
        record.case = case
        if not access.is_owner(actor, case) or record.dismissed_at is not None:
            raise Http404
        if answer == MINE and record.identity == Identity.CONFIRMED:
            return record
        if record.identity != Identity.ASKED or record.state != State.VERIFIED:
            raise RecordError(_("This record is not waiting for your answer any more."), status=409)
        now = timezone.now()
        if answer == MINE:
            record.identity = Identity.CONFIRMED
            record.identity_answered_at, record.identity_answered_by = now, actor
            record.save(update_fields=["identity", "identity_answered_at", "identity_answered_by"])
            log_event(
                actor=actor,
                action="records.record.identity_confirmed",
                obj=record,
                old={"identity": Identity.ASKED},
                new={"identity": Identity.CONFIRMED},
            )
            if record.answers_id:
                from .outcome import _fulfil  # the same fulfilment a verified record makes

                _fulfil(record)
            return record
        # Another person's images: nothing of them is kept.
        bundles_delete(bundles=Bundle.objects.filter(records=record), actor=actor, reason="removed")
        prefix = record.prefix
        record.state, record.reason = State.REJECTED, "other_person"
        record.size, record.thumbnail_key, record.study, record.labelled_as = 0, "", {}, []
        record.identity_answered_at, record.identity_answered_by = now, actor
        record.dismissed_at = now
        record.save(
            update_fields=[
                "state",
                "reason",
                "size",
                "thumbnail_key",
                "study",
                "labelled_as",
                "identity_answered_at",
                "identity_answered_by",
                "dismissed_at",
            ]
        )
        record.files.all().delete()
        log_event(
            actor=actor,
            action="records.record.identity_removed",
            obj=record,
            old={"identity": Identity.ASKED, "state": State.VERIFIED},
            new={"state": State.REJECTED, "reason": "other_person"},
        )
        remove_later(prefix)
    return record


# --- The same study twice ----------------------------------------------------------------
def _series_of(study: dict) -> dict[tuple[str, str], int]:
    return {
        (str(st.get("study_uid", "")), str(se.get("series_uid", ""))): int(se.get("instances") or 0)
        for st in study.get("studies", [])
        for se in st.get("series", [])
    }


def sent_before(record: Record) -> Record | None:
    """The earlier record of the case that already holds this study, when every series
    of it is already there with as many images or more (across one earlier record or
    several: the earliest is named). A study with any new series, or more images of a
    series than were sent, is kept whole: nothing is merged, and nothing is lost."""
    mine = _series_of(record.study)
    if not mine:
        return None
    earlier = (
        Record.objects.filter(case_id=record.case_id, state=State.VERIFIED, dismissed_at=None)
        .exclude(pk=record.pk)
        .exclude(study={})
        .order_by("created_at", "id")
        .only("pk", "study", "created_at", "uploaded_at")
    )
    have: dict[tuple[str, str], int] = {}
    first: Record | None = None
    for other in earlier:
        theirs = _series_of(other.study)
        if first is None and set(theirs) & set(mine):
            first = other
        for key, count in theirs.items():
            have[key] = max(have.get(key, 0), count)
    if first is not None and all(have.get(key, -1) >= count for key, count in mine.items()):
        return first
    return None


def duplicate_words(record: Record) -> str:
    """What the patient reads about a study sent twice: when they sent it first."""
    first = None
    if record.duplicate_of_id:
        first = (
            Record.objects.filter(pk=record.duplicate_of_id)
            .values_list("uploaded_at", "created_at")
            .first()
        )
    when = (first[0] or first[1]) if first else None
    if when is None:
        return _("You already sent this study: we kept the first copy.")
    day = formats.date_format(timezone.localtime(when), "MONTH_DAY_FORMAT")
    return _("You already sent this study on %(day)s: we kept the first copy.") % {"day": day}
