"""secondop.accounts.views: the time-zone setting (staff) and the browser's
zone on the first sign-in."""

import pytest
from django.urls import reverse

from secondop.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

URL = reverse("accounts:time_zone")
BROWSER = reverse("accounts:time_zone_from_browser")


def test_it_lets_a_staff_member_choose_their_zone(client, coordinator):
    client.force_login(coordinator)
    html = client.get(URL).content.decode()
    assert "Your time zone" in html and 'value="America/Los_Angeles"' in html
    response = client.post(URL, {"time_zone": "America/Los_Angeles"}, follow=True)
    coordinator.refresh_from_db()
    assert coordinator.time_zone == "America/Los_Angeles"
    assert "Your time zone is saved: America/Los Angeles." in response.content.decode()
    # Every time is then shown in it, named.
    assert "PST" in response.content.decode() or "PDT" in response.content.decode()
    event = AuditEvent.objects.get(action="accounts.user.time_zone_changed")
    assert event.new_values == {"time_zone": "America/Los_Angeles"}


def test_an_unknown_zone_is_the_forms_error_and_nothing_changes(client, coordinator):
    coordinator.time_zone = "America/Chicago"
    coordinator.save()
    client.force_login(coordinator)
    for bad in ("Mars/Olympus_Mons", "US/Eastern", "<script>"):
        response = client.post(URL, {"time_zone": bad})
        html = response.content.decode()
        assert response.status_code == 400
        assert (
            "is not a time zone we know" in html and "Choose your time zone from the list" in html
        )
        assert "<script>" not in html
    coordinator.refresh_from_db()
    assert coordinator.time_zone == "America/Chicago"


def test_patients_have_no_such_page_their_state_sets_their_zone(client, patient):
    client.force_login(patient)
    assert client.get(URL).status_code == 404
    assert f'href="{URL}"' not in client.get(reverse("account_email")).content.decode()


def test_the_browser_zone_is_taken_once_and_never_replaces_a_chosen_one(client, coordinator):
    client.force_login(coordinator)
    assert f'data-time-zone-url="{BROWSER}"' in client.get(URL).content.decode()
    assert client.post(BROWSER, {"time_zone": "Europe/Lisbon"}).status_code == 204
    coordinator.refresh_from_db()
    assert coordinator.time_zone == "Europe/Lisbon"
    assert "data-time-zone-url" not in client.get(URL).content.decode()  # asked no more
    assert client.post(BROWSER, {"time_zone": "Asia/Tokyo"}).status_code == 204
    coordinator.refresh_from_db()
    assert coordinator.time_zone == "Europe/Lisbon"


def test_the_browser_endpoint_refuses_unknown_names_and_strangers(client, patient):
    assert client.post(BROWSER, {"time_zone": "Europe/Lisbon"}).status_code == 302  # sign in
    client.force_login(patient)
    assert client.get(BROWSER).status_code == 405
    assert client.post(BROWSER, {"time_zone": "Nowhere/Land"}).status_code == 400
    patient.refresh_from_db()
    assert patient.time_zone == ""
