"""Cases after delivery, made as rows (the report services are tested in
tests/reports): a delivered case with a released report whose PDF is stored,
its delivery on the timeline, and shares with known tokens."""

import datetime
import hashlib
import secrets

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from requests_app.aftercare import consent
from requests_app.aftercare.models import Share
from requests_app.aftercare.selectors import token_hash
from requests_app.models import CaseEvent, CaseStatus
from requests_app.reports.models import Report, ReportAnswer, ReportVersion, VersionStatus
from tests.requests_app.factories import CaseFactory

PDF = b"%PDF-1.7\n% a second-opinion report\n%%EOF\n"


def delivered_case(
    *,
    owner,
    specialist,
    delivered_at=None,
    status=CaseStatus.DELIVERED,
    diagnosis_opinion="refined",
    treatment_opinion="changes",
    report=None,
    **case_fields,
):
    """A case whose report was released at `delivered_at` (default: now)."""
    delivered_at = delivered_at or timezone.now()
    fields = {"pcp_name": "Dr. Primary", "pcp_email": "dr.primary@clinic.example", **case_fields}
    case = CaseFactory(owner=owner, submitted=True, status=status, specialist=specialist, **fields)
    event = CaseEvent.objects.create(
        case=case, actor=None, old_status=CaseStatus.REPORT_READY, new_status=CaseStatus.DELIVERED
    )
    CaseEvent.objects.filter(pk=event.pk).update(created_at=delivered_at)
    release_report(
        case=case,
        author=specialist,
        released_at=delivered_at,
        diagnosis_opinion=diagnosis_opinion,
        treatment_opinion=treatment_opinion,
        **(report or {}),
    )
    return case


def release_report(
    *,
    case,
    author,
    released_at=None,
    diagnosis_opinion="refined",
    treatment_opinion="changes",
    summary="Invasive ductal carcinoma, grade 2.",
    number=None,
    answers=(("Is surgery my only option?", "No: surgery that keeps the breast is an option."),),
):
    """A released version (the PDF stored); earlier released ones are superseded."""
    released_at = released_at or timezone.now()
    report, _created = Report.objects.get_or_create(case=case)
    number = number or (report.versions.count() + 1)
    key = f"cases/{case.uuid}/reports/v{number}-{secrets.token_hex(4)}.pdf"
    default_storage.save(key, ContentFile(PDF))
    version = ReportVersion.objects.create(
        report=report,
        number=number,
        status=VersionStatus.RELEASED,
        author=author,
        summary=summary,
        diagnosis_opinion=diagnosis_opinion,
        diagnosis="Invasive ductal carcinoma, left breast"
        if diagnosis_opinion in ("refined", "different")
        else "",
        treatment_opinion=treatment_opinion,
        recommendations="Breast-conserving surgery.",
        prognosis="Good.",
        follow_up="Genomic assay of the tumour.",
        signed_at=released_at - datetime.timedelta(hours=1),
        signer_name=author.full_name,
        verification_code=secrets.token_hex(5).upper()[:10],
        pdf_key=key,
        pdf_sha256=hashlib.sha256(PDF).hexdigest(),
        pdf_size=len(PDF),
        pdf_stored_at=released_at,
        released_at=released_at,
    )
    for position, (question, answer) in enumerate(answers, start=1):
        ReportAnswer.objects.create(
            version=version, position=position, question_text=question, answer=answer
        )
    report.versions.filter(number__lt=number, superseded_at__isnull=True).update(
        superseded_at=released_at, superseded_by=version
    )
    return version


def sent_share(
    *,
    case,
    email="dr.primary@clinic.example",
    expires_at=None,
    revoked=False,
    participation=False,
):
    """A share whose email went out (with the patient's consent that the physician
    takes part when `participation`); returns (share, token)."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    share = Share.objects.create(
        report=case.report,
        created_by=case.owner,
        recipient_email=email,
        expires_at=expires_at or now + datetime.timedelta(days=14),
        consent_version=consent.VERSION,
        consented_at=now,
        token_hash=token_hash(token),
        sent_at=now,
        revoked_at=now if revoked else None,
        revoked_by=case.owner if revoked else None,
        participation_consent_version=consent.PARTICIPATION_VERSION if participation else "",
        participation_consented_at=now if participation else None,
    )
    return share, token


def smart_link(*, case, passcode="", email="dr.primary@clinic.example"):
    """A share made with its SMART Health Link through the service; returns
    (shared, payload, token): the shlink payload and the manifest URL's token."""
    from requests_app.aftercare import services
    from secondop import shlink

    shared = services.share_create_with_smart_link(
        actor=case.owner, case_ref=case.uuid, email=email, consented=True, passcode=passcode
    )
    payload = shlink.parse(shared.link)
    return shared, payload, payload.url.rstrip("/").rpartition("/")[2]
