"""Consultation pages. Views are thin: the consultation through the access rule
(a 404 for anyone who may not see it; a 403 for the patient, the case manager
or the specialist on an action that is not theirs), a form, one service call, a
response. Everyone reads times in their own zone, the zone named."""

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from requests_app.access import (
    STAFF_CARE_TEAM,
    CaregiverRight,
    Relation,
    case_for_viewer,
    case_relation,
)
from requests_app.times import (
    care_team_zone,
    format_moment,
    format_span,
    patient_zone_name,
    span_for,
    zone_label,
)
from secondop.audit.models import AccessLog
from secondop.refusals import page_status

from . import ics, selectors, services
from .forms import (
    CancelForm,
    ChooseForm,
    DeclineForm,
    InterpreterForm,
    OtherTimesForm,
    OutcomeForm,
    SlotsForm,
)
from .models import Action, Mode, Status


# --- Who is looking --------------------------------------------------------------------
def _is_specialist(user, case) -> bool:
    return case_relation(user, case) == Relation.ASSIGNED_SPECIALIST


def _reader_zone(user, consultation) -> ZoneInfo:
    # The patient and their caregiver read times in the zone of the patient's state.
    if case_relation(user, consultation.case) in (Relation.OWNER, Relation.CAREGIVER):
        return ZoneInfo(consultation.patient_time_zone)
    return care_team_zone()


def _case_url(user, case) -> str:
    relation = case_relation(user, case)
    if relation == Relation.OWNER:
        return reverse("requests_app:case_detail", args=[case.uuid])
    if relation == Relation.CAREGIVER:
        return reverse("caregivers:case", args=[case.uuid])
    return reverse("requests_app:staff_case", args=[case.uuid])


def _consultation(request, ref, *, owner=False, specialist=False, case_manager=False):
    """The consultation for a page that is the owner's or the specialist's to use
    (a 403 for the others who see it); a 404 for everyone else."""
    consultation = selectors.consultation_for_viewer(viewer=request.user, ref=ref)
    case = consultation.case
    relation = case_relation(request.user, case)
    allowed = (
        (owner and relation == Relation.OWNER)
        or (specialist and relation == Relation.ASSIGNED_SPECIALIST)
        or (case_manager and relation == Relation.CASE_MANAGER)
    )
    if not allowed:
        raise PermissionDenied
    return consultation


# --- The consultation's page --------------------------------------------------------------
STATUS_TAGS = {
    Status.PROPOSED: "yellow",
    Status.OTHER_TIMES: "yellow",
    Status.BOOKED: "blue",
    Status.HELD: "green",
    Status.MISSED: "red",
    Status.CANCELLED: "grey",
    Status.DECLINED: "grey",
}


def _who(actor, reader) -> str:
    if actor is None:
        return "SecondOp"
    return _("You") if actor.pk == reader.pk else actor.full_name


