"""Download bundles: a ZIP of a case's checked records (or of one study) for the
staff care team, built by a task; deleted with the records they hold or when the
request ends."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from requests_app import access
from requests_app.access import case_for_viewer
from requests_app.models import CLOSED_STATES, Case
from secondop.audit.services import log_event
from secondop.queueing import queue_on_commit

from .. import storage
from ..models import Bundle, RecordFile, State
from ..selectors import records_for_viewer
from .common import RecordError, log

if TYPE_CHECKING:
    from secondop.accounts.models import User


def bundle_create(
    *, actor: User, case_ref: UUID | str, record_ref: UUID | str | None = None
) -> Bundle:
    """A ZIP of every verified record of the case (or of one study), built by a
    task; for the assigned specialist and the case manager."""
    with transaction.atomic():
        case = case_for_viewer(viewer=actor, ref=case_ref)
        if access.case_relation(actor, case) not in access.STAFF_CARE_TEAM:
            raise Http404
        records = records_for_viewer(viewer=actor, case=case).filter(state=State.VERIFIED)
        record = None
        if record_ref:
            record = access.get_or_404(records, uuid=record_ref)
            records = records.filter(pk=record.pk)
        if case.status in CLOSED_STATES:
            raise RecordError(
                _(
                    "This request is closed: its records can still be opened one "
                    "by one here, but no download of them all is prepared."
                ),
                status=409,
            )
        count = RecordFile.objects.filter(record__in=records).exclude(kind="skipped").count()
        if not count:
            raise RecordError(_("There are no checked records to download yet."), status=409)
        members = list(records.values_list("pk", flat=True))
        bundle = Bundle.objects.create(
            case=case,
            record=record,
            requested_by=actor,
            files_total=count,
            records_total=len(members),
            expires_at=timezone.now() + datetime.timedelta(hours=settings.RECORDS_BUNDLE_HOURS),
        )
        bundle.records.set(members)
        log_event(
            actor=actor,
            action="records.bundle.created",
            obj=bundle,
            new={"case": case.reference, "files": count},
        )
        # A broker that is down is logged; records_sweep finds the bundle still waiting.
        queue_on_commit("records.tasks.bundle_build", bundle.pk)
    return bundle


def bundles_delete(*, bundles: QuerySet[Bundle], actor: User | None, reason: str) -> int:
    """Delete bundles, row and ZIP, each audited with `reason`; one still being
    built is cancelled (its task finds no row and removes anything it wrote)."""
    count = 0
    keys = []
    for bundle in bundles.select_related("case").select_for_update(of=("self",)):
        cancelled = bundle.status == Bundle.Status.BUILDING
        log_event(
            actor=actor,
            action="records.bundle.cancelled" if cancelled else "records.bundle.deleted",
            obj=bundle,
            old={
                "case": bundle.case.reference,
                "status": bundle.status,
                "records": bundle.records_total,
            },
            new={"reason": reason},
        )
        keys.append(bundle.storage_key)
        bundle.delete()
        count += 1
    if keys:

        def remove() -> None:
            try:
                storage.delete(keys)
            except Exception:
                log.warning("could not delete %s bundle objects now", len(keys), exc_info=True)

        transaction.on_commit(remove)
    return count


def case_ended(case: Case, status: str) -> None:
    """A request closed, cancelled or withdrawn: its bundles go at once, built or
    not (a withdrawal revokes the patient's authorisation; after closing, the care
    team reads records one by one in its read-only window)."""
    bundles_delete(bundles=Bundle.objects.filter(case=case), actor=None, reason=f"case_{status}")
