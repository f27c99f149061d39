from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from secondop.audit.services import log_event

from .models import STAFF_ROLES, Role, User


@transaction.atomic
def staff_invite(*, actor, email: str, full_name: str, role: str, request=None) -> User:
    """Create a staff account and email the person a link to choose a password.

    Staff never sign themselves up. The email address is marked verified: the
    invitation link proves they received it. They enrol MFA at first sign-in.
    """
    if role not in STAFF_ROLES:
        raise ValueError(f"{role!r} is not a staff role")
    user = User.objects.create_user(
        email=email.strip().lower(), full_name=full_name.strip(), role=role,
        is_staff=(role == Role.ADMIN),
    )
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    log_event(actor=actor, action="accounts.staff.invited", obj=user, request=request,
              new={"email": user.email, "role": role})
    transaction.on_commit(lambda: _send_invitation(user))
    return user


def staff_invitation_url(user: User) -> str:
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": default_token_generator.make_token(user)},
    )
    return f"{settings.SITE_URL}{path}"


def _send_invitation(user: User) -> None:
    context = {"user": user, "invite_url": staff_invitation_url(user),
               "role": Role(user.role).label}
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
