"""C-CDA documents (HL7 CDA R2 with the C-CDA R2.1 templates): parsed safely and
read section by section.

The XML is fed to defusedxml's parser in chunks, with a DOCTYPE, entity
declarations and external references refused outright, and the tree is counted as
it is built: past HEALTH_MAX_DEPTH or HEALTH_MAX_ELEMENTS the parse stops, so a
hostile file never costs more than that. Comments and processing instructions are
dropped.

Sections are found by their LOINC code or their R2.1 template (problems 11450-4,
medications 10160-0, allergies 48765-2, results 30954-2, procedures 47519-4) and
their entries read by the entry templates. Every other section (notes, plan,
assessment, history...) is kept as a note: its title and its narrative as text.
No converter to FHIR is used: the one there is (ccda-to-fhir) is young, and no real
sample documents are reachable here to prove it."""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from .base import CHUNK
from .health import (
    FLAGS,
    HEALTH_MAX_DEPTH,
    HEALTH_MAX_ELEMENTS,
    MAX_NOTE,
    HealthFileProblem,
    Summary,
    _valid,
    clean_text,
    max_bytes,
    system_name,
)

V3 = "urn:hl7-org:v3"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
NS = {"v3": V3}
ROOT = f"{{{V3}}}ClinicalDocument"
# The US Realm Header every C-CDA document (1.1, 2.1, 3.0) declares.
US_REALM_HEADER = "2.16.840.1.113883.10.20.22.1.1"

SECTION_CODES = {
    "11450-4": "problems",
    "10160-0": "medications",
    "48765-2": "allergies",
    "30954-2": "results",
    "47519-4": "procedures",
}
_SECTION_TEMPLATES = {
    "2.16.840.1.113883.10.20.22.2.5": "problems",
    "2.16.840.1.113883.10.20.22.2.5.1": "problems",
    "2.16.840.1.113883.10.20.22.2.1": "medications",
    "2.16.840.1.113883.10.20.22.2.1.1": "medications",
    "2.16.840.1.113883.10.20.22.2.6": "allergies",
    "2.16.840.1.113883.10.20.22.2.6.1": "allergies",
    "2.16.840.1.113883.10.20.22.2.3": "results",
    "2.16.840.1.113883.10.20.22.2.3.1": "results",
    "2.16.840.1.113883.10.20.22.2.7": "procedures",
    "2.16.840.1.113883.10.20.22.2.7.1": "procedures",
}
T_PROBLEM = "2.16.840.1.113883.10.20.22.4.4"
T_PROBLEM_STATUS = "2.16.840.1.113883.10.20.22.4.6"
T_ALLERGY = "2.16.840.1.113883.10.20.22.4.7"
T_REACTION = "2.16.840.1.113883.10.20.22.4.9"
T_SEVERITY = "2.16.840.1.113883.10.20.22.4.8"
T_MEDICATION = "2.16.840.1.113883.10.20.22.4.16"
T_RESULT_ORGANIZER = "2.16.840.1.113883.10.20.22.4.1"
T_RESULT = "2.16.840.1.113883.10.20.22.4.2"

_BLOCKS = {"paragraph", "br", "tr", "item", "list", "table", "caption", "thead", "tbody"}


class _CountingBuilder:
    """The parser's target: a TreeBuilder that refuses to grow past the limits."""

    def __init__(self):
        self._builder = TreeBuilder()
        self.depth = 0
        self.elements = 0

    def start(self, tag, attrib):
        self.depth += 1
        self.elements += 1
        if self.depth > HEALTH_MAX_DEPTH or self.elements > HEALTH_MAX_ELEMENTS:
            raise HealthFileProblem("health_too_complex")
        return self._builder.start(tag, attrib)

    def end(self, tag):
        self.depth -= 1
        return self._builder.end(tag)

    def data(self, data):
        return self._builder.data(data)

    def close(self):
        return self._builder.close()


