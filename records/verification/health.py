"""Health record files from a patient portal's "download my record": a C-CDA
document (XML) or FHIR R4 resources (a JSON Bundle, or NDJSON). They are read, not
just stored: each accepted file carries a readable summary (problems, medications,
allergies, results, procedures, notes) that records.checking keeps on the record.

Reading them is the dangerous part, so every read is bounded before it starts:
the file's size (HEALTH_MAX_BYTES, settings.RECORDS_HEALTH_MAX_BYTES), how deep it
nests and how many elements or values it holds. XML goes through defusedxml with
DTDs, entities and external references refused (a billion-laughs expansion or an
external entity never expands); JSON is counted before it is parsed. The summary
itself is capped too (items per category, characters per text), so what is stored
stays small whatever the file holds.

Everything here is plain data: strings, ISO dates ("2024", "2024-03", "2024-03-05"),
lists and dicts, safe to keep in a JSONField. Text is kept as text; the templates
escape it."""

from __future__ import annotations

import re
import unicodedata

from .base import _Job, _Pass, _Sniff

HEALTH_MAX_BYTES = 20 * 1000**2
# Far past any real C-CDA or FHIR file's structure, and well within a worker's memory.
HEALTH_MAX_DEPTH = 64
HEALTH_MAX_ELEMENTS = 200_000  # XML elements, or JSON objects and arrays
HEALTH_MAX_RESOURCES = 20_000

# What a summary keeps.
MAX_ITEMS = 500  # per category
MAX_NAME = 300
MAX_NOTE = 20_000
MAX_NOTES = 100

CATEGORIES = ("problems", "medications", "allergies", "results", "procedures", "notes")

# Code systems by FHIR URI and by HL7 OID: the name a specialist recognises.
CODE_SYSTEMS = {
    "http://snomed.info/sct": "SNOMED CT",
    "2.16.840.1.113883.6.96": "SNOMED CT",
    "http://loinc.org": "LOINC",
    "2.16.840.1.113883.6.1": "LOINC",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM",
    "2.16.840.1.113883.6.90": "ICD-10-CM",
    "http://hl7.org/fhir/sid/icd-10": "ICD-10",
    "2.16.840.1.113883.6.3": "ICD-10",
    "http://hl7.org/fhir/sid/icd-9-cm": "ICD-9-CM",
    "2.16.840.1.113883.6.103": "ICD-9-CM",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
    "2.16.840.1.113883.6.88": "RxNorm",
    "http://hl7.org/fhir/sid/ndc": "NDC",
    "2.16.840.1.113883.6.69": "NDC",
    "http://hl7.org/fhir/sid/cvx": "CVX",
    "2.16.840.1.113883.12.292": "CVX",
    "http://www.ama-assn.org/go/cpt": "CPT",
    "2.16.840.1.113883.6.12": "CPT",
    "http://unitsofmeasure.org": "UCUM",
    "2.16.840.1.113883.3.26.1.1": "NCI",
    "http://ncimeta.nci.nih.gov": "NCI",
    "2.16.840.1.113883.6.4": "ICD-10-PCS",
    "http://www.cms.gov/Medicare/Coding/ICD10": "ICD-10-PCS",
    "urn:oid:2.16.840.1.113883.6.285": "HCPCS",
    "2.16.840.1.113883.6.285": "HCPCS",
}

# Result flags (HL7 ObservationInterpretation) a reader needs in words.
FLAGS = {
    "H": "high",
    "HH": "critically high",
    "HU": "very high",
    ">": "high",
    "L": "low",
    "LL": "critically low",
    "LU": "very low",
    "<": "low",
    "A": "abnormal",
    "AA": "critically abnormal",
    "N": "normal",
    "POS": "positive",
    "NEG": "negative",
    "R": "resistant",
    "S": "susceptible",
    "I": "intermediate",
}


class HealthFileProblem(Exception):
    """The file is not what it must be; `reason` is a REASONS key."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def max_bytes() -> int:
    try:
        from django.conf import settings

        return int(getattr(settings, "RECORDS_HEALTH_MAX_BYTES", HEALTH_MAX_BYTES))
    except Exception:  # settings not configured: a plain library call
        return HEALTH_MAX_BYTES


def system_name(system: str) -> str:
    system = (system or "").strip()
    if system.startswith("urn:oid:"):
        system = system[len("urn:oid:") :]
    return CODE_SYSTEMS.get(system, "")


_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def clean_text(value, limit: int = MAX_NAME) -> str:
    """A string from the file as plain text: control and direction-changing characters
    dropped (they can disguise what a line says), spaces folded, cut at `limit`."""
    if value is None:
        return ""
    text = str(value)
    text = "".join(
        ch
        for ch in text
        if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs")
    )
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r", "\n").split("\n")]
    text = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    if limit and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


_ISO_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def iso_date(value) -> str:
    """A FHIR date or dateTime (or HL7 TS, see ccda) cut to its date: "2024",
    "2024-03" or "2024-03-05"; "" when it is not one."""
    match = _ISO_DATE.match(str(value or "").strip())
    if not match:
        return ""
    year, month, day = match.groups()
    return _valid(year, month, day)


def _valid(year: str, month: str | None, day: str | None) -> str:
    import datetime

    try:
        if day:
            return datetime.date(int(year), int(month or 0), int(day)).isoformat()
        if month:
            datetime.date(int(year), int(month), 1)
            return f"{year}-{month}"
        return year if 1000 <= int(year) <= 9999 else ""
    except ValueError:
        return ""


class Summary:
    """What a file says, gathered category by category, capped as it grows."""

    def __init__(self, file_format: str):
        self.data: dict = {"format": file_format, "title": "", "date": "", "patient": {}}
        for category in CATEGORIES:
            self.data[category] = []
        self.data["omitted"] = {}
        self._note_chars = 0

    def add(self, category: str, item: dict) -> None:
        items = self.data[category]
        limit = MAX_NOTES if category == "notes" else MAX_ITEMS
        if len(items) >= limit:
            omitted = self.data["omitted"]
            omitted[category] = omitted.get(category, 0) + 1
            return
        items.append({key: value for key, value in item.items() if value not in ("", None, [])})

    def result(self) -> dict:
        self.data["results"].sort(key=lambda r: r.get("date", ""), reverse=True)
        self.data["counts"] = {c: len(self.data[c]) for c in CATEGORIES}
        return self.data


def _check_health(fileobj, job: _Job, sniff: _Sniff, found: _Pass) -> dict:
    """The check for kind "ccda" and "fhir": bounded, then read and summarised."""
    if found.size > max_bytes():
        return {"reason": "health_too_large"}
    fileobj.seek(0)
    try:
        if sniff.kind == "ccda":
            from .ccda import read_ccda

            summary = read_ccda(fileobj)
            mime = "application/xml"
        else:
            from .fhir import read_fhir

            summary, mime = read_fhir(fileobj, found.head)
    except HealthFileProblem as problem:
        return {"reason": problem.reason}
    except RecursionError:
        return {"reason": "health_too_complex"}
    return {"health": summary, "mime": mime}
