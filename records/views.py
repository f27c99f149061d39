"""Records pages and the upload endpoints. Views are thin: access through the
selectors (404 for outsiders), one service call, a response. The JSON endpoints
serve records-upload.js (the contract is in that file's header)."""

import contextlib
import datetime
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from requests_app import access
from requests_app.access import case_page, patient_case_page
from requests_app.models import CLOSED_STATES
from requests_app.workflow import TransitionError
from secondop.audit.models import AccessLog
from secondop.audit.services import log_access, log_access_list
from secondop.posting import form_post, posted
from secondop.refusals import Refusal

from . import rows, selectors, services, storage
from .display import health_label, type_in_words
from .forms import RecordRequestForm, SmartLinkForm
from .imaging import viewer_selectors as imaging_viewing
from .models import Bundle, Category, Record, State
from .retrieval import selectors as retrieval_selectors
from .templatetags.records_extras import IDENTITY_QUESTION
from .verification import content_disposition

INLINE_TYPES = {"application/pdf", "image/png", "image/jpeg", "image/tiff", "text/plain"}


def _json_error(error: Refusal) -> JsonResponse:
    return JsonResponse({"message": error.message, "errors": error.errors}, status=error.status)


def _body(request) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _upload_csp(response, origin: str):
    """The upload page may talk to the bucket's origin (S3 mode), nothing else."""
    if origin:
        policy = {**settings.SECURE_CSP}
        policy["connect-src"] = [*policy.get("connect-src", []), origin]
        response._csp_config = policy
    return response


# --- The records page --------------------------------------------------------------------
@require_GET
@case_page()
def case_records(request, case):
    if not access.is_care_team(viewer=request.user, case=case):
        raise Http404
    is_owner = access.is_owner(request.user, case)
    listed = selectors.records_listed(viewer=request.user, case=case).select_related("answers")
    # The patient is not told who sent each record (they or their care team).
    records = list(listed if is_owner else listed.select_related("uploaded_by"))
    for record in records:
        record.case = case  # the rules below read it: no query per record
    if not is_owner:
        log_access_list(viewer=request.user, model=Record, shown=[str(r.uuid) for r in records])
    checklist, lines = selectors.checklist_lines(case=case, records=records)
    can_upload = services.can_upload(user=request.user, case=case)
    asked = list(selectors.open_requests(case=case))
    words = rows.Words()
    context = {
        "case": case,
        "is_owner": is_owner,
        "groups": rows.record_rows(
            records,
            viewer=request.user,
            is_owner=is_owner,
            words=words,
            found=selectors.name_and_type_listed(records),
            # Only the patient is shown who looked.
            looks=imaging_viewing.with_series_looks(selectors.looks_by_record(records), records)
            if is_owner
            else {},
        ),
        "words": words,
        "scans_url": reverse("imaging:scans", args=[case.uuid]),
        "checking": any(r.state not in selectors.FINAL_STATES for r in records),
        "has_scans": is_owner
        and any(r.is_study and r.state == State.VERIFIED and not r.awaits_patient for r in records),
        "checklist": checklist,
        "lines": lines,
        "asked": asked,
        "can_delete": is_owner and case.status in services.DELETABLE_STATUSES,
        "can_request": services.can_request(request.user, case)
        and case.status in services.REQUESTABLE_STATUSES,
        "request_form": RecordRequestForm(),
        "can_bundle": not is_owner
        and case.status not in CLOSED_STATES
        and any(r.state == State.VERIFIED for r in records),
        "retention": services.retention_for(case),
        "uploader": _uploader(case, asked, request.user) if can_upload else None,
        "awaiting": [r for r in records if r.awaits_patient] if is_owner else [],
        # The case manager is told one waits (not what it is: they cannot see it yet).
        "awaiting_staff": []
        if is_owner
        else selectors.awaiting_patient(viewer=request.user, case=case),
        "sees_sources": retrieval_selectors.sees_sources(viewer=request.user, case=case),
        "source_lines": retrieval_selectors.source_lines(viewer=request.user, case=case),
    }
    response = render(request, "records/case_records.html", context)
    return _upload_csp(response, storage.public_origin() if can_upload else "")


def _uploader(case, asked, user) -> dict:
    used = services.case_bytes_used(case)
    return {
        "slots_url": reverse("records:slots", args=[case.uuid]),
        "storage": "s3" if storage.s3_mode() else "local",
        "multipart_threshold": settings.RECORDS_MULTIPART_THRESHOLD,
        "max_file_size": settings.RECORDS_MAX_FILE_BYTES,
        "case_remaining": max(settings.RECORDS_MAX_CASE_BYTES - used, 0),
        "categories": [
            (c.value, c.label)
            for c in Category
            if c != Category.SPECIALIST_REPORT or access.is_assigned_specialist(user, case)
        ],
        "requests": [(str(a.uuid), a.note) for a in asked],
    }


