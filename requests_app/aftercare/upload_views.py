"""The patient's physician's upload page (issue 21): no account, their share's token
is the credential, under their report's link (/shared/<token>/records/), so every
log already keeps the token out (secondop.logging_filters). The JSON endpoints
speak static/js/records-upload.js's contract, as the records office's do
(office_views): the same widget, the same checks."""

import datetime
import functools
import logging

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from records import storage
from records.models import Category
from records.services import RecordError, case_bytes_used, describe_reason
from records.views import _body, _json_error, _upload_csp
from secondop.audit.context import audit_source, current_source

from .services import ShareRefused, path_without_token
from .services import physician_uploads as links
from .views import physician_headers, refused_page

logger = logging.getLogger(__name__)


def _physician(view):
    """The audit rows made inside carry the path without the token; the response
    gets the physician's link headers (no Referer, never cached, not indexed)."""

    @functools.wraps(view)
    def wrapped(request, token, *args, **kwargs):
        source = current_source()
        with audit_source(
            source.via if source else "web",
            ip=source.ip if source else None,
            path=path_without_token(request.path),
        ):
            response = view(request, token, *args, **kwargs)
        return physician_headers(request, response)

    return wrapped


def _refused_json(refusal: ShareRefused) -> JsonResponse:
    return JsonResponse({"message": refusal.message, "errors": {}}, status=refusal.status)


@require_GET
@_physician
def physician_upload(request, token):
    try:
        share = links.physician_view(token=token)
    except ShareRefused as refusal:
        return refused_page(request, refusal)
    case = share.report.case
    sent = links.physician_sent(share)
    context = {
        "share": share,
        "case": case,
        "token": token,
        "refusal": links.refusal(share),
        "sent": sent,
        "reasons": {r.pk: describe_reason(r.reason) for r in sent if r.reason},
        "uploader": {
            "slots_url": reverse("physician_records:slots", args=[token]),
            "storage": "s3" if storage.s3_mode() else "local",
            "multipart_threshold": settings.RECORDS_MULTIPART_THRESHOLD,
            "max_file_size": settings.RECORDS_MAX_FILE_BYTES,
            "case_remaining": max(settings.RECORDS_MAX_CASE_BYTES - case_bytes_used(case), 0),
            "categories": [(value, Category(value).label) for value in links.CATEGORIES],
            "requests": [],
        },
    }
    response = render(request, "aftercare/physician_upload.html", context)
    return _upload_csp(response, storage.public_origin())


# No CSRF check on the JSON endpoints: the token in the URL authorises them, no cookie
# is read (the records office's endpoints are the same).
@csrf_exempt
@require_POST
@_physician
def physician_slots(request, token):
    data = _body(request)
    service_date = None
    raw_date = str(data.get("service_date") or "").strip()
    if raw_date:
        try:
            service_date = datetime.date.fromisoformat(raw_date)
        except ValueError:
            return JsonResponse(
                {
                    "message": _("Please correct the problems below."),
                    "errors": {"service_date": [_("Enter the date as a real date.")]},
                },
                status=400,
            )
    files = data.get("files")
    if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
        files = []
    try:
        slots = links.physician_slots(
            token=token,
            category=str(data.get("category") or ""),
            title=str(data.get("title") or ""),
            service_date=service_date,
            files=files,
        )
    except ShareRefused as refusal:
        return _refused_json(refusal)
    except RecordError as error:
        return _json_error(error)
    record = slots.record
    return JsonResponse(
        {
            "record": str(record.uuid),
            "confirm_url": reverse("physician_records:confirm", args=[token, record.uuid]),
            "cancel_url": reverse("physician_records:cancel", args=[token, record.uuid]),
            "files": [
                {
                    "client_id": slot.client_id,
                    "key": slot.file.key,
                    "sign_url": reverse("physician_records:sign", args=[token, slot.file.uuid]),
                }
                for slot in slots.files
            ],
        },
        status=201,
    )


@csrf_exempt
@require_POST
@_physician
def physician_sign(request, token, file_ref):
    data = _body(request)
    part = data.get("partNumber")
    if part is not None and (not isinstance(part, int) or isinstance(part, bool)):
        part = -1
    try:
        url = links.physician_sign(
            token=token,
            file_ref=file_ref,
            method=str(data.get("method") or ""),
            key=str(data.get("key") or ""),
            upload_id=str(data.get("uploadId") or ""),
            part_number=part,
        )
    except ShareRefused as refusal:
        return _refused_json(refusal)
    except RecordError as error:
        return _json_error(error)
    return JsonResponse({"url": url})


@csrf_exempt
@require_POST
@_physician
def physician_confirm(request, token, record_ref):
    try:
        record = links.physician_confirm(token=token, record_ref=record_ref)
    except storage.StorageUnavailable:
        return JsonResponse(
            {"message": _("Our file store is not answering just now. Please try again.")},
            status=503,
        )
    except ShareRefused as refusal:
        return _refused_json(refusal)
    except RecordError as error:
        return _json_error(error)
    message = (
        describe_reason(record.reason) if record.state == "rejected" else _("Uploaded. Thank you.")
    )
    return JsonResponse({"state": record.state, "message": message})


@csrf_exempt
@require_POST
@_physician
def physician_cancel(request, token, record_ref):
    try:
        links.physician_cancel(token=token, record_ref=record_ref)
    except ShareRefused as refusal:
        return _refused_json(refusal)
    except storage.StorageUnavailable:
        pass
    return JsonResponse({"message": _("The upload was cancelled.")})
