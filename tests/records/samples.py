"""Sample files for the verification tests, all made at run time: good ones of
every allowed kind and the hostile ones verification must refuse."""

from __future__ import annotations

import hashlib
import io
import stat
import struct
import zipfile
import zlib
from pathlib import Path

# Built from two halves so that no file in the repository is itself the test virus.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


# --- Documents ---------------------------------------------------------------------------
def pdf(pages: int = 1) -> bytes:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument.new()
    for _ in range(pages):
        document.new_page(595, 842)
    out = io.BytesIO()
    document.save(out)
    document.close()
    return out.getvalue()


_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    box = list(range(256))
    j = 0
    for i in range(256):
        j = (j + box[i] + key[i % len(key)]) % 256
        box[i], box[j] = box[j], box[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + box[i]) % 256
        box[i], box[j] = box[j], box[i]
        out.append(byte ^ box[(box[i] + box[j]) % 256])
    return bytes(out)


def _pdf_from_objects(objects: list[bytes], trailer: bytes) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n" + trailer + b"\nstartxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def encrypted_pdf(user_password: bytes = b"secret", owner_password: bytes = b"owner") -> bytes:
    """A PDF that needs a password to open (Standard security handler, RC4 40-bit,
    revision 2: the simplest a reader must support)."""
    permissions = -44
    file_id = hashlib.md5(b"secondop-sample").digest()  # noqa: S324 - the PDF format's own hash
    owner_key = hashlib.md5((owner_password + _PAD)[:32]).digest()[:5]  # noqa: S324
    o_entry = _rc4(owner_key, (user_password + _PAD)[:32])
    key = hashlib.md5(  # noqa: S324
        (user_password + _PAD)[:32] + o_entry + struct.pack("<i", permissions) + file_id
    ).digest()[:5]
    u_entry = _rc4(key, _PAD)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>"
        % (o_entry.hex().encode(), u_entry.hex().encode(), permissions),
    ]
    trailer = b"<< /Size 5 /Root 1 0 R /Encrypt 4 0 R /ID [<%s> <%s>] >>" % (
        file_id.hex().encode(),
        file_id.hex().encode(),
    )
    return _pdf_from_objects(objects, trailer)


def corrupt_pdf() -> bytes:
    """Starts like a PDF; the rest is noise."""
    noise = hashlib.sha256(b"noise").digest() * 200
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + noise + b"\n%%EOF\n"


def html_named_pdf() -> bytes:
    return (
        b"<!DOCTYPE html>\n<html><head><title>Report</title></head><body>"
        + b"x" * 500
        + b"</body></html>\n"
    )


def executable() -> bytes:
    """The start of a Windows program (enough for anything that sniffs types)."""
    header = bytearray(512)
    header[:2] = b"MZ"
    header[0x3C:0x40] = struct.pack("<I", 0x80)
    header[0x80:0x84] = b"PE\0\0"
    header[0x4E : 0x4E + 39] = b"This program cannot be run in DOS mode."
    return bytes(header)


def text() -> bytes:
    return "Notes for my second opinion\nDiagnosed March; MRI attached.\nCafé, naïve: UTF-8.\n".encode()


# --- Images ------------------------------------------------------------------------------
def image(format: str = "PNG", size: tuple[int, int] = (640, 400)) -> bytes:
    from PIL import Image

    picture = Image.linear_gradient("L").resize(size).convert("RGB")
    out = io.BytesIO()
    picture.save(out, format)
    return out.getvalue()


