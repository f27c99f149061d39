"""Requests for records: the case manager or the assigned specialist asks the patient
for a missing record; the case waits for records until everything asked for arrived."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from requests_app import access
from requests_app.access import case_for_viewer
from requests_app.models import Case
from requests_app.notices import RECORDS_REQUESTED
from requests_app.workflow import case_transition
from secondop.audit.services import log_event
from secondop.languages import speaking_to
from secondop.notifications.services import notify

from ..models import Category, RecordRequest
from .common import RecordError, S, email_text, records_url

if TYPE_CHECKING:
    from secondop.accounts.models import User


# Where a record request can be made, and where the case goes back to afterwards.
REQUESTABLE_STATUSES = frozenset({S.TRIAGE, S.IN_REVIEW, S.AWAITING_RECORDS})


def can_request(user: User, case: Case) -> bool:
    """The case manager, or the assigned specialist."""
    return access.case_relation(user, case) in access.STAFF_CARE_TEAM


def record_request_create(
    *, actor: User, case_ref: UUID | str, note: str, category: str = ""
) -> RecordRequest:
    """Ask the patient for a missing record. It becomes their next step, and the
    case waits for records until everything asked for has arrived."""
    note = (note or "").strip()
    errors = {}
    if not note:
        errors["note"] = [
            _("Say what is needed, for example “Your biopsy pathology report from March”.")
        ]
    elif len(note) > 500:
        errors["note"] = [_("Keep it to 500 characters or fewer.")]
    if category and category not in Category.values:
        errors["category"] = [_("Choose a kind of record from the list.")]
    if errors:
        raise RecordError(_("Please correct the problems below."), errors)
    with transaction.atomic():
        case = case_for_viewer(viewer=actor, ref=case_ref, for_update=True)
        if not can_request(actor, case):
            raise Http404
        if case.status not in REQUESTABLE_STATUSES:
            raise RecordError(
                _("Records can be asked for during triage or review only."), status=409
            )
        if case.status == S.AWAITING_RECORDS:
            # Back to where the case was when it started waiting (triage or review).
            came_from = (
                case.events.filter(new_status=S.AWAITING_RECORDS)
                .order_by("-created_at", "-id")
                .values_list("old_status", flat=True)
                .first()
            )
            return_to = came_from if came_from in (S.TRIAGE, S.IN_REVIEW) else S.TRIAGE
        else:
            return_to = case.status
        asked = RecordRequest.objects.create(
            case=case, requested_by=actor, note=note, category=category, return_to=return_to
        )
        log_event(
            actor=actor,
            action="records.request.created",
            obj=asked,
            new={"case": case.reference, "category": category},
        )
        if case.status != S.AWAITING_RECORDS:
            case_transition(
                actor=actor,
                ref=case.uuid,
                to_status=S.AWAITING_RECORDS,
                reason=note,
            )
        else:
            with speaking_to(case.owner):
                notify(
                    recipient=case.owner,
                    kind=RECORDS_REQUESTED,
                    title=_("Records are needed for your request %(ref)s")
                    % {"ref": case.reference},
                    url=records_url(case),
                    reference=case.reference or "",
                    email=email_text(
                        case,
                        _("Your care team needs a record for %(ref)s"),
                        _(
                            "Your care team asked you for another medical record for your "
                            "request %(ref)s. Please send it: your request waits for it."
                        ),
                        _("See what is needed"),
                    ),
                )
    return asked


def record_request_cancel(*, actor: User, request_ref: UUID | str) -> RecordRequest:
    """Take back a request (found elsewhere, asked by mistake). If it was the last
    one open, the case goes back to where it was."""
    with transaction.atomic():
        asked = access.get_or_404(
            RecordRequest.objects.select_for_update().select_related("case"), uuid=request_ref
        )
        case = case_for_viewer(viewer=actor, ref=asked.case.uuid, for_update=True)
        if not can_request(actor, case):
            raise Http404
        if not asked.is_open:
            return asked
        asked.cancelled_at = timezone.now()
        asked.save(update_fields=["cancelled_at"])
        log_event(actor=actor, action="records.request.cancelled", obj=asked)
        still_open = RecordRequest.objects.filter(
            case=case, fulfilled_at__isnull=True, cancelled_at__isnull=True
        ).exists()
        if not still_open and case.status == S.AWAITING_RECORDS:
            case_transition(actor=actor, ref=case.uuid, to_status=asked.return_to)
    return asked
