"""One DICOM frame to a WebP for the viewer, with memory bounded whatever the file
declares.

Before anything decodes, the header is read without its pixel data (large elements,
such as a vendor's private blob, are skipped unread: records.verification.dicom) and
the declared geometry is checked there. Then:

- an uncompressed frame is read row by row, every n-th row and column when it is
  bigger than needed: memory holds one row and the sample, never the frame;
- a compressed frame is decoded whole by its codec, so only up to
  FRAME_DECODE_MAX_BYTES decoded (none of the installed codecs decodes at a reduced
  resolution through pydicom), then sampled down at once; a bigger one is refused
  with a reason;
- a deflated dataset is refused before pydicom inflates it (a few megabytes can
  unpack to gigabytes), as verification does;
- a multi-frame file whose compressed frames do not match its declared count is
  refused before any of them is decoded.

The pixels then go through the modality LUT (rescale slope and intercept), the VOI
(the stored window or VOI LUT, or a CT preset's window), MONOCHROME1 inversion, and
are resized to the display size in 32-bit floats."""

from __future__ import annotations

import contextlib
import io
import logging
import math
import struct
from dataclasses import dataclass
from typing import IO, Any

from django.utils.translation import gettext_lazy as _

from records.verification.dicom import (
    _DEFLATED_SYNTAX,
    DICOM_DECODE_MAX_BYTES,
    _dicom_geometry,
    _Geometry,
    _int,
    _pixel_data_at,
    _PixelData,
    _read_header,
    _sample_native_frame,
    _size_of_stream,
    _transfer_syntax,
)

from .models import CT_WINDOWS, Preset

log = logging.getLogger(__name__)

# A compressed frame is decoded whole by its codec: past this (decoded) it is decoded
# at a reduced resolution where the codec allows (JPEG 2000), or refused.
FRAME_DECODE_MAX_BYTES = DICOM_DECODE_MAX_BYTES
# WebP quality for the rendered frames (lossy; radiology reads are made on the
# original DICOM, which stays downloadable).
WEBP_QUALITY = 85

# Why a series (or a frame of it) shows no pictures: what the viewer tells people.
REASONS: dict[str, Any] = {
    "no_pictures": _("This series holds no pictures (a report or measurements only)."),
    "too_large": _(
        "The pictures of this series are larger than we can prepare for viewing here. "
        "Download the study to view it in your own imaging software."
    ),
    "unsupported": _(
        "This series is stored in a compressed format we cannot open. Download the "
        "study to view it in your own imaging software."
    ),
    "damaged": _(
        "Part of this series' picture data is missing or damaged, so it cannot be "
        "shown. Copying it from the disc again and uploading it may help."
    ),
    "frames_inconsistent": _(
        "This series' file says it holds a different number of pictures than it "
        "does, so it cannot be shown. Copying it from the disc again may help."
    ),
    "source_missing": _("The files of this series are no longer stored."),
}


