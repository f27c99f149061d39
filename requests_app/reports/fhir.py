"""A released report as a FHIR R4 Bundle, for another health system's records.

The patient (or their physician, through the link the patient sent) downloads it
and gives it to a hospital or clinic whose record system reads FHIR. It holds:

- the Patient, as the case names them (name, date of birth, sex);
- the Practitioner who signed, with their NPI when their profile has one;
- the diagnosis as Condition(s) coded in ICD-10-CM: the one the patient was
  given (its verification status says what the specialist made of it) and,
  when the specialist refined it or named another, the specialist's;
- the opinion as a DiagnosticReport, its conclusion in the specialist's words
  and the signed PDF as `presentedForm`;
- a DocumentReference to the same PDF, for systems that file documents.

Every resource is a `fhir.resources.R4B` model and the JSON is theirs, so a
bundle that would not validate is never written. The PDF inside is the stored
one, checked against its SHA-256 before it goes in: a file that no longer matches
is refused (PdfUnavailable), never exported."""

from __future__ import annotations

import base64
import datetime
import hashlib
import uuid

from django.conf import settings
from django.utils import timezone, translation
from fhir.resources.R4B.annotation import Annotation
from fhir.resources.R4B.attachment import Attachment
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.documentreference import (
    DocumentReference,
    DocumentReferenceContent,
    DocumentReferenceContext,
    DocumentReferenceRelatesTo,
)
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource

from secondop import storage

from .models import DiagnosisOpinion, ReportVersion, VersionStatus
from .references import evidence_references, trial_url
from .wording import opinion_words

CONTENT_TYPE = "application/fhir+json"

ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
NPI = "http://hl7.org/fhir/sid/us-npi"
LOINC = "http://loinc.org"
URI = "urn:ietf:rfc:3986"
CLINICAL_STATUS = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
FORMAT = "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode"
# LOINC's document type for a specialist's consultation: the report and the document.
CONSULT_NOTE = Coding(system=LOINC, code="11488-4", display="Consult note")

D = DiagnosisOpinion
# What the specialist made of the diagnosis the patient was given, in FHIR's words.
# A different diagnosis leaves the first one unconfirmed, not refuted: one second
# opinion should not take a diagnosis off another system's problem list.
REFERRAL_VERIFICATION: dict[str, str] = {
    D.AGREES: "confirmed",
    D.REFINED: "confirmed",
    D.DIFFERENT: "unconfirmed",
    D.UNDETERMINED: "unconfirmed",
}
GENDER = {"female": "female", "male": "male", "intersex": "other", "undisclosed": "unknown"}


class PdfUnavailable(Exception):
    """The signed PDF is missing from storage or no longer matches its SHA-256."""


def filename(version: ReportVersion) -> str:
    """SO-2026-000123-opinion-v1.fhir.json"""
    return f"{version.report.case.reference}-opinion-v{version.number}.fhir.json"


def stored_pdf(version: ReportVersion) -> bytes:
    """The version's signed PDF, as stored, checked against its SHA-256."""
    if not version.pdf_ready:
        raise PdfUnavailable(str(version))
    try:
        data = storage.read_bytes(version.pdf_key)
    except (FileNotFoundError, OSError) as error:
        raise PdfUnavailable(str(version)) from error
    if hashlib.sha256(data).hexdigest() != version.pdf_sha256:
        raise PdfUnavailable(f"{version}: the stored PDF does not match its SHA-256")
    return data


def bundle_json(version: ReportVersion) -> bytes:
    """The released `version` as a FHIR R4 Bundle, serialised (UTF-8 JSON)."""
    return report_bundle(version).model_dump_json().encode()


def report_bundle(version: ReportVersion, *, pdf: bytes | None = None) -> Bundle:
    """The released `version` as a FHIR R4 `collection` Bundle. Callers check who
    may read it; this refuses anything but a released version (ValueError)."""
    if version.status != VersionStatus.RELEASED:
        raise ValueError(f"{version} is not released")
    pdf = stored_pdf(version) if pdf is None else pdf
    with translation.override(settings.LANGUAGE_CODE):
        return _Builder(version, pdf).bundle()


def _b64(data: bytes) -> bytes:
    """base64, as fhir.resources' base64Binary takes it (it keeps the decoded bytes)."""
    return base64.b64encode(data)


def _instant(value: datetime.datetime | None) -> datetime.datetime | None:
    return timezone.localtime(value, datetime.UTC) if value else None


