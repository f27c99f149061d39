"""Records retrieval's pages: a case's sources (the patient and the case manager),
one source's request and its clock, the patient's signature, the letter's PDF, and
the case manager's sending, extension and "received". Views are thin: access
through the selectors (a 404 to outsiders), one service call, a response."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from requests_app.access import Relation, case_page, case_relation, for_viewer, is_owner
from secondop.audit.models import AccessLog
from secondop.posting import form_post, posted

from . import office_services, selectors, services
from .forms import ExtendForm, ReceivedForm, SendForm, SignForm, SourceForm
from .letter import letter_context
from .models import RecordSource, SentBy
from .pdf import letter_filename, render_letter

_CASE_MANAGER = frozenset({Relation.CASE_MANAGER})
_OWNER = frozenset({Relation.OWNER})


def _sources_url(case) -> str:
    return reverse("retrieval:sources", args=[case.uuid])


def _source_url(source) -> str:
    return reverse("retrieval:source", args=[source.uuid])


def _back(request, case) -> str:
    if is_owner(request.user, case):
        return reverse("records:case_records", args=[case.uuid])
    return reverse("requests_app:staff_case", args=[case.uuid])


# --- The case's sources ---------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@case_page()
def sources(request, case):
    if not selectors.sees_sources(viewer=request.user, case=case):
        raise Http404

    def page(form, status):
        context = {
            "case": case,
            "is_owner": is_owner(request.user, case),
            "lines": selectors.source_lines(viewer=request.user, case=case),
            "form": form,
            "can_change": services.can_change(case=case),
            "back": _back(request, case),
        }
        return render(request, "retrieval/sources.html", context, status=status)

    return form_post(
        request,
        SourceForm(posted(request)),
        act=lambda data: services.source_add(actor=request.user, case_ref=case.uuid, **data),
        success=lambda source: _("%(name)s is added.") % {"name": source.name},
        then=lambda source: _source_url(source),
        page=page,
        refusals=services.RetrievalError,
    )


# --- One source ---------------------------------------------------------------------------
def _detail(request, source, *, send_form=None, extend_form=None, received_form=None, status=200):
    case = source.case
    relation = case_relation(request.user, case)
    manages = relation == Relation.CASE_MANAGER and services.can_change(case=case)
    today = selectors.today_for(case)
    context = {
        "case": case,
        "source": source,
        "is_owner": relation == Relation.OWNER,
        "state": selectors.describe(source, for_patient=relation == Relation.OWNER, today=today),
        "manages": manages,
        "can_change": services.can_change(case=case) and source.is_editable,
        "send_form": send_form or SendForm(initial={"how": SentBy.EMAIL if source.email else ""}),
        "extend_form": extend_form or ExtendForm(),
        "received_form": received_form
        or ReceivedForm(initial={"received": source.received, "note": source.received_note}),
        "back": _sources_url(case),
        "deliveries": selectors.deliveries(case=case, sources=[source]).get(source.pk, ()),
        "links": selectors.link_summary(source=source) if manages else None,
    }
    return render(request, "retrieval/source.html", context, status=status)


@require_GET
@login_required
def source(request, source_ref):
    return _detail(request, selectors.source_for_viewer(viewer=request.user, ref=source_ref))


@require_http_methods(["GET", "POST"])
@login_required
def source_edit(request, source_ref):
    source = selectors.source_for_viewer(viewer=request.user, ref=source_ref)
    initial = {
        field: getattr(source, field)
        for field in ("name", "kind", "email", "fax", "postal_address", "wanted")
    }
    return form_post(
        request,
        SourceForm(posted(request), initial=initial),
        act=lambda data: services.source_update(actor=request.user, source_ref=source.uuid, **data),
        success=lambda changed: (
            _("The changes are saved. The patient signs the request again.")
            if not changed.is_signed and source.is_signed
            else _("The changes are saved.")
        ),
        then=_source_url,
        page=lambda form, status: render(
            request,
            "retrieval/source_edit.html",
            {"case": source.case, "source": source, "form": form},
            status=status,
        ),
        refusals=services.RetrievalError,
    )


@require_POST
@login_required
def source_remove(request, source_ref):
    source = selectors.source_for_viewer(viewer=request.user, ref=source_ref)
    case = source.case
    try:
        services.source_remove(actor=request.user, source_ref=source.uuid)
    except services.RetrievalError as refusal:
        messages.error(request, refusal.message)
        return _detail(request, source, status=refusal.status)
    messages.success(request, _("%(name)s is removed.") % {"name": source.name})
    return redirect(_sources_url(case))


@require_http_methods(["GET", "POST"])
@login_required
def source_sign(request, source_ref):
    source = selectors.source_for_viewer(viewer=request.user, ref=source_ref, needs=_OWNER)
    case = source.case
    name = services.patient_name(case)
    return form_post(
        request,
        SignForm(posted(request), name=name),
        act=lambda data: services.source_sign(
            actor=request.user,
            source_ref=source.uuid,
            signature=data["signature"],
            agreed=data["agree"],
        ),
        success=_("Signed. Your care team sends it to the records office."),
        then=lambda _signed: _sources_url(case),
        page=lambda form, status: render(
            request,
            "retrieval/sign.html",
            {**letter_context(source, case), "form": form, "back": _source_url(source)},
            status=status,
        ),
        refusals=services.RetrievalError,
    )


@require_GET
@login_required
def source_letter(request, source_ref):
    """The letter as a PDF: to read before signing, or to fax or post."""
    source = for_viewer(
        RecordSource,
        source_ref,
        request.user,
        sees=selectors.SEES,
        needs=selectors.SEES,
        kind=AccessLog.Kind.DOWNLOAD,
    )
    # The case manager's copy leaves (by fax or post): it carries a link of its own.
    # The patient's copy never carries one.
    upload_url = ""
    if source.is_signed and case_relation(request.user, source.case) == Relation.CASE_MANAGER:
        upload_url = office_services.office_url(
            office_services.link_issue(source=source, actor=request.user)
        )
    response = HttpResponse(
        render_letter(source, upload_url=upload_url), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'inline; filename="{letter_filename(source)}"'
    return response


# --- The case manager's actions ---------------------------------------------------------------
def _manager_post(request, source_ref, form_class, form_key, act, success):
    """One of the case manager's forms on the source page: the service, or the page
    again with what was typed and its errors."""
    source = selectors.source_for_viewer(viewer=request.user, ref=source_ref, needs=_CASE_MANAGER)
    form = form_class(request.POST)
    return form_post(
        request,
        form,
        act=lambda data: act(source, data),
        success=success,
        then=_source_url,
        page=lambda form, status: _detail(request, source, status=status, **{form_key: form}),
        refusals=services.RetrievalError,
    )


def _send(request, source, data):
    if data["how"] == SentBy.EMAIL:
        return services.source_send_email(actor=request.user, source_ref=source.uuid)
    return services.source_record_sent(
        actor=request.user, source_ref=source.uuid, how=data["how"], sent_on=data["sent_on"]
    )


@require_POST
@login_required
def source_send(request, source_ref):
    return _manager_post(
        request,
        source_ref,
        SendForm,
        "send_form",
        lambda source, data: _send(request, source, data),
        lambda sent: (
            _("The request is being emailed to the records office.")
            if sent.is_sending
            else _("Recorded: the request was sent on %(day)s.")
            % {"day": date_format(sent.sent_on, "DATE_FORMAT") if sent.sent_on else ""}
        ),
    )


@require_POST
@login_required
def source_extend(request, source_ref):
    return _manager_post(
        request,
        source_ref,
        ExtendForm,
        "extend_form",
        lambda source, data: services.source_extend(
            actor=request.user, source_ref=source.uuid, reason=data["reason"]
        ),
        _("The extension is recorded: the due date moved by 30 days."),
    )


@require_POST
@login_required
def source_received(request, source_ref):
    return _manager_post(
        request,
        source_ref,
        ReceivedForm,
        "received_form",
        lambda source, data: services.source_mark_received(
            actor=request.user,
            source_ref=source.uuid,
            received=data["received"],
            note=data["note"],
        ),
        _("Recorded what arrived."),
    )
