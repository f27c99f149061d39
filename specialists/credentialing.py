"""Credentialing: a state licence counts for matching only once an administrator
has checked it against a primary source (the state board's public lookup, FSMB,
or the board's own letter), and only until the day it expires.

Writes here lock the licence row, return early when nothing changes (a double
submit), save with `update_fields`, write the audit row with old and new values
in the same transaction, and tell the specialist on commit (notify's outbox)."""

import logging
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from requests_app.models import Case, CaseStatus
from secondop.accounts.models import Role, User
from secondop.audit.services import log_event
from secondop.languages import speaking_to
from secondop.notifications.services import EmailText, notify

from .models import Licence, LicenceSource, LicenceVerification, Offer, OfferStatus
from .notices import CREDENTIALING, OFFER_WITHDRAWN

logger = logging.getLogger(__name__)
EXPIRY_NOTICE_DAYS = 60


def _values(licence: Licence) -> dict:
    return {
        "state": licence.state,
        "number": licence.number,
        "expires_on": licence.expires_on.isoformat(),
        "verification": licence.verification,
        "source": licence.verification_source,
        "note": licence.verification_note,
    }


def _admin_only(actor) -> None:
    if not (actor.is_authenticated and actor.is_active and actor.role == Role.ADMIN):
        raise PermissionDenied


def _seen_matches(licence: Licence, seen: dict | None) -> None:
    """The administrator acts on what their page showed: a licence whose number,
    expiry or state of checking changed since then is refused, not decided unseen."""
    if seen is None:
        return
    now = {
        "number": licence.number,
        "expires_on": licence.expires_on.isoformat(),
        "verification": licence.verification,
    }
    if any(str(seen.get(key, "")) != value for key, value in now.items()):
        raise ValidationError(
            _(
                "This licence changed since you opened the page (its number, "
                "expiry date or check). Look at it again before deciding."
            )
        )


def _locked(licence_id: int) -> Licence:
    licence = (
        Licence.objects.select_for_update()
        .select_related("profile__user")
        .filter(pk=licence_id)
        .first()
    )
    if licence is None:
        raise ValidationError(_("This licence is no longer on file: the specialist removed it."))
    return licence


def licence_verify(
    *,
    actor: User,
    licence_id: int,
    source: str,
    note: str = "",
    seen: dict | None = None,
) -> Licence:
    """Mark a licence verified against `source`, up to the expiry date it shows
    now. A licence already verified up to that date is left as it is (a double
    submit); an expired one cannot be verified. `seen`: the number, expiry and
    state of checking the administrator's page showed (see _seen_matches)."""
    _admin_only(actor)
    if source not in LicenceSource.values:
        raise ValidationError({"source": _("Choose where you checked the licence.")})
    with transaction.atomic():
        licence = _locked(licence_id)
        if (
            licence.verification == LicenceVerification.VERIFIED
            and licence.verified_expires_on == licence.expires_on
        ):
            return licence
        _seen_matches(licence, seen)
        if licence.expires_on <= timezone.localdate():
            raise ValidationError(
                _(
                    "This licence has expired: the specialist must renew it "
                    "before it can be verified."
                )
            )
        old = _values(licence)
        licence.verification = LicenceVerification.VERIFIED
        licence.verified_by, licence.verified_at = actor, timezone.now()
        licence.verification_source, licence.verification_note = source, note.strip()
        licence.verified_expires_on = licence.expires_on
        licence.save(
            update_fields=[
                "verification",
                "verified_by",
                "verified_at",
                "verification_source",
                "verification_note",
                "verified_expires_on",
            ]
        )
        log_event(
            actor=actor,
            action="specialists.licence.verified",
            obj=licence.profile,
            old=old,
            new=_values(licence),
        )
        _tell_specialist(
            licence,
            gettext_lazy(
                "Your licence in %(state)s is verified: you can be "
                "offered cases of patients who live there."
            ),
            subject=gettext_lazy("Your licence in %(state)s is verified"),
        )
        return licence


