"""records.services.bundles: a deleted record leaves no bundle holding it."""

from unittest import mock

import pytest
from django.core.files.storage import default_storage

from records import services
from records.models import Record, RecordFile
from requests_app.models import CaseStatus
from secondop.audit.models import AuditEvent
from tests.records.factories import RecordFactory

pytestmark = pytest.mark.django_db


# --- Deletes reach every bundle ---------------------------------------------------------------
def _built_bundle(actor, case, record_ref=None):
    from records import checking

    bundle = services.bundle_create(actor=actor, case_ref=case.uuid, record_ref=record_ref)
    checking.build_bundle(bundle.pk)
    bundle.refresh_from_db()
    assert bundle.status == "ready" and default_storage.exists(bundle.key)
    return bundle


def test_deleting_a_record_deletes_every_bundle_holding_it(
    patient, coordinator, case, client, django_capture_on_commit_callbacks
):
    from records.models import Bundle

    case.status, case.case_manager = CaseStatus.TRIAGE, coordinator
    case.save()
    record, other = RecordFactory(case=case), RecordFactory(case=case)
    everything = _built_bundle(coordinator, case)
    just_it = _built_bundle(coordinator, case, record_ref=record.uuid)
    just_other = _built_bundle(coordinator, case, record_ref=other.uuid)
    with django_capture_on_commit_callbacks(execute=True):
        services.record_delete(actor=patient, record_ref=record.uuid)
    assert set(Bundle.objects.values_list("pk", flat=True)) == {just_other.pk}
    assert not default_storage.exists(everything.key) and not default_storage.exists(just_it.key)
    assert default_storage.exists(just_other.key)
    logged = AuditEvent.objects.filter(action="records.bundle.deleted")
    assert {e.object_id for e in logged} == {str(everything.pk), str(just_it.pk)}
    assert all(e.new_values["reason"] == "record_deleted" and e.actor == patient for e in logged)
    client.force_login(coordinator)
    assert client.get(f"/records/bundles/{everything.uuid}/download/").status_code == 404


def test_a_bundle_missing_a_record_is_never_downloaded(coordinator, case, client):
    case.status, case.case_manager = CaseStatus.TRIAGE, coordinator
    case.save()
    record = RecordFactory(case=case)
    RecordFactory(case=case)
    bundle = _built_bundle(coordinator, case)
    client.force_login(coordinator)
    url = f"/records/bundles/{bundle.uuid}/download/"
    assert client.get(url).status_code == 200
    # Gone by a path that forgot the bundle (the bundle row is left behind).
    RecordFile.objects.filter(record=record).delete()
    Record.objects.filter(pk=record.pk).delete()
    assert client.get(url).status_code == 404


def test_a_bundle_holds_the_records_it_was_asked_for_not_later_ones(coordinator, case):
    import zipfile

    from records import checking

    case.status, case.case_manager = CaseStatus.TRIAGE, coordinator
    case.save()
    RecordFactory(case=case, title="First")
    bundle = services.bundle_create(actor=coordinator, case_ref=case.uuid)
    RecordFactory(case=case, title="Arrived later")
    checking.build_bundle(bundle.pk)
    bundle.refresh_from_db()
    with default_storage.open(bundle.key) as handle, zipfile.ZipFile(handle) as archive:
        names = archive.namelist()
    assert len(names) == 1 and "First" in names[0]


def test_a_bundle_deleted_while_building_leaves_no_zip(coordinator, case):
    from records import checking
    from records.models import Bundle

    case.status, case.case_manager = CaseStatus.TRIAGE, coordinator
    case.save()
    RecordFactory(case=case)
    bundle = services.bundle_create(actor=coordinator, case_ref=case.uuid)
    key = bundle.storage_key
    real_write = __import__("records.bundles", fromlist=["bundle_write"]).bundle_write

    def write_then_lose_the_row(**kwargs):
        size = real_write(**kwargs)
        Bundle.objects.filter(pk=bundle.pk).delete()  # the case was withdrawn meanwhile
        return size

    with mock.patch("records.bundles.bundle_write", write_then_lose_the_row):
        assert checking.build_bundle(bundle.pk) == "cancelled"
    assert not default_storage.exists(key)
    assert checking.build_bundle(bundle.pk) == "cancelled"  # a retried task finds nothing
