"""records.services.uploads: slots, signing, the local upload, confirm, cancel."""

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
from records.models import Record, State
from requests_app.models import CaseStatus
from secondop.audit.models import AuditEvent
from tests.records.factories import PDF, RecordFactory
from tests.records.services.uploading import one_file, slots
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db


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
    with mock.patch("records.tasks.record_verify.apply_async") as queued:
        with django_capture_on_commit_callbacks(execute=True):
            services.record_confirm(actor=patient, record_ref=made.record.uuid)
        with django_capture_on_commit_callbacks(execute=True):
            services.record_confirm(actor=patient, record_ref=made.record.uuid)
    queued.assert_called_once_with((made.record.pk,))
    made.record.refresh_from_db()
    assert made.record.state == State.UPLOADED and made.record.size == len(PDF)


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
