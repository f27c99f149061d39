"""records.verification.health, ccda and fhir: a portal's "download my record" file
(C-CDA XML, FHIR JSON or NDJSON) read safely into a summary, and every hostile or
wrong file refused with a reason."""

import json

import pytest

from records.verification import health
from records.verification.ccda import hl7_date
from tests.records import health_samples, samples
from tests.records.verification.helpers import assert_rejected, run_capped, verify

MB = 1000**2


# --- C-CDA ---------------------------------------------------------------------------------
def test_it_reads_every_section_of_a_ccda(local_storage):
    report = verify(local_storage, health_samples.ccda(), "Summary of care.xml")
    assert report.ok, report.reason
    assert (report.kind, report.mime) == ("ccda", "application/xml")
    summary = report.health
    assert summary["format"] == "ccda"
    assert summary["title"] == "Continuity of Care Document"
    assert summary["date"] == "2024-01-10"
    assert summary["patient"] == {"name": "Ada Testpatient", "birth_date": "1970-04-12"}
    [problem] = summary["problems"]
    assert problem["name"] == "Non-small cell lung cancer"
    assert (problem["system"], problem["code"]) == ("SNOMED CT", "254637007")
    assert problem["codes"] == [{"code": "C34.90", "system": "ICD-10-CM"}]
    assert (problem["onset"], problem["status"]) == ("2021-03-02", "active")
    [medication] = summary["medications"]
    assert medication["name"] == "osimertinib 80 MG Oral Tablet"
    assert (medication["system"], medication["code"]) == ("RxNorm", "1310107")
    assert (medication["dose"], medication["route"], medication["start"]) == (
        "80 mg",
        "Oral",
        "2021-04-15",
    )
    # The instructions follow the entry's reference into the section's narrative.
    assert medication["instructions"] == "Take one tablet by mouth every morning"
    [allergy] = summary["allergies"]
    assert (allergy["name"], allergy["reactions"], allergy["severity"]) == (
        "Penicillin G",
        ["Hives"],
        "Moderate",
    )
    hemoglobin, leukocytes = summary["results"]
    assert hemoglobin == {
        "name": "Hemoglobin",
        "code": "718-7",
        "system": "LOINC",
        "panel": "Complete blood count panel",
        "date": "2024-01-05",
        "value": "10.2 g/dL",
        "range": "12.0\N{EN DASH}15.5 g/dL",
        "flag": "low",
    }
    assert leukocytes["value"] == "7.1 10*3/uL" and "flag" not in leukocytes
    [procedure] = summary["procedures"]
    assert (procedure["name"], procedure["date"]) == ("Lobectomy of lung", "2021-05-20")
    [note] = summary["notes"]
    assert note["title"] == "Progress notes"
    assert note["text"] == (
        "Doing well after surgery; scan in three months.\n\nSeen with her daughter."
    )
    assert summary["counts"] == {
        "problems": 1,
        "medications": 1,
        "allergies": 1,
        "results": 2,
        "procedures": 1,
        "notes": 1,
    }


def test_it_reads_only_the_sections_a_document_has(local_storage):
    report = verify(local_storage, health_samples.ccda(("results",)), "labs.xml")
    assert report.ok
    assert report.health["counts"] == {
        "problems": 0,
        "medications": 0,
        "allergies": 0,
        "results": 2,
        "procedures": 0,
        "notes": 0,
    }


def test_a_ccda_without_its_xml_declaration_is_still_read(local_storage):
    report = verify(local_storage, health_samples.ccda(declaration=False), "CCD.XML")
    assert report.ok and report.kind == "ccda"


def test_a_note_keeps_markup_as_text(local_storage):
    note = '<script>alert("x")</script> & <b>bold</b>'
    report = verify(local_storage, health_samples.ccda(("notes",), note=note), "notes.xml")
    assert report.ok
    # Text, exactly as written: the page escapes it (tests/records/test_health_views.py).
    assert report.health["notes"][0]["text"].startswith(note)


@pytest.mark.parametrize(
    "data",
    [health_samples.external_entity(), health_samples.billion_laughs()],
    ids=["external-entity", "billion-laughs"],
)
def test_entities_are_refused_before_anything_expands(local_storage, data):
    message = assert_rejected(verify(local_storage, data, "ccd.xml"), "health_unsafe")
    assert "safety" in message


def test_any_doctype_is_refused(local_storage):
    data = health_samples.ccda(doctype="<!DOCTYPE ClinicalDocument>")
    assert_rejected(verify(local_storage, data, "ccd.xml"), "health_unsafe")


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title></channel></rss>',
        health_samples.ccda(namespace="urn:example:not-hl7"),
        health_samples.ccda().replace(b"2.16.840.1.113883.10.20.22.1.1", b"1.2.3"),
    ],
    ids=["rss", "wrong-namespace", "no-us-realm-header"],
)
def test_xml_that_is_not_a_ccda_is_refused(local_storage, data):
    message = assert_rejected(verify(local_storage, data, "record.xml"), "not_ccda")
    assert "C-CDA" in message


