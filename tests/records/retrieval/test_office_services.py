"""records.retrieval.office_services: a records office's upload link (only the token's
hash kept, 30 days, extend and revoke, wrong tokens counted) and uploads through it
(the source as sender, "received in part", shown to the patient)."""

import datetime
import hashlib
import io
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404
from django.utils import timezone

from records import services as record_services
from records.models import Record, State
from records.retrieval import office_services as office
from records.retrieval import selectors
from records.retrieval.models import OfficeLink, OfficeUpload, Received
from requests_app.models import CaseStatus
from secondop.audit.context import audit_source
from secondop.audit.models import AuditEvent
from tests.records.factories import PDF
from tests.records.retrieval.factories import sent_source
from tests.records.services.uploading import one_file
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(patient, coordinator):
    return CaseFactory(
        owner=patient, submitted=True, case_manager=coordinator, patient_name="Pat Patient"
    )


@pytest.fixture
def source(case):
    return sent_source(case=case, days_ago=3)


def office_slots(token, files=None, **kwargs):
    args = {
        "category": "pathology",
        "title": "Biopsy report",
        "service_date": None,
        "files": files or [one_file()],
    }
    args.update(kwargs)
    return office.office_slots(token=token, **args)


def send(token, files=None, **kwargs) -> Record:
    """Slots, each file in storage, confirmed: what the office's browser does."""
    made = office_slots(token, files=files, **kwargs)
    for slot in made.files:
        default_storage.save(slot.file.key, ContentFile(PDF))
    with mock.patch("records.tasks.record_verify.apply_async"):
        return office.office_confirm(token=token, record_ref=made.record.uuid)


# --- The link -----------------------------------------------------------------------------
def test_only_the_tokens_hash_is_stored_and_it_opens_for_30_days(source):
    token = office.link_issue(source=source, actor=None)
    link = OfficeLink.objects.get()
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) >= 43
    for field in OfficeLink._meta.concrete_fields:
        assert token not in str(getattr(link, field.attname))
    audited = AuditEvent.objects.get(action="retrieval.link.issued")
    assert token not in str(audited.new_values) and token not in audited.object_repr
    left = link.expires_at - timezone.now()
    assert datetime.timedelta(days=29, hours=23) < left <= datetime.timedelta(days=30)
    opened = office.office_open(token=token)
    assert opened.source == source and opened.case == source.case


def test_a_link_stops_after_its_30_days(source):
    token = office.link_issue(source=source, actor=None)
    OfficeLink.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(office.OfficeRefused) as refused:
        office.office_open(token=token)
    assert refused.value.reason == "expired" and refused.value.status == 410


def test_extending_adds_30_days_and_reopens_an_expired_link(source, coordinator):
    live = office.link_issue(source=source, actor=None)
    expired = office.link_issue(source=source, actor=None)
    live_link = OfficeLink.objects.get(token_hash=office.token_hash(live))
    before = live_link.expires_at
    OfficeLink.objects.filter(token_hash=office.token_hash(expired)).update(
        expires_at=timezone.now() - datetime.timedelta(days=2)
    )
    assert office.links_extend(actor=coordinator, source_ref=source.uuid) == 2
    live_link.refresh_from_db()
    assert live_link.expires_at == before + datetime.timedelta(days=30)
    reopened = OfficeLink.objects.get(token_hash=office.token_hash(expired))
    left = reopened.expires_at - timezone.now()
    assert datetime.timedelta(days=29, hours=23) < left <= datetime.timedelta(days=30)
    assert office.office_open(token=expired).source == source
    assert AuditEvent.objects.filter(action="retrieval.link.extended").count() == 1


def test_revoking_stops_every_link_and_extending_does_not_bring_it_back(source, coordinator):
    tokens = [office.link_issue(source=source, actor=None) for _ in range(2)]
    assert office.links_revoke(actor=coordinator, source_ref=source.uuid) == 2
    for token in tokens:
        with pytest.raises(office.OfficeRefused) as refused:
            office.office_open(token=token)
        assert refused.value.reason == "revoked" and refused.value.status == 410
    with pytest.raises(office.OfficeError) as nothing:
        office.links_extend(actor=coordinator, source_ref=source.uuid)
    assert nothing.value.status == 409
    with pytest.raises(office.OfficeError):
        office.links_revoke(actor=coordinator, source_ref=source.uuid)


def test_only_the_case_manager_extends_or_revokes(source, patient, outsider):
    office.link_issue(source=source, actor=None)
    for act in (office.links_extend, office.links_revoke):
        with pytest.raises(Http404):
            act(actor=outsider, source_ref=source.uuid)
        with pytest.raises(PermissionDenied):  # the patient sees the source, not this
            act(actor=patient, source_ref=source.uuid)
    assert OfficeLink.objects.filter(revoked_at__isnull=True).count() == 1


def test_a_withdrawn_or_closed_case_closes_the_link(source):
    token = office.link_issue(source=source, actor=None)
    case = source.case
    case.status = CaseStatus.WITHDRAWN
    case.save()
    with pytest.raises(office.OfficeRefused) as refused:
        office.office_open(token=token)
    assert refused.value.status == 410 and refused.value.reason == "revoked"


