import pytest
from django.urls import reverse
from django.utils import timezone

from requests_app.notices import CASE_UPDATE
from secondop.accounts.notices import SECURITY
from secondop.notifications.models import EmailPreference, Notification

pytestmark = pytest.mark.django_db


def _delivered(user, **kw):
    kw.setdefault("title", "Update")
    return Notification.objects.create(
        recipient=user, kind=CASE_UPDATE, delivered_at=timezone.now(), **kw
    )


def test_it_lists_delivered_notifications_and_counts_unread(client, patient):
    _delivered(patient, title="Visible one")
    Notification.objects.create(recipient=patient, kind=CASE_UPDATE, title="Not yet delivered")
    client.force_login(patient)
    html = client.get(reverse("notifications:list")).content.decode()
    assert "Visible one" in html
    assert "Not yet delivered" not in html
    assert 'class="badge"' in html and ">1</span>" in html


def test_opening_marks_read_and_follows_the_link(client, patient):
    n = _delivered(patient, url="/home/")
    client.force_login(patient)
    response = client.post(reverse("notifications:open", args=[n.pk]))
    assert response.status_code == 302 and response.url == "/home/"
    n.refresh_from_db()
    assert n.read_at is not None


def test_it_never_redirects_off_site(client, patient):
    n = _delivered(patient, url="https://evil.example/")
    client.force_login(patient)
    response = client.post(reverse("notifications:open", args=[n.pk]))
    assert response.url == reverse("notifications:list")


def test_an_outsider_gets_404(client, patient, outsider):
    n = _delivered(patient)
    client.force_login(outsider)
    assert client.post(reverse("notifications:open", args=[n.pk])).status_code == 404
    n.refresh_from_db()
    assert n.read_at is None


def test_mark_all_read(client, patient, outsider):
    _delivered(patient)
    other = _delivered(outsider)
    client.force_login(patient)
    client.post(reverse("notifications:read_all"))
    assert not Notification.objects.filter(recipient=patient, read_at__isnull=True).exists()
    other.refresh_from_db()
    assert other.read_at is None


def test_preferences_page_saves_choices(client, patient):
    client.force_login(patient)
    assert client.get(reverse("notifications:preferences")).status_code == 200
    response = client.post(reverse("notifications:preferences"), {"message": "on"})
    assert response.status_code == 302
    prefs = dict(EmailPreference.objects.filter(user=patient).values_list("kind", "enabled"))
    assert prefs[CASE_UPDATE] is False
    assert SECURITY not in prefs


def test_each_role_chooses_only_the_emails_it_can_get(client, patient, specialist):
    client.force_login(patient)
    html = client.get(reverse("notifications:preferences")).content.decode()
    assert "Records are asked for" in html
    assert "A case is offered to a specialist" not in html
    client.force_login(specialist)
    html = client.get(reverse("notifications:preferences")).content.decode()
    assert "A case is offered to a specialist" in html
    assert "Records are asked for" not in html


def test_the_unread_count_is_cached_and_follows_every_change(
    client, patient, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from secondop.notifications.services import notify

    client.force_login(patient)
    client.get(reverse("notifications:list"))
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("requests_app:dashboard")).content.decode()
    assert not [q for q in queries.captured_queries if "notifications_notification" in q["sql"]]
    assert 'class="badge"' not in html
    with django_capture_on_commit_callbacks(execute=True):  # delivered on commit
        note = notify(recipient=patient, kind=CASE_UPDATE, title="News")
    assert "1 unread" in client.get(reverse("requests_app:dashboard")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("notifications:open", args=[note.pk]))
    assert "1 unread" not in client.get(reverse("requests_app:dashboard")).content.decode()
