from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
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

    def send_mail(self, template_prefix, email, context):
        # Our emails (templates/account/email/) end with where to write for help.
        context = {"support_email": settings.SECONDOP_SUPPORT_EMAIL, **context}
        return super().send_mail(template_prefix, email, context)

    def get_login_redirect_url(self, request):
        return reverse("accounts:home")

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        # One exception: a staff member made to enrol MFA straight after signing
        # in is not asked for the password they typed a minute ago, for that
        # first enrolment and for seeing its recovery codes. Turning MFA off,
        # regenerating codes, or anything else always asks again.
        if app == "allauth.mfa" and self._first_enrolment_right_after_sign_in():
            return False
        return super().is_reauthentication_required(app=app, **kwargs)

    @staticmethod
    def _first_enrolment_right_after_sign_in() -> bool:
        import time

        from allauth.account import app_settings
        from allauth.account.internal.flows.login import get_authentication_records
        from allauth.core import context
        from allauth.mfa.models import Authenticator

        request = context.request
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_clinical_staff:
            return False
        match = request.resolver_match
        url_name = match.url_name if match else ""
        window = app_settings.REAUTHENTICATION_TIMEOUT
        records = get_authentication_records(request, user)
        if not records or time.time() - records[-1]["at"] > window:
            return False
        totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
        if url_name == "mfa_activate_totp":
            return totp is None
        if url_name == "mfa_view_recovery_codes" and request.method == "GET":
            return totp is not None and time.time() - totp.created_at.timestamp() < window
        return False
