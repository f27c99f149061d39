"""requests_app.reports.fhir and its download: a released report as a FHIR R4
Bundle that validates with fhir.resources R4B, whose references resolve inside
it and whose PDF is the stored, signed one; who may download it, and when not."""

import base64
import hashlib
from unittest import mock

import pytest
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle

from requests_app.icd10.models import Icd10Code
from requests_app.reports import fhir, services
from requests_app.reports.models import ReportVersion
from secondop import storage
from secondop.audit.models import AccessLog
from specialists.models import SpecialistProfile
from tests.accounts.factories import UserFactory, enrol_totp
from tests.reports.factories import COMPLETE, assigned_case, release, sign

pytestmark = pytest.mark.django_db

ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"


def code(value: str, title: str) -> Icd10Code:
    found, _created = Icd10Code.objects.get_or_create(
        code=value, defaults={"title": title, "search_text": f"{value.lower()} {title.lower()}"}
    )
    return found


@pytest.fixture
def case(patient, coordinator, specialist):
    case = assigned_case(patient, coordinator, specialist)
    case.icd10 = code("C50.911", "Malignant neoplasm of unspecified site of right female breast")
    case.save(update_fields=["icd10"])
    return case


@pytest.fixture
def released(case, specialist, coordinator):
    """Released, the specialist naming a refined, coded diagnosis; their NPI on file."""
    SpecialistProfile.objects.filter(user=specialist).update(npi="1234567893")
    sign(
        case,
        specialist,
        icd10=code("C50.912", "Malignant neoplasm of unspecified site of left female breast"),
    )
    return release(case, coordinator)


def parsed(data: bytes) -> Bundle:
    return Bundle.model_validate_json(data)


def resources(bundle: Bundle) -> dict[str, list]:
    found: dict[str, list] = {}
    for entry in bundle.entry:
        found.setdefault(entry.resource.get_resource_type(), []).append(entry.resource)
    return found


def download(client, user, version):
    client.force_login(user)
    return client.get(reverse("reports:fhir", args=[version.uuid]))


# --- The bundle ----------------------------------------------------------------------------------
def test_the_bundle_validates_and_carries_the_stored_signed_pdf(released, case):
    bundle = parsed(fhir.bundle_json(released))
    assert bundle.type == "collection"
    found = resources(bundle)
    assert {k: len(v) for k, v in found.items()} == {
        "Patient": 1,
        "Practitioner": 1,
        "Condition": 2,
        "DiagnosticReport": 1,
        "DocumentReference": 1,
    }
    [report] = found["DiagnosticReport"]
    [document] = found["DocumentReference"]
    stored = storage.read_bytes(released.pdf_key)
    for attachment in (report.presentedForm[0], document.content[0].attachment):
        # The bytes decoded from the bundle are the signed PDF: its stored SHA-256.
        assert hashlib.sha256(attachment.data).hexdigest() == released.pdf_sha256
        assert attachment.data == stored and attachment.data.startswith(b"%PDF-")
        assert attachment.contentType == "application/pdf"
        assert attachment.size == released.pdf_size == len(stored)
        # FHIR's own hash: SHA-1 of the bytes, base64.
        assert attachment.hash == hashlib.sha1(stored, usedforsecurity=False).digest()
    raw = fhir.bundle_json(released).decode()
    assert base64.b64encode(hashlib.sha1(stored, usedforsecurity=False).digest()).decode() in raw


def test_every_reference_resolves_inside_the_bundle(released):
    bundle = parsed(fhir.bundle_json(released))
    full_urls = {entry.fullUrl for entry in bundle.entry}
    assert all(url.startswith("urn:uuid:") for url in full_urls)
    assert len(full_urls) == len(bundle.entry)
    found = resources(bundle)
    [patient], [practitioner] = found["Patient"], found["Practitioner"]
    [report], [document] = found["DiagnosticReport"], found["DocumentReference"]
    patient_url, practitioner_url = f"urn:uuid:{patient.id}", f"urn:uuid:{practitioner.id}"
    references = [
        report.subject,
        *report.performer,
        *report.resultsInterpreter,
        document.subject,
        *document.author,
        document.authenticator,
        *document.context.related,
        *(condition.subject for condition in found["Condition"]),
    ]
    assert all(ref.reference in full_urls for ref in references)
    assert report.subject.reference == document.subject.reference == patient_url
    assert report.performer[0].reference == practitioner_url
    assert document.context.related[0].reference == f"urn:uuid:{report.id}"


def test_it_says_who_the_patient_is_who_signed_and_what_they_concluded(released, case):
    found = resources(parsed(fhir.bundle_json(released)))
    [patient] = found["Patient"]
    assert patient.name[0].text == case.patient_name
    assert patient.birthDate == case.patient_dob and patient.gender == "female"
    [practitioner] = found["Practitioner"]
    assert practitioner.name[0].text == released.signer_line
    assert [(i.system, i.value) for i in practitioner.identifier] == [
        ("http://hl7.org/fhir/sid/us-npi", "1234567893")
    ]
    referral, opinion = found["Condition"]
    assert [(c.system, c.code) for c in referral.code.coding] == [(ICD10_CM, "C50.911")]
    assert referral.code.text == case.diagnosis
    assert referral.verificationStatus.coding[0].code == "confirmed"  # refined: agrees
    assert [(c.system, c.code) for c in opinion.code.coding] == [(ICD10_CM, "C50.912")]
    assert opinion.code.text == released.diagnosis
    assert opinion.asserter.reference == f"urn:uuid:{practitioner.id}"
    [report] = found["DiagnosticReport"]
    assert report.status == "final"
    assert report.code.coding[0].system == "http://loinc.org"
    assert [c.coding[0].code for c in report.conclusionCode] == ["C50.912"]
    assert released.diagnosis in report.conclusion
    assert released.recommendations in report.conclusion
    assert "Agrees, with a refinement." in report.conclusion
    [document] = found["DocumentReference"]
    assert document.status == "current" and document.docStatus == "final"
    assert document.masterIdentifier.value == f"urn:uuid:{released.uuid}"