def test_wrong_tokens_are_limited_per_address_but_a_right_one_still_opens(source, settings):
    settings.OFFICE_BAD_TOKEN_LIMIT = 3
    token = office.link_issue(source=source, actor=None)
    with audit_source("web", ip="203.0.113.9"):
        for _ in range(3):
            with pytest.raises(office.OfficeRefused) as refused:
                office.office_open(token="wrong-" + token[:10])
            assert refused.value.status == 404
        with pytest.raises(office.OfficeRefused) as refused:
            office.office_open(token="wrong-again")
        assert refused.value.status == 429 and refused.value.reason == "too_many"
        assert office.office_open(token=token).source == source
    with audit_source("web", ip="198.51.100.7"):  # another address is not held back
        with pytest.raises(office.OfficeRefused) as refused:
            office.office_open(token="wrong")
        assert refused.value.status == 404


# --- Uploads through the link ------------------------------------------------------------
def test_an_upload_is_the_sources_and_marks_it_received_in_part(source, patient):
    token = office.link_issue(source=source, actor=None)
    record = send(token, files=[one_file(), {**one_file("scan.pdf"), "client_id": "f2"}])
    assert record.state == State.UPLOADED
    assert record.uploaded_by is None and record.sender_name == "Mercy Hospital"
    assert record.sender == "Mercy Hospital"
    upload = OfficeUpload.objects.get()
    assert upload.record == record and upload.source == source
    assert upload.link == OfficeLink.objects.get()
    source.refresh_from_db()
    assert source.received == Received.PARTLY and source.received_at is not None
    assert AuditEvent.objects.filter(action="retrieval.source.uploaded").count() == 1

    # The patient sees it against the source, and the state says "received in part".
    (line,) = selectors.source_lines(viewer=patient, case=source.case)
    today = timezone.localdate()
    day = f"{today.day} {today:%B}"
    assert line.deliveries == (f"Mercy Hospital sent 2 files on {day}",)
    assert line.state.tag == "Received in part"
    assert line.state.words.endswith("; received in part: pathology report")


def test_an_upload_does_not_undo_received_in_full(source, coordinator):
    source.received, source.received_at = Received.FULLY, timezone.now()
    source.save()
    token = office.link_issue(source=source, actor=None)
    send(token)
    source.refresh_from_db()
    assert source.received == Received.FULLY


def test_the_office_files_only_what_was_asked_for(source):
    token = office.link_issue(source=source, actor=None)
    with pytest.raises(record_services.RecordError) as refused:
        office_slots(token, category="specialist_report")
    assert "category" in refused.value.errors
    assert not Record.objects.exists()


def test_a_refused_link_opens_no_slot(source, coordinator):
    token = office.link_issue(source=source, actor=None)
    office.links_revoke(actor=coordinator, source_ref=source.uuid)
    with pytest.raises(office.OfficeRefused):
        office_slots(token)
    assert not Record.objects.exists()


def test_another_links_slot_or_record_is_a_404(case, source):
    token = office.link_issue(source=source, actor=None)
    other_source = sent_source(case=CaseFactory(submitted=True), name="St Jude")
    other = office.link_issue(source=other_source, actor=None)
    theirs = office_slots(other)
    slot = theirs.files[0].file
    with pytest.raises(Http404):
        office.office_sign(token=token, file_ref=slot.uuid, method="PUT", key=slot.key)
    with pytest.raises(Http404):
        office.office_confirm(token=token, record_ref=theirs.record.uuid)
    with pytest.raises(Http404):
        office.office_cancel(token=token, record_ref=theirs.record.uuid)
    # Even a second link of the same source reaches only its own uploads.
    sibling = office.link_issue(source=other_source, actor=None)
    with pytest.raises(Http404):
        office.office_confirm(token=sibling, record_ref=theirs.record.uuid)
    # And a patient's own record is out of reach of any link.
    own = record_services.record_slots_create(
        actor=case.owner,
        case_ref=case.uuid,
        category="pathology",
        title="Mine",
        service_date=None,
        answers=None,
        files=[one_file()],
    )
    with pytest.raises(Http404):
        office.office_confirm(token=token, record_ref=own.record.uuid)
    theirs.record.refresh_from_db()
    assert theirs.record.state == State.PENDING


def test_a_replayed_upload_is_refused(source):
    token = office.link_issue(source=source, actor=None)
    made = office_slots(token)
    slot = made.files[0].file
    url = office.office_sign(token=token, file_ref=slot.uuid, method="PUT", key=slot.key)
    upload_token = url.rstrip("/").rsplit("/", 1)[-1]
    record_services.record_file_receive(token=upload_token, body=io.BytesIO(PDF), length=len(PDF))
    with pytest.raises(record_services.RecordError) as replayed:
        record_services.record_file_receive(token=upload_token, body=io.BytesIO(b"again"), length=5)
    assert replayed.value.status == 410
    with mock.patch("records.tasks.record_verify.apply_async"):
        office.office_confirm(token=token, record_ref=made.record.uuid)
    # Once sent, its slot signs nothing more and a second confirm changes nothing.
    with pytest.raises(record_services.RecordError) as finished:
        office.office_sign(token=token, file_ref=slot.uuid, method="PUT", key=slot.key)
    assert finished.value.status == 410
    office.office_confirm(token=token, record_ref=made.record.uuid)
    assert AuditEvent.objects.filter(action="retrieval.source.uploaded").count() == 1


def test_a_cancelled_upload_leaves_nothing(source, django_capture_on_commit_callbacks):
    token = office.link_issue(source=source, actor=None)
    made = office_slots(token)
    with django_capture_on_commit_callbacks(execute=True):
        office.office_cancel(token=token, record_ref=made.record.uuid)
    assert not Record.objects.exists() and not OfficeUpload.objects.exists()
    source.refresh_from_db()
    assert source.received == Received.NOTHING
