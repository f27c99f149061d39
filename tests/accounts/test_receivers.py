import pytest
from django.core import mail
from django.urls import reverse

from secondop.accounts.notices import SECURITY
from secondop.audit.models import AuditEvent
from secondop.notifications.models import Notification
from tests.accounts.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_password_change_is_audited_and_the_person_is_told_by_email(client, patient):
    client.post(reverse("account_login"), {"login": patient.email, "password": PASSWORD})
    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": PASSWORD,
            "password1": "another-long-passphrase-2026",
            "password2": "another-long-passphrase-2026",
        },
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(
        action="accounts.user.password_changed", actor=patient
    ).exists()
    notice = Notification.objects.get(recipient=patient, kind=SECURITY)
    assert notice.delivered_at is not None
    assert [m.to for m in mail.outbox] == [[patient.email]]
    assert mail.outbox[0].subject == "Your password was changed"
    assert "Your password was changed. If this was not you" in mail.outbox[0].body


def test_sign_ins_and_failures_are_audited(client, patient):
    client.post(reverse("account_login"), {"login": patient.email, "password": "nope-nope-nope"})
    client.post(reverse("account_login"), {"login": patient.email, "password": PASSWORD})
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert "accounts.user.sign_in_failed" in actions
    assert "accounts.user.signed_in" in actions
    failed = AuditEvent.objects.get(action="accounts.user.sign_in_failed")
    assert "nope" not in str(failed.new_values)


def test_people_see_their_sessions_and_can_end_the_others(client, patient):
    from django.test import Client

    other_device = Client()
    other_device.post(reverse("account_login"), {"login": patient.email, "password": PASSWORD})
    client.post(reverse("account_login"), {"login": patient.email, "password": PASSWORD})
    page = client.get(reverse("usersessions_list"))
    assert page.status_code == 200
    assert page.content.decode().count("<tr") >= 3  # header + two sessions
    response = client.post(reverse("usersessions_list"))
    assert response.status_code == 302
    assert other_device.get(reverse("requests_app:dashboard")).status_code == 302  # signed out
    assert client.get(reverse("requests_app:dashboard")).status_code == 200


def _confirmation_key(message) -> str:
    import re

    return re.search(r"/accounts/confirm-email/([^/\s]+)/", message.body).group(1)


def test_verifying_the_address_at_sign_up_sends_no_security_notice(client):
    client.post(
        reverse("account_signup"),
        {
            "full_name": "Margaret Hale",
            "email": "margaret@example.com",
            "password1": "a-long-and-unusual-passphrase",
            "password2": "a-long-and-unusual-passphrase",
        },
    )
    assert len(mail.outbox) == 1  # the confirmation link
    key = _confirmation_key(mail.outbox[0])
    response = client.post(reverse("account_confirm_email", args=[key]))
    assert response.status_code == 302

    from allauth.account.models import EmailAddress

    assert EmailAddress.objects.get(email="margaret@example.com").verified
    assert not Notification.objects.filter(kind=SECURITY).exists()
    assert len(mail.outbox) == 1, [m.subject for m in mail.outbox]
    assert not AuditEvent.objects.filter(action="accounts.user.email_changed").exists()
    assert AuditEvent.objects.filter(action="accounts.user.email_verified").exists()


def test_a_real_address_change_tells_the_account_and_the_old_address(client, patient):
    from allauth.account.models import EmailAddress

    client.post(reverse("account_login"), {"login": patient.email, "password": PASSWORD})
    old = patient.email
    response = client.post(
        reverse("account_email"), {"action_add": "", "email": "pat.new@example.com"}
    )
    assert response.status_code == 302
    key = _confirmation_key(mail.outbox[-1])
    client.post(reverse("account_confirm_email", args=[key]))

    assert EmailAddress.objects.get(user=patient).email == "pat.new@example.com"
    notice = Notification.objects.get(recipient=patient, kind=SECURITY)
    assert notice.email_subject == "The email address of your account was changed"
    to_old = [m for m in mail.outbox if m.to == [old]]
    assert any("pat.new@example.com" in m.body for m in to_old)