def _page(request, consultation, *, choose_form=None, status=200):
    user, case = request.user, consultation.case
    relation = case_relation(user, case)
    is_owner = relation == Relation.OWNER
    reader_zone = _reader_zone(user, consultation)
    patient_zone = ZoneInfo(consultation.patient_time_zone)

    def span(start, end):
        return span_for(start, end, reader_zone=reader_zone, patient_zone=patient_zone)

    offered = list(selectors.offered_slots(consultation))
    current = offered or list(selectors.current_round_slots(consultation))
    booked = consultation.status == Status.BOOKED
    now = timezone.now()
    history = selectors.consultation_history(consultation)
    if choose_form is None and is_owner and offered:
        choose_form = ChooseForm(
            choices=[(str(s.uuid), span(s.starts_at, s.ends_at).text) for s in offered]
        )
    context = {
        "consultation": consultation,
        "case": case,
        "is_owner": is_owner,
        "is_caregiver": relation == Relation.CAREGIVER,
        # What only the care team's staff read (the exam notes...): never a caregiver.
        "staff_view": relation in STAFF_CARE_TEAM,
        "is_specialist": _is_specialist(user, case),
        "reader_zone_label": zone_label(reader_zone),
        "patient_zone_label": zone_label(patient_zone),
        "offered": [span(s.starts_at, s.ends_at) for s in current],
        "when": span(consultation.starts_at, consultation.ends_at)
        if consultation.starts_at
        and consultation.status in (Status.BOOKED, Status.HELD, Status.MISSED)
        else None,
        "choose_form": choose_form,
        "started": booked and consultation.starts_at <= now,
        "can_change": consultation.is_open and case.status in services.ARRANGING,
        # The file while booked; once the booked time is given up, the one that takes it
        # out of calendars. A consultation that took place (or not) needs neither.
        "has_calendar": consultation.starts_at is not None
        and consultation.status not in (Status.HELD, Status.MISSED),
        "reader_zone_key": reader_zone.key,
        "history": [
            {
                "event": event,
                "who": _who(event.actor, user),
                "span": span(event.starts_at, event.ends_at) if event.starts_at else None,
            }
            for event in history
            if event.action != Action.REMINDED
        ],
        "video": consultation.mode == Mode.VIDEO,
        "tag": STATUS_TAGS[consultation.status],
        "asked": next((e for e in reversed(history) if e.action == Action.OTHER_TIMES), None)
        if consultation.status == Status.OTHER_TIMES
        else None,
        "cancelled": next((e for e in reversed(history) if e.action == Action.CANCELLED), None)
        if consultation.status == Status.CANCELLED
        else None,
        "declined": next((e for e in reversed(history) if e.action == Action.DECLINED), None)
        if consultation.status == Status.DECLINED
        else None,
        # A missed one: the specialist proposes another (from the case page) or closes it.
        "can_close_missed": consultation.status == Status.MISSED
        and _is_specialist(user, case)
        and case.status in services.ARRANGING,
        "can_decline": is_owner and services.can_decline(case=case),
        "is_case_manager": case_relation(user, case) == Relation.CASE_MANAGER,
        "case_url": _case_url(user, case),
    }
    return render(request, "consultations/detail.html", context, status=status)


@require_GET
@login_required
def consultation_detail(request, consultation_ref):
    consultation = selectors.consultation_for_viewer(
        viewer=request.user, ref=consultation_ref, caregiving=CaregiverRight.CONSULTATIONS
    )
    return _page(request, consultation)


@require_POST
@login_required
def consultation_choose(request, consultation_ref):
    consultation = _consultation(request, consultation_ref, owner=True)
    form = ChooseForm(
        request.POST,
        choices=[
            (
                str(s.uuid),
                format_span(s.starts_at, s.ends_at, ZoneInfo(consultation.patient_time_zone)),
            )
            for s in selectors.offered_slots(consultation)
        ],
    )
    if form.is_valid():
        try:
            consultation = services.consultation_book(
                actor=request.user,
                ref=consultation.uuid,
                slot_ref=form.cleaned_data["slot"],
            )
        except services.ConsultationError as error:
            error.apply_to(form)
            return _page(request, consultation, choose_form=form, status=error.status)
        messages.success(
            request,
            _(
                "Your consultation is booked for %(when)s. We have sent you "
                "a calendar invitation by email, and you can add it from "
                "here too."
            )
            % {
                "when": format_span(
                    consultation.starts_at,
                    consultation.ends_at,
                    ZoneInfo(consultation.patient_time_zone),
                )
            },
        )
        return redirect("consultations:detail", consultation.uuid)
    return _page(request, consultation, choose_form=form, status=400)


@require_GET
@login_required
def consultation_calendar(request, consultation_ref):
    """The calendar file as it stands: the invitation while booked (or held), the
    cancellation once the booked time is given up."""
    consultation = selectors.consultation_for_viewer(
        viewer=request.user,
        ref=consultation_ref,
        kind=AccessLog.Kind.DOWNLOAD,
        caregiving=CaregiverRight.CONSULTATIONS,
    )
    if consultation.starts_at is None:
        raise Http404
    method = (
        ics.REQUEST
        if consultation.status in (Status.BOOKED, Status.HELD, Status.MISSED)
        else ics.CANCEL
    )
    body = ics.consultation_ics(consultation, method=method, attendee=request.user)
    response = HttpResponse(body, content_type=f"text/calendar; charset=utf-8; method={method}")
    response["Content-Disposition"] = (
        f'attachment; filename="secondop-consultation-{consultation.case.reference}.ics"'
    )
    return response


