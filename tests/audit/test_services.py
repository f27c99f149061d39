"""audited_update: the change and its audit row in one step, old and new values."""

import pytest

from secondop.audit.models import AuditEvent
from secondop.audit.services import audited_update

pytestmark = pytest.mark.django_db


def test_records_only_what_changed_and_returns_it(patient, coordinator):
    patient.time_zone = "America/New_York"
    patient.save(update_fields=["time_zone"])
    old, new = audited_update(
        patient,
        actor=coordinator,
        action="accounts.user.test_changed",
        changes={"time_zone": "America/Chicago", "full_name": patient.full_name},
    )
    assert (old, new) == ({"time_zone": "America/New_York"}, {"time_zone": "America/Chicago"})
    patient.refresh_from_db()
    assert patient.time_zone == "America/Chicago"
    event = AuditEvent.objects.get(action="accounts.user.test_changed")
    assert (event.actor, event.old_values, event.new_values) == (coordinator, old, new)
    assert "full_name" not in event.new_values


def test_nothing_changed_saves_nothing_and_writes_no_row(patient, coordinator):
    patient.time_zone = "America/Denver"
    patient.save(update_fields=["time_zone"])
    assert audited_update(
        patient,
        actor=coordinator,
        action="accounts.user.test_changed",
        changes={"time_zone": "America/Denver"},
        also={"is_staff": True},
    ) == ({}, {})
    patient.refresh_from_db()
    assert not patient.is_staff
    assert not AuditEvent.objects.filter(action="accounts.user.test_changed").exists()


def test_fields_that_follow_are_saved_but_not_recorded(patient, coordinator):
    old, new = audited_update(
        patient,
        actor=coordinator,
        action="accounts.user.test_changed",
        changes={"time_zone": "Europe/Madrid"},
        also={"full_name": "Pat Followed"},
    )
    patient.refresh_from_db()
    assert patient.full_name == "Pat Followed" and patient.time_zone == "Europe/Madrid"
    assert new == {"time_zone": "Europe/Madrid"} and "full_name" not in old


def test_a_related_row_is_recorded_by_its_key(coordinator, specialist):
    from tests.requests_app.factories import CaseFactory

    case = CaseFactory(case_manager=coordinator)
    old, new = audited_update(
        case, actor=coordinator, action="requests.case.test_changed", changes={"case_manager": None}
    )
    assert (old, new) == ({"case_manager": coordinator.pk}, {"case_manager": None})
