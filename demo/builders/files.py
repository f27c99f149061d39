"""Sample medical documents for the demo: a pathology report (a real PDF with
text), a lab result (a PNG) and a CT/MR study (pydicom's own anonymous test
images). Made here so the demo needs nothing from the network."""

import io

from demo.data.documents import DICOM_STUDY, LabPicture, TextPdf, Upload


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def text_pdf(title: str, lines: list[str]) -> bytes:
    """A one-page PDF with a title and lines of text, Helvetica, built by hand."""
    body = [f"BT /F1 16 Tf 72 730 Td ({_escape(title)}) Tj ET"]
    y = 700
    for line in lines:
        body.append(f"BT /F1 11 Tf 72 {y} Td ({_escape(line)}) Tj ET")
        y -= 16
    content = "\n".join(body).encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def lab_png(title: str, rows: list[tuple[str, str, str]]) -> bytes:
    """A lab result as a picture, as a phone photo of a printout would be."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (720, 120 + 28 * len(rows)), "white")
    draw = ImageDraw.Draw(image)
    draw.text((24, 24), title, fill="black")
    draw.line((24, 60, 696, 60), fill="black")
    for n, (test, value, normal) in enumerate(rows):
        y = 76 + 28 * n
        draw.text((24, y), test, fill="black")
        draw.text((360, y), value, fill="black")
        draw.text((520, y), normal, fill="gray")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def dicom_study(*, patient_name: str = "", birth_date: str = "") -> dict[str, bytes]:
    """A CD's worth: a CT and an MR image, and the autorun file discs carry. The
    images are labelled for `patient_name` born `birth_date` (DICOM's forms,
    "DOE^JANE" and "19700302"), or for nobody (anonymised): pydicom's samples carry
    a made-up name, which SecondOp would rightly flag as another person's."""
    import io

    import pydicom
    from pydicom.data import get_testdata_file

    files = {}
    for name, source in (("DICOM/CT0001", "CT_small.dcm"), ("DICOM/MR0001", "MR_small.dcm")):
        ds = pydicom.dcmread(get_testdata_file(source))
        ds.PatientName, ds.PatientBirthDate = patient_name, birth_date
        out = io.BytesIO()
        ds.save_as(out)
        files[f"CD/{name}"] = out.getvalue()
    files["CD/AUTORUN.INF"] = b"[autorun]\r\nopen=viewer\\viewer.exe\r\n"
    return files


def upload_files(upload: Upload) -> dict[str, bytes]:
    """The bytes of an upload's files, by name (a disc's by their path on it)."""
    if upload.files == DICOM_STUDY:
        return dicom_study()
    made = {}
    for name, document in upload.files.items():
        if isinstance(document, TextPdf):
            made[name] = text_pdf(document.title, list(document.lines))
        elif isinstance(document, LabPicture):
            made[name] = lab_png(document.title, list(document.rows))
    return made