@require_GET
@login_required
def record_states(request, ref):
    """The records page's own refresh (static/js/records-status.js): each record's
    state and, once refused, why. No title or name: nothing here is worth an
    access-log row, and an outsider gets the page's 404."""
    records = selectors.record_states(viewer=request.user, ref=ref)
    reasons = {r.pk: services.describe_record_reason(r) for r in records if r.reason}
    found = selectors.name_and_type_by_record(
        [r for r in records if r.state == State.REJECTED and r.reason == "mismatch"]
    )
    rows = [
        {
            "id": str(r.uuid),
            "state": r.state,
            "awaits": r.state == State.VERIFIED and r.awaits_patient,
            "label": str(IDENTITY_QUESTION if r.awaits_patient else r.get_state_display()),
            "final": r.state in selectors.FINAL_STATES,
            "reason": " ".join(filter(None, [found.get(r.pk, ""), reasons.get(r.pk, "")]))
            if r.state == State.REJECTED
            else "",
            "dismiss_url": reverse("records:dismiss", args=[r.uuid])
            if services.can_dismiss(user=request.user, record=r)
            else "",
        }
        for r in records
    ]
    return JsonResponse({"records": rows, "final": all(row["final"] for row in rows)})


@require_POST
@login_required
def record_dismiss(request, record_ref):
    try:
        record = services.record_dismiss(actor=request.user, record_ref=record_ref)
    except services.RecordError as error:
        messages.error(request, error.message)
        record = selectors.record_for_viewer(viewer=request.user, ref=record_ref)
        return redirect("records:case_records", record.case.uuid)
    messages.success(
        request, _("“%(title)s” was removed from your list.") % {"title": record.title}
    )
    return redirect("records:case_records", record.case.uuid)


@require_POST
@login_required
def record_identity(request, record_ref):
    """The patient's answer for a study labelled for another person: "It is mine".
    "Remove it" is asked again first (record_identity_remove): a removal cannot be
    undone. Anyone but the account holder gets the record's 404."""
    answer = request.POST.get("answer", "")
    if answer == services.REMOVE:
        # A form posting "remove" here (an old page) is asked to confirm, like the link.
        _owned_waiting(request.user, record_ref)
        return redirect("records:identity_remove", record_ref)
    return _identity_answer(request, record_ref, answer)


def _owned_waiting(user, record_ref):
    """The record, for its account holder alone (the record's 404 for everyone else)."""
    record = selectors.record_for_viewer(viewer=user, ref=record_ref)
    if not access.is_owner(user, record.case):
        raise Http404
    return record


@require_http_methods(["GET", "POST"])
@login_required
def record_identity_remove(request, record_ref):
    """ "Remove it", asked again: the page says what goes (every image of the study,
    for good) and what stays (a note that a study was removed); its button removes
    it. A study no longer waiting for an answer sends the patient back to their
    records with the reason."""
    record = _owned_waiting(request.user, record_ref)
    if request.method == "POST":
        return _identity_answer(request, record.uuid, services.REMOVE)
    if not (record.awaits_patient and record.state == State.VERIFIED):
        messages.error(request, _("This record is not waiting for your answer any more."))
        return redirect("records:case_records", record.case.uuid)
    return render(request, "records/identity_remove.html", {"record": record, "case": record.case})


def _identity_answer(request, record_ref, answer: str):
    try:
        record = services.record_identity_answer(
            actor=request.user, record_ref=record_ref, answer=answer
        )
    except services.RecordError as error:
        record = selectors.record_for_viewer(viewer=request.user, ref=record_ref)
        messages.error(request, error.message)
        return redirect("records:case_records", record.case.uuid)
    if record.state == State.REJECTED:
        messages.success(
            request,
            _("“%(title)s” was removed: nothing of it is kept.") % {"title": record.title},
        )
    else:
        messages.success(
            request,
            _("Thank you. “%(title)s” is kept with your records, and your care team can see it.")
            % {"title": record.title},
        )
    return redirect("records:case_records", record.case.uuid)


# --- Upload endpoints (JSON) ------------------------------------------------------------
def _rate_limited(user) -> bool:
    key = f"records:slots:{user.pk}:{timezone.now():%Y%m%d%H}"
    cache.add(key, 0, 3700)
    return cache.incr(key) > settings.RECORDS_SLOTS_PER_HOUR


