"""Health record files for the tests, written here: C-CDA documents to the R2.1
templates (a document with the sections you choose) and FHIR R4 bundles and NDJSON.
The people in them are made up; no real patient's record is in the repository."""

from __future__ import annotations

import base64
import json
from xml.sax.saxutils import escape, quoteattr

ALL_SECTIONS = ("problems", "medications", "allergies", "results", "procedures", "notes")

PATIENT = {"given": "Ada", "family": "Testpatient", "birth": "19700412"}


def _section(template: str, code: str, title: str, text: str, entries: str) -> str:
    return f"""
    <component>
      <section>
        <templateId root="{template}" extension="2015-08-01"/>
        <code code="{code}" codeSystem="2.16.840.1.113883.6.1" codeSystemName="LOINC"/>
        <title>{escape(title)}</title>
        <text>{text}</text>
        {entries}
      </section>
    </component>"""


def _problems() -> str:
    entry = """
        <entry typeCode="DRIV">
          <act classCode="ACT" moodCode="EVN">
            <templateId root="2.16.840.1.113883.10.20.22.4.3" extension="2015-08-01"/>
            <code code="CONC" codeSystem="2.16.840.1.113883.5.6"/>
            <statusCode code="active"/>
            <effectiveTime><low value="20210302"/></effectiveTime>
            <entryRelationship typeCode="SUBJ">
              <observation classCode="OBS" moodCode="EVN">
                <templateId root="2.16.840.1.113883.10.20.22.4.4" extension="2015-08-01"/>
                <code code="55607006" codeSystem="2.16.840.1.113883.6.96"
                      displayName="Problem"/>
                <statusCode code="completed"/>
                <effectiveTime><low value="20210302"/></effectiveTime>
                <value xsi:type="CD" code="254637007" codeSystem="2.16.840.1.113883.6.96"
                       displayName="Non-small cell lung cancer">
                  <translation code="C34.90" codeSystem="2.16.840.1.113883.6.90"
                               displayName="Malignant neoplasm of lung"/>
                </value>
              </observation>
            </entryRelationship>
          </act>
        </entry>"""
    return _section(
        "2.16.840.1.113883.10.20.22.2.5.1",
        "11450-4",
        "Problems",
        "<list><item>Non-small cell lung cancer</item></list>",
        entry,
    )


def _medications() -> str:
    entry = """
        <entry typeCode="DRIV">
          <substanceAdministration classCode="SBADM" moodCode="EVN">
            <templateId root="2.16.840.1.113883.10.20.22.4.16" extension="2014-06-09"/>
            <text><reference value="#med1"/></text>
            <statusCode code="active"/>
            <effectiveTime xsi:type="IVL_TS"><low value="20210415"/></effectiveTime>
            <routeCode code="C38288" codeSystem="2.16.840.1.113883.3.26.1.1"
                       displayName="Oral"/>
            <doseQuantity value="80" unit="mg"/>
            <consumable>
              <manufacturedProduct classCode="MANU">
                <templateId root="2.16.840.1.113883.10.20.22.4.23" extension="2014-06-09"/>
                <manufacturedMaterial>
                  <code code="1310107" codeSystem="2.16.840.1.113883.6.88"
                        displayName="osimertinib 80 MG Oral Tablet"/>
                </manufacturedMaterial>
              </manufacturedProduct>
            </consumable>
          </substanceAdministration>
        </entry>"""
    return _section(
        "2.16.840.1.113883.10.20.22.2.1.1",
        "10160-0",
        "Medications",
        '<paragraph ID="med1">Take one tablet by mouth every morning</paragraph>',
        entry,
    )


def _allergies() -> str:
    entry = """
        <entry typeCode="DRIV">
          <act classCode="ACT" moodCode="EVN">
            <templateId root="2.16.840.1.113883.10.20.22.4.30" extension="2015-08-01"/>
            <code code="CONC" codeSystem="2.16.840.1.113883.5.6"/>
            <statusCode code="active"/>
            <entryRelationship typeCode="SUBJ">
              <observation classCode="OBS" moodCode="EVN">
                <templateId root="2.16.840.1.113883.10.20.22.4.7" extension="2014-06-09"/>
                <code code="ASSERTION" codeSystem="2.16.840.1.113883.5.4"/>
                <statusCode code="completed"/>
                <value xsi:type="CD" code="416098002" codeSystem="2.16.840.1.113883.6.96"
                       displayName="Drug allergy"/>
                <participant typeCode="CSM">
                  <participantRole classCode="MANU">
                    <playingEntity classCode="MMAT">
                      <code code="7980" codeSystem="2.16.840.1.113883.6.88"
                            displayName="Penicillin G"/>
                    </playingEntity>
                  </participantRole>
                </participant>
                <entryRelationship typeCode="MFST" inversionInd="true">
                  <observation classCode="OBS" moodCode="EVN">
                    <templateId root="2.16.840.1.113883.10.20.22.4.9" extension="2014-06-09"/>
                    <code code="ASSERTION" codeSystem="2.16.840.1.113883.5.4"/>
                    <statusCode code="completed"/>
                    <value xsi:type="CD" code="247472004"
                           codeSystem="2.16.840.1.113883.6.96" displayName="Hives"/>
                  </observation>
                </entryRelationship>
                <entryRelationship typeCode="SUBJ" inversionInd="true">
                  <observation classCode="OBS" moodCode="EVN">
                    <templateId root="2.16.840.1.113883.10.20.22.4.8" extension="2014-06-09"/>
                    <code code="SEV" codeSystem="2.16.840.1.113883.5.4"/>
                    <statusCode code="completed"/>
                    <value xsi:type="CD" code="6736007" codeSystem="2.16.840.1.113883.6.96"
                           displayName="Moderate"/>
                  </observation>
                </entryRelationship>
              </observation>
            </entryRelationship>
          </act>
        </entry>"""
    return _section(
        "2.16.840.1.113883.10.20.22.2.6.1",
        "48765-2",
        "Allergies",
        "<paragraph>Penicillin G: hives</paragraph>",
        entry,
    )


