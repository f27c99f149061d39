"""records.services.removal: deleting a record, and retention."""

import datetime
from unittest import mock

import pytest
from django.core.files.storage import default_storage
from django.http import Http404
from django.utils import timezone

from records import services, storage
from records.models import Record, RecordFile
from requests_app.models import CaseStatus
from secondop.audit.models import AuditEvent
from tests.records.factories import RecordFactory
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db


# --- Delete ---------------------------------------------------------------------------------
def test_the_patient_deletes_a_record_sent_by_mistake(
    patient, case, django_capture_on_commit_callbacks
):
    record = RecordFactory(case=case)
    key = record.files.get().key
    assert default_storage.exists(key)
    with django_capture_on_commit_callbacks(execute=True):
        services.record_delete(actor=patient, record_ref=record.uuid)
    assert not Record.objects.filter(pk=record.pk).exists()
    assert not RecordFile.objects.filter(key=key).exists()
    assert not default_storage.exists(key)
    event = AuditEvent.objects.get(action="records.record.deleted")
    assert event.actor == patient and "Biopsy" not in str(event.old_values)


def test_no_delete_once_a_specialist_has_the_case(patient, case, outsider):
    record = RecordFactory(case=case)
    with pytest.raises(Http404):
        services.record_delete(actor=outsider, record_ref=record.uuid)
    case.status = CaseStatus.IN_REVIEW
    case.save()
    with pytest.raises(services.RecordError) as refused:
        services.record_delete(actor=patient, record_ref=record.uuid)
    assert "already working with these records" in refused.value.message
    assert Record.objects.filter(pk=record.pk).exists()


# --- Retention ---------------------------------------------------------------------------
def test_uploaded_copies_are_deleted_the_set_time_after_the_request_ended(
    patient, coordinator, specialist, settings, django_capture_on_commit_callbacks
):
    settings.RECORDS_KEEP_DAYS_AFTER_END = 90
    long_ago = timezone.now() - datetime.timedelta(days=91)
    ended = CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.CLOSED,
        case_manager=coordinator,
        specialist=specialist,
        closed_at=long_ago,
    )
    withdrawn = CaseFactory(owner=patient, withdrawn=True, closed_at=long_ago)
    recent = CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.CLOSED,
        closed_at=timezone.now() - datetime.timedelta(days=89),
    )
    still_open = CaseFactory(owner=patient, submitted=True, submitted_at=long_ago)
    uploaded = RecordFactory(case=ended)
    theirs = RecordFactory(case=ended, category="specialist_report", uploaded_by=specialist)
    withdrawn_record = RecordFactory(case=withdrawn)
    kept = [RecordFactory(case=recent), RecordFactory(case=still_open)]
    keys = [r.files.get().key for r in (uploaded, withdrawn_record)]

    with django_capture_on_commit_callbacks(execute=True):
        assert services.records_retention_sweep() == 2
    assert set(Record.objects.values_list("pk", flat=True)) == {theirs.pk, *(r.pk for r in kept)}
    assert not any(default_storage.exists(key) for key in keys)
    assert default_storage.exists(theirs.files.get().key)
    events = AuditEvent.objects.filter(action="records.record.retention_deleted")
    assert {e.object_id for e in events} == {str(uploaded.pk), str(withdrawn_record.pk)}
    assert all(e.actor is None and "Biopsy" not in str(e.old_values) for e in events)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.records_retention_sweep() == 0  # nothing twice


def test_storage_not_answering_keeps_the_record_for_the_next_run(patient, settings):
    long_ago = timezone.now() - datetime.timedelta(days=settings.RECORDS_KEEP_DAYS_AFTER_END + 1)
    ended = CaseFactory(owner=patient, submitted=True, status=CaseStatus.CLOSED, closed_at=long_ago)
    record = RecordFactory(case=ended)
    with mock.patch("records.storage.delete_under", side_effect=storage.StorageUnavailable("down")):
        assert services.records_retention_sweep() == 0
    assert Record.objects.filter(pk=record.pk).exists()
    assert not AuditEvent.objects.filter(action="records.record.retention_deleted").exists()