def _concept(system: str, code: str, display: str = "") -> CodeableConcept:
    return CodeableConcept(coding=[Coding(system=system, code=code, display=display or None)])


class _Builder:
    """One bundle's resources. Their ids are derived from the version's uuid, so
    every download of a version names its resources the same way."""

    def __init__(self, version: ReportVersion, pdf: bytes) -> None:
        self.version = version
        self.case = version.report.case
        self.pdf = pdf
        self.entries: list[BundleEntry] = []

    def _id(self, name: str) -> str:
        return str(uuid.uuid5(self.version.uuid, name))

    def _add(self, resource: Resource) -> Reference:
        full_url = f"urn:uuid:{resource.id}"
        self.entries.append(BundleEntry(fullUrl=full_url, resource=resource))
        return Reference(reference=full_url)

    def bundle(self) -> Bundle:
        patient = self._add(self._patient())
        signer = self._add(self._practitioner())
        for condition in self._conditions(patient, signer):
            self._add(condition)
        report = self._add(self._diagnostic_report(patient, signer))
        self._add(self._document_reference(patient, signer, report))
        return Bundle(
            id=self._id("bundle"),
            identifier=Identifier(system=URI, value=f"urn:uuid:{self._id('bundle')}"),
            type="collection",
            timestamp=_instant(timezone.now()),
            entry=self.entries,
        )

    # --- Who --------------------------------------------------------------------------------
    def _patient(self) -> Patient:
        case = self.case
        return Patient(
            id=self._id("patient"),
            name=[HumanName(text=case.patient_name)] if case.patient_name else None,
            birthDate=case.patient_dob,
            gender=GENDER.get(case.patient_sex),
        )

    def _practitioner(self) -> Practitioner:
        version = self.version
        profile = getattr(version.author, "specialist_profile", None)
        npi = profile.npi if profile is not None else ""
        credentials: list[str | None] = [
            c.strip() for c in version.signer_credentials.split(",") if c.strip()
        ]
        return Practitioner(
            id=self._id("practitioner"),
            identifier=[Identifier(system=NPI, value=npi)] if npi else None,
            name=[
                HumanName(
                    text=version.signer_line or version.signer_name,
                    suffix=credentials or None,
                )
            ],
        )

    # --- The diagnosis ------------------------------------------------------------------------
    def _second_opinion_named(self) -> bool:
        version = self.version
        return version.diagnosis_opinion in (D.REFINED, D.DIFFERENT) and bool(
            version.diagnosis.strip() or version.icd10_id
        )

    def _conditions(self, patient: Reference, signer: Reference) -> list[Condition]:
        version, case = self.version, self.case
        conditions = []
        if case.icd10_id or case.diagnosis.strip():
            conditions.append(
                Condition(
                    id=self._id("condition-referral"),
                    clinicalStatus=_concept(CLINICAL_STATUS, "active"),
                    verificationStatus=_concept(
                        VERIFICATION_STATUS,
                        REFERRAL_VERIFICATION.get(version.diagnosis_opinion, "unconfirmed"),
                    ),
                    code=self._code(case.icd10, case.diagnosis),
                    subject=patient,
                    note=[
                        Annotation(
                            text="The diagnosis the patient was given before the second opinion."
                        )
                    ],
                )
            )
        if self._second_opinion_named():
            conditions.append(
                Condition(
                    id=self._id("condition-opinion"),
                    clinicalStatus=_concept(CLINICAL_STATUS, "active"),
                    verificationStatus=_concept(VERIFICATION_STATUS, "confirmed"),
                    category=[
                        _concept(CONDITION_CATEGORY, "encounter-diagnosis", "Encounter Diagnosis")
                    ],
                    code=self._code(version.icd10, version.diagnosis),
                    subject=patient,
                    recordedDate=_instant(version.signed_at),
                    asserter=signer,
                    note=[Annotation(text=version.diagnosis_comment)]
                    if version.diagnosis_comment.strip()
                    else None,
                )
            )
        return conditions

    @staticmethod
    def _code(icd10, text: str) -> CodeableConcept:
        coding = [Coding(system=ICD10_CM, code=icd10.code, display=icd10.title)] if icd10 else None
        return CodeableConcept(coding=coding, text=text.strip() or (icd10.title if icd10 else None))

    def _conclusion_codes(self) -> list[CodeableConcept] | None:
        """The diagnosis the specialist concludes, coded: theirs when they named
        one, the patient's when they agree with it, none when they cannot say."""
        version, case = self.version, self.case
        if self._second_opinion_named():
            icd10 = version.icd10
        elif version.diagnosis_opinion == D.AGREES:
            icd10 = case.icd10
        else:
            icd10 = None
        if icd10 is None:
            return None
        return [_concept(ICD10_CM, icd10.code, icd10.title)]

    # --- The opinion ---------------------------------------------------------------------------
    def _conclusion(self) -> str:
        version = self.version
        words = opinion_words(version)
        parts = [
            str(words["diagnosis_label"]) + "." if words["diagnosis_label"] else "",
            version.diagnosis,
            version.diagnosis_comment,
            str(words["treatment_label"]) + "." if words["treatment_label"] else "",
            version.recommendations,
            f"Why the opinion differs: {version.reasons.strip()}"
            if version.reasons.strip()
            else "",
            version.follow_up,
            self._trials(),
            self._evidence(),
        ]
        return "\n\n".join(part.strip() for part in parts if part.strip())

    def _trials(self) -> str:
        version = self.version
        lines = [version.trials_note.strip()] if version.trials_note.strip() else []
        lines += [f"{nct} ({trial_url(nct)})" for nct in version.trial_ids]
        return "Clinical trials to ask about:\n" + "\n".join(lines) if lines else ""

    def _evidence(self) -> str:
        found = evidence_references(self.version.evidence)
        lines = [
            f"- {ref.text}" + (f" ({ref.url})" if ref.url and ref.url not in ref.text else "")
            for ref in found
        ]
        return "Evidence:\n" + "\n".join(lines) if lines else ""

    def _attachment(self) -> Attachment:
        version = self.version
        return Attachment(
            contentType="application/pdf",
            language=settings.LANGUAGE_CODE,
            data=_b64(self.pdf),
            size=len(self.pdf),
            # FHIR's hash is SHA-1, base64; the stored SHA-256 was checked on reading.
            hash=_b64(hashlib.sha1(self.pdf, usedforsecurity=False).digest()),
            title=f"Second-opinion report {self.case.reference}, version {version.number}",
            creation=_instant(version.signed_at),
        )

    def _amends(self) -> ReportVersion | None:
        """The released version this one replaced, if any."""
        return (
            ReportVersion.objects.filter(
                report_id=self.version.report_id,
                number__lt=self.version.number,
                status=VersionStatus.RELEASED,
            )
            .order_by("-number")
            .first()
        )

    def _identifier(self, version: ReportVersion) -> Identifier:
        return Identifier(system=URI, value=f"urn:uuid:{version.uuid}")

    def _diagnostic_report(self, patient: Reference, signer: Reference) -> DiagnosticReport:
        version = self.version
        return DiagnosticReport(
            id=self._id("diagnostic-report"),
            identifier=[self._identifier(version)],
            status="amended" if self._amends() else "final",
            code=CodeableConcept(coding=[CONSULT_NOTE], text="Second-opinion report"),
            subject=patient,
            effectiveDateTime=_instant(version.signed_at),
            issued=_instant(version.released_at),
            performer=[signer],
            resultsInterpreter=[signer],
            conclusion=self._conclusion() or None,
            conclusionCode=self._conclusion_codes(),
            presentedForm=[self._attachment()],
        )

    def _document_reference(
        self, patient: Reference, signer: Reference, report: Reference
    ) -> DocumentReference:
        version = self.version
        amends = self._amends()
        return DocumentReference(
            id=self._id("document-reference"),
            masterIdentifier=self._identifier(version),
            status="superseded" if version.superseded_at else "current",
            docStatus="amended" if amends else "final",
            type=CodeableConcept(coding=[CONSULT_NOTE]),
            subject=patient,
            date=_instant(version.released_at),
            author=[signer],
            authenticator=signer,
            description=f"Second-opinion report {self.case.reference}, version {version.number}",
            relatesTo=[
                DocumentReferenceRelatesTo(
                    code="replaces", target=Reference(identifier=self._identifier(amends))
                )
            ]
            if amends
            else None,
            content=[
                DocumentReferenceContent(
                    attachment=self._attachment(),
                    format=Coding(system=FORMAT, code="urn:ihe:iti:xds:2017:mimeTypeSufficient"),
                )
            ],
            context=DocumentReferenceContext(related=[report]),
        )
