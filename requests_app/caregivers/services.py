"""Writes for caregivers: the patient invites, changes and removes; the invited
person accepts. Every change is in the audit log, in its transaction; the
invitation email is queued on commit and carries no health information."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from requests_app.access import get_or_404
from secondop.accounts.models import Role, User
from secondop.audit.services import log_event
from secondop.queueing import queue_on_commit
from secondop.refusals import Refusal

from . import selectors
from .models import INVITATION_DAYS, Caregiver

if TYPE_CHECKING:
    from requests_app.models import Case

RIGHTS = ("messages", "consultations", "report")


class CaregiverError(Refusal):
    """An invitation, or its acceptance, that cannot go ahead."""


# --- The link -------------------------------------------------------------------------
def invitation_token(caregiver: Caregiver) -> str:
    """The link's secret, made again from the invitation whenever it is needed (the
    email task takes only the id); the table keeps only its hash."""
    return salted_hmac("caregivers.invitation", str(caregiver.uuid), algorithm="sha256").hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(caregiver: Caregiver) -> str:
    path = reverse("caregivers:accept", args=[invitation_token(caregiver)])
    return f"{settings.SITE_URL}{path}"


# --- The patient's side -----------------------------------------------------------------
def _check_address(*, actor: User, email: str) -> None:
    if email == actor.email.lower():
        raise CaregiverError(
            _("Please correct the problem below."),
            {
                "email": [
                    _(
                        "This is your own email address. Enter the address of the person you want to invite."
                    )
                ]
            },
        )
    holder = User.objects.filter(email__iexact=email).first()
    if holder is not None and holder.role != Role.PATIENT:
        raise CaregiverError(
            _("Please correct the problem below."),
            {
                "email": [
                    _(
                        "This address belongs to a member of SecondOp's staff, who cannot "
                        "be a caregiver. Enter the person's own email address."
                    )
                ]
            },
        )
    live = Caregiver.objects.filter(patient=actor, email__iexact=email, revoked_at__isnull=True)
    for earlier in live:
        if earlier.is_expired:
            continue  # an invitation never taken up: this one replaces it
        raise CaregiverError(
            _("Please correct the problem below."),
            {
                "email": [
                    _(
                        "You have already invited this person. To change what they may "
                        "do, choose Change next to their name."
                    )
                ]
            },
        )


def _own_cases(actor: User, case_refs: Iterable[UUID | str]) -> list[Case]:
    wanted = {str(ref) for ref in case_refs}
    cases = [c for c in selectors.shareable_cases(viewer=actor) if str(c.uuid) in wanted]
    if not cases or len(cases) != len(wanted):
        raise CaregiverError(
            _("Please correct the problem below."),
            {"cases": [_("Choose at least one of your requests")]},
        )
    return cases


@transaction.atomic
def caregiver_invite(
    *,
    actor: User,
    name: str,
    email: str,
    case_refs: Iterable[UUID | str],
    messages: bool = False,
    consultations: bool = False,
    report: bool = False,
) -> Caregiver:
    """`actor` (a patient) invites `name` at `email` to follow the chosen requests of
    theirs, with the rights ticked. The email goes out once this commits."""
    if actor.role != Role.PATIENT:
        raise CaregiverError(_("Only a patient invites a caregiver."), status=403)
    email = (email or "").strip().lower()
    # One patient's invitations one at a time: two quick posts make one invitation.
    User.objects.select_for_update().filter(pk=actor.pk).first()
    _check_address(actor=actor, email=email)
    cases = _own_cases(actor, case_refs)
    now = timezone.now()
    Caregiver.objects.filter(
        patient=actor, email__iexact=email, revoked_at__isnull=True, accepted_at__isnull=True
    ).update(revoked_at=now)  # the expired invitation this one replaces
    caregiver = Caregiver(
        patient=actor,
        name=name.strip(),
        email=email,
        messages=messages,
        consultations=consultations,
        report=report,
        invited_at=now,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    caregiver.token_hash = token_hash(invitation_token(caregiver))
    try:
        with transaction.atomic():
            caregiver.save()
    except IntegrityError:
        raise CaregiverError(
            _("Please correct the problem below."),
            {"email": [_("You have already invited this person.")]},
        ) from None
    caregiver.cases.set(cases)
    log_event(
        actor=actor,
        action="caregivers.invited",
        obj=caregiver,
        new={"cases": [str(c.uuid) for c in cases], **_rights(caregiver)},
    )
    queue_on_commit(
        "requests_app.caregivers.tasks.invitation_email_task",
        caregiver.pk,
        if_unqueued=lambda: invitation_email_send(caregiver_id=caregiver.pk),
    )
    return caregiver


def _rights(caregiver: Caregiver) -> dict[str, bool]:
    return {right: getattr(caregiver, right) for right in RIGHTS}


def _mine_for_update(actor: User, ref: UUID | str) -> Caregiver:
    return get_or_404(
        Caregiver.objects.select_for_update().filter(patient=actor, revoked_at__isnull=True),
        uuid=ref,
    )


@transaction.atomic
def caregiver_change(
    *,
    actor: User,
    caregiver_ref: UUID | str,
    case_refs: Iterable[UUID | str],
    messages: bool,
    consultations: bool,
    report: bool,
) -> Caregiver:
    """The patient changes what a caregiver sees and may do: in force from the
    caregiver's next request (the access rule reads the grant every time)."""
    caregiver = _mine_for_update(actor, caregiver_ref)
    cases = _own_cases(actor, case_refs)
    old = {"cases": sorted(str(c.uuid) for c in caregiver.cases.all()), **_rights(caregiver)}
    caregiver.messages, caregiver.consultations, caregiver.report = messages, consultations, report
    new = {"cases": sorted(str(c.uuid) for c in cases), **_rights(caregiver)}
    if old == new:
        return caregiver
    caregiver.save(update_fields=list(RIGHTS))
    caregiver.cases.set(cases)
    log_event(actor=actor, action="caregivers.changed", obj=caregiver, old=old, new=new)
    return caregiver


