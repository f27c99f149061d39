"""Aftercare pages. Views are thin: the case through the access rule (404 for
outsiders), a form, one service call, a response.

The physician's pages (`shared_*`) are the only pages in SecondOp that show
PHI to someone without an account: the token in the URL is the credential.
They send no Referer onwards, are never cached, and keep the token out of
every log (services.path_without_token)."""

import csv
import json
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from requests_app.access import for_viewer, patient_case_page
from requests_app.consultations import doctor_calls
from requests_app.models import CaseStatus
from requests_app.reports import fhir
from requests_app.reports.wording import citations
from secondop import shlink
from secondop.accounts.models import Role
from secondop.accounts.permissions import role_required
from secondop.filenames import content_disposition
from secondop.refusals import page_status

from . import consent, selectors, services
from .forms import (
    ConcordanceFilterForm,
    FollowUpAnswerForm,
    FollowUpQuestionForm,
    PhysicianAnswerForm,
    PhysicianCallRequestForm,
    PhysicianQuestionForm,
    RatingForm,
    ShareForm,
)
from .models import FollowUpQuestion, PhysicianQuestion, ShareOpening

logger = logging.getLogger(__name__)


def _posted(request):
    """The form's data: an empty POST is still a POST (its errors are shown)."""
    return request.POST if request.method == "POST" else None


# --- The patient sends the report to their physician ---------------------------------------
@sensitive_post_parameters("passcode")
@patient_case_page
def share(request, case):
    version = selectors.released_version(case=case)
    if version is None or case.status == CaseStatus.WITHDRAWN:
        messages.info(request, _("You can send your report to your doctor once it is ready."))
        return redirect("requests_app:case_detail", case.uuid)
    form = ShareForm(_posted(request), initial={"email": case.pcp_email, "name": case.pcp_name})
    new_link = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["smart_link"]:
                shared = services.share_create_with_smart_link(
                    actor=request.user,
                    case_ref=case.uuid,
                    email=data["email"],
                    name=data["name"],
                    consented=data["consent"],
                    passcode=data["passcode"],
                    participation=data["participation"],
                    language=data["language"],
                )
            else:
                shared = services.Shared(
                    share=services.share_create(
                        actor=request.user,
                        case_ref=case.uuid,
                        email=data["email"],
                        name=data["name"],
                        consented=data["consent"],
                        participation=data["participation"],
                        language=data["language"],
                    )
                )
        except services.AftercareError as refusal:
            refusal.apply_to(form)
        else:
            _say_sent(request, shared)
            if not shared.link:
                return redirect("aftercare:share", case.uuid)
            # The link holds the files' key: it is shown on this answer only (no
            # redirect, nothing cached), never stored. A fresh form below.
            new_link = shared.link
            form = ShareForm(initial={"email": case.pcp_email, "name": case.pcp_name})
    context = {
        "case": case,
        "form": form,
        "shares": selectors.shares_for_case(case=case),
        "now": timezone.now(),
        "link_days": settings.SHARE_LINK_DAYS,
        "new_link": new_link,
        "new_link_qr": shlink.qr_svg_data_uri(new_link) if new_link else "",
    }
    response = render(request, "aftercare/share.html", context, status=page_status(form))
    if new_link:
        add_never_cache_headers(response)
    return response


