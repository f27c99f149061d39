"""records.verification.dicom: a DICOM's header, what it declares about its pixels,
and its thumbnail, with memory bounded whatever the file claims."""

import io

import pytest
from PIL import Image

from records.verification import REASONS, dicom, dicom_thumbnail
from tests.records import samples
from tests.records.verification.helpers import assert_rejected, run_capped, verify


def test_it_reads_a_dicom_header_and_not_its_pixels(local_storage):
    report = verify(local_storage, samples.ct(), "CT_small.dcm")
    assert report.ok
    assert (report.kind, report.mime) == ("dicom", "application/dicom")
    assert report.dicom["modality"] == "CT"
    assert report.dicom["study_date"] == "2004-01-19"
    assert report.dicom["study_uid"].startswith("1.3.6.1.4.1.5962")
    assert report.dicom["series_number"] == 1 and report.dicom["has_pixels"]
    assert set(report.dicom) >= {
        "study_uid",
        "series_uid",
        "sop_uid",
        "modality",
        "study_date",
        "body_part",
        "study_description",
        "series_description",
        "series_number",
        "instance_number",
    }


@pytest.mark.parametrize(
    "data", [samples.dicom_cut_off(), samples.dicom_garbage()], ids=["cut-off", "garbage"]
)
def test_it_refuses_a_corrupt_dicom(local_storage, data):
    message = assert_rejected(verify(local_storage, data, "IM0001.dcm"), "dicom_invalid")
    assert "damaged" in message


def test_dicom_thumbnails_window_and_invert_monochrome1():
    import numpy as np

    common = {
        "study": "1.2.3",
        "series": "1.2.3.1",
        "sop": "1.2.3.1.1",
        "instance": 1,
        "series_number": 1,
    }
    plain = dicom_thumbnail(io.BytesIO(samples.dicom_instance(**common)))
    inverted = dicom_thumbnail(
        io.BytesIO(samples.dicom_instance(**common, photometric="MONOCHROME1"))
    )
    a = np.asarray(Image.open(io.BytesIO(plain)), dtype=np.int16)
    b = np.asarray(Image.open(io.BytesIO(inverted)), dtype=np.int16)
    assert a.shape == b.shape == (128, 128)
    assert np.abs((255 - a) - b).max() <= 1
    assert a.std() > 10  # not a flat grey square


def test_dicom_thumbnails_apply_the_window():
    import numpy as np
    import pydicom

    ds = pydicom.dcmread(io.BytesIO(samples.ct()))
    ds.WindowCenter, ds.WindowWidth = 40, 80  # soft tissue: bone and air saturate
    out = io.BytesIO()
    ds.save_as(out)
    pixels = np.asarray(Image.open(io.BytesIO(dicom_thumbnail(io.BytesIO(out.getvalue())))))
    saturated = np.mean((pixels == 0) | (pixels == 255))
    assert saturated > 0.3


def test_a_dicom_declaring_65535_squared_is_refused_before_anything_decodes(tmp_path):
    path = tmp_path / "IM0001.dcm"
    path.write_bytes(samples.dicom_declaring(65535, 65535))
    result = run_capped(path)
    assert (result.get("ok"), result.get("reason")) == (False, "dicom_too_large"), result
    assert "can't be opened safely" in str(REASONS["dicom_too_large"])
    drawn = run_capped(path, "thumbnail")
    assert drawn.get("error") == "ValueError" and "dicom_too_large" in drawn["message"]


def test_a_dicom_whose_rle_frame_decodes_to_gigabytes_is_never_decoded(tmp_path):
    path = tmp_path / "IM0002.dcm"
    samples.write_dicom_rle_declaring(path, rows=65535, columns=16384)  # 1 GiB decoded
    assert path.stat().st_size < 20 * 1024**2
    result = run_capped(path, "thumbnail")
    assert result.get("error") == "ValueError" and result["growth_mb"] < 50, result