# --- The specialist proposes times ---------------------------------------------------------
def _slots_page(request, *, case, form, consultation=None, status=200):
    zone = ZoneInfo(consultation.patient_time_zone if consultation else patient_zone_name(case))
    asked = None
    if consultation is not None and consultation.status == Status.OTHER_TIMES:
        asked = selectors.last_event(consultation, Action.OTHER_TIMES)
    context = {
        "case": case,
        "consultation": consultation,
        "form": form,
        "asked": asked,
        "mode": Mode(consultation.mode if consultation else case.consultation_type),
        "zone_label": zone_label(zone),
        "state": case.get_patient_state_display(),
        "now_there": format_moment(timezone.now(), zone),
        "booked": consultation is not None
        and consultation.status == Status.BOOKED
        and format_span(consultation.starts_at, consultation.ends_at, zone),
    }
    return render(request, "consultations/propose.html", context, status=status)


@sensitive_post_parameters()
@login_required
def consultation_new(request, ref):
    case = case_for_viewer(viewer=request.user, ref=ref)
    if not selectors.sees_consultations(viewer=request.user, case=case):
        raise Http404
    if not _is_specialist(request.user, case):
        raise PermissionDenied
    existing = selectors.open_consultation(case=case)
    if existing is not None:
        messages.info(
            request, _("A consultation is already being arranged: change its times here.")
        )
        return redirect("consultations:detail", existing.uuid)
    if case.consultation_type not in Mode.values or case.status not in services.ARRANGING:
        messages.error(request, _("There is no consultation to arrange for this case now."))
        return redirect("requests_app:staff_case", case.uuid)
    zone = ZoneInfo(patient_zone_name(case))
    form = SlotsForm(
        request.POST or None, zone=zone, in_person=case.consultation_type == Mode.IN_PERSON
    )
    if request.method == "POST" and form.is_valid():
        try:
            consultation = services.consultation_propose(
                actor=request.user,
                case_ref=case.uuid,
                slots=form.slots,
                place=form.cleaned_data.get("place", ""),
            )
        except services.ConsultationError as error:
            error.apply_to(form)
        else:
            messages.success(
                request, _("The times are sent. We will tell you when the patient has chosen one.")
            )
            return redirect("consultations:detail", consultation.uuid)
    return _slots_page(request, case=case, form=form, status=page_status(form))


