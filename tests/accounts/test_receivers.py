import pytest
from django.core import mail
from django.urls import reverse

from secondop.audit.models import AuditEvent
from secondop.notifications.models import Kind, Notification
from tests.accounts.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_password_change_is_audited_and_the_person_is_told_by_email(client, patient):
    client.post(reverse("account_login"), {"login": patient.email, "password": PASSWORD})
    response = client.post(reverse("account_change_password"), {
        "oldpassword": PASSWORD,
        "password1": "another-long-passphrase-2026",
        "password2": "another-long-passphrase-2026",
    })
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="accounts.user.password_changed",
                                     actor=patient).exists()
    notice = Notification.objects.get(recipient=patient, kind=Kind.SECURITY)
    assert notice.delivered_at is not None
    assert [m.to for m in mail.outbox] == [[patient.email]]
    assert "security notice" in mail.outbox[0].body


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
