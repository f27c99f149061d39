"""records.imaging.rendering: a frame's pixels as the viewer shows them (modality
LUT, VOI LUT or window, CT presets, MONOCHROME1), the display sizes, and every bad
input refused with a reason before it costs memory."""

import io
import struct

import numpy as np
import pytest
from PIL import Image

from records.imaging import rendering
from records.imaging.rendering import REASONS, FrameRefused
from tests.records import samples
from tests.records.imaging import dicoms


def pixels_of(data: bytes, *, preset="stored", size=1024, index=0) -> np.ndarray:
    webp = rendering.render_file(io.BytesIO(data), index, preset, size)
    assert webp[:4] == b"RIFF" and webp[8:12] == b"WEBP"
    return np.asarray(Image.open(io.BytesIO(webp)).convert("L"), dtype=np.int16)


def refused(data: bytes, **options) -> str:
    with pytest.raises(FrameRefused) as error:
        pixels_of(data, **options)
    assert error.value.reason in REASONS
    return error.value.reason


def ramp(low: int, high: int, side: int = 64, dtype=np.int16) -> np.ndarray:
    """Columns going from `low` to `high`, the same on every row."""
    return np.tile(np.linspace(low, high, side).round().astype(dtype), (side, 1))


def test_rescale_and_the_stored_window_map_hounsfield_units():
    # Stored 0..2000 with slope 2, intercept -1000: -1000..3000 HU; the window
    # W1000/L500 shows 0..1000 HU: black left of 0 HU, white right of 1000 HU.
    data = dicoms.instance(
        ramp(0, 2000, dtype=np.uint16),
        RescaleSlope=2,
        RescaleIntercept=-1000,
        WindowCenter=500,
        WindowWidth=1000,
    )
    row = pixels_of(data)[32]
    hu = np.linspace(0, 2000, 64).round() * 2 - 1000
    expected = np.clip((hu - 0) / 1000, 0, 1) * 255
    assert np.abs(row - expected).max() <= 6, (row, expected)
    assert row[:16].max() <= 2 and row[-16:].min() >= 253


def test_monochrome1_is_inverted():
    plain = pixels_of(dicoms.instance(ramp(0, 1000), photometric="MONOCHROME2"))
    inverted = pixels_of(dicoms.instance(ramp(0, 1000), photometric="MONOCHROME1"))
    assert plain[32, 0] < 10 and plain[32, -1] > 245
    assert np.abs((255 - plain) - inverted).max() <= 8  # WebP is lossy


def test_a_voi_lut_sequence_is_applied_in_preference_to_the_window():
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    # A LUT that maps 0..255 to a step: below 128 -> 0, from 128 on -> 4095.
    lut = Dataset()
    lut.add_new(0x00283002, "US", [256, 0, 12])  # LUT Descriptor
    lut.add_new(0x00283006, "US", [0] * 128 + [4095] * 128)  # LUT Data
    data = dicoms.instance(
        ramp(0, 255, dtype=np.uint16),
        VOILUTSequence=Sequence([lut]),
        WindowCenter=10,
        WindowWidth=20,
    )
    row = pixels_of(data)[32]
    values = np.linspace(0, 255, 64).round()
    assert (row[values < 128] <= 2).all() and (row[values >= 128] >= 253).all(), row


def test_the_ct_presets_window_differently():
    data = dicoms.instance(dicoms.ct_slice(256), RescaleSlope=1, RescaleIntercept=-1024)
    lung = pixels_of(data, preset="lung")
    soft = pixels_of(data, preset="soft_tissue")
    bone = pixels_of(data, preset="bone")
    # A lung (-800 HU) is grey in the lung window and black in the soft-tissue one;
    # soft tissue (40 HU) is mid-grey in its own window and white in the lung one.
    lung_spot, tissue_spot = (115, 84), (60, 128)
    assert 60 < lung[lung_spot] < 140 and soft[lung_spot] < 5
    assert 100 < soft[tissue_spot] < 160 and lung[tissue_spot] > 200
    assert bone[tissue_spot] < soft[tissue_spot]
    assert not np.array_equal(lung, soft)


def test_frames_are_scaled_to_the_display_size_and_never_enlarged():
    data = dicoms.instance(np.zeros((300, 600), np.int16))
    for size, expected in ((1024, (600, 300)), (512, (512, 256))):
        webp = rendering.render_file(io.BytesIO(data), 0, "stored", size)
        assert Image.open(io.BytesIO(webp)).size == expected


