"""records.services: slots, signing, the local upload, confirm, delete, requests."""

import datetime
import io
import re
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404
from django.utils import timezone

from records import services, storage
from records.models import Record, RecordFile, RecordRequest, State
from requests_app.models import CaseStatus
from requests_app.notices import RECORDS_RECEIVED, RECORDS_REQUESTED
from secondop.audit.models import AuditEvent
from secondop.notifications.models import Notification
from tests.records.factories import PDF, RecordFactory, RecordRequestFactory
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db


PDF_SIZE = len(PDF)


def one_file(name="biopsy.pdf", size=PDF_SIZE, relative_path=""):
    return {
        "client_id": "f1",
        "name": name,
        "size": size,
        "type": "application/pdf",
        "relative_path": relative_path,
    }


def slots(actor, case, files=None, **kwargs):
    args = {
        "category": "pathology",
        "title": "Biopsy report",
        "service_date": None,
        "answers": None,
        "files": files or [one_file()],
    }
    args.update(kwargs)
    return services.record_slots_create(actor=actor, case_ref=case.uuid, **args)


@pytest.fixture
def case(patient):
    return CaseFactory(owner=patient, submitted=True)


# --- Slots --------------------------------------------------------------------------------
def test_it_opens_a_pending_record_whose_keys_never_hold_the_file_name(patient, case):
    made = slots(patient, case, files=[one_file("My biopsy ‮fdp.exe")])
    record = made.record
    assert record.state == State.PENDING and not record.is_study
    file = made.files[0].file
    assert made.files[0].client_id == "f1"
    assert re.fullmatch(rf"cases/{case.uuid}/records/{record.uuid}/[0-9a-f-]{{36}}", file.key)
    assert "biopsy" not in file.key.lower()
    assert "\u202e" not in file.name and "/" not in file.name
    assert AuditEvent.objects.filter(action="records.record.slots_created").exists()


def test_hidden_characters_leave_titles_and_names_and_stay_in_the_audit_only(patient, case):
    made = slots(
        patient,
        case,
        title="Scan\u202e\u200bfdp.exe\n results\u2066",
        files=[one_file("report\u202efdp.exe")],
    )
    record, file = made.record, made.files[0].file
    assert record.title == "Scanfdp.exe results"
    assert file.name == "reportfdp.exe"
    audit = AuditEvent.objects.get(action="records.record.slots_created")
    assert audit.new_values["original_title"] == "Scan\\u202e\\u200bfdp.exe\\n results\\u2066"
    assert audit.new_values["original_names"] == [
        {"name": "reportfdp.exe", "original": "report\\u202efdp.exe"}
    ]


def test_a_plain_upload_writes_no_original_names(patient, case):
    slots(patient, case)
    audit = AuditEvent.objects.get(action="records.record.slots_created")
    assert "original_title" not in audit.new_values and "original_names" not in audit.new_values


@pytest.mark.parametrize(
    ("title", "says"),
    [
        ("", "Give this record a title"),
        ("\u202e\u200f\x00\x1b", "made only of hidden characters"),
        ("x" * 201, "200 characters or fewer. This one has 201"),
        ("x" * 2 * 1024 * 1024, "200 characters or fewer. This one has 2,097,152"),
    ],
)
def test_a_title_that_cannot_be_kept_is_explained(patient, case, title, says):
    with pytest.raises(services.RecordError) as refused:
        slots(patient, case, title=title)
    assert says in refused.value.errors["title"][0]
    assert not Record.objects.exists()


def test_a_name_made_only_of_hidden_characters_is_still_uploaded_as_file(patient, case):
    made = slots(patient, case, files=[one_file("\u202e\u2066\x07")])
    assert made.files[0].file.name == "file"