@require_POST
@login_required
def record_slots(request, ref):
    if _rate_limited(request.user):
        return JsonResponse(
            {
                "message": _(
                    "You have started a great many uploads in the last "
                    "hour. Please wait a while and try again."
                ),
                "errors": {},
            },
            status=429,
        )
    try:
        data = _body(request)
    except RequestDataTooBig:
        return JsonResponse(
            {
                "message": _(
                    "Too much was sent at once to be read. A title can be at most 200 characters and "
                    "a record at most 5,000 files: shorten the title, or split the folder, then try "
                    "again."
                ),
                "errors": {},
            },
            status=400,
        )
    service_date = None
    raw_date = str(data.get("service_date") or "").strip()
    if raw_date:
        try:
            service_date = datetime.date.fromisoformat(raw_date)
        except ValueError:
            return JsonResponse(
                {
                    "message": _("Please correct the problems below."),
                    "errors": {
                        "service_date": [
                            _(
                                "Enter the date of service as a real date, for example "
                                "14 March 2026."
                            )
                        ]
                    },
                },
                status=400,
            )
    files = data.get("files")
    if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
        files = []
    try:
        slots = services.record_slots_create(
            actor=request.user,
            case_ref=ref,
            category=str(data.get("category") or ""),
            title=str(data.get("title") or ""),
            service_date=service_date,
            answers=str(data.get("request") or "") or None,
            files=files,
        )
    except services.RecordError as error:
        return _json_error(error)
    return JsonResponse(
        {
            "record": str(slots.record.uuid),
            "confirm_url": reverse("records:confirm", args=[slots.record.uuid]),
            "cancel_url": reverse("records:cancel", args=[slots.record.uuid]),
            "files": [
                {
                    "client_id": slot.client_id,
                    "key": slot.file.key,
                    "sign_url": reverse("records:file_sign", args=[slot.file.uuid]),
                }
                for slot in slots.files
            ],
        },
        status=201,
    )


@require_POST
@login_required
def file_sign(request, file_ref):
    data = _body(request)
    part = data.get("partNumber")
    if part is not None and (not isinstance(part, int) or isinstance(part, bool)):
        part = -1
    try:
        url = services.record_file_sign(
            actor=request.user,
            file_ref=file_ref,
            method=str(data.get("method") or ""),
            key=str(data.get("key") or ""),
            upload_id=str(data.get("uploadId") or ""),
            part_number=part,
        )
    except services.RecordError as error:
        return _json_error(error)
    return JsonResponse({"url": url})


@csrf_exempt  # the signed, single-use token in the URL is the credential
@require_http_methods(["PUT"])
def file_upload(request, token):
    """Local mode only (no bucket): receive one file, streamed to storage."""
    if storage.s3_mode():
        raise Http404
    length = request.META.get("CONTENT_LENGTH")
    try:
        services.record_file_receive(
            token=token, body=request, length=int(length) if length and length.isdigit() else None
        )
    except services.RecordError as error:
        return _json_error(error)
    return HttpResponse(status=200, headers={"ETag": '"local"'})


@require_POST
@login_required
def record_confirm(request, record_ref):
    try:
        record = services.record_confirm(actor=request.user, record_ref=record_ref)
    except storage.StorageUnavailable:
        return JsonResponse(
            {
                "message": _(
                    "Our file store is not answering just now. Your "
                    "files are safe; we will keep trying."
                ),
                "errors": {},
            },
            status=503,
        )
    except services.RecordError as error:
        return _json_error(error)
    record.refresh_from_db(fields=["state", "reason"])
    messages_for = {
        State.UPLOADED: _("Uploaded. We are checking it now."),
        State.SCANNING: _("Uploaded. We are checking it now."),
        State.VERIFIED: _("Uploaded and checked."),
        State.REJECTED: services.describe_reason(record.reason),
    }
    return JsonResponse({"state": record.state, "message": messages_for.get(record.state, "")})


@require_POST
@login_required
def record_cancel(request, record_ref):
    # Storage not answering: the row is gone either way, and its bytes are unreachable.
    with contextlib.suppress(storage.StorageUnavailable):
        services.record_cancel(actor=request.user, record_ref=record_ref)
    return JsonResponse({"message": _("The upload was cancelled.")})