def parse_ccda(fileobj) -> Element:
    """The document's root, or HealthFileProblem: unsafe, too big or complex,
    damaged, or not a C-CDA."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser

    parser = DefusedXMLParser(
        target=_CountingBuilder(), forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    read = 0
    limit = max_bytes()
    try:
        while chunk := fileobj.read(CHUNK):
            read += len(chunk)
            if read > limit:
                raise HealthFileProblem("health_too_large")
            parser.feed(chunk)
        root = parser.close()
    except DefusedXmlException:
        raise HealthFileProblem("health_unsafe") from None
    except (ParseError, UnicodeError, ValueError):
        raise HealthFileProblem("ccda_invalid") from None
    if root.tag != ROOT:
        raise HealthFileProblem("not_ccda")
    if not any(t.get("root") == US_REALM_HEADER for t in root.findall("v3:templateId", NS)):
        raise HealthFileProblem("not_ccda")
    return root


def read_ccda(fileobj) -> dict:
    root = parse_ccda(fileobj)
    summary = Summary("ccda")
    summary.data["title"] = clean_text(_text_of(root.find("v3:title", NS)))
    summary.data["date"] = hl7_date(_attr(root.find("v3:effectiveTime", NS), "value"))
    summary.data["patient"] = _patient(root)
    body = root.find("v3:component/v3:structuredBody", NS)
    if body is None:
        # An unstructured document (a scanned note inside the XML) has no sections.
        summary.add("notes", {"title": summary.data["title"], "text": ""})
        return summary.result()
    for section in body.findall("v3:component/v3:section", NS):
        _read_section(section, summary)
    return summary.result()


def _read_section(section: Element, summary: Summary) -> None:
    references = _narrative_ids(section.find("v3:text", NS))
    kind = SECTION_CODES.get(_attr(section.find("v3:code", NS), "code"))
    if kind is None:
        kind = next(
            (
                _SECTION_TEMPLATES[t.get("root", "")]
                for t in section.findall("v3:templateId", NS)
                if t.get("root", "") in _SECTION_TEMPLATES
            ),
            None,
        )
    reader = {
        "problems": _problems,
        "medications": _medications,
        "allergies": _allergies,
        "results": _results,
        "procedures": _procedures,
    }.get(kind or "")
    if reader is not None:
        for entry in section.findall("v3:entry", NS):
            reader(entry, summary, references)
        return
    title = clean_text(_text_of(section.find("v3:title", NS))) or clean_text(
        _attr(section.find("v3:code", NS), "displayName")
    )
    text = narrative(section.find("v3:text", NS))
    if title or text:
        summary.add("notes", {"title": title, "text": text})


# --- Entries -------------------------------------------------------------------------------
def _problems(entry: Element, summary: Summary, refs: dict) -> None:
    concern = entry.find("v3:act", NS)
    observations = _with_template(entry, "observation", T_PROBLEM)
    for obs in observations:
        if obs.get("negationInd") == "true":
            continue  # "no known problems"
        value = obs.find("v3:value", NS)
        name, code, system = concept(value, refs)
        if not name and not code:
            continue
        low, high = _interval(obs.find("v3:effectiveTime", NS))
        status = ""
        for status_obs in _with_template(obs, "observation", T_PROBLEM_STATUS):
            status = concept(status_obs.find("v3:value", NS), refs)[0].lower()
        if not status:
            status = "resolved" if high else _status(concern if concern is not None else obs)
        summary.add(
            "problems",
            {
                "name": name or code,
                "code": code,
                "system": system,
                "codes": _translations(value),
                "onset": low,
                "resolved": high,
                "status": status,
            },
        )


def _medications(entry: Element, summary: Summary, refs: dict) -> None:
    for med in _with_template(entry, "substanceAdministration", T_MEDICATION, direct=True):
        if med.get("negationInd") == "true":
            continue
        material = med.find("v3:consumable/v3:manufacturedProduct/v3:manufacturedMaterial", NS)
        code_el = material.find("v3:code", NS) if material is not None else None
        name, code, system = concept(code_el, refs)
        if not name and material is not None:
            name = clean_text(_text_of(material.find("v3:name", NS)))
        if not name and not code:
            continue
        start = end = ""
        for time in med.findall("v3:effectiveTime", NS):
            if time.get(XSI_TYPE, "").endswith("IVL_TS") or time.find("v3:low", NS) is not None:
                start, end = _interval(time)
                break
        dose = _quantity(med.find("v3:doseQuantity", NS))
        route = concept(med.find("v3:routeCode", NS), refs)[0]
        summary.add(
            "medications",
            {
                "name": name or code,
                "code": code,
                "system": system,
                "dose": dose,
                "route": route,
                "start": start,
                "end": end,
                "status": _status(med),
                "instructions": _text_or_reference(med.find("v3:text", NS), refs),
            },
        )


def _allergies(entry: Element, summary: Summary, refs: dict) -> None:
    concern = entry.find("v3:act", NS)
    for obs in _with_template(entry, "observation", T_ALLERGY):
        if obs.get("negationInd") == "true":
            continue  # "no known allergies"
        playing = obs.find("v3:participant/v3:participantRole/v3:playingEntity", NS)
        name, code, system = concept(
            playing.find("v3:code", NS) if playing is not None else None, refs
        )
        if not name and playing is not None:
            name = clean_text(_text_of(playing.find("v3:name", NS)))
        if not name:
            name, code, system = concept(obs.find("v3:value", NS), refs)
        if not name and not code:
            continue
        reactions = [
            concept(r.find("v3:value", NS), refs)[0]
            for r in _with_template(obs, "observation", T_REACTION)
        ]
        severity = ""
        for sev in _with_template(obs, "observation", T_SEVERITY):
            severity = concept(sev.find("v3:value", NS), refs)[0]
        summary.add(
            "allergies",
            {
                "name": name or code,
                "code": code,
                "system": system,
                "reactions": [r for r in reactions if r][:20],
                "severity": severity,
                "status": _status(concern if concern is not None else obs),
            },
        )


def _results(entry: Element, summary: Summary, refs: dict) -> None:
    organizer = entry.find("v3:organizer", NS)
    panel = ""
    panel_date = ""
    observations: list[Element]
    if organizer is not None:
        panel = concept(organizer.find("v3:code", NS), refs)[0]
        low, _high = _interval(organizer.find("v3:effectiveTime", NS))
        panel_date = low
        observations = [
            obs
            for obs in organizer.findall("v3:component/v3:observation", NS)
            if obs.get("negationInd") != "true"
        ]
    else:
        observations = entry.findall("v3:observation", NS)
    for obs in observations:
        name, code, system = concept(obs.find("v3:code", NS), refs)
        if not name and not code:
            continue
        when = _interval(obs.find("v3:effectiveTime", NS))[0] or panel_date
        flags = [
            FLAGS.get(_attr(i, "code").upper(), "") or concept(i, refs)[0]
            for i in obs.findall("v3:interpretationCode", NS)
        ]
        summary.add(
            "results",
            {
                "name": name or code,
                "code": code,
                "system": system,
                "panel": panel,
                "date": when,
                "value": _value(obs.find("v3:value", NS), refs),
                "range": _reference_range(obs, refs),
                "flag": ", ".join(f for f in flags if f),
            },
        )


def _procedures(entry: Element, summary: Summary, refs: dict) -> None:
    for tag in ("procedure", "act", "observation"):
        for proc in entry.findall(f"v3:{tag}", NS):
            if proc.get("negationInd") == "true":
                continue
            name, code, system = concept(proc.find("v3:code", NS), refs)
            if not name and not code:
                continue
            summary.add(
                "procedures",
                {
                    "name": name or code,
                    "code": code,
                    "system": system,
                    "date": _interval(proc.find("v3:effectiveTime", NS))[0],
                    "status": _status(proc),
                },
            )


# --- Data types ----------------------------------------------------------------------------
def _attr(element: Element | None, name: str) -> str:
    return (element.get(name) or "").strip() if element is not None else ""


def _with_template(parent: Element, tag: str, template: str, *, direct: bool = False):
    path = f"v3:{tag}" if direct else f".//v3:{tag}"
    return [
        el
        for el in parent.findall(path, NS)
        if any(t.get("root") == template for t in el.findall("v3:templateId", NS))
    ]


def concept(element: Element | None, refs: dict) -> tuple[str, str, str]:
    """(name, code, code system) of a CD/CE/CV: its displayName, or its original
    text (following a reference into the section's narrative), or a translation's."""
    if element is None:
        return "", "", ""
    code = clean_text(element.get("code"), 40)
    system = system_name(element.get("codeSystem", "")) or clean_text(
        element.get("codeSystemName"), 40
    )
    name = clean_text(element.get("displayName"))
    if not name:
        name = _text_or_reference(element.find("v3:originalText", NS), refs)
    if not name:
        for translation in element.findall("v3:translation", NS):
            name = clean_text(translation.get("displayName"))
            if name:
                break
    if not code:
        for translation in element.findall("v3:translation", NS):
            if translation.get("code"):
                code = clean_text(translation.get("code"), 40)
                system = system_name(translation.get("codeSystem", "")) or clean_text(
                    translation.get("codeSystemName"), 40
                )
                break
    return name, code, system


def _translations(element: Element | None) -> list[dict]:
    """Other codes for the same thing (an ICD-10-CM code beside SNOMED CT's)."""
    if element is None:
        return []
    out = []
    for translation in element.findall("v3:translation", NS)[:5]:
        code = clean_text(translation.get("code"), 40)
        if code:
            system = system_name(translation.get("codeSystem", "")) or clean_text(
                translation.get("codeSystemName"), 40
            )
            out.append({"code": code, "system": system})
    return out


def hl7_date(value: str) -> str:
    """An HL7 TS ("20240305", "202403051030-0500") as an ISO date ("2024-03-05")."""
    digits = (value or "").strip()
    if len(digits) < 4 or not digits[:4].isdigit():
        return ""
    year = digits[:4]
    month = digits[4:6] if len(digits) >= 6 and digits[4:6].isdigit() else None
    day = digits[6:8] if month and len(digits) >= 8 and digits[6:8].isdigit() else None
    return _valid(year, month, day)


def _interval(element: Element | None) -> tuple[str, str]:
    """(start, end) of an IVL_TS or a TS."""
    if element is None:
        return "", ""
    if element.get("value"):
        return hl7_date(element.get("value", "")), ""
    return (
        hl7_date(_attr(element.find("v3:low", NS), "value")),
        hl7_date(_attr(element.find("v3:high", NS), "value")),
    )


def _status(element: Element | None) -> str:
    code = _attr(element.find("v3:statusCode", NS) if element is not None else None, "code")
    return {"completed": "completed", "active": "active", "aborted": "stopped"}.get(code, "")


def _quantity(element: Element | None) -> str:
    if element is None:
        return ""
    value = clean_text(element.get("value"), 40)
    unit = clean_text(element.get("unit"), 40)
    if not value:
        return ""
    return f"{value} {unit}" if unit and unit != "1" else value


def _value(element: Element | None, refs: dict) -> str:
    if element is None:
        return ""
    kind = element.get(XSI_TYPE, "").rsplit(":", 1)[-1]
    if kind in ("PQ", "INT", "REAL", "MO"):
        return _quantity(element)
    if kind == "IVL_PQ":
        return _range(element)
    if kind in ("CD", "CE", "CV", "CO"):
        return concept(element, refs)[0]
    if kind == "BL":
        return clean_text(element.get("value"), 10)
    return _text_or_reference(element, refs)


def _range(element: Element) -> str:
    low, high = element.find("v3:low", NS), element.find("v3:high", NS)
    low_value, high_value = _attr(low, "value"), _attr(high, "value")
    unit = _attr(high, "unit") or _attr(low, "unit")
    unit = "" if unit == "1" else clean_text(unit, 40)
    if low_value and high_value:
        text = f"{clean_text(low_value, 40)}\N{EN DASH}{clean_text(high_value, 40)}"
    elif low_value:
        text = f"≥ {clean_text(low_value, 40)}"
    elif high_value:
        text = f"≤ {clean_text(high_value, 40)}"
    else:
        return ""
    return f"{text} {unit}".strip()


def _reference_range(obs: Element, refs: dict) -> str:
    for observation_range in obs.findall("v3:referenceRange/v3:observationRange", NS):
        value = observation_range.find("v3:value", NS)
        if value is not None:
            text = _range(value)
            if text:
                return text
        text = _text_or_reference(observation_range.find("v3:text", NS), refs)
        if text:
            return text
    return ""


def _patient(root: Element) -> dict:
    patient = root.find("v3:recordTarget/v3:patientRole/v3:patient", NS)
    if patient is None:
        return {}
    name = patient.find("v3:name", NS)
    parts = []
    if name is not None:
        parts = [clean_text(_text_of(p), 80) for p in name.findall("v3:given", NS)]
        parts.append(clean_text(_text_of(name.find("v3:family", NS)), 80))
        if not any(parts):
            parts = [clean_text(_text_of(name), 160)]
    return {
        "name": " ".join(p for p in parts if p),
        "birth_date": hl7_date(_attr(patient.find("v3:birthTime", NS), "value")),
    }


# --- Narrative -----------------------------------------------------------------------------
def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _text_of(element: Element | None) -> str:
    return "".join(element.itertext()) if element is not None else ""


def _narrative_ids(text: Element | None) -> dict:
    """The section narrative's elements by ID, for originalText/reference="#id"."""
    if text is None:
        return {}
    return {el.get("ID"): el for el in text.iter() if el.get("ID")}


def _text_or_reference(element: Element | None, refs: dict) -> str:
    if element is None:
        return ""
    reference = element.find("v3:reference", NS)
    target = _attr(reference, "value")
    if target.startswith("#") and target[1:] in refs:
        return clean_text(narrative(refs[target[1:]]))
    return clean_text("".join(element.itertext()))


def narrative(element: Element | None) -> str:
    """A section's narrative block as plain text: paragraphs, list items and table
    rows on their own lines, cells separated. Markup is never kept."""
    if element is None:
        return ""
    out: list[str] = []

    def walk(el: Element) -> None:
        name = _local(el.tag)
        if name in _BLOCKS:
            out.append("\n")
        if el.text:
            out.append(el.text)
        for child in el:
            walk(child)
            if _local(child.tag) in ("td", "th"):
                out.append(" · ")
            if child.tail:
                out.append(child.tail)
        if name in _BLOCKS:
            out.append("\n")

    walk(element)
    lines = [line.strip().removesuffix("·").strip() for line in "".join(out).split("\n")]
    return clean_text("\n".join(lines), MAX_NOTE)