def test_a_folder_becomes_one_study_with_its_files_under_its_prefix(patient, case):
    files = [
        one_file("IM0001", 1000, "CD/DICOM/IM0001"),
        one_file("IM0002", 1000, "CD/DICOM/IM0002"),
        one_file("AUTORUN.INF", 10, "CD/AUTORUN.INF"),
    ]
    made = slots(patient, case, files=files, category="imaging", title="CT chest")
    assert made.record.is_study and made.record.size == 2010
    names = sorted(f.file.name for f in made.files)
    assert names == ["CD/AUTORUN.INF", "CD/DICOM/IM0001", "CD/DICOM/IM0002"]
    assert all(f.file.key.startswith(made.record.prefix) for f in made.files)


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "a\x00b\x1fc.pdf",
        "x" * 300 + ".pdf",
        "C:\\Users\\me\\report.pdf",
        "report\u202efdp.exe",
    ],
)
def test_bad_file_names_are_cleaned_for_display(patient, case, name):
    file = slots(patient, case, files=[one_file(name)]).files[0].file
    assert file.name and len(file.name) <= 255
    assert not any(c in file.name for c in "/\\\x00\x1f\u202e")


def test_it_refuses_a_file_over_the_limit_before_upload(patient, case, settings):
    settings.RECORDS_MAX_FILE_BYTES = 1000
    with pytest.raises(services.RecordError) as refused:
        slots(patient, case, files=[one_file("scan.pdf", 5000)])
    assert "“scan.pdf” is 5.0 KB. Each file can be at most 1.0 KB." in refused.value.errors["files"]
    assert not Record.objects.exists()


def test_it_refuses_what_would_take_the_case_over_its_limit(patient, case, settings):
    settings.RECORDS_MAX_CASE_BYTES = 3000
    RecordFactory(case=case, size=2500)
    with pytest.raises(services.RecordError) as refused:
        slots(patient, case, files=[one_file("more.pdf", 1000)])
    assert "over its limit of 3.0 KB" in refused.value.message
    assert "500 bytes left" in refused.value.message


def test_an_empty_file_is_refused_with_a_reason(patient, case):
    with pytest.raises(services.RecordError) as refused:
        slots(patient, case, files=[one_file("blank.pdf", 0)])
    assert "“blank.pdf” is empty" in refused.value.errors["files"][0]


def test_title_category_and_date_are_checked(patient, case):
    with pytest.raises(services.RecordError) as refused:
        slots(
            patient,
            case,
            category="selfies",
            title=" ",
            service_date=timezone.localdate() + datetime.timedelta(days=1),
        )
    assert set(refused.value.errors) == {"category", "title", "service_date"}


def test_outsiders_get_a_404(outsider, specialist, coordinator, case):
    for person in (outsider, specialist, coordinator):  # coordinator: not the case manager
        with pytest.raises(Http404):
            slots(person, case)


def test_a_closed_case_takes_no_uploads(patient):
    case = CaseFactory(owner=patient, withdrawn=True)
    with pytest.raises(services.RecordError) as refused:
        slots(patient, case)
    assert refused.value.status == 409
    assert "closed" in refused.value.message


def test_the_case_manager_can_upload(coordinator, case):
    case.case_manager = coordinator
    case.save()
    assert slots(coordinator, case).record.uploaded_by == coordinator


# --- Signing -----------------------------------------------------------------------------
def test_it_signs_only_the_slots_own_key_and_upload_operations(patient, case, s3_storage):
    file = slots(patient, case).files[0].file
    url = services.record_file_sign(actor=patient, file_ref=file.uuid, method="PUT", key=file.key)
    assert file.key in url and "X-Amz-Signature" in url
    for method, key, upload_id, part in [
        ("PUT", f"{file.key}x", "", None),  # another key
        ("PUT", f"cases/{case.uuid}/records/other", "", None),  # another key in the case
        ("DELETE", file.key, "", None),  # delete an object
        ("GET", file.key, "", None),  # read it back
        ("PUT", file.key, "u1", 10001),  # a part beyond S3's range
    ]:
        with pytest.raises(services.RecordError) as refused:
            services.record_file_sign(
                actor=patient,
                file_ref=file.uuid,
                method=method,
                key=key,
                upload_id=upload_id,
                part_number=part,
            )
        assert refused.value.status == 403
    # The multipart steps are allowed (a file this small has one part).
    for method, upload_id, part in [
        ("POST", "", None),
        ("PUT", "u1", 1),
        ("POST", "u1", None),
        ("GET", "u1", None),
        ("DELETE", "u1", None),
    ]:
        assert services.record_file_sign(
            actor=patient,
            file_ref=file.uuid,
            method=method,
            key=file.key,
            upload_id=upload_id,
            part_number=part,
        )