class FrameRefused(ValueError):
    """A frame that will not be rendered: `reason` is a REASONS key."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(detail or reason)
        self.reason = reason


# --- Reading ------------------------------------------------------------------------------


@dataclass
class Instance:
    """One DICOM instance opened for rendering: its header (no pixel data), where its
    pixel data is, and its declared geometry."""

    ds: Any
    pixels: _PixelData
    geometry: _Geometry
    syntax: str

    @property
    def photometric(self) -> str:
        return str(self.ds.get("PhotometricInterpretation", "MONOCHROME2") or "").upper()


def open_instance(fileobj: IO[bytes]) -> Instance:
    """Read what is needed to render `fileobj`'s frames. FrameRefused for a file
    with no pixels, a geometry past the caps, truncated pixel data, compressed
    frames that do not match the declared count, or a transfer syntax no decoder
    installed handles."""
    fileobj.seek(0)
    if _transfer_syntax(fileobj.read(4096)) == _DEFLATED_SYNTAX:
        raise FrameRefused("unsupported", "deflated")
    try:
        fileobj.seek(0)
        ds = _read_header(fileobj, force=True)
        size = _size_of_stream(fileobj)
        pixels = _pixel_data_at(fileobj, ds, size)
    except FrameRefused:
        raise
    except Exception as error:
        from records.storage import StorageUnavailable

        if isinstance(error, StorageUnavailable):
            raise
        raise FrameRefused("damaged", type(error).__name__) from error
    if not pixels.present:
        raise FrameRefused("no_pictures")
    if not pixels.complete:
        raise FrameRefused("damaged", "pixel data cut off")
    geometry = _dicom_geometry(ds, pixels)
    if isinstance(geometry, str):
        raise FrameRefused("too_large" if geometry == "dicom_too_large" else "damaged", geometry)
    syntax = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or "")
    if not geometry.native:
        if not can_decode(syntax) or (
            syntax == _JPEG_EXTENDED and (_int(ds, "BitsStored", 8) or 8) > 8
        ):
            # 12-bit JPEG Extended: only the GPL libjpeg plugin decodes it.
            raise FrameRefused("unsupported", syntax)
        _check_fragments(fileobj, pixels, geometry.frames, size)
    return Instance(ds=ds, pixels=pixels, geometry=geometry, syntax=syntax)


def can_decode(syntax: str) -> bool:
    """Whether an installed decoder plugin handles this (compressed) transfer syntax."""
    from pydicom.pixels.decoders.base import get_decoder
    from pydicom.uid import UID

    try:
        return bool(get_decoder(UID(syntax)).is_available)
    except (NotImplementedError, ValueError):
        return False


_JPEG_EXTENDED = "1.2.840.10008.1.2.4.51"
_ITEM = {b"\xfe\xff\x00\xe0", b"\xff\xfe\xe0\x00"}
_SEQUENCE_END = {b"\xfe\xff\xdd\xe0", b"\xff\xfe\xe0\xdd"}


def _check_fragments(fileobj: IO[bytes], pixels: _PixelData, frames: int, size: int) -> None:
    """Walk the encapsulated items (headers only: 8 bytes each, values seeked over)
    and refuse a file whose offset table or fragments do not match its declared
    frame count, or whose items run past its end."""
    position = pixels.offset
    offsets = -1
    fragments = 0
    for _item in range(frames + 1_000_000):
        fileobj.seek(position)
        header = fileobj.read(8)
        if len(header) < 8:
            raise FrameRefused("damaged", "pixel data cut off")
        if header[:4] in _SEQUENCE_END:
            break
        if header[:4] not in _ITEM:
            raise FrameRefused("damaged", "not an item")
        order = "<" if header[:4] == b"\xfe\xff\x00\xe0" else ">"
        (length,) = struct.unpack(f"{order}L", header[4:8])
        position += 8 + length
        if position > size:
            raise FrameRefused("damaged", "pixel data cut off")
        if offsets < 0:
            offsets = length // 4  # the Basic Offset Table: one offset per frame, or empty
        else:
            fragments += 1
    else:
        raise FrameRefused("frames_inconsistent", "too many fragments")
    if (offsets and offsets != frames) or fragments < frames or (frames == 1 and fragments < 1):
        raise FrameRefused("frames_inconsistent", f"{frames} declared, {fragments} fragments")


def read_frame(fileobj: IO[bytes], instance: Instance, index: int, long_side: int):
    """Frame `index` of an opened instance as a numpy array (rows, columns[, samples]),
    at least `long_side` on its longer side when the frame is that big, and never
    more memory than one bounded frame."""
    import numpy as np

    geometry = instance.geometry
    if index >= geometry.frames:
        raise FrameRefused("frames_inconsistent", f"frame {index} of {geometry.frames}")
    longest = max(geometry.rows, geometry.columns)
    step = max(1, longest // (2 * long_side))  # sample to at most twice the display size
    if geometry.native and geometry.bits >= 8 and not geometry.subsampled:
        array = _sample_native_frame(fileobj, instance.pixels, geometry, index, step)
    else:
        if geometry.decoded_bytes > FRAME_DECODE_MAX_BYTES:
            # No installed codec decodes at a reduced resolution through pydicom.
            raise FrameRefused("too_large", "compressed frame past the decode cap")
        from pydicom.pixels import pixel_array

        fileobj.seek(0)
        try:
            array = pixel_array(fileobj, index=index)
        except MemoryError:
            raise FrameRefused("too_large", "memory") from None
        except Exception as error:
            from records.storage import StorageUnavailable

            if isinstance(error, StorageUnavailable):
                raise
            raise FrameRefused("damaged", type(error).__name__) from error
        if step > 1:
            array = np.ascontiguousarray(array[::step, ::step])
    return array


# --- Drawing ------------------------------------------------------------------------------


def _linear_window(array, width: float, centre: float, *, exact: bool = False):
    """DICOM PS3.3 C.11.2.1.2: the linear VOI function, to 0..1."""
    import numpy as np

    if exact:
        low, span = centre - width / 2, max(width, 1e-6)
    else:
        width = max(width, 1.0)
        low, span = centre - 0.5 - (width - 1) / 2, max(width - 1, 1e-6)
    return np.clip((array - low) / span, 0.0, 1.0)


def _sigmoid_window(array, width: float, centre: float):
    import numpy as np

    return 1.0 / (1.0 + np.exp(-4.0 * (array - centre) / max(width, 1e-6)))


def _first(value) -> float:
    """A window value: multi-valued (one per window explained) takes the first."""
    with contextlib.suppress(TypeError, IndexError):
        if not isinstance(value, str | bytes):
            value = value[0]
    return float(value)


def _voi(array, ds, preset: str):
    """The frame (after the modality LUT) to 0..1 through the preset's window: a CT
    preset's, or the stored one (VOI LUT Sequence first, else Window Center and
    Width), or else the frame's own range."""
    import numpy as np

    if preset in CT_WINDOWS:
        width, centre = CT_WINDOWS[preset]
        return _linear_window(array, width, centre)
    sequence = ds.get("VOILUTSequence")
    if sequence:
        item = sequence[0]
        try:
            descriptor = [int(v) for v in item.LUTDescriptor]
            from pydicom.pixels.processing import apply_voi

            lut = np.asarray(item.LUTData, dtype=np.float32).ravel()
            low, high = float(lut.min()), float(lut.max())
            mapped = apply_voi(array, ds, index=0).astype(np.float32)
            if descriptor[0] and high > low:
                return np.clip((mapped - low) / (high - low), 0.0, 1.0)
        except Exception:  # a malformed LUT: fall through to the window or the range
            log.info("VOI LUT not applied", exc_info=True)
    centre, width = ds.get("WindowCenter"), ds.get("WindowWidth")
    if centre not in (None, "") and width not in (None, ""):
        try:
            c, w = _first(centre), _first(width)
        except (TypeError, ValueError):
            c = w = 0.0
        if w > 0:
            function = str(ds.get("VOILUTFunction", "LINEAR") or "LINEAR").upper()
            if function == "SIGMOID":
                return _sigmoid_window(array, w, c)
            return _linear_window(array, w, c, exact=function == "LINEAR_EXACT")
    low, high = float(np.min(array)), float(np.max(array))
    if high <= low:
        return np.zeros_like(array, dtype=np.float32)
    return (array - low) / (high - low)


