"""FHIR R4 files: a resource (usually a Bundle) as JSON, or NDJSON with one resource
a line (a bulk export). Each resource is validated with fhir.resources' R4B model
for its resourceType, then summarised from its JSON.

Memory stays bounded: the file is at most HEALTH_MAX_BYTES; a JSON document is
counted (nesting depth, objects and arrays) with a regular expression before
json.loads builds anything; NDJSON is read a line at a time; a Bundle's entries
are validated one by one and never all kept as models."""

from __future__ import annotations

import base64
import binascii
import html
import json
import re

from .base import CHUNK
from .health import (
    FLAGS,
    HEALTH_MAX_DEPTH,
    HEALTH_MAX_ELEMENTS,
    HEALTH_MAX_RESOURCES,
    MAX_NOTE,
    HealthFileProblem,
    Summary,
    clean_text,
    iso_date,
    max_bytes,
    system_name,
)

# A JSON string (escapes and all), or one bracket: what counting needs.
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_RESOURCE_TYPE = re.compile(r"^[A-Z][A-Za-z]{1,63}$")
_TAGS = re.compile(r"<[^>]*>")
_BREAKS = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h[1-6])\b[^>]*>", re.IGNORECASE)


def _count(data: bytes) -> None:
    """Refuse JSON that nests too deeply or holds too many objects and arrays, before
    it is parsed: json.loads would build all of it first."""
    depth = elements = 0
    for match in _TOKENS.finditer(data):
        token = match.group()
        if token in (b"{", b"["):
            depth += 1
            elements += 1
            if depth > HEALTH_MAX_DEPTH or elements > HEALTH_MAX_ELEMENTS:
                raise HealthFileProblem("health_too_complex")
        elif token in (b"}", b"]"):
            depth -= 1


def _loads(data: bytes):
    _count(data)
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise HealthFileProblem("not_fhir") from None


def _lines(fileobj, limit: int):
    """NDJSON's lines, read in chunks: never more than one line (and a chunk) held."""
    pending = b""
    read = 0
    while chunk := fileobj.read(CHUNK):
        read += len(chunk)
        if read > limit:
            raise HealthFileProblem("health_too_large")
        pending += chunk
        *lines, pending = pending.split(b"\n")
        yield from lines
    yield pending


def read_fhir(fileobj, head: bytes) -> tuple[dict, str]:
    """(summary, mime) of a FHIR JSON or NDJSON file, or HealthFileProblem."""
    limit = max_bytes()
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    first_line = stripped.split(b"\n", 1)
    # NDJSON: a complete JSON object on the first line, and more after it.
    ndjson = len(first_line) > 1 and first_line[1].strip() != b"" and _one_object(first_line[0])
    reader = _Reader()
    if ndjson:
        count = 0
        for line in _lines(fileobj, limit):
            if not line.strip():
                continue
            resource = _loads(line)
            count += 1
            reader.take(resource, top=count == 1)
        mime = "application/fhir+ndjson"
    else:
        data = fileobj.read(limit + 1)
        if len(data) > limit:
            raise HealthFileProblem("health_too_large")
        resource = _loads(data)
        del data
        reader.take(resource, top=True)
        mime = "application/fhir+json"
    if not reader.resources:
        raise HealthFileProblem("not_fhir")
    return reader.summarise(), mime


def _one_object(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line.decode("utf-8-sig")), dict)
    except (UnicodeDecodeError, ValueError):
        return False