# --- One record ----------------------------------------------------------------------------
@require_GET
@login_required
def record_detail(request, record_ref):
    record = selectors.record_for_viewer(viewer=request.user, ref=record_ref)
    case = record.case
    files = list(record.files.all()[:500]) if record.is_study else []
    studies, number = [], 0
    for study in record.study.get("studies", []):
        series = []
        for one in study.get("series", []):
            number += 1
            series.append({**one, "number": number})
        try:
            when = datetime.date.fromisoformat(study.get("date") or "")
        except ValueError:
            when = None
        studies.append({**study, "series": series, "date": when})
    context = {
        "studies": studies,
        "record": record,
        "case": case,
        "is_owner": access.is_owner(request.user, case),
        "files": files,
        "file_count": record.files.count() if record.is_study else 1,
        "looks": imaging_viewing.with_series_looks(
            selectors.looks_by_record([record]), [record]
        ).get(record.pk, []),
        "viewer_links": {
            one.series_uid: one.uuid for one in imaging_viewing.study_series(record=record)
        }
        if record.is_study and record.state == State.VERIFIED
        else {},
        "reason": services.describe_record_reason(record) if record.reason else "",
        "type_words": (health_label(record) or type_in_words(record.mime))
        if not record.is_study
        else "",
        "health": record.health if record.state == State.VERIFIED else {},
        "found": selectors.name_and_type_by_record([record]).get(record.pk, ""),
        "can_dismiss": services.can_dismiss(user=request.user, record=record),
        "inline": record.mime in INLINE_TYPES and not record.is_study,
        "can_delete": access.is_owner(request.user, case)
        and case.status in services.DELETABLE_STATUSES,
        "can_bundle": not access.is_owner(request.user, case)
        and record.is_study
        and record.state == State.VERIFIED
        and case.status not in CLOSED_STATES,
    }
    return render(request, "records/record_detail.html", context)


def _serve(*, key: str, name: str, content_type: str, inline: bool):
    disposition = content_disposition(name, inline=inline)
    if storage.s3_mode():
        return redirect(
            storage.download_url(key=key, disposition=disposition, content_type=content_type)
        )
    if not default_storage.exists(key):
        raise Http404
    response = FileResponse(
        default_storage.open(key, "rb"), content_type=content_type or "application/octet-stream"
    )
    response["Content-Disposition"] = disposition
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@login_required
def record_download(request, record_ref):
    """The record's file: `?open=1` shows a PDF or image in the browser tab. Either
    way the file leaves for the browser: one download row, however many byte ranges
    the browser's PDF viewer asks for."""
    opening = request.GET.get("open") == "1"
    record = selectors.record_for_viewer(
        viewer=request.user,
        ref=record_ref,
        kind=AccessLog.Kind.DOWNLOAD,
        ranged="Range" in request.headers,
    )
    if record.state != State.VERIFIED and not access.is_owner(request.user, record.case):
        raise Http404
    if record.is_study:
        raise Http404  # a study downloads as a bundle, or file by file
    file = record.files.first()
    if file is None or record.state == State.REJECTED:
        raise Http404
    inline = opening and record.mime in INLINE_TYPES
    return _serve(
        key=file.key, name=file.name, content_type=record.mime or file.declared_type, inline=inline
    )


@require_GET
@login_required
def record_file_download(request, record_ref, file_ref):
    record = selectors.record_for_viewer(
        viewer=request.user,
        ref=record_ref,
        kind=AccessLog.Kind.DOWNLOAD,
        ranged="Range" in request.headers,
    )
    if record.state != State.VERIFIED:
        raise Http404
    file = record.files.filter(uuid=file_ref).exclude(kind="skipped").first()
    if file is None:
        raise Http404
    return _serve(
        key=file.key,
        name=file.name.rsplit("/", 1)[-1],
        content_type=file.mime or "application/octet-stream",
        inline=False,
    )


@require_GET
@login_required
def record_thumbnail(request, record_ref, number=0):
    """A preview picture, served through the app (it is small). A staff read is
    logged against its record, with the path and address (the patient sees it)."""
    record = selectors.record_for_thumbnail(viewer=request.user, ref=record_ref)
    key = record.thumbnail_key
    if number:
        series = [s for study in record.study.get("studies", []) for s in study.get("series", [])]
        if not 1 <= number <= len(series):
            raise Http404
        key = series[number - 1].get("thumbnail", "")
    if not key or not key.startswith(record.prefix):
        raise Http404
    try:
        data = storage.read_bytes(key)
    except (FileNotFoundError, OSError):
        raise Http404 from None
    response = HttpResponse(data, content_type="image/png")
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
def record_delete(request, record_ref):
    record = selectors.record_for_viewer(viewer=request.user, ref=record_ref)
    if not access.is_owner(request.user, record.case):
        raise Http404
    if request.method == "POST":
        try:
            services.record_delete(actor=request.user, record_ref=record.uuid)
        except services.RecordError as error:
            messages.error(request, error.message)
            return redirect("records:detail", record.uuid)
        messages.success(
            request, _("The record “%(title)s” was deleted.") % {"title": record.title}
        )
        return redirect("records:case_records", record.case.uuid)
    return render(request, "records/record_delete.html", {"record": record, "case": record.case})