def _result(code: str, name: str, value: str, unit: str, low: str, high: str, flag: str):
    interpretation = (
        f'<interpretationCode code="{flag}" codeSystem="2.16.840.1.113883.5.83"/>' if flag else ""
    )
    return f"""
              <component>
                <observation classCode="OBS" moodCode="EVN">
                  <templateId root="2.16.840.1.113883.10.20.22.4.2" extension="2015-08-01"/>
                  <code code="{code}" codeSystem="2.16.840.1.113883.6.1"
                        displayName="{name}"/>
                  <statusCode code="completed"/>
                  <effectiveTime value="20240105093000-0500"/>
                  <value xsi:type="PQ" value="{value}" unit="{unit}"/>
                  {interpretation}
                  <referenceRange>
                    <observationRange>
                      <value xsi:type="IVL_PQ">
                        <low value="{low}" unit="{unit}"/>
                        <high value="{high}" unit="{unit}"/>
                      </value>
                    </observationRange>
                  </referenceRange>
                </observation>
              </component>"""


def _results() -> str:
    entry = f"""
        <entry typeCode="DRIV">
          <organizer classCode="BATTERY" moodCode="EVN">
            <templateId root="2.16.840.1.113883.10.20.22.4.1" extension="2015-08-01"/>
            <code code="58410-2" codeSystem="2.16.840.1.113883.6.1"
                  displayName="Complete blood count panel"/>
            <statusCode code="completed"/>
            <effectiveTime><low value="20240105"/><high value="20240105"/></effectiveTime>
            {_result("718-7", "Hemoglobin", "10.2", "g/dL", "12.0", "15.5", "L")}
            {_result("6690-2", "Leukocytes", "7.1", "10*3/uL", "4.5", "11.0", "")}
          </organizer>
        </entry>"""
    return _section(
        "2.16.840.1.113883.10.20.22.2.3.1",
        "30954-2",
        "Results",
        "<table><tbody><tr><td>Hemoglobin</td><td>10.2 g/dL</td></tr></tbody></table>",
        entry,
    )


def _procedures() -> str:
    entry = """
        <entry typeCode="DRIV">
          <procedure classCode="PROC" moodCode="EVN">
            <templateId root="2.16.840.1.113883.10.20.22.4.14" extension="2014-06-09"/>
            <code code="173171007" codeSystem="2.16.840.1.113883.6.96"
                  displayName="Lobectomy of lung"/>
            <statusCode code="completed"/>
            <effectiveTime value="20210520"/>
          </procedure>
        </entry>"""
    return _section(
        "2.16.840.1.113883.10.20.22.2.7.1",
        "47519-4",
        "Procedures",
        "<paragraph>Lobectomy of lung, 20 May 2021</paragraph>",
        entry,
    )


def _notes(note: str) -> str:
    return _section(
        "2.16.840.1.113883.10.20.22.2.65",
        "11506-3",
        "Progress notes",
        f"<paragraph>{escape(note)}</paragraph><paragraph>Seen with her daughter.</paragraph>",
        "",
    )


