import time

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.utils.translation import gettext as _

LAST_ACTIVITY_KEY = "secondop_last_activity"
# Writing the session on every request is wasteful; a few seconds of slack is not.
ACTIVITY_WRITE_INTERVAL = 15


class IdleSessionTimeoutMiddleware:
    """Signs a person out after a period without requests (staff 15 min, patients 30)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            now = time.time()
            last = request.session.get(LAST_ACTIVITY_KEY)
            if last is not None and now - last > user.idle_timeout_seconds:
                minutes = user.idle_timeout_seconds // 60
                logout(request)
                messages.info(
                    request,
                    _("For your privacy you were signed out after %(minutes)d minutes without "
                      "activity. Please sign in again.") % {"minutes": minutes},
                )
                return redirect_to_login(request.get_full_path())
            if last is None or now - last > ACTIVITY_WRITE_INTERVAL:
                request.session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)


# Pages a staff member may use before enrolling MFA: enrolment itself, signing
# out, re-authentication and email verification. Nothing with PHI.
MFA_EXEMPT_URL_NAMES = frozenset({
    "account_logout",
    "account_reauthenticate",
    "account_email_verification_sent",
    "account_confirm_email",
    "account_change_password",
    "javascript-catalog",
    "set_language",
})


class StaffMFARequiredMiddleware:
    """allauth has no switch that requires MFA, so this enforces it for staff."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_clinical_staff):
            return None
        match = request.resolver_match
        url_name = match.url_name if match else None
        # Only allauth's own pages, which have no namespace: the Django admin's
        # pages for the Authenticator model are named "mfa_authenticator_*" too.
        own_page = match is not None and not match.namespace
        if own_page and (url_name in MFA_EXEMPT_URL_NAMES or (url_name or "").startswith("mfa_")):
            return None
        if request.path.startswith(("/static/", "/favicon")):
            return None
        if Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            return None
        if request.method == "GET":
            messages.info(
                request,
                _("Staff accounts are protected with two-factor authentication. "
                  "Set up your authenticator app to continue."),
            )
        return redirect("mfa_activate_totp")