def test_a_different_diagnosis_leaves_the_first_unconfirmed(case, specialist, coordinator):
    sign(
        case,
        specialist,
        diagnosis_opinion="different",
        text={**COMPLETE["text"], "diagnosis": "Fibroadenoma"},
    )
    version = release(case, coordinator)
    referral, opinion = resources(parsed(fhir.bundle_json(version)))["Condition"]
    assert referral.verificationStatus.coding[0].code == "unconfirmed"
    assert opinion.code.text == "Fibroadenoma" and opinion.code.coding is None


def test_an_agreeing_opinion_concludes_with_the_patients_code(case, specialist, coordinator):
    sign(case, specialist, diagnosis_opinion="agrees", text={**COMPLETE["text"], "diagnosis": ""})
    version = release(case, coordinator)
    found = resources(parsed(fhir.bundle_json(version)))
    [condition] = found["Condition"]
    assert condition.verificationStatus.coding[0].code == "confirmed"
    [report] = found["DiagnosticReport"]
    assert [c.coding[0].code for c in report.conclusionCode] == ["C50.911"]
    assert resources(parsed(fhir.bundle_json(version)))["Practitioner"][0].identifier is None


def test_an_amendment_replaces_the_version_before_it(case, specialist, coordinator):
    first = sign(case, specialist)
    release(case, coordinator)
    services.report_amend(actor=specialist, case_ref=case.uuid, reason="The CT was re-read.")
    sign(case, specialist)
    second = release(case, coordinator)
    found = resources(parsed(fhir.bundle_json(second)))
    [report], [document] = found["DiagnosticReport"], found["DocumentReference"]
    assert report.status == "amended" and document.docStatus == "amended"
    assert document.relatesTo[0].code == "replaces"
    assert document.relatesTo[0].target.identifier.value == f"urn:uuid:{first.uuid}"
    first.refresh_from_db()
    [old] = resources(parsed(fhir.bundle_json(first)))["DocumentReference"]
    assert old.status == "superseded"


def test_a_pdf_that_no_longer_matches_its_hash_is_never_exported(released):
    storage.save_bytes(released.pdf_key, b"%PDF-1.7 altered", "application/pdf")
    with pytest.raises(fhir.PdfUnavailable):
        fhir.bundle_json(released)


# --- The download --------------------------------------------------------------------------------
def test_the_patient_downloads_it_from_their_report(client, released, patient, case):
    client.force_login(patient)
    html = client.get(reverse("reports:case", args=[case.uuid])).content.decode()
    url = reverse("reports:fhir", args=[released.uuid])
    assert f'href="{url}"' in html and "Download for another health system (FHIR)" in html
    AccessLog.objects.all().delete()
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    assert response["Content-Disposition"].startswith("attachment;")
    assert f'filename="{case.reference}-opinion-v1.fhir.json"' in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    bundle = parsed(response.content)
    [report] = resources(bundle)["DiagnosticReport"]
    assert hashlib.sha256(report.presentedForm[0].data).hexdigest() == released.pdf_sha256
    logged = AccessLog.objects.filter(
        actor=patient, kind="download", object_type="reports.reportversion"
    )
    assert logged.count() == 1 and logged.get().object_id == str(released.pk)


def test_the_care_team_downloads_it_as_they_download_the_pdf(
    client, released, specialist, coordinator
):
    for person in (specialist, coordinator):
        html = (
            download(client, person, released).content,
            client.get(reverse("reports:version", args=[released.uuid])).content.decode(),
        )
        assert parsed(html[0]).type == "collection"
        assert "Download for another health system (FHIR)" in html[1]
        assert AccessLog.objects.filter(actor=person, kind="download").count() == 1


def test_no_draft_or_unreleased_version_is_exported(client, case, specialist, coordinator):
    signed = sign(case, specialist)
    for person in (specialist, coordinator):
        assert download(client, person, signed).status_code == 404
    html = client.get(reverse("reports:version", args=[signed.uuid])).content.decode()
    assert "Download the PDF" in html and "(FHIR)" not in html
    release(case, coordinator)
    services.report_amend(actor=specialist, case_ref=case.uuid, reason="Typo")
    draft = ReportVersion.objects.get(status="draft")
    for person in (specialist, coordinator, case.owner):
        assert download(client, person, draft).status_code == 404
    assert not AccessLog.objects.filter(kind="download").exists()
    with pytest.raises(ValueError):
        fhir.report_bundle(draft)


def test_outsiders_get_404_and_nothing_is_logged(client, released, outsider):
    other_specialist = UserFactory(role="specialist")
    enrol_totp(other_specialist)
    other_coordinator = UserFactory(role="coordinator")
    enrol_totp(other_coordinator)
    AccessLog.objects.all().delete()
    for person in (outsider, other_specialist, other_coordinator):
        assert download(client, person, released).status_code == 404
    assert not AccessLog.objects.filter(object_type="reports.reportversion").exists()
    client.logout()
    response = client.get(reverse("reports:fhir", args=[released.uuid]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_missing_pdf_is_a_404_not_a_bundle_without_it(client, released, patient):
    with mock.patch.object(storage, "read_bytes", side_effect=FileNotFoundError):
        assert download(client, patient, released).status_code == 404
