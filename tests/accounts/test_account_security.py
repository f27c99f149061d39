"""Account rules a security reviewer checks: where the email-change notice goes,
when re-authentication may be skipped, password length and hashing."""

import time

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import identify_hasher
from django.core import mail
from django.urls import reverse

from tests.accounts.factories import PASSWORD, UserFactory, enrol_totp, totp_code

pytestmark = pytest.mark.django_db


def test_the_email_change_notice_goes_to_the_old_address(
    patient, django_capture_on_commit_callbacks
):
    from allauth.account.signals import email_changed

    old = EmailAddress.objects.get(user=patient)
    new = EmailAddress.objects.create(user=patient, email="someone-new@example.com", verified=True)
    patient.email = new.email
    patient.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        email_changed.send(
            sender=type(patient),
            request=None,
            user=patient,
            from_email_address=old,
            to_email_address=new,
        )
    to_old = [m for m in mail.outbox if m.to == ["pat@example.com"]]
    assert len(to_old) == 1
    assert "someone-new@example.com" in to_old[0].body
    assert "did not" in to_old[0].body  # what to do if it was not them


def _signed_in_coordinator_without_mfa(client):
    user = UserFactory(role="coordinator", email="fresh@example.com")
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    return user


def test_first_enrolment_right_after_sign_in_does_not_ask_for_the_password_again(client):
    _signed_in_coordinator_without_mfa(client)
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 200
    assert "reauthenticate" not in response.get("Location", "")


def _sign_in_with_mfa(client):
    user = UserFactory(role="coordinator", email="seasoned@example.com")
    enrol_totp(user)
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    return user


@pytest.mark.parametrize("url_name", ["mfa_deactivate_totp", "mfa_generate_recovery_codes"])
def test_turning_mfa_off_or_new_codes_always_ask_for_the_password_again(client, url_name):
    _sign_in_with_mfa(client)
    response = client.post(reverse(url_name), {})
    assert response.status_code == 302
    assert "reauthenticate" in response.url


def test_a_patient_is_asked_again_before_enrolling_long_after_signing_in(client, patient, settings):
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 1
    client.post(reverse("account_login"), {"login": patient.email, "password": PASSWORD})
    time.sleep(1.2)
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 302 and "reauthenticate" in response.url


def test_passwords_need_12_characters_and_are_hashed_with_argon2(client):
    response = client.post(
        reverse("account_signup"),
        {
            "full_name": "Short Pass",
            "email": "short@example.com",
            "password1": "Tr0ub4dor&3",
            "password2": "Tr0ub4dor&3",
        },
    )  # 11 characters
    assert "at least 12 characters" in response.content.decode()
    client.post(
        reverse("account_signup"),
        {
            "full_name": "Long Pass",
            "email": "long@example.com",
            "password1": "correct-horse-staple",
            "password2": "correct-horse-staple",
        },
    )
    from secondop.accounts.models import User

    user = User.objects.get(email="long@example.com")
    assert identify_hasher(user.password).algorithm == "argon2"


def test_a_code_from_the_next_or_last_step_works_once_and_older_ones_never(client):
    """One 30-second step either side (a drifting phone, a code typed as it turns
    over); two steps away is refused; a code works once."""
    user = UserFactory(role="coordinator", email="drift@example.com")
    enrol_totp(user)

    def attempt(code):
        client.logout()
        client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
        client.post(reverse("mfa_authenticate"), {"code": code})
        return "_auth_user_id" in client.session

    assert attempt(totp_code(offset=-3)) is False
    assert attempt(totp_code(offset=3)) is False
    assert attempt(totp_code(offset=-1)) is True
    assert attempt(totp_code(offset=-1)) is False  # used already
    assert attempt(totp_code(offset=1)) is True