def test_a_damaged_ccda_is_refused(local_storage):
    data = health_samples.ccda()[:-300]
    assert_rejected(verify(local_storage, data, "ccd.xml"), "ccda_invalid")


def test_an_html_page_named_xml_is_never_read_as_one(local_storage):
    data = b"<html><head><title>Hi</title></head><body><script>x()</script></body></html>"
    report = verify(local_storage, data, "record.xml")
    assert not report.ok and report.reason in ("not_ccda", "ccda_invalid")


def test_too_many_elements_stop_the_parse(local_storage):
    rows = "<item>x</item>" * (health.HEALTH_MAX_ELEMENTS + 1)
    data = health_samples.ccda(("notes",), note="n").replace(
        b"<paragraph>n</paragraph>", f"<list>{rows}</list>".encode()
    )
    assert len(data) < 5 * MB
    assert_rejected(verify(local_storage, data, "ccd.xml"), "health_too_complex")


def test_deep_nesting_stops_the_parse(local_storage):
    deep = "<content>" * 200 + "x" + "</content>" * 200
    data = health_samples.ccda(("notes",), note="n").replace(
        b"<paragraph>n</paragraph>", deep.encode()
    )
    assert_rejected(verify(local_storage, data, "ccd.xml"), "health_too_complex")


def test_a_ccda_inside_a_zip_or_a_folder_is_not_read(local_storage):
    # As before: a portal's file is a record of its own, uploaded on its own.
    data = samples.zip_of({"CCD": health_samples.ccda()})
    assert_rejected(verify(local_storage, data, "records.zip"), "type_not_allowed")
    report = verify(local_storage, health_samples.ccda(), "CD/CCD", skip_viewer_files=True)
    assert_rejected(report, "type_not_allowed")


def test_hl7_dates_become_iso_dates():
    assert hl7_date("20240305103000-0500") == "2024-03-05"
    assert hl7_date("202403") == "2024-03"
    assert hl7_date("2024") == "2024"
    assert hl7_date("20241340") == ""
    assert hl7_date("") == ""


# --- FHIR ----------------------------------------------------------------------------------
def test_it_reads_a_fhir_bundle(local_storage):
    report = verify(local_storage, health_samples.fhir_bundle(), "export.json")
    assert report.ok, report.reason
    assert (report.kind, report.mime) == ("fhir", "application/fhir+json")
    summary = report.health
    assert summary["format"] == "fhir"
    assert summary["patient"] == {"name": "Ada Testpatient", "birth_date": "1970-04-12"}
    [problem] = summary["problems"]
    assert (problem["name"], problem["code"], problem["system"]) == (
        "Non-small cell lung cancer",
        "254637007",
        "SNOMED CT",
    )
    assert problem["codes"] == [{"code": "C34.90", "system": "ICD-10-CM"}]
    [medication] = summary["medications"]
    # Named through its reference to a Medication in the same bundle.
    assert medication["name"] == "osimertinib 80 MG Oral Tablet"
    assert medication["instructions"] == "One tablet every morning"
    [allergy] = summary["allergies"]
    assert allergy["reactions"] == ["Hives"] and allergy["severity"] == "moderate"
    [result] = summary["results"]
    assert (result["name"], result["date"], result["value"], result["range"], result["flag"]) == (
        "Hemoglobin",
        "2024-01-05",
        "10.2 g/dL",
        "12.0\N{EN DASH}15.5 g/dL",
        "low",
    )
    assert summary["procedures"][0]["name"] == "Lobectomy of lung"
    assert summary["notes"][0] == {
        "title": "Progress note",
        "date": "2024-01-10",
        "text": "Doing well after surgery.",
    }


def test_it_reads_ndjson_a_resource_a_line(local_storage):
    report = verify(local_storage, health_samples.fhir_ndjson(), "Condition.ndjson")
    assert report.ok, report.reason
    assert report.mime == "application/fhir+ndjson"
    assert report.health["counts"]["problems"] == 1
    assert report.health["counts"]["results"] == 1


def test_a_fhir_note_keeps_markup_as_text(local_storage):
    note = "<script>alert(1)</script>"
    report = verify(local_storage, health_samples.fhir_bundle(note=note), "export.json")
    assert report.health["notes"][0]["text"] == note


def _observation(**changes) -> dict:
    resource = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "Hemoglobin"},
        "valueQuantity": {"value": 10.2, "unit": "g/dL"},
    }
    resource.update(changes)
    return {k: v for k, v in resource.items() if v is not None}


@pytest.mark.parametrize(
    "resources",
    [
        [_observation(code=None)],  # a required element missing
        [_observation(valueQuantity={"value": "ten"})],  # the wrong type
        [_observation(colour="blue")],  # an element FHIR does not have
        [_observation(), {"resourceType": "Unicorn"}],  # no such resource
        [_observation(), {"no": "resourceType"}],
    ],
    ids=["missing", "wrong-type", "unknown-element", "unknown-resource", "not-a-resource"],
)
def test_invalid_fhir_is_refused(local_storage, resources):
    message = assert_rejected(
        verify(local_storage, health_samples.fhir_bundle(resources), "export.json"),
        "fhir_invalid",
    )
    assert "FHIR" in message