def ccda(
    sections: tuple[str, ...] = ALL_SECTIONS,
    *,
    note: str = "Doing well after surgery; scan in three months.",
    doctype: str = "",
    root: str = "ClinicalDocument",
    namespace: str = "urn:hl7-org:v3",
    declaration: bool = True,
    padding: int = 0,
) -> bytes:
    """A C-CDA R2.1 Continuity of Care Document with the chosen sections."""
    builders = {
        "problems": _problems,
        "medications": _medications,
        "allergies": _allergies,
        "results": _results,
        "procedures": _procedures,
        "notes": lambda: _notes(note),
    }
    body = "".join(builders[name]() for name in sections)
    filler = f"<!-- {'x' * padding} -->" if padding else ""
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' if declaration else ""
    return f"""{head}{doctype}<{root} xmlns={quoteattr(namespace)}
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <realmCode code="US"/>
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <templateId root="2.16.840.1.113883.10.20.22.1.1" extension="2015-08-01"/>
  <templateId root="2.16.840.1.113883.10.20.22.1.2" extension="2015-08-01"/>
  <id root="2.16.840.1.113883.19.5.99999.1" extension="TEST-1"/>
  <code code="34133-9" codeSystem="2.16.840.1.113883.6.1"
        displayName="Summary of episode note"/>
  <title>Continuity of Care Document</title>
  <effectiveTime value="20240110120000-0500"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
  <recordTarget>
    <patientRole>
      <id root="2.16.840.1.113883.19.5.99999.2" extension="TEST-PATIENT"/>
      <patient>
        <name use="L"><given>{PATIENT["given"]}</given><family>{PATIENT["family"]}</family></name>
        <administrativeGenderCode code="F" codeSystem="2.16.840.1.113883.5.1"/>
        <birthTime value="{PATIENT["birth"]}"/>
      </patient>
    </patientRole>
  </recordTarget>
  {filler}
  <component>
    <structuredBody>{body}
    </structuredBody>
  </component>
</{root}>
""".encode()


def billion_laughs() -> bytes:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    return ccda(("notes",), doctype=f"<!DOCTYPE ClinicalDocument [{entities}]>").replace(
        b"Doing well", b"&lol9; Doing well"
    )


def external_entity() -> bytes:
    doctype = '<!DOCTYPE ClinicalDocument [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
    return ccda(("notes",), doctype=doctype).replace(b"Doing well", b"&secret; Doing well")


# --- FHIR ----------------------------------------------------------------------------------
def fhir_resources(*, note: str = "Doing well after surgery.") -> list[dict]:
    subject = {"reference": "urn:uuid:patient-1"}
    return [
        {
            "resourceType": "Patient",
            "id": "patient-1",
            "name": [{"given": ["Ada"], "family": "Testpatient"}],
            "birthDate": "1970-04-12",
        },
        {
            "resourceType": "Condition",
            "id": "condition-1",
            "clinicalStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                        "code": "active",
                    }
                ]
            },
            "code": {
                "coding": [
                    {
                        "system": "http://snomed.info/sct",
                        "code": "254637007",
                        "display": "Non-small cell lung cancer",
                    },
                    {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C34.90"},
                ]
            },
            "subject": subject,
            "onsetDateTime": "2021-03-02",
        },
        {
            "resourceType": "Medication",
            "id": "med-1",
            "code": {
                "coding": [
                    {
                        "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                        "code": "1310107",
                        "display": "osimertinib 80 MG Oral Tablet",
                    }
                ]
            },
        },
        {
            "resourceType": "MedicationRequest",
            "id": "medrx-1",
            "status": "active",
            "intent": "order",
            "medicationReference": {"reference": "Medication/med-1"},
            "subject": subject,
            "authoredOn": "2021-04-15",
            "dosageInstruction": [{"text": "One tablet every morning"}],
        },
        {
            "resourceType": "AllergyIntolerance",
            "id": "allergy-1",
            "code": {"text": "Penicillin G"},
            "patient": subject,
            "reaction": [{"manifestation": [{"text": "Hives"}], "severity": "moderate"}],
        },
        {
            "resourceType": "Observation",
            "id": "hb-1",
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "laboratory",
                        }
                    ]
                }
            ],
            "code": {
                "coding": [{"system": "http://loinc.org", "code": "718-7", "display": "Hemoglobin"}]
            },
            "subject": subject,
            "effectiveDateTime": "2024-01-05T09:30:00-05:00",
            "valueQuantity": {"value": 10.2, "unit": "g/dL"},
            "interpretation": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                            "code": "L",
                        }
                    ]
                }
            ],
            "referenceRange": [
                {"low": {"value": 12.0, "unit": "g/dL"}, "high": {"value": 15.5, "unit": "g/dL"}}
            ],
        },
        {
            "resourceType": "Procedure",
            "id": "proc-1",
            "status": "completed",
            "code": {"text": "Lobectomy of lung"},
            "subject": subject,
            "performedDateTime": "2021-05-20",
        },
        {
            "resourceType": "DocumentReference",
            "id": "note-1",
            "status": "current",
            "description": "Progress note",
            "date": "2024-01-10T12:00:00Z",
            "content": [
                {
                    "attachment": {
                        "contentType": "text/plain",
                        "data": base64.b64encode(note.encode()).decode(),
                    }
                }
            ],
        },
    ]


def fhir_bundle(resources: list[dict] | None = None, **options) -> bytes:
    resources = fhir_resources(**options) if resources is None else resources
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"urn:uuid:{r.get('id', i)}", "resource": r}
            for i, r in enumerate(resources)
        ],
    }
    return json.dumps(bundle, indent=1).encode()


def fhir_ndjson(resources: list[dict] | None = None, **options) -> bytes:
    resources = fhir_resources(**options) if resources is None else resources
    return "".join(json.dumps(r) + "\n" for r in resources).encode()
