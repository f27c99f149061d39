"""DICOM: the header read without its pixel data, what it declares about its pixels
checked before anything decodes, and the thumbnail drawn from a bounded sample."""

from __future__ import annotations

import contextlib
import io
import re
import struct
from dataclasses import dataclass

from ..storage import StorageUnavailable
from .base import _Job, _Pass, _Sniff, _storage_failure
from .images import _png, _to_uint8

# DICOM: what a file declares is checked before anything decodes it.
# rows x columns x samples of one frame. No modality comes near it (a mammogram is
# 4,096 x 5,120; whole-slide pathology is stored as tiles); the format allows 65,535².
DICOM_MAX_FRAME_PIXELS = 16384 * 16384
DICOM_MAX_FRAMES = 100_000
DICOM_BITS_ALLOCATED = frozenset({1, 8, 16, 32, 64})
# A compressed frame is decoded whole by its codec: past this size (decoded) no picture
# is drawn. An uncompressed frame of any size is sampled row by row instead.
DICOM_DECODE_MAX_BYTES = 64 * 1024**2
# Header reads skip (pydicom's defer_size) any element bigger than this, such as a
# vendor's private blob, and stop once the elements they did read pass the second.
DICOM_DEFER_BYTES = 1024**2
DICOM_HEADER_MAX_BYTES = 16 * 1024**2
# A DICOM thumbnail is made from at most this many pixels along the longer side.
DICOM_SAMPLE_SIDE = 1024


DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
_PIXEL_TAGS = {b"\xe0\x7f\x10\x00": "<", b"\x7f\xe0\x00\x10": ">"}
_LONG_VRS = {b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"SQ", b"UN", b"UT", b"UC", b"UR"}


