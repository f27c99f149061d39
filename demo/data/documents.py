"""The demo's medical documents as words: `demo.builders.files` makes their bytes
(a PDF of text, a lab result as a picture, a CT/MR disc)."""

import datetime
from dataclasses import dataclass


@dataclass(frozen=True)
class TextPdf:
    """A one-page PDF: a title and lines of text."""

    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class LabPicture:
    """A lab result photographed from a printout: (test, value, normal range) rows."""

    title: str
    rows: tuple[tuple[str, str, str], ...]


# A CD's worth of images (pydicom's own anonymous CT and MR test images).
DICOM_STUDY = "dicom-study"


@dataclass(frozen=True)
class Upload:
    """A record as a patient sends it: its files by name, or a whole disc."""

    category: str
    title: str
    service_date: datetime.date
    files: dict[str, TextPdf | LabPicture] | str


PATHOLOGY_REPORT = TextPdf(
    "Surgical pathology report",
    (
        "Patient: Maria Alvarez            Collected: 28 September 2026",
        "Specimen: left breast, 2 o'clock, ultrasound-guided core biopsy",
        "Diagnosis: invasive ductal carcinoma, Nottingham grade 2",
        "Estrogen receptor: positive (95%)   Progesterone receptor: positive (60%)",
        "HER2 (IHC): 1+, negative              Ki-67: 15%",
        "Pathologist: Dr. L. Moreno, Metro General Hospital",
    ),
)

BLOOD_COUNT = LabPicture(
    "Complete blood count - 6 October 2026",
    (
        ("Haemoglobin", "13.1 g/dL", "12.0-15.5"),
        ("White cells", "6.4 x10^9/L", "4.0-11.0"),
        ("Platelets", "251 x10^9/L", "150-400"),
        ("Creatinine", "0.8 mg/dL", "0.6-1.1"),
    ),
)
