"""Pages of a call between the doctors (consultations.doctor_calls). Thin: the
case or call through the access rule (404 to outsiders, 403 to the care team on
an action not theirs), a form, one service call, a response.

The doctor's page (`physician_call`) has no account: the token in its URL is the
credential, with the physician's link's headers (no Referer, never cached, not
indexed, the token in no log)."""

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from requests_app.access import Relation, case_relation, patient_case_page
from requests_app.aftercare.views import physician_headers, refused_page
from requests_app.times import care_team_zone, format_span, zone_label
from secondop.filenames import content_disposition
from secondop.refusals import page_status

from . import doctor_calls, ics
from .forms import DoctorCallBookForm, DoctorCallOutcomeForm, DoctorCallRequestForm, SlotsForm
from .models import DoctorCallStatus as Status


def _posted(request):
    return request.POST if request.method == "POST" else None


# --- The patient asks -----------------------------------------------------------------
@patient_case_page
def doctor_call_ask(request, case):
    """From the report's side-by-side view: the patient asks for a call between the
    specialist and a doctor they sent the report to."""
    existing = doctor_calls.open_call(case=case)
    why = doctor_calls.refusal(case=case)
    shares = doctor_calls.call_shares(case=case) if not why else []
    form = DoctorCallRequestForm(_posted(request), shares=shares)
    if request.method == "POST" and why:
        doctor_calls.DoctorCallError(why, status=409).apply_to(form)
    elif request.method == "POST" and form.is_valid():
        try:
            doctor_calls.doctor_call_request(
                actor=request.user,
                case_ref=case.uuid,
                share_ref=form.cleaned_data["share"],
                topic=form.cleaned_data["topic"],
            )
        except doctor_calls.DoctorCallError as refusal:
            refusal.apply_to(form)
        else:
            messages.success(
                request,
                _(
                    "We have asked the specialist to propose times. Your doctor will choose "
                    "one; we will tell you when the call is booked."
                ),
            )
            return redirect("requests_app:case_detail", case.uuid)
    context = {"case": case, "form": form, "refusal": why, "existing": existing, "shares": shares}
    return render(request, "consultations/doctor_call_ask.html", context, status=page_status(form))


# --- The care team's page of the call -------------------------------------------------
def _spans(call, slots, zone):
    return [format_span(s.starts_at, s.ends_at, zone) for s in slots]


def _call_page(request, call, *, times_form=None, outcome_form=None, status=200):
    user = request.user
    is_specialist = case_relation(user, call.case) == Relation.ASSIGNED_SPECIALIST
    zone = care_team_zone()
    current = list(call.slots.filter(round=call.round)) if call.round else []
    context = {
        "call": call,
        "case": call.case,
        "is_specialist": is_specialist,
        "zone_label": zone_label(zone),
        "doctor_zone_label": zone_label(ZoneInfo(call.time_zone)),
        "offered": _spans(call, current, zone) if call.status == Status.PROPOSED else [],
        "when": format_span(call.starts_at, call.ends_at, zone) if call.starts_at else "",
        "times_form": times_form
        if times_form is not None
        else (
            SlotsForm(zone=ZoneInfo(call.time_zone), in_person=False)
            if is_specialist and call.status in (Status.REQUESTED, Status.PROPOSED)
            else None
        ),
        "outcome_form": outcome_form
        if outcome_form is not None
        else (DoctorCallOutcomeForm() if is_specialist and call.status == Status.BOOKED else None),
    }
    return render(request, "consultations/doctor_call.html", context, status=status)


@require_GET
@login_required
def doctor_call(request, call_ref):
    call = doctor_calls.call_for_viewer(viewer=request.user, ref=call_ref)
    return _call_page(request, call)