def licence_refuse(*, actor: User, licence_id: int, note: str, seen: dict | None = None) -> Licence:
    """Refuse a licence the source does not confirm (wrong number, lapsed,
    restricted). The specialist reads the note; open offers in that state go
    back to matching."""
    _admin_only(actor)
    note = note.strip()
    if not note:
        raise ValidationError({"note": _("Say what the source showed: the specialist reads it.")})
    with transaction.atomic():
        licence = _locked(licence_id)
        if licence.verification == LicenceVerification.REFUSED:
            return licence
        _seen_matches(licence, seen)
        old = _values(licence)
        licence.verification = LicenceVerification.REFUSED
        licence.verified_by, licence.verified_at = actor, timezone.now()
        licence.verification_note = note
        licence.verified_expires_on = None
        licence.save(
            update_fields=[
                "verification",
                "verified_by",
                "verified_at",
                "verification_note",
                "verified_expires_on",
            ]
        )
        log_event(
            actor=actor,
            action="specialists.licence.refused",
            obj=licence.profile,
            old=old,
            new=_values(licence),
        )
        _tell_specialist(
            licence,
            gettext_lazy(
                "Your licence in %(state)s could not be verified. Open your profile to see why."
            ),
            subject=gettext_lazy("Your licence in %(state)s could not be verified"),
        )
        offers_recheck(profile_id=licence.profile_id, state=licence.state)
        return licence


def licence_reset_verification(licence: Licence) -> bool:
    """A changed number or state is a licence nobody has checked: it waits again.
    Sets the fields; the caller saves. True if it was checked before."""
    was_checked = licence.verification != LicenceVerification.UNVERIFIED
    licence.verification = LicenceVerification.UNVERIFIED
    licence.verified_by = licence.verified_at = licence.verified_expires_on = None
    licence.verification_source = ""
    return was_checked


def _tell_specialist(licence: Licence, title: Promise, *, subject: Promise) -> None:
    with speaking_to(licence.profile.user):  # `title` and `subject` are lazy: in their words
        words = {"state": licence.get_state_display()}
        notify(
            recipient=licence.profile.user,
            kind=CREDENTIALING,
            title=title % words,
            url=reverse("specialists:profile_licences"),
            email=EmailText(
                subject=subject % words, sentence=title % words, action=_("See your licences")
            ),
        )


def offers_recheck(*, profile_id: int, state: str) -> int:
    """Open offers to this specialist of cases in `state`, after their licence
    there stopped counting: each goes back to matching, and the specialist and
    the case manager are told. Call it inside the transaction that changed the
    licence; returns how many were withdrawn."""
    from .models import SpecialistProfile

    user_id = (
        SpecialistProfile.objects.filter(pk=profile_id).values_list("user_id", flat=True).first()
    )
    from .matching import still_qualifies

    offers = Offer.objects.filter(
        specialist_id=user_id, status=OfferStatus.OPEN, case__patient_state=state
    ).select_related("case__specialty")
    withdrawn = 0
    for offer in offers:
        if still_qualifies(case=offer.case, specialist_id=user_id):
            continue
        withdrawn += offer_withdraw(
            offer_id=offer.pk,
            reason=_("The specialist's licence in the patient's state is not verified any more."),
        )
    return withdrawn


def offer_withdraw(*, offer_id: int, reason: str) -> bool:
    """SecondOp takes back an open offer the specialist no longer qualifies for
    (a licence or a specialty changed): the case goes back to matching (the case
    manager is told by the move), and the specialist is told. Idempotent."""
    with transaction.atomic():
        case_id = Offer.objects.filter(pk=offer_id).values_list("case_id", flat=True).first()
        if case_id is None:
            return False
        # The case row first, then the offer, as offer_accept locks them.
        Case.objects.select_for_update().filter(pk=case_id).first()
        offer = (
            Offer.objects.select_for_update()
            .select_related("case", "specialist")
            .filter(pk=offer_id, status=OfferStatus.OPEN)
            .first()
        )
        if offer is None:
            return False
        offer.status = OfferStatus.WITHDRAWN
        offer.answered_at = timezone.now()
        offer.save(update_fields=["status", "answered_at"])
        case = offer.case
        if case.status == CaseStatus.OFFERED:
            from requests_app.workflow import case_transition

            case_transition(
                actor=None,
                ref=case.uuid,
                to_status=CaseStatus.MATCHING,
                reason=str(_("We are finding another specialist.")),
            )
        log_event(
            actor=None,
            action="specialists.offer.withdrawn",
            obj=case,
            new={"specialist": offer.specialist_id, "reason": reason},
        )
        # The reason stays in the audit log: it can name the case's specialty.
        ref = {"ref": case.reference}
        with speaking_to(offer.specialist):
            notify(
                recipient=offer.specialist,
                kind=OFFER_WITHDRAWN,
                title=_(
                    "The offer of %(ref)s to you is withdrawn: the case no longer fits "
                    "your licences or specialty"
                )
                % ref,
                url=reverse("specialists:home"),
                reference=case.reference or "",
                email=EmailText(
                    subject=_("The offer of %(ref)s is withdrawn") % ref,
                    sentence=_(
                        "SecondOp took back the offer of case %(ref)s to you: after a "
                        "change to the case or to your licences it no longer fits. "
                        "There is nothing for you to do."
                    )
                    % ref,
                    action=_("See your workspace"),
                ),
            )
        return True