def _dicom_fields(ds) -> dict:
    def text(keyword: str) -> str:
        value = ds.get(keyword)
        return str(value).strip() if value not in (None, "") else ""

    def number(keyword: str) -> int | None:
        value = ds.get(keyword)
        try:
            return int(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            return None

    raw_date = re.sub(r"\D", "", text("StudyDate"))
    date = f"{raw_date[:4]}-{raw_date[4:6]}-{raw_date[6:8]}" if len(raw_date) >= 8 else ""
    return {
        "study_uid": text("StudyInstanceUID"),
        "series_uid": text("SeriesInstanceUID"),
        "sop_uid": text("SOPInstanceUID"),
        "modality": text("Modality").upper(),
        "study_date": date,
        "body_part": text("BodyPartExamined"),
        "study_description": text("StudyDescription"),
        "series_description": text("SeriesDescription"),
        "series_number": number("SeriesNumber"),
        "instance_number": number("InstanceNumber"),
        "frames": number("NumberOfFrames") or 1,
        "has_pixels": False,
        # Whose images they say they are (records.verification.identity compares them
        # with the request's patient). The patient's own data; never in an email.
        "patient_name": text("PatientName")[:200],
        "patient_birth_date": text("PatientBirthDate")[:20],
    }


class _HeaderTooBig(Exception):
    """A DICOM header whose elements, read one by one, pass DICOM_HEADER_MAX_BYTES."""


class _ReadBudget:
    """A file object that refuses to hand out more than `budget` bytes in all: what
    pydicom reads of a header (skipped elements are seeked over, and cost nothing)."""

    def __init__(self, fileobj, budget: int):
        self._file = fileobj
        self._left = budget

    def read(self, size: int | None = -1) -> bytes:
        wanted = self._left + 1 if size is None or size < 0 else min(size, self._left + 1)
        data = self._file.read(wanted)
        self._left -= len(data)
        if self._left < 0:
            raise _HeaderTooBig
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def __getattr__(self, name):
        return getattr(self._file, name)


def _drop_deferred(ds) -> None:
    """Remove the elements defer_size left unread (and those inside sequences), so
    that nothing touched later reads them after all."""
    for tag in list(ds.keys()):
        element = ds.get_item(tag, keep_deferred=True)
        if getattr(element, "value", b"") is None and getattr(element, "length", 0):
            del ds[tag]
        elif getattr(element, "VR", "") == "SQ":
            for item in ds[tag].value or []:
                _drop_deferred(item)


def _read_header(source, *, force: bool):
    """A DICOM header, read without its pixel data, skipping large elements, with a
    bound on what is read. The source is left where reading stopped."""
    import pydicom

    ds = pydicom.dcmread(
        _ReadBudget(source, DICOM_HEADER_MAX_BYTES),
        stop_before_pixels=True,
        defer_size=DICOM_DEFER_BYTES,
        force=force,
    )
    _drop_deferred(ds)
    return ds


def _dcmread_quietly(fileobj, *, force: bool):
    try:
        return _read_header(fileobj, force=force)
    except Exception:
        return None


@dataclass(frozen=True)
class _PixelData:
    present: bool = False
    complete: bool = True
    offset: int = 0  # where its value starts in the file
    length: int = 0  # 0xFFFFFFFF when encapsulated (compressed frames as items)


def _pixel_data_at(fileobj, ds, size: int) -> _PixelData:
    """Whether the element where reading stopped is Pixel Data, where its value is,
    and whether its declared length fits in what is left of the file. A cut-off
    copy from a disc fails here although its header reads."""
    start = fileobj.tell()
    header = fileobj.read(12)
    if len(header) < 8 or header[:4] not in _PIXEL_TAGS:
        return _PixelData()
    order = _PIXEL_TAGS[header[:4]]
    implicit, _little = _encoding(ds)
    if implicit:
        (length,), used = struct.unpack(f"{order}L", header[4:8]), 8
    elif header[4:6] in _LONG_VRS:
        if len(header) < 12:
            return _PixelData(present=True, complete=False)
        (length,), used = struct.unpack(f"{order}L", header[8:12]), 12
    else:
        (length,), used = struct.unpack(f"{order}H", header[6:8]), 8
    if length == 0xFFFFFFFF:  # encapsulated (compressed) frames follow as items
        fileobj.seek(start + used)
        item = fileobj.read(4)
        return _PixelData(
            True, item in (b"\xfe\xff\x00\xe0", b"\xff\xfe\xe0\x00"), start + used, length
        )
    return _PixelData(True, start + used + length <= size, start + used, length)


def _encoding(ds) -> tuple[bool, bool]:
    """(implicit VR, little endian): the file meta's transfer syntax, or what pydicom
    found reading a file without one (old discs)."""
    syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    if syntax:
        with contextlib.suppress(Exception):
            return bool(syntax.is_implicit_VR), bool(syntax.is_little_endian)
    implicit, little = getattr(ds, "original_encoding", (None, None))
    return bool(implicit), little is not False


def _dicom_header(source, sniff: _Sniff, size: int):
    source.seek(0)
    ds = _read_header(source, force=sniff.raw_dicom)
    return ds, _pixel_data_at(source, ds, size)


@dataclass(frozen=True)
class _Geometry:
    """What a DICOM declares about its pixels."""

    rows: int
    columns: int
    samples: int
    frames: int
    bits: int
    signed: bool
    planar: bool
    native: bool  # uncompressed: frames lie one after another
    little_endian: bool
    subsampled: bool = False  # YBR_FULL_422: not laid out pixel by pixel

    @property
    def frame_pixels(self) -> int:
        return self.rows * self.columns * self.samples

    @property
    def frame_bytes(self) -> int:
        return (self.frame_pixels * self.bits + 7) // 8

    @property
    def decoded_bytes(self) -> int:  # one frame as the decoder holds it
        return self.frame_pixels * max(self.bits, 8) // 8


def _int(ds, keyword: str, default: int | None = None) -> int | None:
    value = ds.get(keyword, default)
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return None


def _dicom_geometry(ds, pixels: _PixelData) -> _Geometry | str:
    """The declared geometry of the pixel data, or the REASONS key refusing it. Only
    numbers are read: nothing is decoded, whatever the file claims."""
    rows, columns = _int(ds, "Rows"), _int(ds, "Columns")
    samples, bits = _int(ds, "SamplesPerPixel", 1), _int(ds, "BitsAllocated")
    frames = _int(ds, "NumberOfFrames", 1)
    if not all(isinstance(v, int) and v > 0 for v in (rows, columns, samples, bits, frames)):
        return "dicom_invalid"
    if bits not in DICOM_BITS_ALLOCATED or samples > 4:
        return "dicom_invalid"
    if frames > DICOM_MAX_FRAMES or rows * columns * samples > DICOM_MAX_FRAME_PIXELS:
        return "dicom_too_large"
    native = pixels.length != 0xFFFFFFFF
    _implicit, little = _encoding(ds)
    photometric = str(ds.get("PhotometricInterpretation", "") or "").upper()
    geometry = _Geometry(
        rows,
        columns,
        samples,
        frames,
        bits,
        bool(_int(ds, "PixelRepresentation", 0)),
        bool(_int(ds, "PlanarConfiguration", 0)),
        native,
        little,
        subsampled=native and photometric == "YBR_FULL_422",
    )
    expected = (geometry.frame_pixels * bits * frames + 7) // 8
    if geometry.subsampled:
        expected = expected * 2 // 3  # YBR_FULL_422 stores two chroma values per two pixels
    if native and expected > pixels.length:
        return "dicom_invalid"  # declares more pixels than it holds
    return geometry


def _transfer_syntax(head: bytes) -> str:
    """The transfer syntax named in the file meta of a file starting with `head`."""
    match = re.search(rb"\x02\x00\x10\x00(?:UI..)?([0-9.]{3,64})", head[:4096], re.DOTALL)
    return match.group(1).decode("ascii").rstrip(".") if match else ""


# Deflated datasets are inflated whole by pydicom before it reads a single element:
# a few megabytes can unpack to gigabytes. Discs never use it.
_DEFLATED_SYNTAX = "1.2.840.10008.1.2.1.99"


def _check_dicom(fileobj, job: _Job, sniff: _Sniff, found: _Pass) -> dict:
    if _transfer_syntax(found.head) == _DEFLATED_SYNTAX:
        return {"reason": "dicom_unsupported"}
    header = None
    head = found.head
    # A header nearly always fits in the first MiB, already in memory: reading it
    # from there spares a ZIP entry decompressing again and S3 another request.
    with contextlib.suppress(Exception):
        in_head = io.BytesIO(head)
        ds, pixels = _dicom_header(in_head, sniff, found.size)
        if len(head) == found.size or (pixels.present and in_head.tell() + 4 <= len(head)):
            header = ds, pixels
    try:
        ds, pixels = header or _dicom_header(fileobj, sniff, found.size)
        media_class = str(getattr(ds.get("file_meta"), "MediaStorageSOPClassUID", "") or "")
        if media_class == DICOMDIR_SOP_CLASS or "DirectoryRecordSequence" in ds:
            # A disc's index of its own files: kept beside the images, not one of them.
            return {"kind": "dicomdir"}
        fields = _dicom_fields(ds)
    except StorageUnavailable:
        raise
    except Exception:
        if _storage_failure(fileobj):
            raise
        return {"reason": "dicom_invalid"}
    if not (fields["study_uid"] and fields["series_uid"] and fields["sop_uid"]):
        return {"reason": "dicom_invalid"}
    if not pixels.complete:
        return {"reason": "dicom_invalid"}
    if pixels.present:
        geometry = _dicom_geometry(ds, pixels)
        if isinstance(geometry, str):
            return {"reason": geometry}
    fields["has_pixels"] = pixels.present
    return {"dicom": fields}


def dicom_thumbnail(fileobj) -> bytes:
    """A PNG of one instance (the middle frame of a multi-frame one), greyscale
    through its modality and VOI LUTs (window), MONOCHROME1 inverted, at most
    THUMBNAIL_WIDTH wide.

    Memory stays bounded whatever the file declares: the geometry is checked before
    anything is decoded; an uncompressed frame is sampled row by row (every n-th row
    and column, at most DICOM_SAMPLE_SIDE on the longer side), a compressed one is
    decoded only up to DICOM_DECODE_MAX_BYTES and sampled the same way; the windowing
    then works on the sample, in 32-bit floats. Raises ValueError for a file it will
    not draw."""
    import numpy as np
    from PIL import Image
    from pydicom.pixels import apply_modality_lut, apply_voi_lut, pixel_array

    fileobj.seek(0)
    ds = _read_header(fileobj, force=True)
    size = _size_of_stream(fileobj)
    pixels = _pixel_data_at(fileobj, ds, size)
    if not pixels.present:
        raise ValueError("no pixel data")
    geometry = _dicom_geometry(ds, pixels)
    if isinstance(geometry, str):
        raise ValueError(f"pixel data refused: {geometry}")
    index = geometry.frames // 2 if geometry.frames > 1 else 0
    step = max(1, -(-max(geometry.rows, geometry.columns) // DICOM_SAMPLE_SIDE))
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    if (
        geometry.native
        and geometry.bits >= 8
        and not geometry.subsampled
        and (step > 1 or geometry.frame_bytes > DICOM_DECODE_MAX_BYTES)
    ):
        array = _sample_native_frame(fileobj, pixels, geometry, index, step)
    else:
        if geometry.decoded_bytes > DICOM_DECODE_MAX_BYTES:
            raise ValueError("frame too large to decode for a picture")
        fileobj.seek(0)
        array = pixel_array(fileobj, index=index)
        if step > 1:
            array = np.ascontiguousarray(array[::step, ::step])
    if geometry.samples == 1:
        array = apply_modality_lut(array, ds)
        windowed = "WindowCenter" in ds or "VOILUTSequence" in ds
        if windowed:
            array = apply_voi_lut(array, ds, index=0)
            low, high = float(np.min(array)), float(np.max(array))
            pixels_8 = _to_uint8(array, low, high)
        else:
            pixels_8 = _to_uint8(array)
        if photometric == "MONOCHROME1":
            pixels_8 = 255 - pixels_8
        image = Image.fromarray(pixels_8)
    else:
        if photometric.startswith("YBR") and geometry.native:
            from pydicom.pixels import convert_color_space

            array = convert_color_space(array, photometric, "RGB")
        if array.dtype != np.uint8:
            array = _to_uint8(array, 0.0, float(np.max(array)) or 1.0)
        image = Image.fromarray(np.ascontiguousarray(array[..., :3]))
    return _png(image)


def _size_of_stream(fileobj) -> int:
    size = getattr(fileobj, "size", None)
    if size is None:
        here = fileobj.tell()
        size = fileobj.seek(0, io.SEEK_END)
        fileobj.seek(here)
    return int(size)


def _sample_native_frame(fileobj, pixels: _PixelData, geometry: _Geometry, index: int, step: int):
    """Every `step`-th row and column of uncompressed frame `index`, read one row at
    a time: memory holds one row and the sample, never the frame."""
    import numpy as np

    unit = geometry.bits // 8
    kind = "i" if geometry.signed else "u"
    if geometry.bits == 64:
        kind = "f"  # Float Pixel Data is the only 64-bit kind
    dtype = np.dtype(f"{'<' if geometry.little_endian else '>'}{kind}{unit}")
    rows, columns, samples = geometry.rows, geometry.columns, geometry.samples
    frame_start = pixels.offset + index * geometry.frame_bytes
    planes = samples if geometry.planar and samples > 1 else 1
    per_row = columns * (1 if planes > 1 else samples) * unit
    picked = range(0, rows, step)
    out = np.empty((len(picked), -(-columns // step), samples), dtype=dtype.newbyteorder("="))
    for plane in range(planes):
        plane_start = frame_start + plane * rows * columns * unit
        for n, row in enumerate(picked):
            fileobj.seek(plane_start + row * per_row)
            data = fileobj.read(per_row)
            if len(data) != per_row:
                raise ValueError("pixel data cut off")
            line = np.frombuffer(data, dtype=dtype)
            if planes > 1:
                out[n, :, plane] = line[::step]
            else:
                out[n] = line.reshape(columns, samples)[::step]
    return out[..., 0] if samples == 1 else out