@require_http_methods(["POST"])
@login_required
def doctor_call_times(request, call_ref):
    """The specialist proposes times (or new ones, while none is chosen)."""
    call = doctor_calls.call_for_viewer(
        viewer=request.user, ref=call_ref, needs=doctor_calls.SPECIALIST
    )
    form = SlotsForm(request.POST, zone=ZoneInfo(call.time_zone), in_person=False)
    if form.is_valid():
        try:
            doctor_calls.doctor_call_propose(actor=request.user, ref=call.uuid, slots=form.slots)
        except doctor_calls.DoctorCallError as refusal:
            refusal.apply_to(form)
        else:
            messages.success(
                request,
                _("The times are sent to the doctor. We will tell you when they have chosen one."),
            )
            return redirect("consultations:doctor_call", call.uuid)
    return _call_page(request, call, times_form=form, status=page_status(form))


@require_http_methods(["POST"])
@login_required
def doctor_call_outcome(request, call_ref):
    call = doctor_calls.call_for_viewer(
        viewer=request.user, ref=call_ref, needs=doctor_calls.SPECIALIST
    )
    form = DoctorCallOutcomeForm(request.POST)
    if form.is_valid():
        try:
            doctor_calls.doctor_call_record_outcome(
                actor=request.user,
                ref=call.uuid,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
            )
        except doctor_calls.DoctorCallError as refusal:
            refusal.apply_to(form)
        else:
            messages.success(request, _("The call is recorded. The patient reads your note."))
            return redirect("consultations:doctor_call", call.uuid)
    return _call_page(request, call, outcome_form=form, status=page_status(form))


# --- The doctor's page (no account) --------------------------------------------------------
# No CSRF check: the POST is authorised by the token in its URL, not by a cookie
# (as the physician's report page; aftercare.views.shared_report says why).
@csrf_exempt
@require_http_methods(["GET", "POST"])
def physician_call(request, token):
    form = None
    if request.method == "POST":
        try:
            opened = doctor_calls.doctor_call_open(token=token)
        except doctor_calls.ShareRefused as refusal:
            return refused_page(request, refusal)
        form = _book_form(opened.call, request.POST)
        if form.is_valid():
            try:
                doctor_calls.doctor_call_book(
                    token=token,
                    slot_ref=form.cleaned_data["slot"],
                    phone=form.cleaned_data["phone"],
                )
            except doctor_calls.ShareRefused as refusal:
                return refused_page(request, refusal)
            except doctor_calls.DoctorCallError as refusal:
                refusal.apply_to(form)
            else:
                messages.success(
                    request, _("The call is booked. The specialist will ring you then.")
                )
                return physician_headers(request, redirect("doctor_call:physician", token))
    try:
        opened = doctor_calls.doctor_call_view(token=token)
    except doctor_calls.ShareRefused as refusal:
        return refused_page(request, refusal)
    call = opened.call
    zone = ZoneInfo(call.time_zone)
    if form is None and call.status == Status.PROPOSED:
        form = _book_form(call, None)
    context = {
        "call": call,
        "case": opened.case,
        "share": opened.share,
        "token": token,
        "form": form,
        "zone_label": zone_label(zone),
        "when": format_span(call.starts_at, call.ends_at, zone) if call.starts_at else "",
    }
    response = render(
        request, "consultations/doctor_call_physician.html", context, status=page_status(form)
    )
    return physician_headers(request, response)


def _book_form(call, data):
    zone = ZoneInfo(call.time_zone)
    choices = [
        (str(s.uuid), format_span(s.starts_at, s.ends_at, zone, with_zone=False))
        for s in doctor_calls.offered_slots(call)
    ]
    return DoctorCallBookForm(data, choices=choices)


@require_GET
def physician_call_calendar(request, token):
    """The booked call for the doctor's calendar: the time and the reference, no link
    (the link is the credential) and nothing medical."""
    try:
        opened = doctor_calls.doctor_call_view(token=token)
    except doctor_calls.ShareRefused as refusal:
        return refused_page(request, refusal)
    call = opened.call
    if call.status != Status.BOOKED:
        return physician_headers(request, redirect("doctor_call:physician", token))
    response = HttpResponse(
        ics.doctor_call_ics(call, method=ics.REQUEST), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = content_disposition(
        f"secondop-call-{opened.case.reference}.ics", inline=False
    )
    return physician_headers(request, response)
