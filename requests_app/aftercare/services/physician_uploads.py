"""Records the patient's own physician sends through their link (issue 21, item 4):
the records office's upload pattern (records.retrieval.office_services), with the physician's share
as the credential instead of an office link.

Only with the patient's consent on the share covering records
(requests_app.aftercare.consent); the share's refusals otherwise (withdrawn,
expired, the request withdrawn, consent taken back), so nothing of the case is
shown. Uploads go through the patient's own upload services (the same slots,
limits, signing and verification), the physician named as the sender, a
PhysicianUpload row tying the record to the share; only records opened through
that very share are reachable through it. Every upload is audited (no actor, the
share as the object, the path without the token) and shows on the patient's page."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils.translation import gettext as _

from records.models import Category, Record, RecordFile
from records.services import RecordError, uploads
from requests_app import access
from requests_app.models import Case, CaseStatus
from secondop.audit.services import log_access, log_event

from .. import consent
from ..models import PhysicianUpload, Share
from .physician import ConsentWithdrawn, participating_share

# After delivery, while the case is open: the specialist can still read them.
SENDING_STATES = frozenset({CaseStatus.DELIVERED, CaseStatus.FOLLOW_UP})
CATEGORIES = (
    Category.RECORDS,
    Category.PATHOLOGY,
    Category.IMAGING,
    Category.LABS,
    Category.OPERATIVE,
)


def physician_share(*, token: str, lock: bool = False) -> Share:
    """The share, usable, with the patient's consent covering records; ShareRefused
    (ConsentWithdrawn) otherwise."""
    share = participating_share(token=token, lock=lock)
    if not share.may(consent.RECORDS):
        raise ConsentWithdrawn(share)
    return share


def sender_name(share: Share) -> str:
    return share.recipient_name or share.recipient_email


def refusal(share: Share) -> str:
    if share.report.case.status not in SENDING_STATES:
        return _("This request is closed: records can no longer be sent here.")
    return ""


def physician_view(*, token: str) -> Share:
    """The upload page opened: in the access log (no account)."""
    share = physician_share(token=token)
    log_access(viewer=None, obj=share)
    return share


def physician_slots(
    *,
    token: str,
    category: str,
    title: str,
    service_date: datetime.date | None,
    files: list[dict[str, Any]],
) -> uploads.Slots:
    share = physician_share(token=token)
    if category and category not in CATEGORIES:
        raise RecordError(
            _("Please correct the problems below."),
            {"category": [_("Choose what kind of record this is from the list.")]},
        )
    if why := refusal(share):
        raise RecordError(why, status=409)

    def lock_case() -> Case:
        again = physician_share(token=token, lock=True)
        if why := refusal(again):
            raise RecordError(why, status=409)
        return Case.objects.select_for_update().get(pk=again.report.case_id)

    with transaction.atomic():
        slots = uploads.open_slots(
            lock_case=lock_case,
            actor=None,
            sender_name=sender_name(share),
            category=category,
            title=title,
            service_date=service_date,
            answers=None,
            files=files,
        )
        PhysicianUpload.objects.create(record=slots.record, share=share)
    return slots


def _slot(share: Share, file_ref: UUID | str) -> RecordFile:
    return access.get_or_404(
        RecordFile.objects.select_related("record__case").filter(
            record__physician_upload__share=share
        ),
        uuid=file_ref,
    )


def physician_sign(
    *,
    token: str,
    file_ref: UUID | str,
    method: str,
    key: str,
    upload_id: str = "",
    part_number: int | None = None,
) -> str:
    share = physician_share(token=token)
    slot = uploads.check_slot(_slot(share, file_ref), may_upload=True)
    return uploads.sign_slot(
        slot, method=method, key=key, upload_id=upload_id, part_number=part_number
    )


def _record(share: Share, record_ref: UUID | str) -> Record:
    return access.get_or_404(
        Record.objects.select_for_update(of=("self",))
        .select_related("case")
        .filter(physician_upload__share=share),
        uuid=record_ref,
    )


def physician_confirm(*, token: str, record_ref: UUID | str) -> Record:
    """Every file is up: checked and queued for verification as the patient's own."""
    with transaction.atomic():
        share = physician_share(token=token, lock=True)
        record = _record(share, record_ref)
        was_pending = record.state == "pending"
        record = uploads.confirm_locked(record, actor=None)
        if was_pending and record.state == "uploaded":
            log_event(
                actor=None,
                action="retrieval.physician.uploaded",
                obj=share,
                new={
                    "case": share.report.case.reference,
                    "record": str(record.uuid),
                    "files": record.files.count(),
                },
            )
    return record


def physician_cancel(*, token: str, record_ref: UUID | str) -> None:
    with transaction.atomic():
        share = physician_share(token=token, lock=True)
        uploads.cancel_locked(_record(share, record_ref), actor=None)


def physician_sent(share: Share) -> list[Record]:
    """What this link sent (not the slots never filled), newest first."""
    return list(
        Record.objects.filter(physician_upload__share=share)
        .exclude(state="pending")
        .order_by("-created_at")
    )
