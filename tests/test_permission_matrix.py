"""DISCOVERY DRAFT (will be replaced)."""

import json
import re
import uuid
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.urls import URLResolver, get_resolver, resolve, reverse
from django.utils import timezone

from requests_app.models import Icd10Synonym
from secondop.audit.services import log_access, log_event
from secondop.notifications.models import Notification
from specialists.models import SpecialistProfile, Specialty
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "owner", "other_patient", "coordinator", "specialist", "admin",
         "staff_no_mfa"]
ROLE_FIXTURES = {"owner": "patient", "other_patient": "outsider", "coordinator": "coordinator",
                 "specialist": "specialist", "admin": "admin_user",
                 "staff_no_mfa": "staff_without_mfa"}
PHI = ["Early-stage breast cancer", "Whether I really need surgery", "212 555 0123",
       "Is surgery my only option?"]
POST_DATA = {"diagnosis": "forged", "reason": "x", "role": "coordinator"}


def _join(route1, route2):
    return route1 + route2.removeprefix("^") if route1 else route2


def url_patterns(urlconf=None):
    out = {}

    def walk(patterns, prefix, namespaces):
        for p in patterns:
            route = _join(prefix, str(p.pattern))
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route, [*namespaces, p.namespace] if p.namespace else namespaces)
            else:
                name = ":".join([*namespaces, p.name]) if p.name else None
                out[route] = name

    walk(get_resolver(urlconf).url_patterns, "", [])
    return out


def build_world(users):
    owner = users["owner"]
    case = CaseFactory(owner=owner, submitted=True)
    notification = Notification.objects.create(
        recipient=owner, kind="case_update", title="Your request moved on",
        url=reverse("requests_app:case_detail", args=[case.uuid]), delivered_at=timezone.now())
    profile = SpecialistProfile.objects.create(user=users["specialist"], title="MD",
                                               institution="Metro General")
    objects = {
        "auth/group": Group.objects.create(name="Reviewers"),
        "account/emailaddress": EmailAddress.objects.get(user=owner),
        "mfa/authenticator": Authenticator.objects.filter(user=users["coordinator"]).first(),
        "usersessions/usersession": UserSession.objects.create(
            user=owner, ip="127.0.0.1", session_key="matrix-session", user_agent="test"),
        "accounts/user": owner,
        "audit/auditevent": log_event(actor=users["coordinator"], action="matrix.probe", obj=case),
        "audit/accesslog": log_access(viewer=users["coordinator"], obj=case),
        "specialists/specialty": Specialty.objects.get(slug="oncology"),
        "specialists/specialistprofile": profile,
        "requests_app/case": case,
        "requests_app/icd10synonym": Icd10Synonym.objects.create(term="lump", clinical="neoplasm"),
    }
    return case, notification, objects


def sample_url(route, name, case, notification, objects):
    values = {
        "ref": str(case.uuid), "key": "diagnosis", "pk": str(notification.pk),
        "id": str(objects["accounts/user"].pk),
        "content_type_id": str(ContentType.objects.get_for_model(case).pk),
    }
    m = re.match(r"admin/(\w+/\w+)/", route)
    if m and m.group(1) in objects:
        values["object_id"] = str(objects[m.group(1)].pk)
    elif "object_id" in route:
        values["object_id"] = str(case.pk)
    overrides = {
        "accounts/confirm-email/(?P<key>[-:\\w]+)/$": "/accounts/confirm-email/MQ:bogus-key/",
        "accounts/password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$":
            "/accounts/password/reset/key/zz-bogus-token/",
        "admin/(?P<url>.*)$": "/admin/no-such-page/",
    }
    if route in overrides:
        return overrides[route]
    if route.startswith("admin/(?P<app_label>"):
        return reverse(name, kwargs={"app_label": "requests_app"})
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda g: values[g.group(1)], route)


def classify(response):
    code = response.status_code
    if 300 <= code < 400:
        path = urlsplit(response["Location"]).path
        if path == reverse("account_login"):
            return "LOGIN"
        if path == reverse("mfa_activate_totp"):
            return "MFA"
        if path in (reverse("account_reauthenticate"), reverse("mfa_reauthenticate")):
            return "REAUTH"
        return "REDIRECT " + path
    return str(code)


@pytest.mark.parametrize("role", ROLES)
def test_dump(role, request, client):
    users = {r: request.getfixturevalue(f) for r, f in ROLE_FIXTURES.items()}
    case, notification, objects = build_world(users)
    client.raise_request_exception = False
    if role != "anonymous":
        client.force_login(users[role])
    session = client.cookies.get(settings.SESSION_COOKIE_NAME)
    out = {}
    for route, name in url_patterns().items():
        url = sample_url(route, name, case, notification, objects)
        assert resolve(url).route == route, (route, url, resolve(url).route)
        for method in ("get", "post"):
            client.cookies = SimpleCookie()
            if session is not None:
                client.cookies[settings.SESSION_COOKIE_NAME] = session.value
            with transaction.atomic():
                response = getattr(client, method)(url, POST_DATA if method == "post" else None)
                transaction.set_rollback(True)
            body = response.content.decode(errors="replace")
            leaks = [p for p in PHI if p in body]
            out[f"{route} {method}"] = classify(response) + (f" LEAK{leaks}" if leaks else "")
    with open(f"/tmp/matrix_{role}.json", "w") as f:
        json.dump(out, f, indent=0)
    _ = uuid