def test_each_frame_of_a_multi_frame_instance_and_an_rle_one():
    frames = np.stack([np.full((32, 32), v * 100, np.int16) for v in range(4)])
    for rle in (False, True):
        data = dicoms.instance(frames, rle=rle, WindowCenter=150, WindowWidth=300)
        means = [pixels_of(data, index=i).mean() for i in range(4)]
        assert means == sorted(means) and means[0] < 10 and means[-1] > 245


# --- Bad input -----------------------------------------------------------------------------
def test_a_declared_65535_squared_frame_is_refused_before_anything_decodes():
    assert refused(samples.dicom_declaring(65535, 65535)) == "too_large"


def test_a_compressed_frame_past_the_decode_cap_is_refused():
    assert refused(samples.dicom_declaring(9000, 9000)) == "too_large"


def test_a_large_uncompressed_frame_is_downsampled_while_read(tmp_path):
    path = tmp_path / "big.dcm"
    samples.write_dicom_native(path, rows=4096, columns=3072)
    with path.open("rb") as handle:
        webp = rendering.render_file(handle, 0, "stored", 512)
    assert Image.open(io.BytesIO(webp)).size == (384, 512)


def test_truncated_pixel_data_is_damaged():
    assert refused(samples.dicom_cut_off()) == "damaged"


def test_a_transfer_syntax_no_decoder_handles_is_refused(monkeypatch):
    data = dicoms.instance(np.zeros((16, 16), np.int16), rle=True)
    monkeypatch.setattr(rendering, "can_decode", lambda syntax: False)
    assert refused(data) == "unsupported"


def test_a_deflated_dataset_is_refused_before_it_is_inflated():
    from pydicom.data import get_testdata_file

    with open(get_testdata_file("image_dfl.dcm"), "rb") as handle:
        assert refused(handle.read()) == "unsupported"


def _with_offset_table(data: bytes, offsets: int) -> bytes:
    """An RLE file whose Basic Offset Table is replaced by one of `offsets` entries."""
    start = data.index(b"\xe0\x7f\x10\x00") + 12
    (length,) = struct.unpack("<L", data[start + 4 : start + 8])
    table = struct.pack("<HHL", 0xFFFE, 0xE000, 4 * offsets) + bytes(4 * offsets)
    return data[:start] + table + data[start + 8 + length :]


def test_a_multi_frame_file_whose_frames_do_not_match_its_count_is_refused():
    frames = np.zeros((3, 16, 16), np.int16)
    data = dicoms.instance(frames, rle=True)
    assert refused(_with_offset_table(data, 5)) == "frames_inconsistent"
    # Declares 5 frames, holds 3 fragments.
    import pydicom

    ds = pydicom.dcmread(io.BytesIO(data))
    ds.NumberOfFrames = 5
    out = io.BytesIO()
    ds.save_as(out)
    assert refused(out.getvalue()) == "frames_inconsistent"
    # An uncompressed one declaring more frames than it holds.
    ds = pydicom.dcmread(io.BytesIO(dicoms.instance(frames)))
    ds.NumberOfFrames = 5
    out = io.BytesIO()
    ds.save_as(out)
    assert refused(out.getvalue()) == "damaged"


def test_a_file_without_pixels_has_no_pictures():
    import pydicom

    ds = pydicom.dcmread(io.BytesIO(samples.ct()))
    del ds.PixelData
    out = io.BytesIO()
    ds.save_as(out)
    assert refused(out.getvalue()) == "no_pictures"


def test_a_large_private_element_is_never_read(tmp_path):
    """The path a 300 MB private tag takes, with 64 MB: the header reader skips it
    (defer_size) and the pixel data is found after it; what is allocated while
    rendering stays far below its size."""
    import tracemalloc

    path = tmp_path / "blob.dcm"
    samples.write_dicom_private_blob(path, blob=64 * 1024**2)
    tracemalloc.start()
    try:
        with path.open("rb") as handle:
            webp = rendering.render_file(handle)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert Image.open(io.BytesIO(webp)).size == (128, 128)
    assert peak < 16 * 1024**2, peak


def test_the_memory_cap_holds_for_a_declared_65535_squared_frame_that_really_decodes(tmp_path):
    """An RLE frame that would decode to 1 GiB (65,535 x 16,384; the bench runs the full
    65,535²): refused from its header, with next to nothing allocated."""
    import tracemalloc

    path = tmp_path / "rle.dcm"
    samples.write_dicom_rle_declaring(path, rows=65535, columns=16384)
    tracemalloc.start()
    try:
        with path.open("rb") as handle, pytest.raises(FrameRefused) as error:
            rendering.render_file(handle)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.value.reason == "too_large"
    assert peak < 2 * 1024**2, peak