def _signed(url: str) -> dict:
    from urllib.parse import parse_qs, urlsplit

    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_a_put_and_each_part_are_signed_for_their_exact_length(patient, case, s3_storage):
    mib = 1024 * 1024
    small = slots(patient, case).files[0].file
    query = _signed(
        services.record_file_sign(actor=patient, file_ref=small.uuid, method="PUT", key=small.key)
    )
    assert query["X-Amz-SignedHeaders"].split(";") == ["content-length", "host"]
    big = slots(patient, case, files=[one_file("scan.pdf", 25 * mib + 7)]).files[0].file
    for part in (1, 2, 3):
        query = _signed(
            services.record_file_sign(
                actor=patient,
                file_ref=big.uuid,
                method="PUT",
                key=big.key,
                upload_id="u1",
                part_number=part,
            )
        )
        assert "content-length" in query["X-Amz-SignedHeaders"].split(";")
    # Parts are 10 MiB but the last: 10 + 10 + 5 MiB and 7 bytes. A fourth is refused.
    assert [storage.part_length(big.size, n) for n in (1, 2, 3, 4)] == [
        10 * mib,
        10 * mib,
        5 * mib + 7,
        None,
    ]
    with pytest.raises(services.RecordError) as refused:
        services.record_file_sign(
            actor=patient,
            file_ref=big.uuid,
            method="PUT",
            key=big.key,
            upload_id="u1",
            part_number=4,
        )
    assert refused.value.status == 403


def test_a_one_byte_slot_gets_one_part_not_ten_thousand(patient, case, s3_storage):
    file = slots(patient, case, files=[one_file("tiny.txt", 1)]).files[0].file
    assert services.record_file_sign(
        actor=patient, file_ref=file.uuid, method="PUT", key=file.key, upload_id="u1", part_number=1
    )
    for part in (2, 10000):
        with pytest.raises(services.RecordError):
            services.record_file_sign(
                actor=patient,
                file_ref=file.uuid,
                method="PUT",
                key=file.key,
                upload_id="u1",
                part_number=part,
            )