def draw(array, ds, preset: str, photometric: str):
    """The 8-bit picture of a frame: greyscale through the modality LUT, the VOI and
    MONOCHROME1 inversion; colour converted to RGB (no window)."""
    import numpy as np
    from PIL import Image

    samples = array.shape[2] if array.ndim == 3 else 1
    if samples == 1:
        from pydicom.pixels import apply_modality_lut

        if photometric == "PALETTE COLOR":
            from pydicom.pixels import apply_color_lut

            rgb = apply_color_lut(array, ds)
            peak = float(np.max(rgb)) or 1.0
            scale = 255.0 / (65535.0 if peak > 255 else 255.0)
            return Image.fromarray(np.clip(rgb * scale, 0, 255).astype(np.uint8), "RGB")
        values = apply_modality_lut(array, ds).astype(np.float32, copy=False)
        unit = _voi(values, ds, preset)
        if photometric == "MONOCHROME1":
            unit = 1.0 - unit
        return Image.fromarray(np.rint(unit * 255.0).astype(np.uint8), "L")
    if array.dtype != np.uint8:
        peak = float(np.max(array)) or 1.0
        array = np.clip(array.astype(np.float32) * (255.0 / peak), 0, 255).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(array[..., :3]), "RGB")


def to_webp(image, long_side: int, pixel_aspect: float = 1.0) -> bytes:
    """The picture at `long_side` on its longer side (never enlarged), as WebP.
    `pixel_aspect` (row spacing / column spacing) stretches rows so that a frame with
    non-square pixels is not distorted."""
    from PIL import Image

    width, height = image.size
    height_shown = height * pixel_aspect
    scale = min(1.0, long_side / max(width, height_shown))
    target = (max(1, round(width * scale)), max(1, round(height_shown * scale)))
    if target != image.size:
        image = image.resize(target, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
    return out.getvalue()


def pixel_aspect(ds) -> float:
    spacing = ds.get("PixelSpacing") or ds.get("ImagerPixelSpacing")
    try:
        row, column = float(spacing[0]), float(spacing[1])
    except (TypeError, ValueError, IndexError):
        return 1.0
    if row <= 0 or column <= 0 or not math.isfinite(row / column):
        return 1.0
    ratio = row / column
    return ratio if 0.25 <= ratio <= 4 else 1.0


def render_frame(fileobj: IO[bytes], instance: Instance, index: int, preset: str, size: int):
    """Frame `index` of an opened instance, drawn and encoded: WebP bytes."""
    array = read_frame(fileobj, instance, index, size)
    image = draw(array, instance.ds, preset, instance.photometric)
    return to_webp(image, size, pixel_aspect(instance.ds))


def render_file(fileobj: IO[bytes], index: int = 0, preset: str = Preset.STORED, size: int = 1024):
    """One frame of a DICOM file as WebP (open_instance then render_frame)."""
    return render_frame(fileobj, open_instance(fileobj), index, preset, size)
