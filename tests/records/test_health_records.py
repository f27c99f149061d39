"""A portal's health record file (C-CDA or FHIR) end to end: checked into a record
with its summary, refused with nothing kept, and shown on the record's page to the
patient, the case manager and the specialist (tests/records/verification/test_health.py
has the reading itself)."""

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from records.models import Record, State
from requests_app.models import CaseStatus
from secondop.audit.models import AccessLog
from tests.records import health_samples
from tests.records.factories import RecordFactory
from tests.records.test_checking import check, make_record
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(patient, coordinator, specialist):
    return CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        case_manager=coordinator,
        specialist=specialist,
    )


def page(client, user, url):
    client.force_login(user)
    return client.get(url)


# --- Checking -------------------------------------------------------------------------------
def test_a_ccda_is_verified_with_its_summary(case):
    record = check(make_record(case, {"CCD.xml": health_samples.ccda()}, is_study=False))
    assert record.state == State.VERIFIED, record.reason
    assert record.mime == "application/xml"
    assert record.health["format"] == "ccda"
    assert record.health["problems"][0]["name"] == "Non-small cell lung cancer"
    assert record.files.get().kind == "ccda"
    assert not record.thumbnail_key


def test_a_fhir_bundle_is_verified_with_its_summary(case):
    record = check(make_record(case, {"export.json": health_samples.fhir_bundle()}))
    assert record.state == State.VERIFIED, record.reason
    assert record.mime == "application/fhir+json"
    assert record.health["results"][0]["name"] == "Hemoglobin"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("ccd.xml", health_samples.external_entity(), "health_unsafe"),
        ("ccd.xml", health_samples.billion_laughs(), "health_unsafe"),
        ("feed.xml", b'<?xml version="1.0"?><rss><channel/></rss>', "not_ccda"),
        ("data.json", b'{"patients": []}', "not_fhir"),
        (
            "export.json",
            health_samples.fhir_bundle([{"resourceType": "Observation"}]),
            "fhir_invalid",
        ),
    ],
    ids=["external-entity", "billion-laughs", "not-ccda", "not-fhir", "invalid-fhir"],
)
def test_a_refused_file_keeps_nothing(case, name, data, reason, django_capture_on_commit_callbacks):
    record = make_record(case, {name: data})
    key = record.files.get().key
    with django_capture_on_commit_callbacks(execute=True):
        record = check(record)
    assert (record.state, record.reason) == (State.REJECTED, reason)
    assert record.health == {} and record.size == 0
    assert not default_storage.exists(key)


def test_a_50_mb_bundle_is_refused_and_deleted(case, django_capture_on_commit_callbacks):
    padding = "x" * (50 * 1000**2)
    data = health_samples.fhir_bundle([{"resourceType": "Patient", "name": [{"text": padding}]}])
    record = make_record(case, {"export.json": data})
    key = record.files.get().key
    with django_capture_on_commit_callbacks(execute=True):
        record = check(record)
    assert (record.state, record.reason) == (State.REJECTED, "health_too_large")
    assert not default_storage.exists(key)


# --- Pages ----------------------------------------------------------------------------------
def _verified(case, data: bytes, name: str, title: str) -> Record:
    record = check(make_record(case, {name: data}))
    assert record.state == State.VERIFIED, record.reason
    Record.objects.filter(pk=record.pk).update(title=title, category="records")
    return record


def test_the_patient_case_manager_and_specialist_read_the_summary(
    client, patient, coordinator, specialist, case
):
    record = _verified(case, health_samples.ccda(), "CCD.xml", "Portal download")
    url = reverse("records:detail", args=[record.uuid])
    for person in (patient, coordinator, specialist):
        response = page(client, person, url)
        html = response.content.decode()
        assert response.status_code == 200
        assert "Health record summary (C-CDA)" in html
        for heading in (
            "Problems and diagnoses",
            "Medications",
            "Allergies and intolerances",
            "Test results",
            "Procedures",
            "Notes",
        ):
            assert f">{heading}</h3>" in html
        assert "Non-small cell lung cancer" in html and "ICD-10-CM C34.90" in html
        assert "osimertinib 80 MG Oral Tablet" in html and "since 15 April 2021" in html
        assert "Penicillin G" in html and "Reaction: Hives" in html
        assert '<th scope="row">Hemoglobin' in html
        assert "10.2 g/dL" in html and "12.0\N{EN DASH}15.5 g/dL" in html and "(low)" in html
        assert "5 January 2024" in html
        assert "Lobectomy of lung" in html
        assert "Ada Testpatient, born 12 April 1970" in html
    # The staff reads are in the access log, as for any record.
    assert AccessLog.objects.filter(object_id=str(record.pk), actor=specialist).exists()


def test_a_script_in_a_note_shows_as_text(client, specialist, case):
    note = '<script>alert("record")</script>'
    for data, name in (
        (health_samples.ccda(("notes",), note=note), "ccd.xml"),
        (health_samples.fhir_bundle(note=note), "export.json"),
    ):
        record = _verified(case, data, name, "Notes")
        html = page(client, specialist, reverse("records:detail", args=[record.uuid])).content
        assert b"&lt;script&gt;alert(&quot;record&quot;)&lt;/script&gt;" in html
        assert b'<script>alert("record")' not in html


def test_a_fhir_file_reads_the_same_way(client, patient, case):
    record = _verified(case, health_samples.fhir_ndjson(), "export.ndjson", "Portal export")
    html = page(client, patient, reverse("records:detail", args=[record.uuid])).content.decode()
    assert "Health record summary (FHIR)" in html
    assert "Non-small cell lung cancer" in html and "Hemoglobin" in html


def test_the_records_list_says_what_each_file_is(client, coordinator, case):
    _verified(case, health_samples.ccda(), "CCD.xml", "Hospital summary")
    _verified(case, health_samples.fhir_bundle(), "export.json", "Clinic export")
    RecordFactory(case=case, title="Biopsy")
    html = page(client, coordinator, reverse("records:case_records", args=[case.uuid])).content
    html = html.decode()
    assert html.count("Health record summary (C-CDA)") == 1
    assert html.count("Health record summary (FHIR)") == 1


def test_a_record_without_a_summary_shows_none(client, patient, case):
    record = RecordFactory(case=case)
    html = page(client, patient, reverse("records:detail", args=[record.uuid])).content.decode()
    assert "What this health record says" not in html


def test_the_download_is_never_shown_inline(client, patient, case):
    record = _verified(case, health_samples.ccda(), "CCD.xml", "Portal download")
    client.force_login(patient)
    response = client.get(reverse("records:download", args=[record.uuid]) + "?open=1")
    if response.status_code == 302:  # S3: the signed URL carries the disposition
        assert "attachment" in response["Location"]
    else:
        assert response["Content-Disposition"].startswith("attachment")


def test_outsiders_get_404(client, outsider, case):
    record = _verified(case, health_samples.ccda(), "CCD.xml", "Portal download")
    assert page(client, outsider, reverse("records:detail", args=[record.uuid])).status_code == 404
