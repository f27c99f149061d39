"""Demo accounts: a verified email address, the published password, and for staff
the published TOTP secret (demo data only: never on a real deployment)."""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP

from demo.data.accounts import DEMO_PASSWORD, DEMO_TOTP_SECRET
from secondop.accounts.models import Role, User


def demo_user(email: str, name: str, role: str, *, mfa: bool = False) -> User:
    """The account, made once; its email verified and, with `mfa`, TOTP enrolled."""
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email=email,
            password=DEMO_PASSWORD,
            full_name=name,
            role=role,
            is_staff=(role == Role.ADMIN),
            is_superuser=(role == Role.ADMIN),
        )
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    if mfa and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, DEMO_TOTP_SECRET)
        RecoveryCodes.activate(user)
    return user
