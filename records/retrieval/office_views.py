"""A records office's upload page (no account: the token in the URL is the
credential) and its JSON endpoints for static/js/records-upload.js (the same
contract as the patient's), and the case manager's extend and revoke.

Like the physician's page: no Referer onwards, never cached, not indexed, and the
token in no log (the audit rows' path and the refusal's log line are without it;
secondop.logging_filters hides it from the server's own logs)."""

import datetime
import functools
import logging
import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from records import storage
from records.models import Category, Record
from records.services import RecordError, case_bytes_used, describe_reason
from records.views import _body, _json_error, _upload_csp
from secondop.audit.context import audit_source, current_source

from . import office_services as links
from . import selectors

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"(/from/)[^/]+")


def path_without_token(path: str) -> str:
    return _TOKEN.sub(r"\1[token]", path)


def _office(view):
    """The audit rows made inside carry the path without the token; the response
    gets the link page's headers, and a refusal is logged here without the token."""

    @functools.wraps(view)
    def wrapped(request, token, *args, **kwargs):
        source = current_source()
        with audit_source(
            source.via if source else "web",
            ip=source.ip if source else None,
            path=path_without_token(request.path),
        ):
            response = view(request, token, *args, **kwargs)
        response["Referrer-Policy"] = "no-referrer"
        add_never_cache_headers(response)
        response["X-Robots-Tag"] = "noindex, nofollow"
        if response.status_code >= 400:
            response._has_been_logged = True
            logger.warning(
                "Records office link refused (%s): %s",
                response.status_code,
                path_without_token(request.path),
            )
        return response

    return wrapped


def _refused_page(request, refusal: links.OfficeRefused):
    return render(
        request, "retrieval/office_refused.html", {"refusal": refusal}, status=refusal.status
    )


def _refused_json(refusal: links.OfficeRefused) -> JsonResponse:
    return JsonResponse({"message": refusal.message, "errors": {}}, status=refusal.status)


@require_GET
@_office
def office(request, token):
    try:
        opened = links.office_view(token=token)
    except links.OfficeRefused as refusal:
        return _refused_page(request, refusal)
    source, case = opened.source, opened.case
    used = case_bytes_used(case)
    sent = list(
        Record.objects.filter(office_upload__link=opened.link)
        .exclude(state="pending")
        .order_by("-created_at")
    )
    context = {
        "source": source,
        "case": case,
        "wanted": source.wanted_labels(),
        "expires_at": opened.link.expires_at,
        "sent": sent,
        "reasons": {r.pk: describe_reason(r.reason) for r in sent if r.reason},
        "uploader": {
            "slots_url": reverse("retrieval:office_slots", args=[token]),
            "storage": "s3" if storage.s3_mode() else "local",
            "multipart_threshold": settings.RECORDS_MULTIPART_THRESHOLD,
            "max_file_size": settings.RECORDS_MAX_FILE_BYTES,
            "case_remaining": max(settings.RECORDS_MAX_CASE_BYTES - used, 0),
            "categories": [
                (value, Category(value).label) for value in links.categories_for(source)
            ],
            "requests": [],
        },
    }
    response = render(request, "retrieval/office.html", context)
    return _upload_csp(response, storage.public_origin())


def _rate_limited(token: str) -> bool:
    key = f"retrieval:office-slots:{links.token_hash(token)}:{timezone.now():%Y%m%d%H}"
    cache.add(key, 0, 3700)
    return cache.incr(key) > settings.RECORDS_SLOTS_PER_HOUR


@require_POST
@_office
def office_slots(request, token):
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
        if _rate_limited(token):
            raise RecordError(
                _("A great many uploads were started in the last hour. Please try again later."),
                status=429,
            )
        slots = links.office_slots(
            token=token,
            category=str(data.get("category") or ""),
            title=str(data.get("title") or ""),
            service_date=service_date,
            files=files,
        )
    except links.OfficeRefused as refusal:
        return _refused_json(refusal)
    except RecordError as error:
        return _json_error(error)
    record = slots.record
    return JsonResponse(
        {
            "record": str(record.uuid),
            "confirm_url": reverse("retrieval:office_confirm", args=[token, record.uuid]),
            "cancel_url": reverse("retrieval:office_cancel", args=[token, record.uuid]),
            "files": [
                {
                    "client_id": slot.client_id,
                    "key": slot.file.key,
                    "sign_url": reverse("retrieval:office_sign", args=[token, slot.file.uuid]),
                }
                for slot in slots.files
            ],
        },
        status=201,
    )


@require_POST
@_office
def office_sign(request, token, file_ref):
    data = _body(request)
    part = data.get("partNumber")
    if part is not None and (not isinstance(part, int) or isinstance(part, bool)):
        part = -1
    try:
        url = links.office_sign(
            token=token,
            file_ref=file_ref,
            method=str(data.get("method") or ""),
            key=str(data.get("key") or ""),
            upload_id=str(data.get("uploadId") or ""),
            part_number=part,
        )
    except links.OfficeRefused as refusal:
        return _refused_json(refusal)
    except RecordError as error:
        return _json_error(error)
    return JsonResponse({"url": url})


@require_POST
@_office
def office_confirm(request, token, record_ref):
    try:
        record = links.office_confirm(token=token, record_ref=record_ref)
    except storage.StorageUnavailable:
        return JsonResponse(
            {"message": _("Our file store is not answering just now. Please try again.")},
            status=503,
        )
    except links.OfficeRefused as refusal:
        return _refused_json(refusal)
    except RecordError as error:
        return _json_error(error)
    message = (
        describe_reason(record.reason) if record.state == "rejected" else _("Uploaded. Thank you.")
    )
    return JsonResponse({"state": record.state, "message": message})


@require_POST
@_office
def office_cancel(request, token, record_ref):
    try:
        links.office_cancel(token=token, record_ref=record_ref)
    except links.OfficeRefused as refusal:
        return _refused_json(refusal)
    except storage.StorageUnavailable:
        pass
    return JsonResponse({"message": _("The upload was cancelled.")})


# --- The case manager ----------------------------------------------------------------------
def _link_action(request, source_ref, act, success):
    source = selectors.source_for_viewer(
        viewer=request.user, ref=source_ref, needs=links._CASE_MANAGER
    )
    try:
        count = act(actor=request.user, source_ref=source.uuid)
    except links.OfficeError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, success(count))
    return redirect("retrieval:source", source.uuid)


@require_POST
@login_required
def link_extend(request, source_ref):
    return _link_action(
        request,
        source_ref,
        links.links_extend,
        lambda n: _("The upload link now works 30 days more."),
    )


@require_POST
@login_required
def link_revoke(request, source_ref):
    return _link_action(
        request,
        source_ref,
        links.links_revoke,
        lambda n: _("The upload link is withdrawn: it no longer opens."),
    )