@transaction.atomic
def caregiver_revoke(*, actor: User, caregiver_ref: UUID | str) -> Caregiver:
    """The patient removes a caregiver (or withdraws an invitation): from the
    caregiver's next request they see nothing, and the link no longer works."""
    caregiver = _mine_for_update(actor, caregiver_ref)
    caregiver.revoked_at = timezone.now()
    caregiver.save(update_fields=["revoked_at"])
    log_event(actor=actor, action="caregivers.revoked", obj=caregiver)
    return caregiver


# --- The invited person's side ------------------------------------------------------------
class Refused:
    """Why an invitation link does not work, in words for the page."""

    UNKNOWN = "unknown"
    REVOKED = "revoked"
    EXPIRED = "expired"
    OTHER_ACCOUNT = "other_account"


def invitation_for_token(token: str) -> Caregiver:
    """The invitation the link names, or 404 (a link that never was)."""
    return get_or_404(Caregiver.objects.select_related("patient"), token_hash=token_hash(token))


def refusal_for(caregiver: Caregiver, user: User | None) -> str | None:
    """Why `user` (None: not signed in) may not take up `caregiver`'s invitation."""
    if caregiver.revoked_at is not None or not caregiver.patient.is_active:
        return Refused.REVOKED
    if caregiver.is_expired:
        return Refused.EXPIRED
    if user is None:
        return None
    if caregiver.user_id is not None and caregiver.user_id != user.pk:
        return Refused.OTHER_ACCOUNT
    # The link went to one address: the account that takes it up has that address
    # (verified: sign-up verifies it), and is nobody's staff account, nor the patient's.
    if (
        user.email.lower() != caregiver.email.lower()
        or user.role != Role.PATIENT
        or user.pk == caregiver.patient_id
    ):
        return Refused.OTHER_ACCOUNT
    return None


@transaction.atomic
def caregiver_accept(*, actor: User, token: str) -> Caregiver:
    """`actor`, signed in with the invited address, takes up the invitation."""
    caregiver = invitation_for_token(token)
    caregiver = Caregiver.objects.select_for_update().select_related("patient").get(pk=caregiver.pk)
    why = refusal_for(caregiver, actor)
    if why is not None:
        raise CaregiverError(why, status=410 if why != Refused.OTHER_ACCOUNT else 403)
    if caregiver.accepted_at is not None:
        return caregiver  # accepted already (a second click): nothing changes
    caregiver.user = actor
    caregiver.accepted_at = timezone.now()
    caregiver.save(update_fields=["user", "accepted_at"])
    log_event(actor=actor, action="caregivers.accepted", obj=caregiver)
    return caregiver


def invitation_email_send(*, caregiver_id: int) -> None:
    """The invitation: who asks and the link; no request, no health information."""
    caregiver = Caregiver.objects.select_related("patient").get(pk=caregiver_id)
    if caregiver.revoked_at is not None or caregiver.accepted_at is not None:
        return  # removed, or taken up, before the email went
    context = {
        "caregiver": caregiver,
        "patient_name": caregiver.patient.full_name,
        "accept_url": invitation_url(caregiver),
        "days": INVITATION_DAYS,
        "support_email": settings.SECONDOP_SUPPORT_EMAIL,
    }
    subject = " ".join(render_to_string("caregivers/email/invite_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("caregivers/email/invite_message.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[caregiver.email],
    )
    message.attach_alternative(
        render_to_string("caregivers/email/invite_message.html", context), "text/html"
    )
    message.send()
