"""Security events from Django and allauth, written to the audit log."""

from allauth.account.signals import (
    email_changed,
    password_changed,
    password_reset,
    user_signed_up,
)
from allauth.mfa.signals import authenticator_added, authenticator_removed
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.urls import reverse
from django.utils.translation import gettext as _

from secondop.accounts.services import email_changed_notice_queue, user_set_language
from secondop.audit.services import log_event
from secondop.languages import offered
from secondop.notifications.services import EmailText, notify

from .notices import SECURITY


def _security_notice(user, title: str) -> None:
    """Tell the person by email too (always on): if it was not them, they can act."""
    notify(
        recipient=user,
        kind=SECURITY,
        title=title,
        url=reverse("usersessions_list"),
        email=EmailText(
            subject=title.rstrip("."),
            sentence=_(
                "%(what)s If this was not you, change your password now and write "
                "to %(support)s: we will help you lock the account."
            )
            % {"what": title, "support": settings.SECONDOP_SUPPORT_EMAIL},
            action=_("See where your account is signed in"),
        ),
    )


@receiver(user_logged_in)
def on_logged_in(sender, request, user, **kwargs):
    log_event(actor=user, action="accounts.user.signed_in", obj=user)


@receiver(user_logged_out)
def on_logged_out(sender, request, user, **kwargs):
    if user is not None:
        log_event(actor=user, action="accounts.user.signed_out", obj=user)


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    # Never the password; the email tried is enough to spot an attack.
    tried = str(credentials.get("email") or credentials.get("username") or "")[:200]
    log_event(actor=None, action="accounts.user.sign_in_failed", new={"email": tried})


@receiver(user_signed_up)
def on_signed_up(sender, request, user, **kwargs):
    log_event(actor=user, action="accounts.user.signed_up", obj=user)
    # The language they signed up in is theirs from now on (their emails too),
    # until they choose another with the switch.
    code = getattr(request, "LANGUAGE_CODE", "") if request is not None else ""
    if offered(code) and not user.language:
        user_set_language(actor=user, language=code)


@receiver(password_changed)
def on_password_changed(sender, request, user, **kwargs):
    log_event(actor=user, action="accounts.user.password_changed", obj=user)
    _security_notice(user, _("Your password was changed."))


@receiver(password_reset)
def on_password_reset(sender, request, user, **kwargs):
    log_event(actor=user, action="accounts.user.password_reset", obj=user)
    _security_notice(user, _("Your password was reset."))


@receiver(email_changed)
def on_email_changed(sender, request, user, from_email_address, to_email_address, **kwargs):
    old_email = getattr(from_email_address, "email", None)
    if old_email is None:
        # allauth says "changed" when the first address of a new account is verified
        # at sign-up: nothing changed, so nobody is warned.
        log_event(
            actor=user,
            action="accounts.user.email_verified",
            obj=user,
            new={"email": to_email_address.email},
        )
        return
    log_event(
        actor=user,
        action="accounts.user.email_changed",
        obj=user,
        old={"email": old_email},
        new={"email": to_email_address.email},
    )
    _security_notice(user, _("The email address of your account was changed."))
    if old_email.lower() != to_email_address.email.lower():
        email_changed_notice_queue(user=user, old_email=old_email)


@receiver(authenticator_added)
def on_authenticator_added(sender, request, user, authenticator, **kwargs):
    log_event(
        actor=user,
        action="accounts.mfa.added",
        obj=user,
        new={"type": authenticator.type},
    )


@receiver(authenticator_removed)
def on_authenticator_removed(sender, request, user, authenticator, **kwargs):
    log_event(
        actor=user,
        action="accounts.mfa.removed",
        obj=user,
        old={"type": authenticator.type},
    )
    _security_notice(user, _("Two-factor authentication was turned off on your account."))
