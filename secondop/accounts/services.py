import smtplib

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from secondop.audit.services import audited_update, log_event
from secondop.queueing import queue_on_commit
from secondop.refusals import Refusal

from .models import STAFF_ROLES, Role, User

# Transient faults worth retrying when sending mail: the SMTP server or the network.
TRANSIENT_EMAIL_ERRORS = (smtplib.SMTPException, ConnectionError, TimeoutError, OSError)


def email_changed_notice_queue(*, user: User, old_email: str) -> None:
    """Tell the OLD address that the account's email changed: if an attacker made
    the change, the new address is theirs, and the owner only reads the old one."""
    # No sweep keeps this notice: with the broker down it is sent from the request.
    queue_on_commit(
        "secondop.accounts.tasks.email_changed_notice_task",
        user.pk,
        old_email,
        if_unqueued=lambda: email_changed_notice_send(user_id=user.pk, old_email=old_email),
    )


def email_changed_notice_send(*, user_id: int, old_email: str) -> None:
    user = User.objects.get(pk=user_id)
    context = {
        "user": user,
        "new_email": user.email,
        "support_email": settings.SECONDOP_SUPPORT_EMAIL,
    }
    subject = " ".join(
        render_to_string("accounts/email/email_changed_subject.txt", context).split()
    )
    EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("accounts/email/email_changed_message.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[old_email],
    ).send()


@transaction.atomic
def staff_invite(*, actor: User, email: str, full_name: str, role: str) -> User:
    """Create a staff account and email the person a link to choose a password.

    Staff never sign themselves up. The email address is marked verified: the
    invitation link proves they received it. They enrol MFA at first sign-in.
    """
    if role not in STAFF_ROLES:
        raise ValueError(f"{role!r} is not a staff role")
    user = User.objects.create_user(
        email=email.strip().lower(),
        full_name=full_name.strip(),
        role=role,
        is_staff=(role == Role.ADMIN),
    )
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    log_event(
        actor=actor,
        action="accounts.staff.invited",
        obj=user,
        new={"email": user.email, "role": role},
    )
    transaction.on_commit(lambda: _send_invitation(user))
    return user


def staff_invitation_url(user: User) -> str:
    path = reverse(
        "account_reset_password_from_key",
        kwargs={
            "uidb36": user_pk_to_url_str(user),
            "key": default_token_generator.make_token(user),
        },
    )
    return f"{settings.SITE_URL}{path}"


def _send_invitation(user: User) -> None:
    context = {
        "user": user,
        "invite_url": staff_invitation_url(user),
        "role": Role(user.role).label,
    }
    subject = " ".join(render_to_string("accounts/email/staff_invite_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("accounts/email/staff_invite_message.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
    message.attach_alternative(
        render_to_string("accounts/email/staff_invite_message.html", context), "text/html"
    )
    message.send()


class AccountChangeError(Refusal):
    """A change the rules do not allow; the message is fit to show an administrator."""


@transaction.atomic
def user_change_role(*, actor: User, user_id: int, role: str) -> User:
    """Give a staff member another staff role. Patients stay patients (their
    cases are theirs) and staff never become patients: such a person needs a
    second account. Audited with the old and new role."""
    user = User.objects.select_for_update().get(pk=user_id)
    if user.role == role:
        return user
    if role not in STAFF_ROLES or user.role not in STAFF_ROLES:
        raise AccountChangeError(
            "Only staff roles can be changed. A patient's account stays a patient's; "
            "invite the person as staff with another email address instead."
        )
    if user.pk == actor.pk:
        raise AccountChangeError("You cannot change your own role.")
    admin = role == Role.ADMIN
    audited_update(
        user,
        actor=actor,
        action="accounts.user.role_changed",
        changes={"role": role},
        also={"is_staff": admin, "is_superuser": admin},
    )
    return user


@transaction.atomic
def user_set_active(*, actor: User, user_id: int, active: bool) -> User:
    """Deactivate (or reactivate) an account. Nothing is ever deleted: a
    deactivated person cannot sign in, and everything they did stays attributed."""
    user = User.objects.select_for_update().get(pk=user_id)
    if user.is_active == active:
        return user
    if user.pk == actor.pk:
        raise AccountChangeError("You cannot deactivate your own account.")
    audited_update(
        user,
        actor=actor,
        action="accounts.user." + ("reactivated" if active else "deactivated"),
        changes={"is_active": active},
    )
    if not active:
        from allauth.usersessions.models import UserSession

        UserSession.objects.filter(user=user).delete()  # signed out everywhere, now
    return user


@transaction.atomic
def user_set_time_zone(*, actor: User, time_zone: str, only_if_unset: bool = False) -> User:
    """The zone `actor` reads times in: an IANA name from secondop.timezones'
    list (anything else is refused). `only_if_unset`: the browser's guess on a
    first sign-in, which never replaces a zone the person already has."""
    from secondop.timezones import is_known_zone

    if not is_known_zone(time_zone):
        raise AccountChangeError(f"Unknown time zone: {time_zone[:64]!r}")
    user = User.objects.select_for_update().get(pk=actor.pk)
    if user.time_zone == time_zone or (only_if_unset and user.time_zone):
        return user
    audited_update(
        user,
        actor=actor,
        action="accounts.user.time_zone_changed",
        changes={"time_zone": time_zone},
    )
    actor.time_zone = time_zone
    return user


@transaction.atomic
def user_set_language(*, actor: User, language: str) -> User:
    """The language `actor` reads SecondOp in, pages and emails (one of
    settings.LANGUAGES; anything else is refused)."""
    if language not in dict(settings.LANGUAGES):
        raise AccountChangeError(f"Unknown language: {language[:8]!r}")
    user = User.objects.select_for_update().get(pk=actor.pk)
    if user.language == language:
        return user
    audited_update(
        user,
        actor=actor,
        action="accounts.user.language_changed",
        changes={"language": language},
    )
    actor.language = language
    return user
