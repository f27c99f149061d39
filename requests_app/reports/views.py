"""The written report's pages. Views are thin: the case through the access rule
(404 for outsiders, 403 for an insider without the right), a form, one service
call, a response. Signing asks the specialist to confirm it is them (allauth's
re-authentication) after the access check, so an outsider still gets the 404."""

import hashlib
import logging

from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from records.models import Category
from records.selectors import records_for_viewer
from requests_app import access
from requests_app.access import STAFF_CARE_TEAM, CaregiverRight, Relation, patient_case_page
from requests_app.consultations.selectors import consultation_standing
from requests_app.models import CaseStatus
from secondop import storage
from secondop.accounts.models import Role
from secondop.audit.context import client_ip
from secondop.audit.models import AccessLog
from secondop.audit.services import log_access
from secondop.filenames import content_disposition
from secondop.posting import form_post, posted
from secondop.refusals import page_status
from secondop.timezones import format_local, state_zone_name

from . import fhir, selectors, services, third_opinion
from .forms import (
    VERIFY_MAX_BYTES,
    AmendForm,
    ReconcileForm,
    ReportForm,
    ReturnForm,
    ThirdOpinionForm,
    VerifyForm,
)
from .models import Report, VersionStatus
from .pdf import document_context
from .wording import opinion_words, side_by_side

logger = logging.getLogger(__name__)

VERIFY_PER_HOUR = getattr(settings, "REPORTS_VERIFY_PER_HOUR", 20)
# The largest body the check reads: the file and room for the code and the form.
VERIFY_MAX_BODY = VERIFY_MAX_BYTES + 64 * 1024


# --- Access ----------------------------------------------------------------------------------
# The report's pages load the case through selectors.case_for_report (the access
# rule): its readers are the care team; the writing pages are the specialist's (the
# patient never sees a draft: 404; the case manager may read but not write: 403).
# Pages log the staff read; a save through the rule logs nothing (the audit log has
# the change), so an autosave every few seconds is no read.


def _report_form(request, case, draft, data=None) -> ReportForm:
    visible = list(records_for_viewer(viewer=request.user, case=case))
    return ReportForm(
        data,
        initial=ReportForm.initial_for(draft),
        records=visible,
        attachable=[
            r
            for r in visible
            if r.category == Category.SPECIALIST_REPORT and r.mime == "application/pdf"
        ],
        questions=case.questions.all(),
    )


def _draft_of(case):
    report = Report.objects.filter(case=case).first()
    if report is None:
        return None, False
    return report.versions.filter(status=VersionStatus.DRAFT).first(), report.versions.exists()


def _saved_at(version) -> str:
    return format_local(version.updated_at, "")  # "2:05 PM EST", in the writer's zone


# --- The report of a case ----------------------------------------------------------------------
@require_GET
@login_required
def report_case(request, ref):
    """The patient: the report they can read now. The care team: every version,
    and what each of them may do next."""
    user = request.user
    case = selectors.case_for_report(
        viewer=user,
        ref=ref,
        sees=selectors.READERS,
        needs=selectors.READERS,
        caregiving=CaregiverRight.REPORT,
    )
    if selectors.is_patient_side(viewer=user, case=case):
        # The patient's side sees the released versions, newest first: the first is
        # the one they read (selectors.released_version), read with the others.
        released = selectors.versions_of(viewer=user, case=case)
        if not released:
            raise Http404
        return _reading_page(request, released[0], case, versions=released)
    versions = selectors.versions_of(viewer=user, case=case)
    draft = next((v for v in versions if v.status == VersionStatus.DRAFT), None)
    newest_signed = next((v for v in versions if v.status != VersionStatus.DRAFT), None)
    returned = next((v for v in versions if v.status == VersionStatus.RETURNED), None)
    is_author = selectors.is_author(viewer=user, case=case)
    context = {
        "case": case,
        "versions": versions,
        "draft": draft,
        "newest_signed": newest_signed,
        "returned": returned
        if draft and returned and returned.number == draft.number - 1
        else None,
        "is_author": is_author,
        "is_manager": selectors.is_case_manager(viewer=user, case=case),
        "can_start": is_author and not versions and case.status in services.WRITABLE_STATUSES,
        "can_amend": is_author
        and draft is None
        and newest_signed is not None
        and case.status in services.AMENDABLE_STATUSES,
    }
    return render(request, "reports/case_report.html", context)