class _Reader:
    """Validates resources as they come, and keeps their JSON for the summary."""

    def __init__(self):
        self.resources: list[dict] = []
        self.by_reference: dict[str, dict] = {}

    def take(self, resource, *, top: bool, nesting: int = 0) -> None:
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            # The first thing in the file not being a resource means it is not FHIR at
            # all; further in, it is FHIR gone wrong.
            raise HealthFileProblem("not_fhir" if top else "fhir_invalid")
        kind = resource["resourceType"]
        model = _model(kind)
        if model is None:
            raise HealthFileProblem("not_fhir" if top else "fhir_invalid")
        if kind == "Bundle":
            entries = resource.get("entry") or []
            if not isinstance(entries, list):
                raise HealthFileProblem("fhir_invalid")
            _validate(model, {k: v for k, v in resource.items() if k != "entry"})
            if nesting >= 2:
                raise HealthFileProblem("health_too_complex")
            for entry in entries:
                if not isinstance(entry, dict):
                    raise HealthFileProblem("fhir_invalid")
                inner = entry.get("resource")
                # An entry's own fields (fullUrl, search, request...) are checked on
                # their own, the resource in it by its type.
                _validate(
                    model,
                    {
                        "resourceType": "Bundle",
                        "type": "collection",
                        "entry": [{k: v for k, v in entry.items() if k != "resource"}],
                    },
                )
                if inner is None:
                    continue
                self.take(inner, top=False, nesting=nesting + 1)
                if isinstance(entry.get("fullUrl"), str):
                    self.by_reference[entry["fullUrl"]] = inner
            return
        _validate(model, resource)
        if len(self.resources) >= HEALTH_MAX_RESOURCES:
            raise HealthFileProblem("health_too_complex")
        self.resources.append(resource)
        if isinstance(resource.get("id"), str):
            self.by_reference[f"{kind}/{resource['id']}"] = resource

    def summarise(self) -> dict:
        summary = Summary("fhir")
        readers = {
            "Patient": _patient,
            "Condition": _condition,
            "MedicationStatement": _medication,
            "MedicationRequest": _medication,
            "AllergyIntolerance": _allergy,
            "Observation": _observation,
            "Procedure": _procedure,
            "DiagnosticReport": _report,
            "DocumentReference": _document,
            "Composition": _composition,
        }
        for resource in self.resources:
            reader = readers.get(resource["resourceType"])
            if reader is not None:
                reader(resource, summary, self)
        return summary.result()


def _model(kind: str):
    if not _RESOURCE_TYPE.match(kind):
        return None
    from fhir.resources.R4B import get_fhir_model_class

    try:
        return get_fhir_model_class(kind)
    except (ValueError, KeyError, ImportError, AttributeError):
        return None


def _validate(model, resource: dict) -> None:
    from pydantic import ValidationError

    try:
        model.model_validate(resource)
    except (ValidationError, ValueError, TypeError):
        raise HealthFileProblem("fhir_invalid") from None


# --- Reading resources ---------------------------------------------------------------------
def _get(value, *path):
    for key in path:
        if isinstance(key, int):
            value = value[key] if isinstance(value, list) and len(value) > key else None
        else:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            return None
    return value


def concept(value) -> tuple[str, str, str]:
    """(name, code, code system) of a CodeableConcept."""
    if not isinstance(value, dict):
        return "", "", ""
    codings = [c for c in value.get("coding") or [] if isinstance(c, dict)]
    name = clean_text(value.get("text"))
    if not name:
        name = next((clean_text(c.get("display")) for c in codings if c.get("display")), "")
    first = next((c for c in codings if c.get("code")), None)
    if first is None:
        return name, "", ""
    return name, clean_text(first.get("code"), 40), system_name(first.get("system", ""))


def _codes(value) -> list[dict]:
    """Every code after the first (an ICD-10-CM code beside SNOMED CT's)."""
    codings = [c for c in _get(value, "coding") or [] if isinstance(c, dict) and c.get("code")]
    return [
        {"code": clean_text(c.get("code"), 40), "system": system_name(c.get("system", ""))}
        for c in codings[1:6]
    ]


def _status(value) -> str:
    return clean_text(concept(value)[1] or concept(value)[0], 40).lower()


def _when(resource: dict, prefix: str) -> str:
    for suffix in ("DateTime", "Date", "Instant"):
        if resource.get(prefix + suffix):
            return iso_date(resource[prefix + suffix])
    return iso_date(_get(resource, prefix + "Period", "start"))


