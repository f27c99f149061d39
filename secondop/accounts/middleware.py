import time

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.utils.translation import gettext as _

LAST_ACTIVITY_KEY = "secondop_last_activity"
# A page view writes nothing: the idle timestamp (and the signed-in device's
# "last seen") are written at most once a minute. A minute of slack on a
# 15-minute idle timeout is nothing; a write on every page view is a lot.
ACTIVITY_WRITE_INTERVAL = 60


class UserSessionsMiddleware:
    """allauth's "signed-in devices" tracking, written at most once a minute
    (allauth's own middleware updates the row on every request): through
    allauth's own code, in the same request that refreshes the idle timestamp
    (IdleSessionTimeoutMiddleware, next in MIDDLEWARE), so that one session
    write a minute covers both."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from allauth.usersessions import app_settings
        from allauth.usersessions.models import UserSession

        user = getattr(request, "user", None)
        if (
            app_settings.TRACK_ACTIVITY
            and user is not None
            and user.is_authenticated
            and request.session.session_key
        ):
            last = request.session.get(LAST_ACTIVITY_KEY)
            if last is None or time.time() - last > ACTIVITY_WRITE_INTERVAL:
                UserSession.objects.create_from_request(request)
        return self.get_response(request)


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
                    _(
                        "For your privacy you were signed out after %(minutes)d minutes without "
                        "activity. Please sign in again."
                    )
                    % {"minutes": minutes},
                )
                return redirect_to_login(request.get_full_path())
            if last is None or now - last > ACTIVITY_WRITE_INTERVAL:
                request.session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)


# Pages a staff member may use before enrolling MFA: enrolment itself, signing
# out, re-authentication and email verification. Nothing with PHI.
MFA_EXEMPT_URL_NAMES = frozenset(
    {
        "account_logout",
        "account_reauthenticate",
        "account_email_verification_sent",
        "account_confirm_email",
        "account_change_password",
        "javascript-catalog",
        "set_language",
    }
)


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
                _(
                    "Staff accounts are protected with two-factor authentication. "
                    "Set up your authenticator app to continue."
                ),
            )
        return redirect("mfa_activate_totp")