def _reading_page(request, version, case, *, versions=None, return_form=None, status=200):
    """`versions`: versions_of for this reader, when the view has read them."""
    version = selectors.with_contents(version)
    user = request.user
    is_owner = selectors.is_owner(viewer=user, case=case)
    is_caregiver = selectors.report_relation(viewer=user, case=case) == Relation.CAREGIVER
    patient_side = is_owner or is_caregiver
    if versions is None:
        versions = selectors.versions_of(viewer=user, case=case)
    newest = versions[0] if versions else None  # selectors.latest_version
    third = third_opinion.third_opinion_of(case=case) if is_owner else None
    context = {
        **document_context(version, case=case),
        "is_owner": is_owner,
        "is_caregiver": is_caregiver,
        "is_newest": newest is not None and newest.pk == version.pk,
        "newest_url": ""
        if newest is None or newest.pk == version.pk
        else (
            reverse("reports:case", args=[case.uuid])
            if patient_side
            else reverse("reports:version", args=[newest.uuid])
        ),
        "others": [v for v in versions if v.pk != version.pk and v.status != VersionStatus.DRAFT],
        "can_review": (
            selectors.is_case_manager(viewer=user, case=case)
            and version.status == VersionStatus.SIGNED
            and version.pdf_ready
            and newest is not None
            and newest.pk == version.pk
        ),
        "return_form": return_form or ReturnForm(),
        # The patient's page opens with the two opinions when they differ.
        "compare": side_by_side(version, timezone.localdate()) if patient_side else None,
        # On a request whose opinion differs: a third opinion, offered or asked for (the
        # patient's to ask; a caregiver reads the page without it).
        "third": third,
        "third_offered": is_owner
        and third_opinion.third_opinion_offered(
            viewer=user,
            case=case,
            # The owner's versions are the released ones, newest first.
            released=newest,
            asked=third is not None,
        ),
    }
    template = "reports/patient_report.html" if patient_side else "reports/version.html"
    return render(request, template, context, status=status)


@require_GET
@login_required
def version_detail(request, version_ref):
    version = selectors.version_for_viewer(
        viewer=request.user,
        ref=version_ref,
        sees=selectors.READERS,
        needs=selectors.READERS,
        caregiving=CaregiverRight.REPORT,
    )
    return _reading_page(request, version, version.report.case)


