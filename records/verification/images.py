"""Photos (JPEG, PNG, TIFF, HEIC): opened and decoded by Pillow within bounds, and
the PNG thumbnail every kind that has a picture is drawn as."""

from __future__ import annotations

import contextlib
import io
import struct

from .base import THUMBNAIL_MAX_HEIGHT, THUMBNAIL_WIDTH, _Job, _Pass, _Sniff

# Pillow decodes a whole image to make a thumbnail; past this (after JPEG's reduced
# decoding) the image is checked without one. Past IMAGE_MAX_PIXELS it is refused.
IMAGE_DECODE_MAX_BYTES = 48 * 1024**2
IMAGE_MAX_PIXELS = 180_000_000


def _png(image) -> bytes:
    from PIL import Image

    if image.width > THUMBNAIL_WIDTH or image.height > THUMBNAIL_MAX_HEIGHT:
        image.thumbnail((THUMBNAIL_WIDTH, THUMBNAIL_MAX_HEIGHT), Image.Resampling.LANCZOS)
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


_PILLOW_FORMATS = {"image/jpeg": ("JPEG", "MPO"), "image/png": ("PNG",), "image/tiff": ("TIFF",)}


def _check_image(fileobj, job: _Job, sniff: _Sniff, found: _Pass) -> dict:
    from PIL import Image, ImageOps

    formats = _PILLOW_FORMATS.get(sniff.mime, ("HEIF", "HEIC"))
    fileobj.seek(0)
    try:
        image = Image.open(fileobj, formats=list(formats))
    except Image.DecompressionBombError:
        return {"reason": "image_too_large"}
    except (OSError, ValueError, SyntaxError, struct.error, EOFError):
        return {"reason": "cannot_open"}
    with image:
        width, height = image.size
        if width < 1 or height < 1:
            return {"reason": "cannot_open"}
        if width * height > IMAGE_MAX_PIXELS:
            return {"reason": "image_too_large"}
        if image.format in ("JPEG", "MPO"):
            image.draft("RGB", (THUMBNAIL_WIDTH * 2, THUMBNAIL_WIDTH * 2))
        decoded = image.size[0] * image.size[1] * _bytes_per_pixel(image.mode)
        with _strict_decoding():
            if decoded > IMAGE_DECODE_MAX_BYTES:
                # Too big to decode here in one go: check its structure, no thumbnail.
                image.verify()
                return {}
            image.load()
        if not job.thumbnails:
            return {}
        try:
            # Shrink first, in place: every step after works on a small image.
            picture = image.convert("I") if image.mode.startswith("I;16") else image
            picture.thumbnail((THUMBNAIL_WIDTH, THUMBNAIL_MAX_HEIGHT), Image.Resampling.LANCZOS)
            picture = ImageOps.exif_transpose(_eight_bit(picture))
            return {"thumbnail": _png(picture)}
        except Exception:  # a picture we cannot draw is still a readable picture
            return {}


def _bytes_per_pixel(mode: str) -> int:
    """What Pillow holds per pixel once decoded (RGB is stored as four bytes), plus
    the 32-bit copy a 16-bit greyscale needs for its thumbnail."""
    if mode in ("1", "L", "P"):
        return 1
    if mode in ("LA", "PA", "La"):
        return 4
    if mode.startswith("I;16"):
        return 6
    return 4


@contextlib.contextmanager
def _strict_decoding():
    """A cut-off image must fail to decode. Pillow's switch for tolerating them is
    process-wide, and WeasyPrint (the report PDFs) turns it on when imported, so it
    is turned off around our own decoding. Verification runs one file at a time per
    process (Celery prefork), so nothing else is decoding meanwhile."""
    from PIL import ImageFile

    tolerant = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = tolerant


def _eight_bit(image):
    """16-bit and float greyscale (scanners' TIFFs) stretched to 8 bits for a PNG."""
    if image.mode not in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        return image
    import numpy as np
    from PIL import Image

    values = np.asarray(image, dtype=np.float32)
    return Image.fromarray(_to_uint8(values))


def _to_uint8(values, low=None, high=None):
    import numpy as np

    # 32-bit floats, on a thumbnail-sized array: the frame itself is never copied.
    values = np.nan_to_num(values.astype(np.float32, copy=False))
    if low is None or high is None:
        low, high = np.percentile(values, (0.5, 99.5)) if values.size else (0.0, 0.0)
    if high <= low:
        return np.zeros(values.shape, dtype=np.uint8)
    scaled = (np.clip(values, low, high) - low) * (255.0 / (high - low))
    return scaled.astype(np.uint8)