def test_a_huge_private_element_is_skipped_not_read(tmp_path):
    path = tmp_path / "IM0003.dcm"
    samples.write_dicom_private_blob(path, blob=200 * 1024**2)
    result = run_capped(path)
    assert result.get("ok") is True, result
    assert result["dicom"]["modality"] == "CT" and result["dicom"]["has_pixels"] is True
    assert result["growth_mb"] < 64, result


def test_a_large_uncompressed_frame_is_drawn_from_a_sample_of_its_rows(tmp_path):
    path = tmp_path / "IM0004.dcm"
    samples.write_dicom_native(path, rows=8192, columns=8192)  # 128 MiB of pixels
    result = run_capped(path, "thumbnail")
    assert result.get("png"), result
    assert result["growth_mb"] < 100, result


def test_the_sampled_picture_is_the_picture(local_storage, tmp_path):
    """Sampling every n-th row and column draws what decoding the whole frame draws."""
    path = tmp_path / "IM0005.dcm"
    samples.write_dicom_native(path, rows=2048, columns=1536)
    with path.open("rb") as handle:
        sampled = Image.open(io.BytesIO(dicom_thumbnail(handle))).convert("L")
    assert sampled.size == (480, 640)
    # A gradient along the columns (mod 4096, offset by the row): left dark, right light.
    left, right = sampled.getpixel((10, 320)), sampled.getpixel((470, 320))
    assert right > left


def test_a_compressed_frame_too_large_to_decode_is_kept_without_a_picture(local_storage):
    data = samples.dicom_declaring(9000, 9000)  # 81 megapixels, over the decode limit
    report = verify(local_storage, data, "IM0006.dcm")
    assert report.ok and report.dicom["has_pixels"]
    with pytest.raises(ValueError, match="too large to decode"):
        dicom_thumbnail(io.BytesIO(data))


def test_a_deflated_dicom_is_refused_unread(local_storage):
    import pydicom
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    ds = pydicom.dcmread(io.BytesIO(samples.ct()))
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    assert_rejected(verify(local_storage, out.getvalue(), "IM0007.dcm"), "dicom_unsupported")


def test_a_header_of_many_large_elements_stops_being_read(local_storage):
    import pydicom

    ds = pydicom.dcmread(io.BytesIO(samples.ct()))
    ds.add_new(0x00090010, "LO", "ACME 1.0")
    for n in range(20):  # each under the defer size, 18 MiB together
        ds.add_new(0x00091000 + n, "OB", bytes(900 * 1024))
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    assert_rejected(verify(local_storage, out.getvalue(), "IM0008.dcm"), "dicom_invalid")


@pytest.mark.parametrize("planar", [0, 1])
@pytest.mark.parametrize("bits", [8, 16])
def test_sampling_rows_reads_the_same_pixels_as_decoding_the_frame(planar, bits):
    import numpy as np
    import pydicom

    ds = pydicom.dcmread(io.BytesIO(samples.ct()))
    rows, columns = 300, 200
    rgb = (np.arange(rows * columns * 3) % (2**bits - 7)).astype(f"<u{bits // 8}")
    rgb = rgb.reshape(rows, columns, 3)
    ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, columns, 3
    ds.PhotometricInterpretation, ds.PlanarConfiguration = "RGB", planar
    ds.BitsAllocated = ds.BitsStored = bits
    ds.HighBit, ds.PixelRepresentation = bits - 1, 0
    del ds.RescaleIntercept, ds.RescaleSlope
    ds.PixelData = (rgb.transpose(2, 0, 1) if planar else rgb).tobytes()
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    data = out.getvalue()
    handle = io.BytesIO(data)
    header = dicom._read_header(handle, force=True)
    pixels = dicom._pixel_data_at(handle, header, len(data))
    geometry = dicom._dicom_geometry(header, pixels)
    sampled = dicom._sample_native_frame(io.BytesIO(data), pixels, geometry, 0, 3)
    assert np.array_equal(sampled, pydicom.dcmread(io.BytesIO(data)).pixel_array[::3, ::3])
