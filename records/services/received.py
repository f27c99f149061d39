"""Records from bytes the server itself holds (not uploaded by a browser): the
files of a SMART Health Link the patient pasted in. Each becomes a record of the
case, put in storage and checked by the same verification as an upload.

The link is read in the request, within strict timeouts (records.smart_links:
a deadline of SMART_LINK_FETCH_DEADLINE seconds for the whole): the link's key and
its passcode then live only in this request's memory, never in a task's arguments,
the broker or the database. Verification runs in its task as for any upload."""

from __future__ import annotations

import uuid as uuid_module
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from requests_app import access
from requests_app.access import case_for_viewer
from requests_app.models import CLOSED_STATES, Case
from secondop import storage
from secondop.audit.services import log_event
from secondop.filenames import clean_text
from secondop.queueing import queue_on_commit

from .. import smart_links
from ..models import Category, Record, RecordFile, State
from ..verification import clean_filename
from .common import RecordError, human_size
from .uploads import TITLE_MAX, case_bytes_used

if TYPE_CHECKING:
    from secondop.accounts.models import User

VERIFY_TASK = "records.tasks.record_verify"


@dataclass(frozen=True)
class Received:
    """One file the server holds: its name (with the extension verification reads),
    its bytes, its declared type and the record's title."""

    name: str
    data: bytes
    content_type: str
    title: str


def _owner_case(actor: User, case_ref: UUID | str, *, for_update: bool = False) -> Case:
    case = case_for_viewer(viewer=actor, ref=case_ref, for_update=for_update)
    if not access.is_owner(actor, case):
        raise Http404
    if case.status in CLOSED_STATES:
        raise RecordError(_("This request is closed, so no more records can be added."), status=409)
    return case


def records_from_bytes(
    *, actor: User, case_ref: UUID | str, category: str, files: list[Received], via: str
) -> list[Record]:
    """One record per file, all or none: stored, then queued for verification on
    commit. The case's byte limit applies as for an upload."""
    if category not in Category.values or category == Category.SPECIALIST_REPORT:
        raise RecordError(
            _("Please correct the problems below."),
            {"category": [_("Choose what kind of record this is.")]},
        )
    keys: list[str] = []
    try:
        with transaction.atomic():
            case = _owner_case(actor, case_ref, for_update=True)
            total = sum(len(item.data) for item in files)
            used = case_bytes_used(case)
            if used + total > settings.RECORDS_MAX_CASE_BYTES or any(
                len(item.data) > settings.RECORDS_MAX_FILE_BYTES for item in files
            ):
                raise RecordError(
                    _(
                        "These records would take the request over its limit of %(limit)s. "
                        "Ask your coordinator for help."
                    )
                    % {"limit": human_size(settings.RECORDS_MAX_CASE_BYTES)}
                )
            now = timezone.now()
            records = []
            for item in files:
                record = Record.objects.create(
                    case=case,
                    uploaded_by=actor,
                    category=category,
                    title=clean_text(item.title)[:TITLE_MAX] or _("Record"),
                    size=len(item.data),
                    state=State.UPLOADED,
                    uploaded_at=now,
                    slot_expires_at=now,
                )
                file_uuid = uuid_module.uuid4()
                key = f"{record.prefix}{file_uuid}"
                keys.append(key)
                storage.save_bytes(key, item.data, item.content_type)
                RecordFile.objects.create(
                    uuid=file_uuid,
                    record=record,
                    key=key,
                    name=clean_filename(item.name),
                    size=len(item.data),
                    stored_size=len(item.data),
                    declared_type=item.content_type[:100],
                    received_at=now,
                )
                log_event(
                    actor=actor,
                    action="records.record.received",
                    obj=record,
                    new={"via": via, "files": 1, "bytes": len(item.data)},
                )
                queue_on_commit(VERIFY_TASK, record.pk)
                records.append(record)
    except BaseException:
        if keys:
            storage.delete(keys)  # nothing half-kept: the rows went with the transaction
        raise
    return records


@dataclass(frozen=True)
class FromLink:
    records: list[Record]
    left_out: int


@sensitive_variables("link", "passcode", "payload", "contents")
def records_from_smart_link(
    *, actor: User, case_ref: UUID | str, link: str, passcode: str, category: str
) -> FromLink:
    """The patient pastes a SMART Health Link (and its passcode): its files are
    fetched, decrypted and kept as records of their case, or nothing is kept and
    RecordError says why (on the "link" or the "passcode" field)."""
    _owner_case(actor, case_ref)  # outsiders: the case's 404 before any fetching
    try:
        payload = smart_links.parse(link)
        contents = smart_links.read_link(payload, passcode=passcode)
    except smart_links.SmartLinkUnreadable as error:
        raise RecordError(error.message, {error.field: [error.message]}) from None
    label = contents.label or _("SMART Health Link")
    stamp = timezone.localdate().isoformat()
    files = [
        Received(
            name=f"smart-health-link-{stamp}-{number}.{item.extension}",
            data=item.data,
            content_type=item.content_type,
            title=f"{label}: {item.kind}",
        )
        for number, item in enumerate(contents.files, start=1)
    ]
    made = records_from_bytes(
        actor=actor, case_ref=case_ref, category=category, files=files, via="smart_health_link"
    )
    return FromLink(records=made, left_out=contents.left_out)
