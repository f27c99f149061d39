"""records.checking: a record's files verified end to end, in local storage and in
S3, and what the record becomes (the checks themselves: tests/records/verification/)."""

import io
import uuid
import zipfile
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from records import checking, storage
from records.models import Bundle, Record, RecordFile, State
from records.verification import ScannerUnavailable
from tests.records.factories import RecordFactory
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db


def pdf_bytes(text="Pathology report") -> bytes:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument.new()
    document.new_page(612, 792)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def png_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def dicom_bytes(name: str) -> bytes:
    """One of pydicom's sample files, anonymised: their made-up patient
    ("CompressedSamples^CT1") is rightly another person than the case's, which would
    keep the study from the care team (tests/records/test_identity.py)."""
    import pydicom
    from pydicom.data import get_testdata_file

    ds = pydicom.dcmread(get_testdata_file(name))
    ds.PatientName, ds.PatientBirthDate = "", ""
    out = io.BytesIO()
    ds.save_as(out)
    return out.getvalue()


def make_record(case, files: dict[str, bytes], *, is_study=None) -> Record:
    """An uploaded record whose files are in storage, ready to be checked."""
    record = Record.objects.create(
        case=case,
        uploaded_by=case.owner,
        category="imaging",
        title="Upload",
        is_study=len(files) > 1 if is_study is None else is_study,
        state=State.UPLOADED,
        size=sum(map(len, files.values())),
        uploaded_at=timezone.now(),
        slot_expires_at=timezone.now(),
    )
    for name, data in files.items():
        file_uuid = uuid.uuid4()
        key = f"{record.prefix}{file_uuid}"
        default_storage.save(key, ContentFile(data))
        RecordFile.objects.create(
            uuid=file_uuid, record=record, key=key, name=name, size=len(data), stored_size=len(data)
        )
    return record


@pytest.fixture
def case(patient):
    return CaseFactory(owner=patient, submitted=True)


def check(record) -> Record:
    checking.check_record(record.pk)
    record.refresh_from_db()
    return record


def test_a_pdf_is_verified_with_its_hash_type_and_first_page_thumbnail(case):
    data = pdf_bytes()
    record = check(make_record(case, {"report.pdf": data}))
    import hashlib

    assert record.state == State.VERIFIED
    assert record.mime == "application/pdf"
    assert record.sha256 == hashlib.sha256(data).hexdigest()
    assert record.thumbnail_key.startswith(record.prefix)
    assert default_storage.open(record.thumbnail_key).read().startswith(b"\x89PNG")


def test_a_folder_of_dicom_becomes_a_study_with_a_thumbnail_per_series(case):
    record = check(
        make_record(
            case,
            {
                "CD/DICOM/CT1": dicom_bytes("CT_small.dcm"),
                "CD/DICOM/MR1": dicom_bytes("MR_small.dcm"),
                "CD/AUTORUN.INF": b"[autorun]\nopen=viewer.exe\n",
            },
        )
    )
    assert record.state == State.VERIFIED, record.reason
    assert sorted(record.study["modalities"]) == ["CT", "MR"]
    assert record.study["series_count"] == 2 and record.study["instance_count"] == 2
    assert record.study["skipped"] == ["CD/AUTORUN.INF"]
    thumbs = [s["thumbnail"] for study in record.study["studies"] for s in study["series"]]
    assert len(thumbs) == 2
    for key in thumbs:
        assert key.startswith(record.prefix)
        assert default_storage.open(key).read().startswith(b"\x89PNG")


def test_a_zip_of_dicom_is_summarised_too(case):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("study/CT1.dcm", dicom_bytes("CT_small.dcm"))
        out.writestr("study/MR1.dcm", dicom_bytes("MR_small.dcm"))
    record = check(make_record(case, {"scans.zip": archive.getvalue()}, is_study=False))
    assert record.state == State.VERIFIED, record.reason
    assert sorted(record.study["modalities"]) == ["CT", "MR"]
    assert all(s.get("thumbnail") for st in record.study["studies"] for s in st["series"])


def test_a_fake_pdf_is_rejected_and_deleted(case, django_capture_on_commit_callbacks):
    record = make_record(case, {"report.pdf": b"MZ\x90\x00" + b"\x00" * 200})
    key = record.files.get().key
    with django_capture_on_commit_callbacks(execute=True):
        record = check(record)
    assert record.state == State.REJECTED and record.reason
    assert not default_storage.exists(key)