# --- Selectors for the credentialing page ------------------------------------------------
def licences_waiting() -> QuerySet[Licence]:
    """New or changed licences, and renewals: a verified licence whose specialist
    typed a later expiry date than the one checked (it counts up to the checked
    date until then)."""
    return (
        Licence.objects.filter(expires_on__gt=timezone.localdate())
        .filter(
            Q(verification=LicenceVerification.UNVERIFIED)
            | Q(verification=LicenceVerification.VERIFIED, verified_expires_on__lt=F("expires_on"))
        )
        .select_related("profile__user")
        .order_by("created_at", "pk")
    )


def licences_expiring(
    *, within_days: int = EXPIRY_NOTICE_DAYS, today: date | None = None
) -> QuerySet[Licence]:
    today = today or timezone.localdate()
    return (
        Licence.objects.filter(
            verification=LicenceVerification.VERIFIED,
            verified_expires_on__gt=today,
            verified_expires_on__lte=today + timedelta(days=within_days),
        )
        .select_related("profile__user")
        .order_by("verified_expires_on", "pk")
    )


def licences_refused() -> QuerySet[Licence]:
    return (
        Licence.objects.filter(verification=LicenceVerification.REFUSED)
        .select_related("profile__user", "verified_by")
        .order_by("-verified_at", "pk")
    )


def _tell_of_expiry(licence: Licence, person: User) -> None:
    words = {
        "state": licence.get_state_display(),
        "date": date_format(licence.verified_expires_on, "DATE_FORMAT"),
        "name": licence.profile.user.full_name,
    }
    if person.pk == licence.profile.user_id:
        sentence = (
            _(
                "Your licence in %(state)s expires on %(date)s: renew it and update "
                "your profile, or you stop being offered cases there."
            )
            % words
        )
        notify(
            recipient=person,
            kind=CREDENTIALING,
            title=sentence,
            url=reverse("specialists:profile_licences"),
            email=EmailText(
                subject=_("Your licence in %(state)s expires on %(date)s") % words,
                sentence=sentence,
                action=_("Update your licence"),
            ),
        )
        return
    title = _("A licence in %(state)s expires on %(date)s (%(name)s)") % words
    notify(
        recipient=person,
        kind=CREDENTIALING,
        title=title,
        url=reverse("credentialing:home"),
        email=EmailText(
            subject=title,
            sentence=_(
                "%(name)s's licence in %(state)s expires on %(date)s. It stops "
                "counting for matching that day unless a renewal is verified."
            )
            % words,
            action=_("Open the credentialing page"),
        ),
    )


def licences_expiry_notify(*, today: date | None = None) -> int:
    """Daily: tell each specialist, and the administrators, once per licence term
    that a verified licence expires within 60 days. Returns how many licences."""
    today = today or timezone.localdate()
    admins = list(User.objects.filter(role=Role.ADMIN, is_active=True))
    told = 0
    for licence_id in licences_expiring(today=today).values_list("pk", flat=True)[:1000]:
        with transaction.atomic():
            licence = (
                Licence.objects.select_for_update()
                .select_related("profile__user")
                .filter(pk=licence_id)
                .first()
            )
            if licence is None or licence.expiry_notice_for == licence.verified_expires_on:
                continue
            licence.expiry_notice_for = licence.verified_expires_on
            licence.save(update_fields=["expiry_notice_for"])
            for person in [licence.profile.user, *admins]:
                with speaking_to(person):  # the date and the state's name in their words
                    _tell_of_expiry(licence, person)
            told += 1
    return told