def test_a_part_layout_matches_the_browsers_for_any_size():
    """records-upload.js cuts parts with Math.max(PART_SIZE, Math.ceil(size / 10000)), and
    Uppy keeps that size: the server's layout is the same, up to the 5 GB limit."""
    mib = 1024 * 1024
    for size in (1, 5 * mib, 10 * mib, 10 * mib + 1, 100 * mib + 3, 5 * 1000**3):
        part_size, count = storage.part_layout(size)
        assert part_size == max(10 * mib, -(-size // 10000))
        assert count <= 10000 and (count - 1) * part_size < size <= count * part_size


def test_nobody_else_can_use_a_slot(patient, outsider, coordinator, case):
    file = slots(patient, case).files[0].file
    for person in (outsider, coordinator):
        with pytest.raises(Http404):
            services.record_file_sign(actor=person, file_ref=file.uuid, method="PUT", key=file.key)


def test_an_expired_or_finished_slot_is_refused(patient, case):
    made = slots(patient, case)
    file = made.files[0].file
    Record.objects.filter(pk=made.record.pk).update(slot_expires_at=timezone.now())
    with pytest.raises(services.RecordError) as refused:
        services.record_file_sign(actor=patient, file_ref=file.uuid, method="PUT", key=file.key)
    assert refused.value.status == 410 and "expired" in refused.value.message
    Record.objects.filter(pk=made.record.pk).update(
        slot_expires_at=timezone.now() + datetime.timedelta(hours=1), state=State.UPLOADED
    )
    with pytest.raises(services.RecordError) as refused:
        services.record_file_sign(actor=patient, file_ref=file.uuid, method="PUT", key=file.key)
    assert refused.value.status == 410


# --- The local upload ------------------------------------------------------------------------
def _token(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def test_a_local_upload_token_works_once(patient, case):
    file = slots(patient, case).files[0].file
    url = services.record_file_sign(actor=patient, file_ref=file.uuid, method="PUT", key=file.key)
    assert url.startswith("/records/upload/")
    services.record_file_receive(token=_token(url), body=io.BytesIO(PDF), length=len(PDF))
    assert default_storage.open(file.key).read() == PDF
    with pytest.raises(services.RecordError) as refused:
        services.record_file_receive(token=_token(url), body=io.BytesIO(b"again"), length=5)
    assert refused.value.status == 410
    assert default_storage.open(file.key).read() == PDF


def test_a_forged_or_expired_token_is_refused(patient, case, settings):
    file = slots(patient, case).files[0].file
    url = services.record_file_sign(actor=patient, file_ref=file.uuid, method="PUT", key=file.key)
    with pytest.raises(services.RecordError):
        services.record_file_receive(token=_token(url)[:-2] + "xx", body=io.BytesIO(PDF), length=3)
    later = timezone.now().timestamp() + 3600
    with (
        mock.patch("django.core.signing.time.time", return_value=later),
        pytest.raises(services.RecordError) as refused,
    ):
        services.record_file_receive(token=_token(url), body=io.BytesIO(PDF), length=3)
    assert "expired" in refused.value.message
    assert not default_storage.exists(file.key)


def test_a_local_upload_must_be_the_declared_size(patient, case):
    file = slots(patient, case).files[0].file
    url = services.record_file_sign(actor=patient, file_ref=file.uuid, method="PUT", key=file.key)
    with pytest.raises(services.RecordError) as refused:
        services.record_file_receive(
            token=_token(url), body=io.BytesIO(PDF + b"more"), length=len(PDF) + 4
        )
    assert refused.value.status == 400 and "not the size" in refused.value.message
    assert not default_storage.exists(file.key)
    # Without a length, the body stops at the declared size.
    url = services.record_file_sign(actor=patient, file_ref=file.uuid, method="PUT", key=file.key)
    with pytest.raises(services.RecordError) as refused:
        services.record_file_receive(token=_token(url), body=io.BytesIO(PDF + b"more"), length=None)
    assert refused.value.status == 413
    assert not default_storage.exists(file.key)


def test_a_local_upload_stops_at_the_limit(patient, case, settings):
    file = slots(patient, case).files[0].file
    settings.RECORDS_MAX_FILE_BYTES = 10
    url = services.record_file_sign(actor=patient, file_ref=file.uuid, method="PUT", key=file.key)
    with pytest.raises(services.RecordError) as refused:
        services.record_file_receive(token=_token(url), body=io.BytesIO(b"x" * 50), length=None)
    assert refused.value.status == 413
    assert not default_storage.exists(file.key)


# --- Confirm ------------------------------------------------------------------------------
def test_confirm_for_an_object_never_uploaded_says_so_and_keeps_the_slot(patient, case):
    record = slots(patient, case).record
    with pytest.raises(services.RecordError) as refused:
        services.record_confirm(actor=patient, record_ref=record.uuid)
    assert "We have not received “biopsy.pdf”" in refused.value.message
    record.refresh_from_db()
    assert record.state == State.PENDING


def test_confirm_while_storage_is_down_changes_nothing(patient, case):
    record = slots(patient, case).record
    with (
        mock.patch.object(storage, "stored_size", side_effect=storage.StorageUnavailable),
        pytest.raises(storage.StorageUnavailable),
    ):
        services.record_confirm(actor=patient, record_ref=record.uuid)
    record.refresh_from_db()
    assert record.state == State.PENDING and record.uploaded_at is None


def test_confirm_rejects_and_deletes_an_object_bigger_than_the_limit(
    patient, case, s3_storage, s3_server, settings, django_capture_on_commit_callbacks
):
    settings.RECORDS_MAX_FILE_BYTES = 2000
    made = slots(patient, case, files=[one_file("small.pdf", 100)])  # the browser says 100 bytes
    key = made.files[0].file.key
    s3_server["client"].put_object(Bucket=s3_server["bucket"], Key=key, Body=b"%PDF" + b"0" * 5000)
    with django_capture_on_commit_callbacks(execute=True):
        record = services.record_confirm(actor=patient, record_ref=made.record.uuid)
    record.refresh_from_db()
    assert record.state == State.REJECTED and record.reason == "too_large"
    assert "over the size limit" in services.describe_reason(record.reason)
    assert storage.stored_size(key) is None


def test_confirm_is_for_the_uploader_only(patient, outsider, case):
    record = slots(patient, case).record
    with pytest.raises(Http404):
        services.record_confirm(actor=outsider, record_ref=record.uuid)


def test_confirm_queues_verification_and_a_repeat_does_nothing(
    patient, case, django_capture_on_commit_callbacks
):
    made = slots(patient, case)
    default_storage.save(made.files[0].file.key, ContentFile(PDF))
    with mock.patch("records.tasks.record_verify.delay") as queued:
        with django_capture_on_commit_callbacks(execute=True):
            services.record_confirm(actor=patient, record_ref=made.record.uuid)
        with django_capture_on_commit_callbacks(execute=True):
            services.record_confirm(actor=patient, record_ref=made.record.uuid)
    queued.assert_called_once_with(made.record.pk)
    made.record.refresh_from_db()
    assert made.record.state == State.UPLOADED and made.record.size == len(PDF)


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


# --- Record requests ----------------------------------------------------------------------------
@pytest.fixture
def managed(case, coordinator):
    case.status, case.case_manager = CaseStatus.TRIAGE, coordinator
    case.save()
    return case


def test_a_request_makes_the_case_wait_and_tells_the_patient(managed, coordinator, patient):
    asked = services.record_request_create(
        actor=coordinator,
        case_ref=managed.uuid,
        note="Your biopsy pathology report from March",
        category="pathology",
    )
    managed.refresh_from_db()
    assert managed.status == CaseStatus.AWAITING_RECORDS and asked.return_to == CaseStatus.TRIAGE
    notice = Notification.objects.get(recipient=patient, kind=RECORDS_REQUESTED)
    assert "pathology" not in notice.title.lower()


def test_a_verified_upload_against_it_closes_it_and_returns_the_case(managed, coordinator, patient):
    asked = services.record_request_create(
        actor=coordinator, case_ref=managed.uuid, note="Your biopsy report"
    )
    record = RecordFactory(case=managed, state="scanning", answers=asked)
    report = mock.Mock(
        ok=True, kind="pdf", mime="application/pdf", sha256="a" * 64, reason=None, dicom=None
    )
    services.record_verified(
        record_id=record.pk, reports={record.files.get().uuid: report}, summary=None, thumbnails={}
    )
    asked.refresh_from_db()
    managed.refresh_from_db()
    assert asked.fulfilled_at is not None
    assert managed.status == CaseStatus.TRIAGE
    assert Notification.objects.filter(recipient=coordinator, kind=RECORDS_RECEIVED).exists()


def test_a_specialists_request_returns_the_case_to_review(patient, specialist):
    case = CaseFactory(
        owner=patient, submitted=True, status=CaseStatus.IN_REVIEW, specialist=specialist
    )
    asked = services.record_request_create(
        actor=specialist, case_ref=case.uuid, note="The CT from June"
    )
    second = services.record_request_create(
        actor=specialist, case_ref=case.uuid, note="Your latest blood tests"
    )
    assert second.return_to == CaseStatus.IN_REVIEW
    report = mock.Mock(ok=True, kind="pdf", mime="application/pdf", reason=None, dicom=None)
    for n, request_ in enumerate((asked, second)):
        record = RecordFactory(case=case, state="scanning", answers=request_)
        report.sha256 = str(n) * 64
        services.record_verified(
            record_id=record.pk,
            reports={record.files.get().uuid: report},
            summary=None,
            thumbnails={},
        )
        case.refresh_from_db()
        expected = CaseStatus.AWAITING_RECORDS if n == 0 else CaseStatus.IN_REVIEW
        assert case.status == expected


def test_only_the_case_manager_or_assigned_specialist_can_ask(case, patient, specialist, outsider):
    case.status = CaseStatus.TRIAGE
    case.save()
    for person in (patient, specialist, outsider):
        with pytest.raises(Http404):
            services.record_request_create(actor=person, case_ref=case.uuid, note="x")


def test_a_request_needs_a_note(managed, coordinator):
    with pytest.raises(services.RecordError) as refused:
        services.record_request_create(actor=coordinator, case_ref=managed.uuid, note="  ")
    assert "Say what is needed" in refused.value.errors["note"][0]
    assert not RecordRequest.objects.exists()


def test_withdrawing_the_last_request_returns_the_case(managed, coordinator):
    asked = services.record_request_create(actor=coordinator, case_ref=managed.uuid, note="CT")
    services.record_request_cancel(actor=coordinator, request_ref=asked.uuid)
    managed.refresh_from_db()
    assert managed.status == CaseStatus.TRIAGE


def test_a_rejected_upload_does_not_close_the_request(managed, coordinator, patient):
    asked = RecordRequestFactory(case=managed, requested_by=coordinator)
    managed.status = CaseStatus.AWAITING_RECORDS
    managed.save()
    record = RecordFactory(case=managed, state="scanning", answers=asked)
    report = mock.Mock(
        ok=False, kind="pdf", mime="text/html", sha256="b" * 64, reason="mismatch", dicom=None
    )
    services.record_verified(
        record_id=record.pk, reports={record.files.get().uuid: report}, summary=None, thumbnails={}
    )
    asked.refresh_from_db()
    record.refresh_from_db()
    assert asked.is_open and record.state == State.REJECTED
    assert Notification.objects.filter(
        recipient=patient, title__contains="could not be accepted"
    ).exists()


def test_a_refusal_on_a_draft_names_the_draft_request(patient):
    draft = CaseFactory(owner=patient)
    assert not draft.reference
    for give_up in (False, True):
        record = RecordFactory(case=draft, state="scanning")
        if give_up:
            services.record_check_failed(record_id=record.pk, reason="scan_failed")
        else:
            report = mock.Mock(
                ok=False,
                kind="pdf",
                mime="text/html",
                sha256="c" * 64,
                reason="mismatch",
                dicom=None,
            )
            services.record_verified(
                record_id=record.pk,
                reports={record.files.get().uuid: report},
                summary=None,
                thumbnails={},
            )
    titles = sorted(Notification.objects.filter(recipient=patient).values_list("title", flat=True))
    assert titles == [
        "A file you sent for your draft request could not be accepted",
        "A file you sent for your draft request could not be checked",
    ]


def test_only_the_assigned_specialist_files_a_specialists_report(patient, case, specialist):
    with pytest.raises(services.RecordError) as refused:
        slots(patient, case, category="specialist_report")
    assert "Only the case's specialist" in refused.value.errors["category"][0]
    case.status, case.specialist = CaseStatus.IN_REVIEW, specialist
    case.save()
    assert (
        slots(specialist, case, category="specialist_report").record.category == "specialist_report"
    )


def test_a_cancelled_upload_leaves_nothing(
    patient, case, outsider, django_capture_on_commit_callbacks
):
    made = slots(patient, case)
    key = made.files[0].file.key
    default_storage.save(key, ContentFile(b"half a file"))
    with pytest.raises(Http404):
        services.record_cancel(actor=outsider, record_ref=made.record.uuid)
    with django_capture_on_commit_callbacks(execute=True):
        services.record_cancel(actor=patient, record_ref=made.record.uuid)
    assert not Record.objects.filter(pk=made.record.pk).exists()
    assert not default_storage.exists(key)
    checked = RecordFactory(case=case)
    services.record_cancel(actor=patient, record_ref=checked.uuid)  # too late: nothing changes
    assert Record.objects.filter(pk=checked.pk).exists()


def test_a_bad_request_id_is_a_message_and_a_nul_in_the_title_is_dropped(patient, case):
    with pytest.raises(services.RecordError) as refused:
        slots(patient, case, answers="not-a-uuid")
    assert "Choose a request" in refused.value.message
    assert slots(patient, case, title="Biopsy\x00 report").record.title == "Biopsy report"


def test_a_second_request_returns_the_case_to_review_when_it_came_from_review(
    patient, specialist, coordinator
):
    from requests_app.workflow import case_transition

    case = CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        specialist=specialist,
        case_manager=coordinator,
    )
    case_transition(
        actor=coordinator,
        ref=case.uuid,
        to_status=CaseStatus.AWAITING_RECORDS,
        reason="The CT from June",
    )
    asked = services.record_request_create(
        actor=specialist, case_ref=case.uuid, note="Your latest blood tests"
    )
    assert asked.return_to == CaseStatus.IN_REVIEW


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
    with mock.patch(
        "records.services.storage.delete_under", side_effect=storage.StorageUnavailable("down")
    ):
        assert services.records_retention_sweep() == 0
    assert Record.objects.filter(pk=record.pk).exists()
    assert not AuditEvent.objects.filter(action="records.record.retention_deleted").exists()