@sensitive_post_parameters()
@login_required
def consultation_times(request, consultation_ref):
    """New times: the specialist reschedules (a booked time needs a reason)."""
    consultation = _consultation(request, consultation_ref, specialist=True)
    if not consultation.is_open:
        messages.error(request, _("This consultation is over, so its times cannot change."))
        return redirect("consultations:detail", consultation.uuid)
    form = SlotsForm(
        request.POST or None,
        zone=ZoneInfo(consultation.patient_time_zone),
        in_person=consultation.mode == Mode.IN_PERSON,
        reason="required" if consultation.status == Status.BOOKED else "optional",
        initial_place=consultation.place,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.consultation_reschedule(
                actor=request.user,
                ref=consultation.uuid,
                slots=form.slots,
                place=form.cleaned_data.get("place", ""),
                reason=form.cleaned_data.get("reason", ""),
            )
        except services.ConsultationError as error:
            error.apply_to(form)
        else:
            messages.success(request, _("The new times are sent to the patient."))
            return redirect("consultations:detail", consultation.uuid)
    return _slots_page(
        request,
        case=consultation.case,
        form=form,
        consultation=consultation,
        status=page_status(form),
    )


# --- The patient asks for other times; either side cancels; the outcome -------------------
def _form_page(request, template, consultation, form, **extra):
    context = {
        "consultation": consultation,
        "case": consultation.case,
        "form": form,
        "case_url": _case_url(request.user, consultation.case),
        "is_owner": case_relation(request.user, consultation.case) == Relation.OWNER,
        **extra,
    }
    return render(request, template, context, status=page_status(form))


@sensitive_post_parameters()
@login_required
def consultation_other_times(request, consultation_ref):
    consultation = _consultation(request, consultation_ref, owner=True)
    form = OtherTimesForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consultation_ask_other_times(
                actor=request.user,
                ref=consultation.uuid,
                note=form.cleaned_data["note"],
            )
        except services.ConsultationError as error:
            error.apply_to(form)
        else:
            messages.success(
                request,
                _(
                    "Your specialist is asked for other times. We will tell "
                    "you when they propose them."
                ),
            )
            return redirect("consultations:detail", consultation.uuid)
    booked = consultation.status == Status.BOOKED and format_span(
        consultation.starts_at, consultation.ends_at, ZoneInfo(consultation.patient_time_zone)
    )
    return _form_page(request, "consultations/other_times.html", consultation, form, booked=booked)


@sensitive_post_parameters()
@login_required
def consultation_cancel(request, consultation_ref):
    consultation = _consultation(request, consultation_ref, owner=True, specialist=True)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consultation_cancel(
                actor=request.user,
                ref=consultation.uuid,
                reason=form.cleaned_data["reason"],
            )
        except services.ConsultationError as error:
            error.apply_to(form)
        else:
            messages.success(
                request, _("The consultation is cancelled, and the other side is told.")
            )
            return redirect("consultations:detail", consultation.uuid)
    return _form_page(request, "consultations/cancel.html", consultation, form)


@sensitive_post_parameters()
@login_required
def consultation_decline(request, ref):
    """The patient says they no longer want the consultation they asked for."""
    case = case_for_viewer(viewer=request.user, ref=ref)
    if not selectors.sees_consultations(viewer=request.user, case=case):
        raise Http404
    if case_relation(request.user, case) != Relation.OWNER:
        raise Http404
    form = DeclineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            consultation = services.consultation_decline(
                actor=request.user,
                case_ref=case.uuid,
                note=form.cleaned_data["note"],
            )
        except services.ConsultationError as error:
            error.apply_to(form)
        else:
            messages.success(
                request,
                _(
                    "You declined the consultation. Your specialist is told, "
                    "and writes the report without one."
                ),
            )
            return redirect("consultations:detail", consultation.uuid)
    context = {
        "case": case,
        "form": form,
        "open": selectors.open_consultation(case=case),
        "can_decline": services.can_decline(case=case),
        "case_url": _case_url(request.user, case),
    }
    return render(request, "consultations/decline.html", context, status=page_status(form))


@sensitive_post_parameters()
@login_required
def consultation_outcome(request, consultation_ref):
    consultation = _consultation(request, consultation_ref, specialist=True)
    form = OutcomeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consultation_record_outcome(
                actor=request.user,
                ref=consultation.uuid,
                outcome=form.cleaned_data["outcome"],
                notes=form.cleaned_data["notes"],
            )
        except services.ConsultationError as error:
            error.apply_to(form)
        else:
            messages.success(
                request, _("The consultation is recorded, and the case is back in your review.")
            )
            return redirect("consultations:detail", consultation.uuid)
    when = consultation.starts_at and format_span(
        consultation.starts_at, consultation.ends_at, care_team_zone()
    )
    return _form_page(request, "consultations/outcome.html", consultation, form, when=when)


@login_required
def consultation_interpreter(request, consultation_ref):
    """The case manager records the interpreter the patient asked for: the
    language, and that one is booked, with their name."""
    consultation = _consultation(request, consultation_ref, case_manager=True)
    form = InterpreterForm(
        request.POST or None,
        initial={
            "language": consultation.interpreter_language or consultation.case.preferred_language,
            "booked": consultation.interpreter_booked,
            "name": consultation.interpreter_name,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.consultation_interpreter_set(
                actor=request.user, ref=consultation.uuid, **form.cleaned_data
            )
        except services.ConsultationError as error:
            error.apply_to(form)
        else:
            messages.success(request, _("The interpreter is recorded."))
            return redirect("consultations:detail", consultation.uuid)
    return _form_page(request, "consultations/interpreter.html", consultation, form)
