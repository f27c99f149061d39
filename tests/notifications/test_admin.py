import pytest
from django.urls import reverse

from secondop.accounts.notices import SECURITY
from secondop.notifications.models import EmailStatus, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed(patient):
    return Notification.objects.create(
        recipient=patient,
        kind=SECURITY,
        title="Your biopsy report is ready",
        reference="SO-2026-000077",
        email_status=EmailStatus.FAILED,
        email_attempts=3,
        failure_reason="SMTPRecipientsRefused (SMTP 550)",
    )


def test_it_shows_admins_which_emails_gave_up_and_why(client, admin_user, failed):
    client.force_login(admin_user)
    for url in (
        reverse("admin:notifications_notification_changelist"),
        reverse("admin:notifications_notification_change", args=[failed.pk]),
    ):
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 200, url
        assert "SMTPRecipientsRefused (SMTP 550)" in html
        # The in-app title is not shown.
        assert "biopsy" not in html, url


def test_it_is_read_only(client, admin_user, failed):
    client.force_login(admin_user)
    assert client.get(reverse("admin:notifications_notification_add")).status_code == 403
    response = client.post(
        reverse("admin:notifications_notification_change", args=[failed.pk]),
        {"email_status": EmailStatus.PENDING},
    )
    assert response.status_code == 403
    response = client.post(
        reverse("admin:notifications_notification_delete", args=[failed.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    failed.refresh_from_db()
    assert failed.email_status == EmailStatus.FAILED


def test_it_is_not_found_for_other_staff(client, coordinator):
    client.force_login(coordinator)
    response = client.get(reverse("admin:notifications_notification_changelist"))
    assert response.status_code == 404


def test_it_names_and_filters_the_kinds_by_their_registered_labels(client, admin_user, failed):
    client.force_login(admin_user)
    url = reverse("admin:notifications_notification_changelist")
    html = client.get(url).content.decode()
    assert "Security alerts" in html and "A case is offered to a specialist" in html
    assert "SMTP 550" in client.get(url, {"kind": "security"}).content.decode()
    assert "SMTP 550" not in client.get(url, {"kind": "offer_made"}).content.decode()
