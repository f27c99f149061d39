import pytest
from django.db import DatabaseError, transaction

from secondop.audit.context import request_audit_source
from secondop.audit.models import AccessLog, AuditEvent
from secondop.audit.services import log_access, log_event

pytestmark = pytest.mark.django_db


def test_log_event_records_actor_action_values_and_ip(rf, coordinator, patient):
    with request_audit_source(rf.get("/", REMOTE_ADDR="203.0.113.9")):
        event = log_event(
            actor=coordinator,
            action="accounts.user.role_changed",
            obj=patient,
            old={"role": "patient"},
            new={"role": "patient"},
        )
    assert event.actor == coordinator
    assert event.object_type == "accounts.user"
    assert event.object_id == str(patient.pk)
    assert event.ip_address == "203.0.113.9"


def test_log_access_records_a_read(rf, coordinator, patient):
    with request_audit_source(rf.get("/x/?q=Zelda")):
        entry = log_access(viewer=coordinator, obj=patient)
    assert entry.kind == AccessLog.Kind.VIEW
    assert entry.path == "/x/"  # never the query: it may hold a searched name


@pytest.mark.parametrize("model", [AuditEvent, AccessLog])
def test_the_database_refuses_to_change_or_delete_log_rows(model, coordinator, patient):
    if model is AuditEvent:
        row = log_event(actor=coordinator, action="x.y.z", obj=patient)
    else:
        row = log_access(viewer=coordinator, obj=patient)
    with pytest.raises(DatabaseError), transaction.atomic():
        model.objects.filter(pk=row.pk).update(object_repr="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        model.objects.filter(pk=row.pk).delete()
    assert model.objects.filter(pk=row.pk).exists()


def test_the_admin_is_read_only(client, admin_user):
    log_event(actor=admin_user, action="x.y.z")
    client.force_login(admin_user)
    assert client.get("/admin/audit/auditevent/").status_code == 200
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    event = AuditEvent.objects.first()
    assert client.post(f"/admin/audit/auditevent/{event.pk}/delete/").status_code == 403