def truncated_jpeg() -> bytes:
    data = image("JPEG", (800, 600))
    return data[: len(data) // 2]


# --- DICOM -------------------------------------------------------------------------------
def _testdata(name: str) -> bytes:
    from pydicom.data import get_testdata_file

    path = get_testdata_file(name)  # these two ship inside pydicom: no download
    assert path, name
    return Path(path).read_bytes()


def anonymised(name: str) -> bytes:
    """One of pydicom's sample files without its made-up patient's name and birth
    date ("CompressedSamples^CT1"), for tests not about whose images they are: that
    name is rightly another person than any case's (records.verification.identity)."""
    import pydicom

    ds = pydicom.dcmread(io.BytesIO(_testdata(name)))
    ds.PatientName, ds.PatientBirthDate = "", ""
    out = io.BytesIO()
    ds.save_as(out)
    return out.getvalue()


def ct() -> bytes:
    return _testdata("CT_small.dcm")


def mr() -> bytes:
    return _testdata("MR_small.dcm")


def dicom_with_preamble(preamble: bytes) -> bytes:
    return preamble.ljust(128, b"\0")[:128] + ct()[128:]


def dicom_exe_preamble() -> bytes:
    return dicom_with_preamble(executable()[:128])


def dicom_html_preamble() -> bytes:
    return dicom_with_preamble(b"<!DOCTYPE html><html><body><script>alert(1)</script>")


def dicom_cut_off() -> bytes:
    """A copy that stopped halfway through its pixel data."""
    data = ct()
    return data[: len(data) - 10_000]


def dicom_garbage() -> bytes:
    """The DICM marker, then noise."""
    return b"\0" * 128 + b"DICM" + hashlib.sha256(b"x").digest() * 40


def dicom_instance(
    *,
    study: str,
    series: str,
    sop: str,
    instance: int,
    series_number: int,
    modality: str = "CT",
    template: str = "ct",
    photometric: str = "",
    study_date: str = "20240131",
    body_part: str = "CHEST",
    patient_name: str = "",
    birth_date: str = "",
) -> bytes:
    import pydicom

    ds = pydicom.dcmread(io.BytesIO(ct() if template == "ct" else mr()))
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID = study, series, sop
    ds.file_meta.MediaStorageSOPInstanceUID = sop
    ds.InstanceNumber, ds.SeriesNumber = instance, series_number
    ds.Modality, ds.StudyDate, ds.BodyPartExamined = modality, study_date, body_part
    ds.StudyDescription = "CT CHEST WITH CONTRAST"
    ds.SeriesDescription = f"Series {series_number}"
    # Whose images: none by default (an anonymised disc, compared with nobody).
    ds.PatientName, ds.PatientBirthDate = patient_name, birth_date
    if photometric:
        ds.PhotometricInterpretation = photometric
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def study_files(
    *,
    series: int = 2,
    instances: int = 3,
    study: str = "1.2.826.0.1.3680043.8.498.1",
    patient_name: str = "",
    birth_date: str = "",
) -> dict[str, bytes]:
    """A disc's worth: `series` series of `instances` each, named like a CD's files,
    labelled for `patient_name` born `birth_date` (DICOM's forms: "DOE^JANE",
    "19700302"; blank: anonymised)."""
    files = {}
    for s in range(1, series + 1):
        for i in range(1, instances + 1):
            files[f"DICOM/S{s:04d}/I{i:04d}"] = dicom_instance(
                study=study,
                series=f"{study}.{s}",
                sop=f"{study}.{s}.{i}",
                instance=i,
                series_number=s,
                modality="CT" if s == 1 else "MR",
                template="ct" if s == 1 else "mr",
                patient_name=patient_name,
                birth_date=birth_date,
            )
    return files


def cd_extras() -> dict[str, bytes]:
    """What a disc carries beside the images."""
    return {
        "AUTORUN.INF": b"[autorun]\r\nopen=VIEWER\\viewer.exe\r\n",
        "VIEWER/viewer.exe": executable(),
        "VIEWER/lib/dicom.dll": executable(),
        "README.TXT": b"Insert the disc and run the viewer.\r\n",
        "index.html": b"<html><body>Open the viewer</body></html>",
    }


# --- ZIPs --------------------------------------------------------------------------------
def zip_of(files: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def zip_traversal() -> bytes:
    return zip_of({"report.pdf": pdf(), "../../etc/cron.d/evil": b"* * * * * root sh\n"})


def zip_absolute() -> bytes:
    return zip_of({"/etc/passwd": b"root:x:0:0::/root:/bin/sh\n"})


def zip_nested() -> bytes:
    return zip_of({"scan.pdf": pdf(), "more.zip": zip_of({"inner.pdf": pdf()})})


def zip_symlink() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("report.pdf", pdf())
        link = zipfile.ZipInfo("passwd")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    return out.getvalue()


def zip_many(count: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for n in range(count):
            archive.writestr(f"n{n}.txt", b"x\n")
    return out.getvalue()


def zip_encrypted_flag() -> bytes:
    """An entry marked as encrypted (what a password-protected ZIP looks like)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        info = zipfile.ZipInfo("report.pdf")
        archive.writestr(info, pdf())
    data = bytearray(out.getvalue())
    # Set bit 0 of the general-purpose flags in the local and central headers.
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        data[at + offset] |= 0x01
    return bytes(data)


def write_zip_bomb(path: Path, *, uncompressed: int = 1024**3) -> int:
    """A ZIP holding one entry of `uncompressed` zero bytes in about 1 MB, written
    as it is made: each MiB of zeros deflates to the same bytes once the
    compressor's history is flushed, so the entry is one block repeated."""
    mib = 1024 * 1024
    assert uncompressed % mib == 0
    zeros = bytes(mib)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    first = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = compressor.flush()
    count = uncompressed // mib
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(zeros, crc)
    compressed = len(first) + len(repeated) * (count - 1) + len(end)
    name = b"zeros.dcm"
    with path.open("wb") as out:
        out.write(
            struct.pack(
                "<4sHHHHHIIIHH",
                b"PK\x03\x04",
                20,
                0,
                8,
                0,
                0x21,
                crc,
                compressed,
                uncompressed,
                len(name),
                0,
            )
            + name
        )
        out.write(first)
        for _ in range(count - 1):
            out.write(repeated)
        out.write(end)
        directory = out.tell()
        out.write(
            struct.pack(
                "<4sHHHHHHIIIHHHHHII",
                b"PK\x01\x02",
                20,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                compressed,
                uncompressed,
                len(name),
                0,
                0,
                0,
                0,
                0,
                0,
            )
            + name
        )
        size = out.tell() - directory
        out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, size, directory, 0))
        return out.tell()


# --- Hostile files that try to exhaust the worker (also bench/verify_memory.py's) ---------
def _header_without_pixels(**values) -> object:
    import pydicom

    ds = pydicom.dcmread(io.BytesIO(ct()))
    del ds.PixelData
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds


def _saved(ds) -> bytes:
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def dicom_declaring(rows: int = 65535, columns: int = 65535) -> bytes:
    """A 1 MB DICOM whose one JPEG frame says it is `rows` x `columns` (65,535² is the
    largest the format allows: 4.3 gigapixels)."""
    from PIL import Image
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGBaseline8Bit

    ds = _header_without_pixels(
        Rows=rows,
        Columns=columns,
        BitsAllocated=8,
        BitsStored=8,
        HighBit=7,
        PixelRepresentation=0,
        SamplesPerPixel=1,
        PhotometricInterpretation="MONOCHROME2",
    )
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    picture = io.BytesIO()
    Image.effect_noise((1024, 1024), 64).save(picture, "JPEG", quality=95)
    ds.PixelData = encapsulate([picture.getvalue()])
    ds["PixelData"].VR = "OB"
    return _saved(ds)


def write_dicom_rle_declaring(path: Path, *, rows: int = 65535, columns: int = 65535) -> int:
    """A DICOM whose RLE frame really decodes to `rows` x `columns` bytes (zeros, as
    runs of 128): 65,535² is 4.3 GB decoded from a 67 MB file."""
    ds = _header_without_pixels(
        Rows=rows,
        Columns=columns,
        BitsAllocated=8,
        BitsStored=8,
        HighBit=7,
        PixelRepresentation=0,
        SamplesPerPixel=1,
        PhotometricInterpretation="MONOCHROME2",
    )
    from pydicom.uid import RLELossless

    ds.file_meta.TransferSyntaxUID = RLELossless
    total = rows * columns
    runs, rest = divmod(total, 128)
    segment_length = runs * 2 + (2 if rest else 0)
    segment_length += segment_length % 2
    header = struct.pack("<16L", 1, 64, *([0] * 14))
    item_length = len(header) + segment_length
    with path.open("wb") as out:
        out.write(_saved(ds))
        # Pixel Data, OB, undefined length; an empty offset table; one fragment.
        out.write(struct.pack("<HH2sHL", 0x7FE0, 0x0010, b"OB", 0, 0xFFFFFFFF))
        out.write(struct.pack("<HHL", 0xFFFE, 0xE000, 0))
        out.write(struct.pack("<HHL", 0xFFFE, 0xE000, item_length) + header)
        block = bytes([0x81, 0]) * (1024 * 1024)
        left = runs
        while left:
            count = min(left, 1024 * 1024)
            out.write(block[: count * 2])
            left -= count
        if rest:  # a literal byte, or a shorter run
            out.write(bytes([0, 0]) if rest == 1 else bytes([257 - rest, 0]))
        if out.tell() % 2:
            out.write(b"\x80")  # RLE's no-op byte keeps the fragment even
        out.write(struct.pack("<HHL", 0xFFFE, 0xE0DD, 0))
        return out.tell()


def write_dicom_jpeg_frame(path: Path, *, side: int = 16384) -> int:
    """A DICOM holding one real JPEG frame of `side` x `side` that compresses to about a
    few megabytes (a smooth picture): decoding it takes side² bytes, and the old
    thumbnail's 64-bit copies eight times that."""
    from PIL import Image
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGBaseline8Bit

    picture = io.BytesIO()
    Image.linear_gradient("L").resize((side, side)).save(picture, "JPEG", quality=50)
    ds = _header_without_pixels(
        Rows=side,
        Columns=side,
        BitsAllocated=8,
        BitsStored=8,
        HighBit=7,
        PixelRepresentation=0,
        SamplesPerPixel=1,
        PhotometricInterpretation="MONOCHROME2",
    )
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.PixelData = encapsulate([picture.getvalue()])
    ds["PixelData"].VR = "OB"
    path.write_bytes(_saved(ds))
    return path.stat().st_size


def write_dicom_native(path: Path, *, rows: int, columns: int) -> int:
    """An uncompressed 16-bit DICOM of `rows` x `columns` (a gradient), written a row at
    a time."""
    import numpy as np

    ds = _header_without_pixels(
        Rows=rows,
        Columns=columns,
        BitsAllocated=16,
        BitsStored=12,
        HighBit=11,
        PixelRepresentation=0,
        SamplesPerPixel=1,
    )
    line = (np.arange(columns) % 4096).astype("<u2")
    with path.open("wb") as out:
        out.write(_saved(ds))
        out.write(struct.pack("<HH2sHL", 0x7FE0, 0x0010, b"OW", 0, rows * columns * 2))
        for row in range(rows):
            out.write(((line + row) % 4096).astype("<u2").tobytes())
        return out.tell()


def write_dicom_private_blob(path: Path, *, blob: int = 315 * 1024**2) -> int:
    """CT_small with a private element of `blob` bytes (zeros; sparse on disk) before
    its pixel data: a header reader that reads every element reads it whole."""
    import pydicom

    ds = pydicom.dcmread(io.BytesIO(ct()))
    pixels = ds.PixelData
    del ds.PixelData
    ds.add_new(0x00090010, "LO", "ACME 1.0")
    head = _saved(ds)
    with path.open("wb") as out:
        out.write(head)
        out.write(struct.pack("<HH2sHL", 0x0009, 0x1010, b"OB", 0, blob))
        out.seek(blob, 1)
        out.write(struct.pack("<HH2sHL", 0x7FE0, 0x0010, b"OW", 0, len(pixels)) + pixels)
        return out.tell()


def write_zip_listing(path: Path, *, entries: int = 1_000_000, stated: int | None = None) -> int:
    """A ZIP whose central directory lists `entries` entries, all pointing at one tiny
    stored file (about 52 bytes an entry: 55 MB for a million). `stated` is the count
    its end record claims (ZIP64 records when over 65,535; the real count by default)."""
    data = b"x\n"
    crc = zlib.crc32(data)
    first = b"a.txt"
    stated = entries if stated is None else stated
    with path.open("wb") as out:
        out.write(
            struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 0, 0, 0x21, crc, 2, 2, len(first), 0)
            + first
            + data
        )
        directory = out.tell()
        fixed = struct.Struct("<4sHHHHHHIIIHHHHHII")
        batch = []
        for n in range(entries):
            name = b"%06d" % n
            batch.append(
                fixed.pack(
                    b"PK\x01\x02", 20, 20, 0, 0, 0, 0x21, crc, 2, 2, len(name), 0, 0, 0, 0, 0, 0
                )
                + name
            )
            if len(batch) == 50_000:
                out.write(b"".join(batch))
                batch.clear()
        out.write(b"".join(batch))
        size = out.tell() - directory
        if stated > 0xFFFF:
            end64 = out.tell()
            out.write(
                struct.pack(
                    "<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, stated, stated, size, directory
                )
            )
            out.write(struct.pack("<4sIQI", b"PK\x06\x07", 0, end64, 1))
            out.write(
                struct.pack(
                    "<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0
                )
            )
        else:
            out.write(
                struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, stated, stated, size, directory, 0)
            )
        return out.tell()
