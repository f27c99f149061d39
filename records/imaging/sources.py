"""Where a study's frames come from: its DICOM instances (a folder's files, or the
members of its ZIP), grouped by series and put in display order, and opened again
for rendering."""

from __future__ import annotations

import contextlib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from django.core.files.storage import default_storage

from records.models import Record, RecordFile
from records.storage_io import open_object
from records.verification.dicom import _dicom_fields, _read_header


@dataclass
class InstanceRef:
    """One DICOM instance of a series: which file (and ZIP member) holds it, its
    number and position, and how many frames it declares."""

    file: str  # RecordFile uuid
    member: str  # the ZIP member's name, or ""
    name: str
    number: int | None
    frames: int
    has_pixels: bool
    position: float | None = None  # along the slice normal, when read


@dataclass
class SeriesIndex:
    series_uid: str
    study_uid: str = ""
    instances: list[InstanceRef] = field(default_factory=list)


def _slice_position(ds) -> float | None:
    """An instance's position along its slice normal (ImagePositionPatient projected
    on the cross product of ImageOrientationPatient's row and column directions)."""
    try:
        position = [float(v) for v in ds.ImagePositionPatient]
        orientation = [float(v) for v in ds.ImageOrientationPatient]
    except (AttributeError, TypeError, ValueError):
        return None
    if len(position) != 3 or len(orientation) != 6:
        return None
    r, c = orientation[:3], orientation[3:]
    normal = (r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0])
    return sum(p * n for p, n in zip(position, normal, strict=True))


def _header_of(handle: IO[bytes]):
    with contextlib.suppress(Exception):
        return _read_header(handle, force=True)
    return None


def index_record(record: Record) -> list[SeriesIndex]:
    """The record's DICOM instances grouped by series (in no particular order yet).
    A folder's files are known from verification (RecordFile.dicom); a ZIP's members
    are read here, header by header (never the pixel data). Raises
    StorageUnavailable when storage does not answer."""
    found: dict[str, SeriesIndex] = {}
    files = RecordFile.objects.filter(record=record).order_by("name", "id")
    for file in files:
        if file.kind == "dicom" and file.dicom.get("series_uid"):
            info = file.dicom
            entry = found.setdefault(
                info["series_uid"], SeriesIndex(info["series_uid"], info.get("study_uid", ""))
            )
            entry.instances.append(
                InstanceRef(
                    file=str(file.uuid),
                    member="",
                    name=file.name,
                    number=info.get("instance_number"),
                    frames=int(info.get("frames") or 1),
                    has_pixels=bool(info.get("has_pixels", True)),
                )
            )
        elif file.kind == "zip":
            for member, ds in _zip_headers(file):
                info = _dicom_fields(ds)
                if not info["series_uid"]:
                    continue
                entry = found.setdefault(
                    info["series_uid"], SeriesIndex(info["series_uid"], info["study_uid"])
                )
                entry.instances.append(
                    InstanceRef(
                        file=str(file.uuid),
                        member=member,
                        name=member,
                        number=info["instance_number"],
                        frames=info["frames"],
                        has_pixels="PixelData" in ds or _declares_pixels(ds),
                        position=_slice_position(ds),
                    )
                )
    return list(found.values())


def _declares_pixels(ds) -> bool:
    return bool(ds.get("Rows")) and bool(ds.get("Columns"))


def _zip_headers(file: RecordFile) -> Iterator[tuple[str, object]]:
    with open_object(default_storage, file.key) as handle, zipfile.ZipFile(handle) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            with archive.open(info) as member:
                ds = _header_of(member)
            if ds is not None and ds.get("SOPInstanceUID"):
                yield info.filename, ds


def order_instances(record: Record, instances: list[InstanceRef]) -> list[InstanceRef]:
    """Display order: by InstanceNumber when every instance has a distinct one;
    otherwise by position along the slice normal (headers read where not known),
    then by InstanceNumber and name."""
    numbers = [i.number for i in instances]
    if None not in numbers and len(set(numbers)) == len(numbers):
        return sorted(instances, key=lambda i: (i.number, i.name))
    unread = [i for i in instances if i.position is None and not i.member]
    if unread:
        by_uuid = {
            str(f.uuid): f for f in RecordFile.objects.filter(uuid__in=[i.file for i in unread])
        }
        for ref in unread:
            file = by_uuid.get(ref.file)
            if file is None:
                continue
            with open_object(default_storage, file.key) as handle:
                ds = _header_of(handle)
            ref.position = _slice_position(ds) if ds is not None else None
    return sorted(
        instances,
        key=lambda i: (
            i.position is None,
            i.position if i.position is not None else 0.0,
            i.number is None,
            i.number or 0,
            i.name,
        ),
    )


def frames_of(instances: list[InstanceRef]) -> list[list]:
    """Every frame of the ordered instances: [file uuid, member, frame number]."""
    return [
        [ref.file, ref.member, frame]
        for ref in instances
        if ref.has_pixels
        for frame in range(max(1, ref.frames))
    ]


class SourceOpener:
    """Opens the instances of a frame set one after another, keeping the current
    one (a multi-frame file, or a ZIP) open while its frames are rendered."""

    def __init__(self, record: Record):
        self._files = {str(f.uuid): f for f in RecordFile.objects.filter(record=record)}
        self._key: tuple[str, str] | None = None
        self._stack = contextlib.ExitStack()
        self._archive: tuple[str, zipfile.ZipFile] | None = None
        self.handle: IO[bytes] | None = None

    def open(self, file_uuid: str, member: str) -> IO[bytes] | None:
        """The instance, opened (None when its file is gone); the same handle again
        for the same instance."""
        if self._key == (file_uuid, member) and self.handle is not None:
            return self.handle
        file = self._files.get(file_uuid)
        if file is None:
            return None
        if self.handle is not None and member and self._archive and self._archive[0] == file_uuid:
            self.handle.close()
            self.handle = self._stack.enter_context(self._archive[1].open(member))
        else:
            self.close()
            raw = self._stack.enter_context(open_object(default_storage, file.key))
            if member:
                archive = self._stack.enter_context(zipfile.ZipFile(raw))
                self._archive = (file_uuid, archive)
                self.handle = self._stack.enter_context(archive.open(member))
            else:
                self.handle = raw
        self._key = (file_uuid, member)
        return self.handle

    def close(self) -> None:
        self._stack.close()
        self._stack = contextlib.ExitStack()
        self._key, self._archive, self.handle = None, None, None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
