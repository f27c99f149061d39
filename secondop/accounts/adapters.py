from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse

from .models import Role


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        # Self sign-up only ever makes patients; staff are invited (services.staff_invite).
        user.role = Role.PATIENT
        user.is_staff = False
        user.is_superuser = False
        user.full_name = form.cleaned_data.get("full_name", "").strip()
        return super().save_user(request, user, form, commit=commit)

    def get_login_redirect_url(self, request):
        return reverse("accounts:home")

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        # Someone who signed in minutes ago (a staff member being made to enrol
        # MFA, then shown recovery codes) is not asked for their password again.
        if app == "allauth.mfa" and self._signed_in_recently():
            return False
        return super().is_reauthentication_required(app=app, **kwargs)

    @staticmethod
    def _signed_in_recently() -> bool:
        import time

        from allauth.account import app_settings
        from allauth.account.internal.flows.login import get_authentication_records
        from allauth.core import context

        request = context.request
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        records = get_authentication_records(request, user)
        return bool(records) and time.time() - records[-1]["at"] < app_settings.REAUTHENTICATION_TIMEOUT
