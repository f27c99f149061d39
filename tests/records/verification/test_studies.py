"""records.verification.studies: a disc's or a folder's DICOM files summed up as
studies and series."""

import io
import zipfile

from records import verification
from records.verification import dicom_thumbnail, summarise_study
from tests.records import samples
from tests.records.verification.helpers import png_size, verify


def test_a_cd_zip_becomes_one_study_with_its_viewer_skipped(any_storage):
    data = samples.zip_of(
        {
            **samples.study_files(series=2, instances=3),
            **samples.cd_extras(),
            "DICOMDIR": _dicomdir(),
        }
    )
    report = verify(any_storage, data, "CD.zip")
    assert report.ok, report.reason
    skipped = sorted(m.name for m in report.members if m.kind == "skipped")
    assert skipped == [
        "AUTORUN.INF",
        "README.TXT",
        "VIEWER/lib/dicom.dll",
        "VIEWER/viewer.exe",
        "index.html",
    ]
    # The disc's index is kept with the images (records.checking drops the skipped).
    assert [m.name for m in report.members if m.kind == "dicomdir"] == ["DICOMDIR"]

    summary = summarise_study(report.members)
    assert summary["series_count"] == 2 and summary["instance_count"] == 6
    assert summary["modalities"] == ["CT", "MR"]
    assert summary["skipped"] == skipped
    (study,) = summary["studies"]
    assert (study["date"], study["description"]) == ("2024-01-31", "CT CHEST WITH CONTRAST")
    assert [
        (s["number"], s["modality"], s["instances"], s["body_part"]) for s in study["series"]
    ] == [(1, "CT", 3, "CHEST"), (2, "MR", 3, "CHEST")]
    # The middle instance by number, named as the ZIP names it, so it can be drawn.
    assert study["series"][0]["thumbnail_source"] == "DICOM/S0001/I0002"
    from records.storage_io import open_object

    with (
        open_object(any_storage, report.source) as handle,
        zipfile.ZipFile(handle) as archive,
        archive.open(study["series"][1]["thumbnail_source"]) as member,
    ):
        assert png_size(dicom_thumbnail(member))[0] > 0


def _dicomdir() -> bytes:
    import pydicom
    from pydicom.dataset import FileMetaDataset

    ds = pydicom.Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = verification.DICOMDIR_SOP_CLASS
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4"
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    ds.FileSetID = "DISC"
    ds.DirectoryRecordSequence = []
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def test_a_folders_files_become_one_study(local_storage):
    files = {
        **samples.study_files(series=1, instances=4),
        "AUTORUN.INF": b"[autorun]\r\n",
        "VIEWER/viewer.exe": samples.executable(),
    }
    reports = [
        verify(local_storage, data, f"MY CD/{name}", skip_viewer_files=True)
        for name, data in files.items()
    ]
    assert all(r.ok for r in reports)
    assert [r.kind for r in reports[-2:]] == ["skipped", "skipped"]
    summary = summarise_study(reports)
    (series,) = summary["studies"][0]["series"]
    assert series["instances"] == 4
    middle = next(r for r in reports if r.dicom and r.dicom["instance_number"] == 3)
    assert series["thumbnail_source"] == middle.source  # the storage key
    assert summary["skipped"] == ["MY CD/AUTORUN.INF", "MY CD/VIEWER/viewer.exe"]


def test_a_study_counts_an_instance_sent_twice_once(local_storage):
    files = samples.study_files(series=1, instances=2)
    reports = [verify(local_storage, data, name) for name, data in [*files.items(), *files.items()]]
    summary = summarise_study(reports)
    assert (summary["series_count"], summary["instance_count"]) == (1, 2)
