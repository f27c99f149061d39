"""Reports at every stage, made through the services (so a test's report is one
the app could have made):

    case = assigned_case(patient, coordinator, specialist)   in review, two questions
    draft = write_draft(case, specialist)                    complete, not signed
    version = sign(case, specialist)                         signed, PDF stored
    version = release(case, coordinator)                     released to the patient
"""

import datetime
import hashlib

from django.utils import timezone

from requests_app.models import CaseQuestion, CaseStatus
from requests_app.reports import codes, services
from requests_app.reports.models import Report, ReportVersion
from secondop import storage
from specialists.models import SpecialistProfile, Specialty
from tests.records.factories import PDF, RecordFactory
from tests.requests_app.factories import CaseFactory

ANSWER_1 = "No. Breast-conserving surgery with radiotherapy is as effective for you."
ANSWER_2 = "Yes, a sentinel node biopsy first: it decides whether more surgery is needed."
COMPLETE = {
    "text": {
        "summary": "Core biopsy shows a 1.4 cm grade 2 invasive ductal carcinoma, ER/PR positive.",
        "diagnosis": "Invasive ductal carcinoma, left breast, stage IA (T1c N0)",
        "diagnosis_comment": "Staging is refined by the CT: no nodal disease.",
        "recommendations": "Lumpectomy with sentinel node biopsy, then radiotherapy.",
        "prognosis": "Excellent: five-year survival above 95% at this stage.",
        "follow_up": "Oncotype DX on the surgical specimen; mammogram in 6 months.",
        "reasons": "Radiotherapy after a lumpectomy controls the cancer as well as a mastectomy.",
    },
    "diagnosis_opinion": "refined",
    "treatment_opinion": "changes",
}


def profile_for(specialist) -> SpecialistProfile:
    profile, created = SpecialistProfile.objects.get_or_create(
        user=specialist,
        defaults={"title": "MD, PhD", "institution": "Lakeside University Hospital"},
    )
    if created:
        profile.specialties.add(Specialty.objects.get(slug="oncology"))
    return profile


def assigned_case(patient, coordinator, specialist, **kwargs):
    """A case in review with its case manager, its specialist, two questions and a
    checked record."""
    case = CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        case_manager=coordinator,
        specialist=specialist,
        **kwargs,
    )
    CaseQuestion.objects.create(case=case, position=2, text="Should anything be done first?")
    RecordFactory(
        case=case, title="Core biopsy, left breast", service_date=datetime.date(2026, 9, 30)
    )
    profile_for(specialist)
    return case


def write_draft(case, specialist, **overrides) -> ReportVersion:
    records = [str(r.uuid) for r in case.records.filter(state="verified")]
    data = {**COMPLETE, "records": records, "answers": {1: ANSWER_1, 2: ANSWER_2}, **overrides}
    return services.report_draft_save(actor=specialist, case_ref=case.uuid, **data)


def sign(case, specialist, *, render: bool = True, **overrides) -> ReportVersion:
    """Write (or finish) the draft and sign it; `render` stores its PDF as the
    task would."""
    write_draft(case, specialist, **overrides)
    version = services.report_sign(actor=specialist, case_ref=case.uuid)
    if render:
        services.report_pdf_store(version_id=version.pk)
    version.refresh_from_db()
    return version


def release(case, coordinator) -> ReportVersion:
    version = ReportVersion.objects.filter(report__case=case, status="signed").latest("number")
    return services.report_release(actor=coordinator, version_ref=version.uuid)


def released_version(case, *, author, released_by) -> ReportVersion:
    """A released version written straight to the tables, with a small stored PDF,
    whatever the case's status: for pages that only read a report (the permission
    matrix, aftercare's sharing)."""
    report, _created = Report.objects.get_or_create(case=case)
    now = timezone.now()
    version = ReportVersion(
        report=report,
        number=1,
        author=author,
        status="released",
        diagnosis_opinion="agrees",
        treatment_opinion="agrees",
        summary="Reviewed.",
        signed_at=now,
        signer_name=author.full_name,
        verification_code=codes.new_code(),
        released_at=now,
        released_by=released_by,
    )
    version.pdf_key = services.pdf_key(version)
    storage.save_bytes(version.pdf_key, PDF, "application/pdf")
    version.pdf_sha256, version.pdf_size = hashlib.sha256(PDF).hexdigest(), len(PDF)
    version.pdf_stored_at = now
    version.save()
    return version