# --- Record requests ---------------------------------------------------------------------
@require_POST
@case_page()
def request_create(request, case):
    if not services.can_request(request.user, case):
        raise Http404
    return form_post(
        request,
        RecordRequestForm(posted(request)),
        act=lambda data: services.record_request_create(
            actor=request.user, case_ref=case.uuid, note=data["note"], category=data["category"]
        ),
        success=_("The patient has been asked. The request is now waiting for records."),
        then=lambda _asked: reverse("records:case_records", args=[case.uuid]),
        page=lambda form, status: render(
            request, "records/request_form.html", {"case": case, "form": form}, status=status
        ),
        refusals=services.RecordError,
    )


@require_POST
@login_required
def request_cancel(request, request_ref):
    try:
        asked = services.record_request_cancel(actor=request.user, request_ref=request_ref)
    except TransitionError as error:
        asked = selectors.record_request_for_viewer(viewer=request.user, ref=request_ref)
        messages.error(request, error.message)
        return redirect("records:case_records", asked.case.uuid)
    messages.success(request, _("The request for records was withdrawn."))
    return redirect("records:case_records", asked.case.uuid)


# --- A SMART Health Link pasted in ------------------------------------------------------
def _smart_link_done(result: services.FromLink) -> str:
    count = len(result.records)
    message = (
        _("1 record came from the link. It is being checked and will show here when ready.")
        if count == 1
        else _(
            "%(n)s records came from the link. They are being checked and will show here "
            "when ready."
        )
        % {"n": count}
    )
    if result.left_out:
        message += " " + _(
            "%(n)s item of a kind we cannot read was left out.",
        ) % {"n": result.left_out}
    return message


@sensitive_post_parameters("passcode")
@require_http_methods(["GET", "POST"])
@patient_case_page
def smart_link(request, case):
    """The patient pastes a SMART Health Link (or a picture of its QR code) and its
    passcode; the server reads it now, within its deadline (records.smart_links), and
    keeps its files as records."""
    if not access.is_owner(request.user, case):
        raise Http404
    return form_post(
        request,
        SmartLinkForm(posted(request), request.FILES if request.method == "POST" else None),
        act=lambda data: services.records_from_smart_link(
            actor=request.user,
            case_ref=case.uuid,
            link=data["link"],
            passcode=data["passcode"],
            category=data["category"],
        ),
        success=_smart_link_done,
        then=lambda _result: reverse("records:case_records", args=[case.uuid]),
        page=lambda form, status: render(
            request, "records/smart_link.html", {"case": case, "form": form}, status=status
        ),
        refusals=services.RecordError,
    )


# --- Bundles ------------------------------------------------------------------------------
@require_POST
@login_required
def bundle_create(request, ref):
    try:
        bundle = services.bundle_create(
            actor=request.user,
            case_ref=ref,
            record_ref=request.POST.get("record") or None,
        )
    except services.RecordError as error:
        messages.error(request, error.message)
        return redirect("records:case_records", ref)
    return redirect("records:bundle", bundle.uuid)


@require_GET
@login_required
def bundle_detail(request, bundle_ref):
    bundle = selectors.bundle_for_viewer(viewer=request.user, ref=bundle_ref)
    expired = bundle.expires_at <= timezone.now()
    return render(
        request,
        "records/bundle.html",
        {
            "bundle": bundle,
            "case": bundle.case,
            "expired": expired,
            "percent": int(100 * bundle.files_done / bundle.files_total)
            if bundle.files_total
            else 0,
        },
    )


@require_GET
@login_required
def bundle_download(request, bundle_ref):
    bundle = selectors.bundle_for_viewer(viewer=request.user, ref=bundle_ref)
    if (
        bundle.status != Bundle.Status.READY
        or not bundle.key
        or bundle.expires_at <= timezone.now()
    ):
        raise Http404
    if not selectors.bundle_complete(bundle=bundle):
        raise Http404  # a record in it was deleted since: it is never served again
    log_access(viewer=request.user, obj=bundle, kind=AccessLog.Kind.DOWNLOAD)
    # Each record in it is downloaded too: the patient's "who looked" shows it.
    for record in selectors.bundle_records(bundle=bundle):
        log_access(viewer=request.user, obj=record, kind=AccessLog.Kind.DOWNLOAD)
    name = f"{bundle.case.reference or 'records'}-records.zip"
    return _serve(key=bundle.key, name=name, content_type="application/zip", inline=False)