def _quantity(value) -> str:
    if not isinstance(value, dict) or value.get("value") is None:
        return ""
    unit = clean_text(value.get("unit") or value.get("code"), 40)
    comparator = clean_text(value.get("comparator"), 2)
    number = clean_text(value.get("value"), 40)
    return f"{comparator}{number} {unit}".strip() if unit and unit != "1" else comparator + number


def _observed(item: dict) -> str:
    if "valueQuantity" in item:
        return _quantity(item["valueQuantity"])
    if "valueCodeableConcept" in item:
        return concept(item["valueCodeableConcept"])[0]
    for key in ("valueString", "valueInteger", "valueBoolean", "valueDateTime", "valueTime"):
        if key in item:
            return clean_text(item[key])
    if "valueRange" in item:
        return _range(item["valueRange"])
    return ""


def _range(value) -> str:
    if not isinstance(value, dict):
        return ""
    low, high = _quantity(value.get("low")), _quantity(value.get("high"))
    if low and high:
        unit = clean_text(_get(value, "high", "unit") or _get(value, "high", "code"), 40)
        low_number = clean_text(_get(value, "low", "value"), 40)
        return f"{low_number}\N{EN DASH}{high}" if unit else f"{low}\N{EN DASH}{high}"
    if low:
        return f"≥ {low}"
    if high:
        return f"≤ {high}"
    return clean_text(value.get("text"))


def _patient(resource: dict, summary: Summary, reader: _Reader) -> None:
    if summary.data["patient"]:
        return
    name = _get(resource, "name", 0) or {}
    parts = [clean_text(g, 80) for g in name.get("given") or []]
    parts.append(clean_text(name.get("family"), 80))
    text = " ".join(p for p in parts if p) or clean_text(name.get("text"), 160)
    summary.data["patient"] = {"name": text, "birth_date": iso_date(resource.get("birthDate"))}


def _condition(resource: dict, summary: Summary, reader: _Reader) -> None:
    if _status(resource.get("verificationStatus")) in ("entered-in-error", "refuted"):
        return
    name, code, system = concept(resource.get("code"))
    if not name and not code:
        return
    summary.add(
        "problems",
        {
            "name": name or code,
            "code": code,
            "system": system,
            "codes": _codes(resource.get("code")),
            "onset": _when(resource, "onset"),
            "resolved": _when(resource, "abatement"),
            "status": _status(resource.get("clinicalStatus")),
        },
    )


def _medication(resource: dict, summary: Summary, reader: _Reader) -> None:
    if resource.get("status") == "entered-in-error":
        return
    value = resource.get("medicationCodeableConcept")
    if value is None:
        reference = _get(resource, "medicationReference", "reference")
        medication = reader.by_reference.get(reference) if isinstance(reference, str) else None
        value = _get(medication, "code")
    name, code, system = concept(value)
    if not name:
        name = clean_text(_get(resource, "medicationReference", "display"))
    if not name and not code:
        return
    dosage = _get(resource, "dosage", 0) or _get(resource, "dosageInstruction", 0) or {}
    start = _when(resource, "effective") or iso_date(resource.get("authoredOn"))
    summary.add(
        "medications",
        {
            "name": name or code,
            "code": code,
            "system": system,
            "dose": _quantity(_get(dosage, "doseAndRate", 0, "doseQuantity")),
            "route": concept(dosage.get("route"))[0],
            "start": start,
            "end": iso_date(_get(resource, "effectivePeriod", "end")),
            "status": clean_text(resource.get("status"), 40),
            "instructions": clean_text(dosage.get("text")),
        },
    )


def _allergy(resource: dict, summary: Summary, reader: _Reader) -> None:
    if _status(resource.get("verificationStatus")) in ("entered-in-error", "refuted"):
        return
    name, code, system = concept(resource.get("code"))
    if not name and not code:
        return
    reactions, severity = [], ""
    for reaction in resource.get("reaction") or []:
        for manifestation in reaction.get("manifestation") or []:
            reactions.append(concept(manifestation)[0])
        severity = severity or clean_text(reaction.get("severity"), 40)
    summary.add(
        "allergies",
        {
            "name": name or code,
            "code": code,
            "system": system,
            "reactions": [r for r in reactions if r][:20],
            "severity": severity or clean_text(resource.get("criticality"), 40),
            "status": _status(resource.get("clinicalStatus")),
        },
    )