def test_an_invalid_line_of_ndjson_is_refused(local_storage):
    data = health_samples.fhir_ndjson() + json.dumps(_observation(status=None, code=None)).encode()
    assert_rejected(verify(local_storage, data, "export.ndjson"), "fhir_invalid")


def test_a_bundle_with_a_bad_entry_is_refused(local_storage):
    data = json.dumps(
        {"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": 7}]}
    ).encode()
    assert_rejected(verify(local_storage, data, "export.json"), "fhir_invalid")


@pytest.mark.parametrize(
    "data",
    [
        b'{"name": "Ada", "results": [1, 2, 3]}',
        b"[1, 2, 3]",
        b'{"resourceType": "Unicorn"}',
        b'{"resourceType": "__class__"}',
        b'{"resourceType": "Bundle", "type": "collection", "entry": [',
    ],
    ids=["object", "list", "unknown-type", "dunder", "cut-off"],
)
def test_json_that_is_not_fhir_is_refused(local_storage, data):
    message = assert_rejected(verify(local_storage, data, "data.json"), "not_fhir")
    assert "FHIR" in message


def test_a_50_mb_bundle_is_refused_for_its_size(local_storage):
    padding = "x" * (50 * MB)
    resources = [{"resourceType": "Patient", "name": [{"text": padding}]}]
    data = health_samples.fhir_bundle(resources)
    assert len(data) > 50 * MB
    message = assert_rejected(verify(local_storage, data, "export.json"), "health_too_large")
    assert "20 MB" in message


def test_the_size_limit_is_a_setting(local_storage, settings):
    settings.RECORDS_HEALTH_MAX_BYTES = 1000
    data = health_samples.fhir_bundle()
    assert len(data) > 1000
    assert_rejected(verify(local_storage, data, "export.json"), "health_too_large")
    assert_rejected(verify(local_storage, health_samples.ccda(), "ccd.xml"), "health_too_large")


def test_deep_json_is_refused_before_it_is_parsed(local_storage):
    data = b'{"resourceType": "Bundle", "type": "collection", "x": ' + b"[" * 5000 + b"]" * 5000
    data += b"}"
    assert_rejected(verify(local_storage, data, "export.json"), "health_too_complex")


def test_json_of_too_many_values_is_refused_before_it_is_parsed(local_storage):
    data = b'{"resourceType": "Patient", "x": [' + b"[]," * health.HEALTH_MAX_ELEMENTS + b"[]]}"
    assert_rejected(verify(local_storage, data, "export.json"), "health_too_complex")


def test_brackets_inside_strings_are_not_counted(local_storage):
    note = "[{" * 1000 + '\\"' + "}]" * 1000
    resources = [{"resourceType": "Patient", "name": [{"text": note}]}]
    report = verify(local_storage, health_samples.fhir_bundle(resources), "export.json")
    assert report.ok, report.reason


def test_plain_text_named_json_is_still_plain_text_when_it_is_not_json(local_storage):
    report = verify(local_storage, samples.text(), "notes.txt")
    assert report.ok and report.kind == "text"


def test_the_summary_is_capped(local_storage):
    resources = [_observation(code={"text": f"Test {n}"}) for n in range(health.MAX_ITEMS + 7)]
    report = verify(local_storage, health_samples.fhir_ndjson(resources), "labs.ndjson")
    assert report.ok
    assert len(report.health["results"]) == health.MAX_ITEMS
    assert report.health["omitted"] == {"results": 7}


# --- Memory --------------------------------------------------------------------------------
def test_a_bundle_near_the_limit_is_read_within_a_workers_memory(tmp_path):
    text = "Lorem ipsum dolor sit amet, " * 20
    resources = [
        _observation(code={"text": f"Test {n}"}, note=[{"text": text}]) for n in range(15_000)
    ]
    path = tmp_path / "export.json"
    path.write_bytes(health_samples.fhir_bundle(resources))
    assert 10 * MB < path.stat().st_size < 20 * MB
    result = run_capped(path)
    assert result["ok"], result


def test_a_ccda_near_the_limit_is_read_within_a_workers_memory(tmp_path):
    rows = "<tr><td>Hemoglobin</td><td>10.2 g/dL</td><td>12-15.5</td></tr>" * 45_000
    data = health_samples.ccda(("notes",), note="n").replace(
        b"<paragraph>n</paragraph>", f"<table><tbody>{rows}</tbody></table>".encode()
    )
    path = tmp_path / "ccd.xml"
    path.write_bytes(data)
    assert 2 * MB < len(data) < 20 * MB
    result = run_capped(path)
    assert result["ok"], result
