"""Records going away: the patient deleting one sent by mistake, a refused one
dismissed from the list, the retention sweep for requests that ended, and the sweep of
abandoned upload slots and expired bundles."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from requests_app import access
from requests_app.access import case_for_viewer
from requests_app.models import CLOSED_STATES, Case
from secondop.audit.services import log_event

from .. import storage
from ..models import Bundle, Category, Record, State
from .bundles import bundles_delete
from .common import RecordError, S, log, remove_later

if TYPE_CHECKING:
    from secondop.accounts.models import User


# Until a specialist has the case, the patient may take back a record sent by mistake.
DELETABLE_STATUSES = frozenset({S.DRAFT, S.SUBMITTED, S.TRIAGE, S.AWAITING_RECORDS, S.MATCHING})


# --- Deleting -------------------------------------------------------------------------
def record_delete(*, actor: User, record_ref: UUID | str) -> None:
    """The patient takes back a record sent by mistake, until a specialist has the
    case. The objects go with it; the audit log keeps that it happened."""
    with transaction.atomic():
        record = access.get_or_404(
            Record.objects.select_for_update().select_related("case"), uuid=record_ref
        )
        case = case_for_viewer(viewer=actor, ref=record.case.uuid, for_update=True)
        if not access.is_owner(actor, case):
            raise Http404
        if case.status not in DELETABLE_STATUSES:
            raise RecordError(
                _(
                    "A specialist is already working with these records, so they "
                    "cannot be deleted now. Send your coordinator a message if "
                    "something is wrong."
                ),
                status=409,
            )
        prefix = record.prefix  # its files, every thumbnail, anything a late upload left
        log_event(
            actor=actor,
            action="records.record.deleted",
            obj=record,
            old={"category": record.category, "state": record.state, "bytes": record.size},
        )
        _record_remove(record, actor=actor)
        remove_later(prefix)


# --- Dismissing a refusal -------------------------------------------------------------------
def can_dismiss(*, user: User, record: Record) -> bool:
    """A refused record can be taken off the list by the patient or by whoever sent it."""
    return record.state == State.REJECTED and user.pk in (
        record.case.owner_id,
        record.uploaded_by_id,
    )


def record_dismiss(*, actor: User, record_ref: UUID | str) -> Record:
    """Take a refused record off the list once its reason has been read: gone from
    every view, kept in the database and the audit log. A second dismissal changes
    nothing."""
    with transaction.atomic():
        record = access.get_or_404(
            Record.objects.select_for_update().select_related("case"), uuid=record_ref
        )
        case = case_for_viewer(viewer=actor, ref=record.case.uuid, for_update=True)
        record.case = case
        if not access.is_care_team(viewer=actor, case=case) or actor.pk not in (
            case.owner_id,
            record.uploaded_by_id,
        ):
            raise Http404
        if record.dismissed_at is not None:
            return record
        if record.state != State.REJECTED:
            raise RecordError(
                _("Only a file that was not accepted can be removed from the list."), status=409
            )
        record.dismissed_at = timezone.now()
        record.save(update_fields=["dismissed_at"])
        log_event(
            actor=actor,
            action="records.record.dismissed",
            obj=record,
            old={"state": record.state, "reason": record.reason},
        )
    return record


def _record_remove(record: Record, *, actor: User | None) -> None:
    """Delete a record's row and every bundle holding it (the ZIP too: a deleted
    record must not go on being served inside one). The caller has audited the
    record's deletion and removes its objects."""
    bundles_delete(
        bundles=Bundle.objects.filter(records=record),
        actor=actor,
        reason="record_deleted",
    )
    Record.objects.filter(duplicate_of=record).update(duplicate_of=None)
    record.delete()


# --- Retention --------------------------------------------------------------------------
# Kept whatever the age: the specialist's own signed report (their record of care, like
# SecondOp's report and the audit, which live elsewhere and are never swept).
RETAINED_CATEGORIES = frozenset({Category.SPECIALIST_REPORT})


def records_delete_after(case: Case) -> datetime.datetime | None:
    """When the copies uploaded for an ended request are (or were) deleted."""
    if case.status not in CLOSED_STATES or case.closed_at is None:
        return None
    return case.closed_at + datetime.timedelta(days=settings.RECORDS_KEEP_DAYS_AFTER_END)


@dataclass(frozen=True)
class Retention:
    keep_days: int
    staff_days: int
    delete_after: datetime.datetime | None  # the request has ended: when copies go
    deleted: bool  # that time has passed


def retention_for(case: Case) -> Retention:
    """What the records page says about keeping the files, for this request."""
    after = records_delete_after(case)
    return Retention(
        keep_days=settings.RECORDS_KEEP_DAYS_AFTER_END,
        staff_days=settings.CASE_STAFF_READ_DAYS_AFTER_CLOSE,
        delete_after=after,
        deleted=after is not None and after <= timezone.now(),
    )


def records_retention_sweep(*, limit: int = 500) -> int:
    """Delete the uploaded copies of records of requests that ended (closed,
    cancelled, withdrawn) more than RECORDS_KEEP_DAYS_AFTER_END days ago: the
    objects first (storage not answering leaves the row for the next run), then
    the row and every bundle holding it, each deletion audited."""
    cutoff = timezone.now() - datetime.timedelta(days=settings.RECORDS_KEEP_DAYS_AFTER_END)
    due = (
        Record.objects.filter(case__status__in=sorted(CLOSED_STATES), case__closed_at__lt=cutoff)
        .exclude(category__in=RETAINED_CATEGORIES)
        .values_list("pk", flat=True)[:limit]
    )
    count = 0
    for pk in list(due):
        record = Record.objects.select_related("case").filter(pk=pk).first()
        if record is None:
            continue
        try:
            storage.delete_under(record.prefix)
        except Exception:
            log.warning("retention: could not delete %s now; next run", record, exc_info=True)
            continue
        with transaction.atomic():
            record = Record.objects.select_for_update().select_related("case").filter(pk=pk).first()
            if record is None:
                continue
            log_event(
                actor=None,
                action="records.record.retention_deleted",
                obj=record,
                old={
                    "case": record.case.reference,
                    "category": record.category,
                    "state": record.state,
                    "bytes": record.size,
                },
                new={"days_after_end": settings.RECORDS_KEEP_DAYS_AFTER_END},
            )
            _record_remove(record, actor=None)
        count += 1
    return count


def records_sweep_expired() -> int:
    """Pending slots past their time and bundles past theirs: their objects are
    deleted (an abandoned upload must not keep PHI), the rows closed."""
    now = timezone.now()
    count = 0
    for record in Record.objects.filter(state=State.PENDING, slot_expires_at__lt=now)[:200]:
        storage.delete_under(record.prefix)
        Record.objects.filter(pk=record.pk, state=State.PENDING).update(
            state=State.REJECTED, reason="expired", size=0, checked_at=now
        )
        count += 1
    for bundle in Bundle.objects.filter(expires_at__lt=now).exclude(key="")[:200]:
        storage.delete([bundle.key])
        Bundle.objects.filter(pk=bundle.pk).update(key="")
        count += 1
    return count
