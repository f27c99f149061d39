import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

STAFF_PAGES = [
    "requests_app:coordinator_home",
    "specialists:home",
    "admin:index",
    "admin:accounts_user_changelist",
    "admin:audit_auditevent_changelist",
]


@pytest.mark.parametrize("name", STAFF_PAGES)
def test_a_patient_cannot_reach_any_staff_page(client, patient, name):
    client.force_login(patient)
    response = client.get(reverse(name))
    assert response.status_code in (403, 404)


@pytest.mark.parametrize("name", STAFF_PAGES)
def test_anonymous_people_are_sent_to_sign_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert "login" in response.url


def test_a_specialist_cannot_reach_the_coordinator_home(client, specialist):
    client.force_login(specialist)
    assert client.get(reverse("requests_app:coordinator_home")).status_code == 403


def test_a_coordinator_cannot_reach_the_admin(client, coordinator):
    client.force_login(coordinator)
    assert client.get(reverse("admin:index")).status_code == 404


def test_an_admin_with_mfa_reaches_the_admin(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("admin:index")).status_code == 200


def test_the_staff_pages_render_for_their_roles(client, coordinator, specialist):
    client.force_login(coordinator)
    assert "Case queue" in client.get(reverse("requests_app:coordinator_home")).content.decode()
    client.force_login(specialist)
    assert "Your cases" in client.get(reverse("specialists:home")).content.decode()


@pytest.mark.parametrize(
    ("role", "target"),
    [
        ("patient", "requests_app:dashboard"),
        ("coordinator", "requests_app:coordinator_home"),
        ("specialist", "specialists:home"),
    ],
)
def test_home_sends_each_role_to_its_own_home(client, request, role, target):
    user = request.getfixturevalue(role)
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    followed = client.get(response.url)
    assert followed.status_code == 302
    assert followed.url == reverse(target)