def _observation(resource: dict, summary: Summary, reader: _Reader) -> None:
    if resource.get("status") in ("entered-in-error", "cancelled"):
        return
    name, code, system = concept(resource.get("code"))
    if not name and not code:
        return
    value = _observed(resource)
    if not value and resource.get("component"):
        value = "; ".join(
            f"{concept(c.get('code'))[0]}: {_observed(c)}"
            for c in resource["component"][:10]
            if isinstance(c, dict) and _observed(c)
        )
    reference_range = _get(resource, "referenceRange", 0)
    flags = []
    for interpretation in resource.get("interpretation") or []:
        label, flag, _system = concept(interpretation)
        flags.append(FLAGS.get(flag.upper(), "") or label)
    summary.add(
        "results",
        {
            "name": name or code,
            "code": code,
            "system": system,
            "date": _when(resource, "effective") or iso_date(resource.get("issued")),
            "value": value,
            "range": _range(reference_range) if reference_range else "",
            "flag": ", ".join(f for f in flags if f),
        },
    )


def _procedure(resource: dict, summary: Summary, reader: _Reader) -> None:
    if resource.get("status") == "entered-in-error":
        return
    name, code, system = concept(resource.get("code"))
    if not name and not code:
        return
    summary.add(
        "procedures",
        {
            "name": name or code,
            "code": code,
            "system": system,
            "date": _when(resource, "performed"),
            "status": clean_text(resource.get("status"), 40),
        },
    )


def _report(resource: dict, summary: Summary, reader: _Reader) -> None:
    text = clean_text(resource.get("conclusion"), MAX_NOTE)
    for form in resource.get("presentedForm") or []:
        text = text or _attachment_text(form)
    if text:
        summary.add(
            "notes",
            {
                "title": concept(resource.get("code"))[0],
                "date": _when(resource, "effective") or iso_date(resource.get("issued")),
                "text": text,
            },
        )


def _document(resource: dict, summary: Summary, reader: _Reader) -> None:
    text = ""
    for content in resource.get("content") or []:
        text = text or _attachment_text(content.get("attachment"))
    title = clean_text(resource.get("description")) or concept(resource.get("type"))[0]
    if text or title:
        summary.add("notes", {"title": title, "date": iso_date(resource.get("date")), "text": text})


def _composition(resource: dict, summary: Summary, reader: _Reader) -> None:
    for section in resource.get("section") or []:
        text = div_text(_get(section, "text", "div"))
        title = clean_text(section.get("title")) or concept(section.get("code"))[0]
        if text:
            summary.add(
                "notes", {"title": title, "date": iso_date(resource.get("date")), "text": text}
            )


def _attachment_text(attachment) -> str:
    """A note's own text, when the attachment carries it as plain text or HTML."""
    if not isinstance(attachment, dict) or not isinstance(attachment.get("data"), str):
        return ""
    kind = str(attachment.get("contentType") or "").split(";")[0].strip().lower()
    if kind not in ("text/plain", "text/html", "application/xhtml+xml"):
        return ""
    try:
        raw = base64.b64decode(attachment["data"][: MAX_NOTE * 8], validate=False)
    except (binascii.Error, ValueError):
        return ""
    text = raw.decode("utf-8", errors="replace")
    return div_text(text) if kind != "text/plain" else clean_text(text, MAX_NOTE)


def div_text(markup) -> str:
    """XHTML narrative as plain text: tags dropped, entities decoded. The result is
    text, escaped again wherever it is shown."""
    if not isinstance(markup, str):
        return ""
    text = _BREAKS.sub("\n", markup[: MAX_NOTE * 4])
    text = html.unescape(_TAGS.sub(" ", text))
    return clean_text(text, MAX_NOTE)