def test_one_bad_file_rejects_the_whole_study(case, django_capture_on_commit_callbacks):
    record = make_record(
        case,
        {
            "CD/IM1": dicom_bytes("CT_small.dcm"),
            "CD/IM2": b"<html><script>alert(1)</script></html>",
        },
    )
    keys = list(record.files.values_list("key", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        record = check(record)
    assert record.state == State.REJECTED
    assert not any(default_storage.exists(k) for k in keys)


def test_the_same_file_twice_is_a_duplicate_and_is_not_kept(
    case, django_capture_on_commit_callbacks
):
    data = png_bytes()
    first = check(make_record(case, {"cbc.png": data}))
    second = make_record(case, {"cbc copy.png": data})
    key = second.files.get().key
    with django_capture_on_commit_callbacks(execute=True):
        second = check(second)
    assert first.state == State.VERIFIED
    assert second.state == State.REJECTED and second.reason == "duplicate"
    assert second.duplicate_of == first
    assert not default_storage.exists(key)


def test_clamd_not_answering_keeps_the_record_scanning(case, settings):
    settings.CLAMD_ADDRESS = "tcp://127.0.0.1:9"  # nothing listens there
    record = make_record(case, {"report.pdf": pdf_bytes()})
    with pytest.raises(ScannerUnavailable):
        checking.check_record(record.pk)
    record.refresh_from_db()
    assert record.state == State.SCANNING and not record.reason
    assert default_storage.exists(record.files.get().key)


def test_the_task_leaves_it_for_the_sweep_when_eager(case, settings):
    from records.tasks import record_verify

    settings.CLAMD_ADDRESS = "tcp://127.0.0.1:9"
    record = make_record(case, {"report.pdf": pdf_bytes()})
    assert record_verify.delay(record.pk).get() == "later"
    assert checking.stalled_records() == []  # its check holds the lease
    Record.objects.filter(pk=record.pk).update(
        check_started_at=timezone.now() - checking.CHECK_LEASE * 2
    )
    assert checking.stalled_records() == [record.pk]


def test_checking_twice_does_nothing_the_second_time(case):
    record = check(make_record(case, {"report.pdf": pdf_bytes()}))
    assert checking.check_record(record.pk) == "done already"


def test_a_record_is_checked_in_s3_too(case, s3_storage):
    record = check(make_record(case, {"cbc.png": png_bytes()}))
    assert record.state == State.VERIFIED and record.mime == "image/png"
    assert storage.stored_size(record.thumbnail_key)


# --- Bundles -------------------------------------------------------------------------------
def test_a_bundle_zips_every_checked_record_and_expires(case, specialist, settings):
    case.status, case.specialist = "in_review", specialist
    case.save()
    RecordFactory(case=case, title="Biopsy / March", file__name="biopsy.pdf")
    study = check(
        make_record(case, {"CD/CT1": dicom_bytes("CT_small.dcm"), "CD/AUTORUN.INF": b"[autorun]"})
    )
    from records.services import bundle_create, records_sweep_expired

    bundle = bundle_create(actor=specialist, case_ref=case.uuid)
    checking.build_bundle(bundle.pk)
    bundle.refresh_from_db()
    assert bundle.status == Bundle.Status.READY and bundle.files_done == bundle.files_total == 2
    with default_storage.open(bundle.key) as handle, zipfile.ZipFile(handle) as archive:
        names = archive.namelist()
    assert len(names) == 2 and all(".." not in n and not n.startswith("/") for n in names)
    assert any(n.endswith("biopsy.pdf") for n in names)
    assert not any("AUTORUN" in n for n in names)
    assert study.state == State.VERIFIED
    Bundle.objects.filter(pk=bundle.pk).update(expires_at=timezone.now())
    records_sweep_expired()
    assert not default_storage.exists(bundle.key)


def test_a_failed_bundle_says_so(case, specialist):
    case.status, case.specialist = "in_review", specialist
    case.save()
    record = RecordFactory(case=case)
    from records.services import bundle_create

    bundle = bundle_create(actor=specialist, case_ref=case.uuid)
    default_storage.delete(record.files.get().key)  # the object went missing
    with mock.patch("records.checking.storage.delete"), pytest.raises(Exception):  # noqa: B017
        checking.build_bundle(bundle.pk)
    bundle.refresh_from_db()
    assert bundle.status == Bundle.Status.FAILED


# --- Every bad file, end to end: what the patient reads, and nothing left behind ----------
BAD = {
    "a PDF that is a program": ("report.pdf", lambda s: s.executable()),
    "a PDF that is a web page": ("report.pdf", lambda s: s.html_named_pdf()),
    "a DICOM with a program in its preamble": ("IM0001", lambda s: s.dicom_exe_preamble()),
    "a DICOM with a web page in its preamble": ("IM0001", lambda s: s.dicom_html_preamble()),
    "the EICAR test file": ("notes.txt", lambda s: s.EICAR),
    "an empty file": ("blank.pdf", lambda s: b""),
    "a corrupt DICOM": ("IM0002", lambda s: s.dicom_garbage()),
    "a password-protected PDF": ("locked.pdf", lambda s: s.encrypted_pdf()),
    "a corrupt PDF": ("broken.pdf", lambda s: s.corrupt_pdf()),
    "a ZIP with ../ paths": ("cd.zip", lambda s: s.zip_traversal()),
    "a ZIP inside a ZIP": ("cd.zip", lambda s: s.zip_nested()),
}


@pytest.mark.parametrize("bad", BAD, ids=list(BAD))
def test_a_bad_file_is_rejected_with_words_for_the_patient_and_nothing_is_kept(
    bad, case, clamd, settings, client, patient, django_capture_on_commit_callbacks
):
    from django.urls import reverse
    from django.utils.html import escape

    from records.services import describe_reason
    from tests.records import samples

    settings.CLAMD_ADDRESS = clamd["tcp"]
    name, make = BAD[bad]
    record = make_record(case, {name: make(samples)}, is_study=False)
    keys = list(record.files.values_list("key", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        record = check(record)
    assert record.state == State.REJECTED and record.reason
    words = describe_reason(record.reason)
    assert len(words) > 30 and words.endswith(".")
    assert not any(default_storage.exists(key) for key in keys)
    folder = record.prefix.rstrip("/")
    if default_storage.exists(folder):  # no thumbnail or other object left either
        assert default_storage.listdir(folder)[1] == []
    client.force_login(patient)
    page = client.get(reverse("records:case_records", args=[case.uuid])).content.decode()
    assert escape(words) in page


def test_a_file_the_scanner_fails_every_time_is_given_up_on(
    case, settings, django_capture_on_commit_callbacks
):
    settings.CLAMD_ADDRESS = "tcp://127.0.0.1:9"
    settings.RECORDS_CHECK_MAX_ATTEMPTS = 3
    record = make_record(case, {"report.pdf": pdf_bytes()})
    key = record.files.get().key
    # clamd answers its PING but fails this file's scan every time.
    with mock.patch.object(checking, "_scanner_up", return_value=True):
        for _ in range(2):
            with pytest.raises(ScannerUnavailable):
                checking.check_record(record.pk)
        with django_capture_on_commit_callbacks(execute=True):
            assert checking.check_record(record.pk) == "gave up"
    record.refresh_from_db()
    assert record.state == State.REJECTED and record.reason == "scan_failed"
    assert not default_storage.exists(key)


def test_an_outage_of_the_scanner_never_counts_against_a_file(case, settings):
    settings.CLAMD_ADDRESS = "tcp://127.0.0.1:9"  # clamd down: not even a PING
    settings.RECORDS_CHECK_MAX_ATTEMPTS = 2
    record = make_record(case, {"report.pdf": pdf_bytes()})
    for _ in range(5):
        with pytest.raises(ScannerUnavailable):
            checking.check_record(record.pk)
    record.refresh_from_db()
    assert record.state == State.SCANNING and default_storage.exists(record.files.get().key)


def test_in_s3_a_late_upload_link_cannot_replace_what_was_checked(case, s3_storage, s3_server):
    """Links signed for the upload key may work for minutes after confirm: the check
    moves the object to a key no link names, and only that is read afterwards. (A
    late link's PUT is played here by the S3 client writing to the upload key.)"""
    from records import services as record_services

    client, bucket = s3_server["client"], s3_server["bucket"]
    made = record_services.record_slots_create(
        actor=case.owner,
        case_ref=case.uuid,
        category="labs",
        title="Blood count",
        service_date=None,
        answers=None,
        files=[{"client_id": "a", "name": "cbc.png", "size": len(png_bytes()), "type": ""}],
    )
    upload_key = made.files[0].file.key
    client.put_object(Bucket=bucket, Key=upload_key, Body=png_bytes())
    with mock.patch("records.tasks.record_verify.apply_async"):
        record_services.record_confirm(actor=case.owner, record_ref=made.record.uuid)
    record = check(made.record)
    assert record.state == State.VERIFIED
    file = record.files.get()
    assert file.key == f"{record.prefix}files/{file.uuid}" and file.key != upload_key
    assert storage.stored_size(upload_key) is None  # the upload key is emptied
    client.put_object(Bucket=bucket, Key=upload_key, Body=b"MZ" + b"\0" * 100)  # a late PUT
    with default_storage.open(file.key) as handle:
        assert handle.read() == png_bytes()  # what was checked is what is served


def test_deleting_a_study_removes_every_thumbnail(
    case, patient, django_capture_on_commit_callbacks
):
    from records import services as record_services

    study = check(
        make_record(
            case, {"CD/CT1": dicom_bytes("CT_small.dcm"), "CD/MR1": dicom_bytes("MR_small.dcm")}
        )
    )
    series = [s["thumbnail"] for st in study.study["studies"] for s in st["series"]]
    assert len(series) == 2 and all(default_storage.exists(k) for k in series)
    with django_capture_on_commit_callbacks(execute=True):
        record_services.record_delete(actor=patient, record_ref=study.uuid)
    assert storage.keys_under(study.prefix) == []


def test_a_record_deleted_while_it_is_checked_leaves_nothing(case, patient):
    record = make_record(case, {"report.pdf": pdf_bytes()})
    real = checking.services.record_verified

    def deleted_meanwhile(**kwargs):
        Record.objects.filter(pk=record.pk).delete()
        return real(**kwargs)

    with mock.patch.object(checking.services, "record_verified", side_effect=deleted_meanwhile):
        assert checking.check_record(record.pk) == "deleted"
    assert storage.keys_under(record.prefix) == []


def test_downloading_a_bundle_logs_each_record_in_it(case, specialist, client):
    from django.urls import reverse

    from records.services import bundle_create
    from secondop.audit.models import AccessLog

    case.status, case.specialist = "in_review", specialist
    case.save()
    records = [RecordFactory(case=case), RecordFactory(case=case)]
    bundle = bundle_create(actor=specialist, case_ref=case.uuid)
    checking.build_bundle(bundle.pk)
    client.force_login(specialist)
    response = client.get(reverse("records:bundle_download", args=[bundle.uuid]))
    assert response.status_code == 200
    logged = set(
        AccessLog.objects.filter(
            actor=specialist, kind="download", object_type="records.record"
        ).values_list("object_id", flat=True)
    )
    assert logged == {str(r.pk) for r in records}


# --- A disc's viewer software is never kept -----------------------------------------------
def _disc_files(study: str = "1.2.826.0.1.3680043.8.498.1") -> dict[str, bytes]:
    from tests.records import samples

    return {
        **samples.study_files(series=2, instances=2, study=study),
        **samples.cd_extras(),
        "DICOMDIR": _dicomdir(),
    }


def _dicomdir() -> bytes:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.1.3.10"
    meta.MediaStorageSOPInstanceUID = "1.2.3.4.5"
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.FileSetID = "DISC"
    ds.DirectoryRecordSequence = Sequence()
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


EXECUTABLE_NAMES = ("AUTORUN.INF", "viewer.exe", "dicom.dll", "index.html", "README.TXT")


def test_a_cd_folder_keeps_its_images_and_dicomdir_and_drops_the_viewer(
    case, django_capture_on_commit_callbacks
):
    record = make_record(case, {f"CD/{name}": data for name, data in _disc_files().items()})
    dropped = {
        f.name: f.key for f in record.files.all() if f.name.rsplit("/", 1)[-1] in EXECUTABLE_NAMES
    }
    assert len(dropped) == 5
    with django_capture_on_commit_callbacks(execute=True):
        record = check(record)
    assert record.state == State.VERIFIED, record.reason
    kept = sorted(record.files.values_list("name", flat=True))
    assert kept == [
        "CD/DICOM/S0001/I0001",
        "CD/DICOM/S0001/I0002",
        "CD/DICOM/S0002/I0001",
        "CD/DICOM/S0002/I0002",
        "CD/DICOMDIR",
    ]
    assert record.files.get(name="CD/DICOMDIR").kind == "dicomdir"
    assert not any(default_storage.exists(key) for key in dropped.values())
    assert record.size == sum(f.stored_size for f in record.files.all())
    assert sorted(record.study["skipped"]) == sorted(dropped)  # named for the patient
    from secondop.audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="records.record.viewer_files_removed").exists()


@pytest.mark.parametrize("where", ["local", "s3"])
def test_a_cd_zip_is_stored_again_without_its_viewer(
    case, where, request, django_capture_on_commit_callbacks
):
    if where == "s3":
        request.getfixturevalue("s3_storage")
    from tests.records import samples

    data = samples.zip_of(_disc_files())
    record = make_record(case, {"CD.zip": data}, is_study=False)
    upload_key = record.files.get().key
    with django_capture_on_commit_callbacks(execute=True):
        record = check(record)
    assert record.state == State.VERIFIED, record.reason
    file = record.files.get()
    assert file.key != upload_key and not default_storage.exists(upload_key)
    with default_storage.open(file.key) as handle, zipfile.ZipFile(handle) as archive:
        names = sorted(archive.namelist())
        assert archive.testzip() is None
        assert archive.read("DICOM/S0002/I0001") == _disc_files()["DICOM/S0002/I0001"]
    assert names == [
        "DICOM/S0001/I0001",
        "DICOM/S0001/I0002",
        "DICOM/S0002/I0001",
        "DICOM/S0002/I0002",
        "DICOMDIR",
    ]
    assert not any(name.rsplit("/", 1)[-1] in EXECUTABLE_NAMES for name in names)
    assert file.stored_size == record.size == default_storage.size(file.key)
    import hashlib

    with default_storage.open(file.key) as handle:
        assert record.sha256 == file.sha256 == hashlib.sha256(handle.read()).hexdigest()
    assert record.study["modalities"] == ["CT", "MR"]
    assert all(s.get("thumbnail") for st in record.study["studies"] for s in st["series"])
    assert "VIEWER/viewer.exe" in record.study["skipped"]


def test_the_same_cd_zip_twice_is_still_a_duplicate(case):
    from tests.records import samples

    data = samples.zip_of(_disc_files())
    first = check(make_record(case, {"CD.zip": data}, is_study=False))
    second = check(make_record(case, {"CD copy.zip": data}, is_study=False))
    assert first.state == State.VERIFIED
    assert (second.state, second.reason) == (State.REJECTED, "duplicate")


def test_a_bundle_of_a_cd_carries_no_viewer(case, coordinator):
    from tests.records import samples

    check(make_record(case, {"CD.zip": samples.zip_of(_disc_files())}, is_study=False))
    # Another disc (the same one again would be kept once: test_identity.py).
    other = _disc_files(study="1.2.826.0.1.3680043.8.498.2")
    check(make_record(case, {f"CD/{n}": d for n, d in other.items()}))
    bundle = Bundle.objects.create(
        case=case, requested_by=coordinator, expires_at=timezone.now() + timezone.timedelta(days=1)
    )
    # A bundle holds the records chosen when it was asked for (records.services).
    bundle.records.set(Record.objects.filter(case=case, state="verified"))
    assert checking.build_bundle(bundle.pk) == "built"
    bundle.refresh_from_db()
    with default_storage.open(bundle.key) as handle, zipfile.ZipFile(handle) as outer:
        names = outer.namelist()
        inner_zip = next(n for n in names if n.endswith(".zip"))
        inner = zipfile.ZipFile(io.BytesIO(outer.read(inner_zip))).namelist()
    everything = names + inner
    assert not any(n.rsplit("/", 1)[-1] in EXECUTABLE_NAMES for n in everything), everything
    assert any(n.endswith("DICOMDIR") for n in names) and "DICOMDIR" in inner


def test_a_folder_of_nothing_but_viewer_software_is_not_accepted(case):
    from tests.records import samples

    record = check(make_record(case, {f"CD/{n}": d for n, d in samples.cd_extras().items()}))
    assert (record.state, record.reason) == (State.REJECTED, "folder_nothing")


# --- The embedded default, with and without a scanner --------------------------------------
def test_without_a_scanner_a_record_says_it_was_not_checked_for_viruses(case, settings):
    from tests.records import samples

    settings.DEBUG, settings.CLAMD_ADDRESS = True, ""
    record = check(make_record(case, {"notes.txt": samples.EICAR}))
    assert record.state == State.VERIFIED and record.virus_scan_skipped


def test_in_debug_a_scanner_that_does_not_answer_is_no_scanner(case, settings):
    settings.DEBUG, settings.CLAMD_ADDRESS = True, "tcp://127.0.0.1:9"  # nothing listens
    record = check(make_record(case, {"report.pdf": pdf_bytes()}))
    assert record.state == State.VERIFIED and record.virus_scan_skipped


def test_in_debug_with_a_scanner_eicar_is_refused(case, settings, clamd):
    from tests.records import samples

    settings.DEBUG, settings.CLAMD_ADDRESS = True, clamd["unix"]
    record = check(make_record(case, {"notes.txt": samples.EICAR}))
    assert (record.state, record.reason) == (State.REJECTED, "malware")
    clean = check(make_record(case, {"report.pdf": pdf_bytes()}))
    assert clean.state == State.VERIFIED and not clean.virus_scan_skipped
