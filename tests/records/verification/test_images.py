"""records.verification.images: photos opened and drawn by Pillow."""

import pytest

from tests.records import samples
from tests.records.verification.helpers import assert_rejected, png_size, verify


@pytest.mark.parametrize(
    ("format", "mime", "name"),
    [
        ("PNG", "image/png", "scan.png"),
        ("JPEG", "image/jpeg", "photo.jpg"),
        ("TIFF", "image/tiff", "fax.tiff"),
    ],
)
def test_it_accepts_photos_with_a_thumbnail(local_storage, format, mime, name):
    report = verify(local_storage, samples.image(format, (1200, 800)), name)
    assert report.ok
    assert (report.kind, report.mime) == ("image", mime)
    assert png_size(report.thumbnail) == (480, 320)


def test_it_refuses_a_damaged_photo(local_storage):
    assert_rejected(verify(local_storage, samples.truncated_jpeg(), "photo.jpg"), "cannot_open")


def test_it_refuses_a_damaged_photo_even_when_pillow_is_told_to_tolerate_them(
    local_storage, monkeypatch
):
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # as WeasyPrint sets it
    assert_rejected(verify(local_storage, samples.truncated_jpeg(), "photo.jpg"), "cannot_open")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True
