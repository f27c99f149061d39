import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from secondop.accounts.models import User
from secondop.audit.models import AuditEvent
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = {
    "full_name": "Jo Bloggs",
    "email": "jo@example.com",
    "password1": "a-long-and-unusual-passphrase",
    "password2": "a-long-and-unusual-passphrase",
}


def test_it_makes_a_patient_whatever_the_form_says(client):
    response = client.post(reverse("account_signup"), {**SIGNUP, "role": "admin", "is_staff": "on"})
    assert response.status_code == 302
    user = User.objects.get(email="jo@example.com")
    assert user.role == "patient"
    assert not user.is_staff and not user.is_superuser
    assert user.full_name == "Jo Bloggs"
    assert AuditEvent.objects.filter(
        action="accounts.user.signed_up", object_id=str(user.pk)
    ).exists()


def test_it_requires_email_verification_before_sign_in(client):
    client.post(reverse("account_signup"), SIGNUP)
    assert len(mail.outbox) == 1
    assert "jo@example.com" in mail.outbox[0].to
    client.logout()
    response = client.post(
        reverse("account_login"), {"login": "jo@example.com", "password": SIGNUP["password1"]}
    )
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert not EmailAddress.objects.get(email="jo@example.com").verified


def test_it_keeps_what_was_typed_on_error(client):
    response = client.post(reverse("account_signup"), {**SIGNUP, "password2": "different"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="Jo Bloggs"' in html
    assert 'value="jo@example.com"' in html
    assert "There is a problem" in html


def test_the_sixth_wrong_password_in_a_row_is_rate_limited(client):
    UserFactory(email="target@example.com")
    for _ in range(5):
        response = client.post(
            reverse("account_login"), {"login": "target@example.com", "password": "wrong-password"}
        )
        assert response.status_code == 200
        assert "not correct" in response.content.decode()
    # The sixth attempt is refused even with the right password.
    response = client.post(
        reverse("account_login"), {"login": "target@example.com", "password": PASSWORD}
    )
    assert response.status_code in (200, 429)
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_verified_patient_signs_in(client, patient):
    response = client.post(reverse("account_login"), {"login": patient.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(patient.pk)
