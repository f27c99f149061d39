import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from secondop.accounts.models import User
from secondop.accounts.services import staff_invite
from secondop.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_staff_invite_creates_a_staff_account_and_emails_a_password_link(
    admin_user, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = staff_invite(
            actor=admin_user,
            email="New.Coord@Example.com",
            full_name="New Coord",
            role="coordinator",
        )
    assert user.email == "new.coord@example.com"
    assert user.role == "coordinator"
    assert not user.has_usable_password()
    assert EmailAddress.objects.get(user=user).verified
    assert AuditEvent.objects.filter(action="accounts.staff.invited", actor=admin_user).exists()
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    link = next(line for line in body.splitlines() if "/accounts/password/reset/key/" in line)
    # The link works: it leads to the page where they choose a password.
    path = link.replace("http://testserver", "").strip()
    response = client.get(path, follow=True)
    assert response.status_code == 200
    assert "password1" in response.content.decode()


def test_staff_invite_refuses_a_patient_role(admin_user):
    with pytest.raises(ValueError):
        staff_invite(actor=admin_user, email="x@example.com", full_name="X", role="patient")
    assert not User.objects.filter(email="x@example.com").exists()


def test_the_admin_invite_page_invites(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/admin/accounts/user/invite/",
        {"email": "spec2@example.com", "full_name": "Dr Two", "role": "specialist"},
    )
    assert response.status_code == 302
    assert User.objects.get(email="spec2@example.com").role == "specialist"


def test_the_admin_invite_page_explains_a_duplicate(client, admin_user, patient):
    client.force_login(admin_user)
    response = client.post(
        "/admin/accounts/user/invite/",
        {"email": patient.email, "full_name": "Dup", "role": "specialist"},
    )
    assert response.status_code == 200
    assert "already has an account" in response.content.decode()