@sensitive_post_parameters("link")
@require_POST
@patient_case_page
def share_printed(request, case):
    """The SMART Health Link just shown, as a PDF to print or fax: a cover page with
    its QR code, then the signed report. The link comes back from the page that
    showed it (the server never kept its key); the answer is never cached."""
    try:
        cover = services.smart_link_cover(
            actor=request.user, case_ref=case.uuid, text=request.POST.get("link", "")
        )
    except services.AftercareError as refusal:
        messages.error(request, refusal.message)
        return redirect("aftercare:share", case.uuid)
    response = HttpResponse(cover.pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition(cover.filename, inline=False)
    add_never_cache_headers(response)
    return response


def _say_sent(request, shared) -> None:
    share = shared.share
    messages.success(
        request,
        _("We are emailing the link to %(email)s. It works until %(date)s.")
        % {
            "email": share.recipient_email,
            "date": date_format(timezone.localtime(share.expires_at), "DATE_FORMAT"),
        },
    )
    if shared.link_made_before:
        messages.info(
            request,
            _(
                "The QR code for this link was made a moment ago and shown once. If you "
                "did not keep it, withdraw the link and make a new one."
            ),
        )


@require_POST
@login_required
def share_revoke(request, share_ref):
    share = services.share_revoke(actor=request.user, share_ref=share_ref)
    messages.success(request, _("The link is withdrawn. It no longer opens your report."))
    return redirect("aftercare:share", share.report.case.uuid)


# --- The physician's link -------------------------------------------------------------------


def physician_headers(request, response):
    """No Referer to wherever the physician goes next, nothing kept by the
    browser or a proxy, no search engine. Django's request logger would print
    a refused link's path (with its token): it is logged here without it."""
    response["Referrer-Policy"] = "no-referrer"
    add_never_cache_headers(response)
    response["X-Robots-Tag"] = "noindex, nofollow"
    if response.status_code >= 400:
        response._has_been_logged = True
        logger.warning(
            "Physician's link refused (%s): %s",
            response.status_code,
            services.path_without_token(request.path),
        )
    return response


def refused_page(request, refusal: services.ShareRefused):
    response = render(
        request,
        "aftercare/shared_refused.html",
        {"reason": refusal.reason, "share": refusal.share},
        status=refusal.status,
    )
    return physician_headers(request, response)


# No CSRF check: the POST is authorised by the token in its URL, not by a cookie
# (the view never reads request.user), so a forged cross-site POST needs the token
# itself. And the page's Referrer-Policy (no-referrer) makes the browser send
# "Origin: null", which Django's check would refuse.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def shared_report(request, token):
    """The report the patient sent, read-only, for the physician (no account);
    with the patient's consent on the share, their one question to the
    specialist (POST) and its answer."""
    form = PhysicianQuestionForm(_posted(request))
    if request.method == "POST":
        try:
            services.participating_share(token=token)
        except services.ShareRefused as refusal:
            return refused_page(request, refusal)
        if form.is_valid():
            try:
                services.physician_question_ask(token=token, text=form.cleaned_data["text"])
            except services.ShareRefused as refusal:
                return refused_page(request, refusal)
            except services.AftercareError as refusal:
                refusal.apply_to(form)
            else:
                messages.success(
                    request,
                    _("Your question is sent to the specialist. Their answer will show here."),
                )
                return physician_headers(request, redirect("aftercare:shared_report", token))
    return _shared_page(request, token, form=form)


def _shared_page(request, token, *, form, call_form=None):
    """The physician's page: the report (its opening recorded), their question, the
    call between the doctors."""
    try:
        opened = services.share_open(token=token)
    except services.ShareRefused as refusal:
        return refused_page(request, refusal)
    version = opened.version
    share = opened.share
    context = {
        "case": opened.case,
        "share": share,
        "version": version,
        "answers": list(version.answers.all()),
        "reviewed": list(version.reviewed.all()),
        **citations(version),
        "token": token,
        "question": selectors.physician_question(share=share),
        "question_refusal": services.physician_question_refusal(share=share)
        if share.may_take_part
        else "",
        "form": form,
        **_call_context(share, call_form),
    }
    status = page_status(call_form) if call_form is not None else page_status(form)
    response = render(request, "aftercare/shared_report.html", context, status=status)
    return physician_headers(request, response)


def _call_context(share, call_form=None) -> dict:
    """The call between the doctors on the physician's page: the one this link asked
    for or is invited to, or the form to ask (the patient's consent covering it, and
    the opinion differing)."""
    case = share.report.case
    calls = [c for c in doctor_calls.calls_for_case(case=case) if c.share_id == share.pk]
    may_call = share.may(consent.CALL)
    return {
        "calls": calls,
        "may_call": may_call,
        "call_refusal": doctor_calls.refusal(case=case) if may_call else "",
        "call_form": call_form or PhysicianCallRequestForm(),
        "may_send_records": share.may(consent.RECORDS)
        and case.status in (CaseStatus.DELIVERED, CaseStatus.FOLLOW_UP),
    }


@csrf_exempt
@require_POST
def shared_call_request(request, token):
    """The physician asks, through their link, for a call with the specialist."""
    form = PhysicianCallRequestForm(request.POST)
    try:
        services.participating_share(token=token)
        if form.is_valid():
            doctor_calls.doctor_call_request_by_physician(
                token=token, topic=form.cleaned_data["topic"]
            )
            messages.success(
                request,
                _(
                    "Your call is asked for. The specialist will propose times, and we will "
                    "email you a link to choose one."
                ),
            )
            return physician_headers(request, redirect("aftercare:shared_report", token))
    except services.ShareRefused as refusal:
        return refused_page(request, refusal)
    except doctor_calls.DoctorCallError as refusal:
        refusal.apply_to(form)
    return _shared_page(request, token, form=PhysicianQuestionForm(), call_form=form)


@require_GET
def shared_report_pdf(request, token):
    try:
        opened = services.share_open(token=token, kind=ShareOpening.Kind.DOWNLOAD)
    except services.ShareRefused as refusal:
        return refused_page(request, refusal)
    version = opened.version
    try:
        pdf = default_storage.open(version.pdf_key, "rb")
    except (FileNotFoundError, OSError):
        logger.error("The PDF of %s is missing from storage", version)
        # The refused page, not a 404: django.request would log the path, and the
        # path holds the physician's live token.
        return refused_page(
            request, services.ShareRefused(services.Refusal.UNAVAILABLE, opened.share)
        )
    name = f"second-opinion-{opened.case.reference}-v{version.number}.pdf"
    response = FileResponse(pdf, content_type="application/pdf", as_attachment=True, filename=name)
    return physician_headers(request, response)


@require_GET
def shared_report_fhir(request, token):
    """The same report as a FHIR R4 Bundle (reports.fhir), for the physician's
    record system: the link's rules, its opening recorded as a download."""
    try:
        opened = services.share_open(token=token, kind=ShareOpening.Kind.DOWNLOAD)
    except services.ShareRefused as refusal:
        return refused_page(request, refusal)
    try:
        data = fhir.bundle_json(opened.version)
    except fhir.PdfUnavailable:
        logger.error("The PDF of %s is missing from storage", opened.version)
        return refused_page(
            request, services.ShareRefused(services.Refusal.UNAVAILABLE, opened.share)
        )
    response = HttpResponse(data, content_type=fhir.CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition(
        fhir.filename(opened.version), inline=False
    )
    return physician_headers(request, response)


# --- The same share as a SMART Health Link: the manifest an app asks for -----------------
def _manifest_headers(request, response):
    # Apps that read SMART Health Links run in browsers too: any origin may ask
    # (the token and the passcode are the credentials, no cookie is read).
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = "POST"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    return physician_headers(request, response)


MANIFEST_BODY_MAX = 4096


@csrf_exempt
@sensitive_post_parameters()
@sensitive_variables("body", "passcode")
@require_http_methods(["POST", "OPTIONS"])
def smart_link_manifest(request, token):
    """POST {"recipient": ..., "passcode"?: ...} -> {"files": [{contentType,
    embedded}]} (SMART Health Links). 401 {"remainingAttempts"} for a wrong
    passcode; 404 for a link unknown, revoked, expired or stopped."""
    if request.method == "OPTIONS":
        return _manifest_headers(request, HttpResponse(status=204))
    try:
        if int(request.META.get("CONTENT_LENGTH") or 0) > MANIFEST_BODY_MAX:
            raise ValueError
        body = json.loads(request.body or b"null")
        if not isinstance(body, dict):
            raise ValueError
        recipient, passcode = body.get("recipient"), body.get("passcode") or ""
        if not isinstance(recipient, str) or not isinstance(passcode, str):
            raise ValueError
    except ValueError:
        return _manifest_headers(
            request,
            JsonResponse(
                {"error": "Send JSON with a recipient (and the passcode if the link has one)."},
                status=400,
            ),
        )
    try:
        files = services.smart_link_manifest(token=token, recipient=recipient, passcode=passcode)
    except services.SmartLinkRefused as refusal:
        answer: dict = {"error": refusal.message}
        if refusal.remaining is not None:
            answer["remainingAttempts"] = refusal.remaining
        return _manifest_headers(request, JsonResponse(answer, status=refusal.status))
    answer = {"files": [{"contentType": f.content_type, "embedded": f.embedded} for f in files]}
    return _manifest_headers(request, JsonResponse(answer))


# --- Follow-up questions ------------------------------------------------------------------
@patient_case_page
def follow_up(request, case):
    window = selectors.follow_up_window(case=case)
    if window.delivered_at is None:
        return redirect("requests_app:case_detail", case.uuid)
    form = FollowUpQuestionForm(_posted(request))
    # The service checks the window under the case's lock (a double submit of the
    # last question allowed is that question, not a refusal).
    if request.method == "POST" and form.is_valid():
        try:
            services.follow_up_ask(
                actor=request.user,
                case_ref=case.uuid,
                text=form.cleaned_data["text"],
            )
        except services.AftercareError as refusal:
            refusal.apply_to(form)
        else:
            messages.success(
                request,
                _(
                    "Your question is sent to the specialist. We will "
                    "tell you when the answer is ready."
                ),
            )
            return redirect("aftercare:follow_up", case.uuid)
    elif request.method == "POST" and not window.can_ask:
        form.add_error(None, window.refusal)
    context = {
        "case": case,
        "window": window,
        "form": form,
        "questions": list(selectors.follow_ups(case=case)),
    }
    return render(request, "aftercare/follow_up.html", context, status=page_status(form))


@login_required
def follow_up_answer(request, question_ref):
    """The assigned specialist's page; anyone else gets a 404 (other roles before
    the case is read, so no access row for them)."""
    if request.user.role != Role.SPECIALIST:
        raise Http404
    question = for_viewer(
        FollowUpQuestion,
        question_ref,
        request.user,
        sees=selectors.ANSWERS_FOLLOW_UPS,
        needs=selectors.ANSWERS_FOLLOW_UPS,
        log=False,  # the case's read is logged (case_for_viewer), as for its page
    )
    case = question.case
    if question.answered_at is not None:
        messages.info(request, _("This question is already answered."))
        return redirect("requests_app:staff_case", case.uuid)
    form = FollowUpAnswerForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.follow_up_answer(
                actor=request.user,
                question_ref=question.uuid,
                kind=form.cleaned_data["kind"],
                answer=form.cleaned_data["answer"],
            )
        except services.AftercareError as refusal:
            refusal.apply_to(form)
        else:
            messages.success(request, _("Your answer is sent to the patient."))
            return redirect("requests_app:staff_case", case.uuid)
    context = {
        "case": case,
        "question": question,
        "form": form,
        "earlier": [q for q in selectors.follow_ups(case=case) if q.pk != question.pk],
    }
    return render(request, "aftercare/follow_up_answer.html", context, status=page_status(form))


# --- The physician's question, answered by the specialist ------------------------------------
@login_required
def physician_answer(request, question_ref):
    """The assigned specialist answers the patient's physician; anyone else 404."""
    if request.user.role != Role.SPECIALIST:
        raise Http404
    question = for_viewer(
        PhysicianQuestion,
        question_ref,
        request.user,
        sees=selectors.ANSWERS_FOLLOW_UPS,
        needs=selectors.ANSWERS_FOLLOW_UPS,
        log=False,  # the case's read is logged (case_for_viewer), as for its page
    )
    case = question.case
    if question.answered_at is not None:
        messages.info(request, _("This question is already answered."))
        return redirect("requests_app:staff_case", case.uuid)
    form = PhysicianAnswerForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.physician_question_answer(
                actor=request.user, question_ref=question.uuid, answer=form.cleaned_data["answer"]
            )
        except services.AftercareError as refusal:
            refusal.apply_to(form)
        else:
            messages.success(request, _("Your answer is sent to the patient and their doctor."))
            return redirect("requests_app:staff_case", case.uuid)
    context = {"case": case, "question": question, "form": form}
    return render(request, "aftercare/physician_answer.html", context, status=page_status(form))


@require_POST
@login_required
def participation_withdraw(request, share_ref):
    share = services.participation_withdraw(actor=request.user, share_ref=share_ref)
    messages.success(
        request,
        _("Your doctor can no longer ask questions, send records or ask for a call on this link."),
    )
    return redirect("aftercare:share", share.report.case.uuid)


# --- Rating ------------------------------------------------------------------------------
@patient_case_page
def rating(request, case):
    if case.status != CaseStatus.CLOSED or hasattr(case, "rating"):
        return redirect("requests_app:case_detail", case.uuid)
    form = RatingForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.rating_create(
                actor=request.user,
                case_ref=case.uuid,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
            )
        except services.AftercareError as refusal:
            refusal.apply_to(form)
        else:
            messages.success(request, _("Thank you for rating our service."))
            return redirect("requests_app:case_detail", case.uuid)
    return render(
        request,
        "aftercare/rating.html",
        {"case": case, "form": form},
        status=page_status(form),
    )


# --- Concordance -----------------------------------------------------------------------------
# Coordinators, and administrators too. Administrators see no case (DESIGN.md,
# Access), and this page shows none: counts of coded opinions by specialty and
# period, with no reference, name, date of birth or free text, so no count can
# be followed back to a case from here. It is the quality view the people who
# manage the specialties and the specialist panel need.
@require_GET
@role_required(Role.COORDINATOR, Role.ADMIN)
def concordance(request):
    form = ConcordanceFilterForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else True
    data = form.cleaned_data if form.is_bound and valid else {}
    rows, total = selectors.concordance(start=data.get("start"), end=data.get("end"))
    figures = selectors.concordance_published(rows, total)
    if valid and request.GET.get("format") == "csv":
        return _concordance_csv(figures, data)
    context = {
        "form": form,
        "figures": figures,
        "published": selectors.PUBLISHED,
        "start": data.get("start"),
        "end": data.get("end"),
        "csv_query": _csv_query(request),
    }
    return render(request, "aftercare/concordance.html", context, status=page_status(form))


def _csv_query(request) -> str:
    query = request.GET.copy()
    query["format"] = "csv"
    return query.urlencode()


def _csv_text(value: str) -> str:
    # A specialty's name is typed in the admin: a spreadsheet must not run it.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _concordance_csv(figures, data) -> HttpResponse:
    """The page's figures as a spreadsheet: the same cells hidden, with the same
    words ("fewer than 11", "hidden"), never a number the page does not show."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    start, end = data.get("start"), data.get("end")
    name = f"concordance-{start or 'start'}-{end or 'today'}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    if figures.too_few:
        writer.writerow(["reports"])
        writer.writerow([str(selectors.FEWER_THAN)])
        return response
    header = ["specialty", "reports"]
    for opinion in selectors.DIAGNOSIS_COLUMNS:
        header += [
            f"diagnosis_{opinion or 'not_recorded'}",
            f"diagnosis_{opinion or 'not_recorded'}_percent",
        ]
    for opinion in selectors.TREATMENT_COLUMNS:
        header += [
            f"treatment_{opinion or 'not_recorded'}",
            f"treatment_{opinion or 'not_recorded'}_percent",
        ]
    header += ["treatment_changed", "treatment_changed_percent"]
    writer.writerow(header)

    def cells(figure) -> list:
        if not figure.shown:
            return [figure.label or "", ""]
        return [figure.count, "" if figure.percent is None else figure.percent]

    for row in [*figures.rows, figures.total]:
        line = [_csv_text(row.specialty), row.total]
        for figure in (*row.diagnosis, *row.treatment, row.treatment_changed):
            line += cells(figure)
        writer.writerow(line)
    return response
