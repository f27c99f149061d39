"""Security headers and cookies, client addresses behind a proxy, PHI kept out of
error reports, and page views that write nothing."""

import json
import subprocess
import sys

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from secondop.audit.context import client_ip
from tests.accounts.factories import PASSWORD, UserFactory
from tests.platform.test_security import BASE_DIR, PRODUCTION_ENV
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db

SECURITY_SETTINGS = [
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SAMESITE",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "X_FRAME_OPTIONS",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
]


@pytest.fixture(scope="module")
def production_security_settings():
    """The security settings exactly as production loads them (a fresh process)."""
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {SECURITY_SETTINGS!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", **PRODUCTION_ENV},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_phi_page_carries_every_security_header_and_cookie_flag(
    client, settings, patient, production_security_settings
):
    for name, value in production_security_settings.items():
        setattr(settings, name, value)
    case = CaseFactory(owner=patient, submitted=True)
    login = client.post(
        reverse("account_login"), {"login": patient.email, "password": PASSWORD}, secure=True
    )
    assert login.status_code == 302
    session, csrf = login.cookies["sessionid"], client.cookies["csrftoken"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    assert csrf["secure"] and csrf["samesite"] == "Lax"

    response = client.get(reverse("requests_app:case_detail", args=[case.uuid]), secure=True)
    assert response.status_code == 200 and "Early-stage breast cancer" in response.text
    h = response.headers
    csp = h["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
    assert h["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "same-origin"
    assert h["X-Frame-Options"] == "DENY"
    assert h["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in h["Permissions-Policy"] and "geolocation=()" in h["Permissions-Policy"]
    cache_control = {part.strip() for part in h["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= cache_control
    assert "public" not in cache_control


def test_every_response_to_a_signed_in_person_is_not_stored(client, patient, coordinator):
    for user, url in [
        (patient, reverse("requests_app:dashboard")),
        (patient, reverse("notifications:list")),
        (coordinator, reverse("requests_app:coordinator_home")),
    ]:
        client.force_login(user)
        assert "no-store" in client.get(url).headers["Cache-Control"], url


def test_public_pages_may_be_cached_but_carry_the_permissions_policy(client):
    response = client.get(reverse("home"))
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert "microphone=()" in response.headers["Permissions-Policy"]


# --- The client's address behind a proxy ------------------------------------------------
def _request(rf, **meta):
    return rf.get("/", REMOTE_ADDR="10.0.0.2", **meta)


def test_without_a_trusted_proxy_a_forwarded_header_is_ignored(rf, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request(rf, HTTP_X_FORWARDED_FOR="203.0.113.9")) == "10.0.0.2"


def test_behind_one_proxy_the_address_it_saw_is_the_client(rf, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request(rf, HTTP_X_FORWARDED_FOR="203.0.113.9")) == "203.0.113.9"
    # A client that writes the header itself: the proxy appends what it saw.
    spoofed = _request(rf, HTTP_X_FORWARDED_FOR="198.51.100.66, 203.0.113.9")
    assert client_ip(spoofed) == "203.0.113.9"
    # Reached without the proxy's header (e.g. from inside): the socket's address.
    assert client_ip(_request(rf)) == "10.0.0.2"


def test_the_authorisation_records_the_real_address_behind_the_proxy(client, settings, patient):
    from requests_app import services

    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    case = services.case_start(actor=patient)
    client.force_login(patient)
    client.post(
        reverse("requests_app:case_section", args=[case.uuid, "authorisation"]),
        {"agree": "on", "signature": patient.full_name},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.66, 203.0.113.9",
    )
    case.refresh_from_db()
    assert case.authorisation_ip == "203.0.113.9"


def test_one_client_locked_out_by_the_ip_limit_does_not_lock_out_another(client, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "3/m/ip"}
    user = UserFactory(email="real@example.com")
    attacker = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "198.51.100.66"}
    for _ in range(4):
        client.post(
            reverse("account_login"), {"login": "x@example.com", "password": "nope"}, **attacker
        )
    blocked = client.post(
        reverse("account_login"), {"login": user.email, "password": PASSWORD}, **attacker
    )
    assert blocked.status_code in (200, 429) and "_auth_user_id" not in client.session
    response = client.post(
        reverse("account_login"),
        {"login": user.email, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


# --- PHI out of error reports and URLs ----------------------------------------------------
def test_an_error_report_for_a_phi_form_holds_none_of_its_values(rf, patient):
    from django.views.debug import get_exception_reporter_class

    # Built at run time: the report shows the source lines around each frame,
    # and the values must not be found there as literals either.
    secrets = {
        name: "-".join([name, "value", str(n)])
        for n, name in enumerate(["diagnosis", "patient_phone", "insurance_member_id"])
    }
    cookie, query = "-".join(["cookie", "value"]), "-".join(["query", "value"])
    request = rf.post(f"/requests/x/section/diagnosis/?q={query}", secrets)
    request.user = patient
    request.COOKIES = {"sessionid": cookie}

    def view(request):
        diagnosis = request.POST["diagnosis"]  # a local variable holding PHI
        raise ValueError(f"failed for {len(diagnosis)} characters")

    try:
        view(request)
    except ValueError:
        reporter = get_exception_reporter_class(request)(request, *sys.exc_info())
        reports = [reporter.get_traceback_html(), reporter.get_traceback_text()]
    for report in reports:
        for value in [*secrets.values(), cookie, query]:
            assert value not in report
        assert "ValueError" in report  # the report is still useful


def test_the_icd10_search_takes_no_query_in_the_url(client, patient):
    client.force_login(patient)
    assert client.get(reverse("requests_app:icd10_search"), {"q": "e11"}).status_code == 405
    response = client.post(reverse("requests_app:icd10_search"), {"q": "e11.9"})
    assert response.json()["results"][0]["code"] == "E11.9"


# --- A page view writes nothing -----------------------------------------------------------
WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.mark.parametrize("url_name", ["requests_app:dashboard", "notifications:list"])
def test_a_second_page_view_within_a_minute_writes_nothing(client, patient, url_name):
    CaseFactory(owner=patient, submitted=True)
    client.force_login(patient)
    client.get(reverse(url_name))  # the first view records the activity
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse(url_name)).status_code == 200
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().startswith(WRITES)]
    assert writes == []


def test_activity_is_still_recorded_once_a_minute(client, patient):
    from allauth.usersessions.models import UserSession

    from secondop.accounts.middleware import LAST_ACTIVITY_KEY

    client.force_login(patient)
    client.get(reverse("requests_app:dashboard"))
    seen = UserSession.objects.get(user=patient).last_seen_at
    session = client.session
    session[LAST_ACTIVITY_KEY] -= 61
    session.save()
    client.get(reverse("requests_app:dashboard"))
    assert UserSession.objects.get(user=patient).last_seen_at > seen