@require_GET
@login_required
def version_pdf(request, version_ref):
    """The signed PDF: a permission-checked stream (local files) or a presigned GET
    of about a minute (S3). Every download is in the access log."""
    version = selectors.version_for_viewer(
        viewer=request.user,
        ref=version_ref,
        kind=AccessLog.Kind.DOWNLOAD,
        sees=selectors.READERS,
        needs=selectors.READERS,
        caregiving=CaregiverRight.REPORT,
    )
    if not version.pdf_ready:
        raise Http404
    case = version.report.case
    disposition = content_disposition(
        f"SecondOp report {case.reference} v{version.number}.pdf", inline=False
    )
    if storage.s3_mode():
        return redirect(
            storage.download_url(
                key=version.pdf_key, disposition=disposition, content_type="application/pdf"
            )
        )
    if not default_storage.exists(version.pdf_key):
        raise Http404
    response = FileResponse(
        default_storage.open(version.pdf_key, "rb"), content_type="application/pdf"
    )
    response["Content-Disposition"] = disposition
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@login_required
def version_fhir(request, version_ref):
    """A released version as a FHIR R4 Bundle with its signed PDF inside, for
    another health system's records (reports.fhir). Whoever may download the PDF
    may download this; a version not released is a 404. Logged as a download."""
    version = selectors.version_for_viewer(
        viewer=request.user, ref=version_ref, kind=AccessLog.Kind.DOWNLOAD, released_only=True
    )
    try:
        data = fhir.bundle_json(version)
    except fhir.PdfUnavailable:
        logger.error("The FHIR bundle of %s has no PDF to carry", version)
        raise Http404 from None
    response = HttpResponse(data, content_type=fhir.CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition(fhir.filename(version), inline=False)
    response["Cache-Control"] = "private, no-store"
    return response


# --- Writing -----------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@login_required
def report_write(request, ref):
    case = selectors.case_for_report(
        viewer=request.user,
        ref=ref,
        sees=STAFF_CARE_TEAM,
        needs=selectors.AUTHOR,
        log=request.method == "GET",
    )
    draft, has_versions = _draft_of(case)
    if draft is None and (has_versions or case.status not in services.WRITABLE_STATUSES):
        messages.info(
            request,
            _("There is no draft to write. A signed report is changed by amending it.")
            if has_versions
            else _("A report can be written while the case is in review."),
        )
        return redirect("reports:case", case.uuid)
    form = _report_form(request, case, draft, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            draft = services.report_draft_save(
                actor=request.user, case_ref=case.uuid, **form.service_data()
            )
        except services.ReportError as refusal:
            refusal.apply_to(form)
        else:
            if request.POST.get("action") == "sign":
                return redirect("reports:sign", case.uuid)
            messages.success(request, _("Draft saved at %(time)s.") % {"time": _saved_at(draft)})
            return redirect("reports:write", case.uuid)
    returned = None
    if draft is not None and draft.number > 1:
        returned = draft.report.versions.filter(
            number=draft.number - 1, status=VersionStatus.RETURNED
        ).first()
    context = {
        "case": case,
        "draft": draft,
        "form": form,
        "returned": returned,
        "saved_at": _saved_at(draft) if draft else "",
    }
    return render(request, "reports/write.html", context, status=page_status(form))


@require_POST
@login_required
def report_autosave(request, ref):
    """report-autosave.js posts the form here a few seconds after typing stops."""
    case = selectors.case_for_report(
        viewer=request.user, ref=ref, sees=STAFF_CARE_TEAM, needs=selectors.AUTHOR, log=False
    )
    draft, _has_versions = _draft_of(case)
    form = _report_form(request, case, draft, request.POST)
    if not form.is_valid():
        return JsonResponse(
            {
                "message": _(
                    "Not saved: some answers need correcting. Press Save draft to see what."
                ),
                "errors": form.errors.get_json_data(),
            },
            status=400,
        )
    try:
        draft = services.report_draft_save(
            actor=request.user, case_ref=case.uuid, **form.service_data()
        )
    except services.ReportError as error:
        return JsonResponse({"message": error.message, "errors": {}}, status=409)
    saved_at = _saved_at(draft)
    return JsonResponse(
        {"saved_at": saved_at, "message": _("Saved at %(time)s") % {"time": saved_at}}
    )


@require_http_methods(["GET", "POST"])
@login_required
def report_sign(request, ref):
    """What signing needs, then the signature. The check of who is signing comes
    after the access check, so an outsider still gets the case's 404."""
    case = selectors.case_for_report(
        viewer=request.user,
        ref=ref,
        sees=STAFF_CARE_TEAM,
        needs=selectors.AUTHOR,
        log=request.method == "GET",
    )
    if request.method == "POST":
        return _sign(request, case)
    draft, _has_versions = _draft_of(case)
    if draft is None:
        return redirect("reports:case", case.uuid)
    standing = consultation_standing(case=case)
    context = {
        "case": case,
        "draft": draft,
        "problems": services.signing_problems(draft),
        "consultation": standing,
        "consultation_url": reverse("consultations:detail", args=[standing.consultation.uuid])
        if standing and standing.consultation
        else reverse("requests_app:staff_case", args=[case.uuid]),
        "can_sign_now": case.status in {CaseStatus.IN_REVIEW, *services.AMENDABLE_STATUSES},
    }
    return render(request, "reports/sign.html", context)


@reauthentication_required(app="reports")
def _sign(request, case):
    try:
        version = services.report_sign(actor=request.user, case_ref=case.uuid)
    except services.ReportError as error:
        messages.error(request, error.message)
        return redirect("reports:sign", case.uuid)
    messages.success(
        request,
        _("Version %(n)s is signed. We are preparing its PDF; the case manager is told.")
        % {"n": version.number},
    )
    return redirect("reports:version", version.uuid)


@require_http_methods(["GET", "POST"])
@login_required
def report_amend(request, ref):
    case = selectors.case_for_report(
        viewer=request.user,
        ref=ref,
        sees=STAFF_CARE_TEAM,
        needs=selectors.AUTHOR,
        log=request.method == "GET",
    )
    form = AmendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.report_amend(
                actor=request.user,
                case_ref=case.uuid,
                reason=form.cleaned_data["reason"],
            )
        except services.ReportError as refusal:
            refusal.apply_to(form)
        else:
            messages.success(
                request,
                _(
                    "A new version is started from the signed one. Change "
                    "what needs changing, then sign it."
                ),
            )
            return redirect("reports:write", case.uuid)
    return render(
        request,
        "reports/amend.html",
        {"case": case, "form": form},
        status=page_status(form),
    )


# --- The case manager's review -------------------------------------------------------------------
@require_POST
@login_required
def version_release(request, version_ref):
    version = selectors.version_for_viewer(
        viewer=request.user, ref=version_ref, sees=STAFF_CARE_TEAM, needs=selectors.MANAGER
    )
    try:
        services.report_release(actor=request.user, version_ref=version.uuid)
    except services.ReportError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Released. The patient is told their report is ready."))
    return redirect("reports:version", version.uuid)


@require_POST
@login_required
def version_return(request, version_ref):
    version = selectors.version_for_viewer(
        viewer=request.user, ref=version_ref, sees=STAFF_CARE_TEAM, needs=selectors.MANAGER
    )
    form = ReturnForm(request.POST)
    if form.is_valid():
        try:
            services.report_return(
                actor=request.user,
                version_ref=version.uuid,
                comment=form.cleaned_data["comment"],
            )
        except services.ReportError as refusal:
            refusal.apply_to(form)
        else:
            messages.success(request, _("Returned to the specialist with your comment."))
            return redirect("reports:version", version.uuid)
    return _reading_page(
        request, version, version.report.case, return_form=form, status=page_status(form)
    )


# --- The public check of a PDF ---------------------------------------------------------------------
def _verify_limited(request) -> bool:
    key = f"reports:verify:{client_ip(request) or 'unknown'}:{timezone.now():%Y%m%d%H}"
    cache.add(key, 0, 3700)
    return cache.incr(key) > VERIFY_PER_HOUR


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _csrf_refusal(request):
    """The CSRF check the middleware would make (it reads request.POST, so the
    view makes it once the limits have been checked)."""
    return CsrfViewMiddleware(lambda _request: None).process_view(request, None, (), {})


@csrf_exempt  # checked in the view, after the limits: the check parses the body
@require_http_methods(["GET", "POST"])
def verify(request):
    """Anyone holding a report checks it is authentic and unaltered: the code and
    the file's SHA-256 against the signed original. It shows who signed which
    version when, and nothing of what the report says.

    A public form that takes a file: the rate limit and the body's size are
    checked before anything reads the body (a too-large one is never read)."""
    if request.method == "POST":
        if _verify_limited(request):
            return render(
                request, "reports/verify.html", {"form": VerifyForm(), "limited": True}, status=429
            )
        if _content_length(request) > VERIFY_MAX_BODY:
            return render(
                request,
                "reports/verify.html",
                {"form": VerifyForm(), "too_large": True},
                status=413,
            )
        refused = _csrf_refusal(request)
        if refused is not None:
            return refused
    form = VerifyForm(request.POST or None, request.FILES or None)
    result, status = None, 200
    if request.method == "POST":
        if form.is_valid():
            digest = hashlib.sha256()
            for chunk in form.cleaned_data["document"].chunks():
                digest.update(chunk)
            version = selectors.version_by_code(
                code=form.cleaned_data["code"], sha256=digest.hexdigest()
            )
            if version is not None:
                log_access(viewer=None, obj=version)
            result = {"version": version}
        else:
            status = 400
    return render(request, "reports/verify.html", {"form": form, "result": result}, status=status)


# --- A blinded third opinion (third_opinion.py) ----------------------------------------------
@require_http_methods(["GET", "POST"])
@patient_case_page
def third_opinion_ask(request, case):
    """The patient asks for a third opinion on the request whose opinion differs:
    what it is, its fee, one button. Offered only then (else a 404); once asked,
    this leads to the third opinion's own request."""
    if existing := third_opinion.third_opinion_of(case=case):
        return redirect("requests_app:case_detail", existing.uuid)
    if not third_opinion.third_opinion_offered(viewer=request.user, case=case):
        raise Http404
    form = ThirdOpinionForm(posted(request))
    return form_post(
        request,
        form,
        act=lambda _data: third_opinion.third_opinion_request(
            actor=request.user, case_ref=case.uuid
        ),
        success=_(
            "You asked for a third opinion. A coordinator finds a specialist who has not "
            "read the second opinion; we will tell you when they accept."
        ),
        then=lambda child: reverse("requests_app:case_detail", args=[child.uuid]),
        page=lambda form, status: render(
            request,
            "reports/third_opinion_ask.html",
            {
                "case": case,
                "form": form,
                "price": third_opinion.third_opinion_price(),
                "version": selectors.released_version(case=case),
            },
            status=status,
        ),
        refusals=third_opinion.ThirdOpinionError,
    )


@require_GET
@login_required
def opinions(request, ref):
    """The three views side by side on a third opinion: for the patient once it is
    released, the case manager, and its specialist once they have signed (a 404
    before: they write blind)."""
    seen = third_opinion.opinions_for_viewer(viewer=request.user, ref=ref)
    if seen.relation == Relation.OWNER and (zone := state_zone_name(seen.case.patient_state)):
        timezone.activate(zone)
    return render(
        request,
        "reports/opinions.html",
        {
            "seen": seen,
            "case": seen.case,
            "is_owner": seen.relation == Relation.OWNER,
            "second_words": opinion_words(seen.second),
            "third_words": opinion_words(seen.third),
        },
    )


@require_http_methods(["GET", "POST"])
@access.case_page(roles={Role.COORDINATOR}, needs={Relation.CASE_MANAGER})
def reconcile(request, case):
    """The case manager's short note on how the opinions compare (its form is on
    the staff case page too)."""
    if case.parent_id is None:
        raise Http404
    form = ReconcileForm(posted(request), initial={"text": case.reconciliation})
    return form_post(
        request,
        form,
        act=lambda data: third_opinion.third_opinion_reconcile(
            actor=request.user, case_ref=case.uuid, text=data["text"]
        ),
        success=_("Saved: the patient reads it with the opinions side by side."),
        then=lambda _case: reverse("requests_app:staff_case", args=[case.uuid]),
        page=lambda form, status: render(
            request, "reports/reconcile.html", {"case": case, "form": form}, status=status
        ),
        refusals=third_opinion.ThirdOpinionError,
    )
