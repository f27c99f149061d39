"""Every DICOM file pydicom ships (its package's data/test_files, on disk: nothing is
downloaded) renders, or is refused with a reason people can read. The table of what
decodes is docs/imaging.md's."""

import io
import warnings
from pathlib import Path

import pydicom
import pytest
from PIL import Image

from records.imaging import rendering

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
FILES = sorted(p.name for p in TEST_FILES.glob("*.dcm"))

# Compressed transfer syntaxes a CD carries, and the plugin that decodes them here.
DECODED = {
    "1.2.840.10008.1.2.5": "RLE Lossless",
    "1.2.840.10008.1.2.4.50": "JPEG Baseline",
    "1.2.840.10008.1.2.4.70": "JPEG Lossless SV1",
    "1.2.840.10008.1.2.4.80": "JPEG-LS Lossless",
    "1.2.840.10008.1.2.4.81": "JPEG-LS Near-Lossless",
    "1.2.840.10008.1.2.4.90": "JPEG 2000 Lossless",
    "1.2.840.10008.1.2.4.91": "JPEG 2000",
}
# Refused with a reason: 12-bit JPEG Extended needs the GPL libjpeg plugin; deflated
# datasets are refused before they are inflated (verification refuses them too).
REFUSED = {
    "1.2.840.10008.1.2.4.51": "unsupported",
    "1.2.840.10008.1.2.1.99": "unsupported",
}


def _syntax(path: Path) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
        except Exception:
            return ""
    return str(getattr(ds.get("file_meta"), "TransferSyntaxUID", "") or "")


def test_the_test_files_are_on_disk():
    assert len(FILES) > 60
    assert {_syntax(TEST_FILES / name) for name in FILES} >= set(DECODED) | set(REFUSED)


@pytest.mark.parametrize("name", FILES)
def test_each_test_file_renders_or_is_refused_with_a_reason(name):
    data = (TEST_FILES / name).read_bytes()
    syntax = _syntax(TEST_FILES / name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            webp = rendering.render_file(io.BytesIO(data), 0, "stored", 512)
        except rendering.FrameRefused as error:
            assert error.reason in rendering.REASONS
            assert str(rendering.REASONS[error.reason])
            if syntax in REFUSED:
                assert error.reason == REFUSED[syntax]
            return
    assert syntax not in REFUSED, syntax
    image = Image.open(io.BytesIO(webp))
    assert image.format == "WEBP" and min(image.size) >= 1


@pytest.mark.parametrize("syntax", sorted(DECODED), ids=lambda s: DECODED[s])
def test_every_compressed_syntax_a_cd_carries_decodes(syntax):
    names = [n for n in FILES if _syntax(TEST_FILES / n) == syntax]
    rendered = []
    for name in names:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                rendering.render_file(
                    io.BytesIO((TEST_FILES / name).read_bytes()), 0, "stored", 512
                )
            except rendering.FrameRefused:
                continue
        rendered.append(name)
    assert rendered, f"no file of {DECODED[syntax]} decodes ({names})"
    assert rendering.can_decode(syntax)


def test_the_gpl_libjpeg_plugin_is_not_installed():
    import importlib.util

    assert importlib.util.find_spec("libjpeg") is None
