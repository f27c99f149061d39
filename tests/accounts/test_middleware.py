import time

import pytest
from django.urls import reverse

from secondop.accounts.middleware import LAST_ACTIVITY_KEY
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_it_sends_staff_without_mfa_to_enrolment(client):
    coordinator = UserFactory(role="coordinator")
    client.force_login(coordinator)
    response = client.get(reverse("requests_app:coordinator_home"))
    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")


def test_it_lets_staff_without_mfa_reach_enrolment_and_sign_out(client):
    user = UserFactory(role="specialist")
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("mfa_activate_totp")
    assert response.status_code == 200
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    assert client.post(reverse("account_logout")).status_code == 302


def test_it_lets_staff_with_mfa_through(client, coordinator):
    client.force_login(coordinator)
    assert client.get(reverse("requests_app:coordinator_home")).status_code == 200


def test_it_does_not_ask_patients_for_mfa(client, patient):
    client.force_login(patient)
    assert client.get(reverse("requests_app:dashboard")).status_code == 200


def _age_session(client, seconds: int) -> None:
    session = client.session
    session[LAST_ACTIVITY_KEY] = time.time() - seconds
    session.save()


def test_it_expires_an_idle_staff_session(client, coordinator):
    client.force_login(coordinator)
    assert client.get(reverse("requests_app:coordinator_home")).status_code == 200
    _age_session(client, 15 * 60 + 5)
    response = client.get(reverse("requests_app:coordinator_home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    # Really signed out: the next request is anonymous too.
    assert "_auth_user_id" not in client.session
    page = client.get(response.url)
    assert "signed out after 15 minutes" in page.content.decode()


def test_it_keeps_an_active_staff_session(client, coordinator):
    client.force_login(coordinator)
    client.get(reverse("requests_app:coordinator_home"))
    _age_session(client, 14 * 60)
    assert client.get(reverse("requests_app:coordinator_home")).status_code == 200


def test_it_gives_patients_thirty_idle_minutes(client, patient):
    client.force_login(patient)
    client.get(reverse("requests_app:dashboard"))
    _age_session(client, 20 * 60)
    assert client.get(reverse("requests_app:dashboard")).status_code == 200
    _age_session(client, 31 * 60)
    assert client.get(reverse("requests_app:dashboard")).status_code == 302


def test_the_timeouts_are_configurable(client, coordinator, settings):
    settings.SESSION_IDLE_TIMEOUT_STAFF = 60
    client.force_login(coordinator)
    client.get(reverse("requests_app:coordinator_home"))
    _age_session(client, 61)
    assert client.get(reverse("requests_app:coordinator_home")).status_code == 302


def test_an_administrator_without_mfa_reaches_no_admin_page(client, db):
    """The admin's own pages are never exempt from enrolment, whatever their names
    (an 'mfa_' prefix once let staff without MFA read TOTP secrets there)."""
    from tests.accounts.factories import UserFactory

    admin = UserFactory(role="admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    for url in ["/admin/", "/admin/accounts/user/", "/admin/audit/accesslog/"]:
        response = client.get(url)
        assert response.status_code == 302 and response.url == reverse("mfa_activate_totp"), url
    from allauth.mfa.models import Authenticator
    from django.contrib import admin as django_admin

    assert not django_admin.site.is_registered(Authenticator)
