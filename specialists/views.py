from copy import copy
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from requests_app.access import Relation, case_page, case_relation
from requests_app.fees import offer_blocker
from requests_app.messaging.services import MessageError, message_post
from requests_app.models import CaseStatus
from secondop.accounts.models import Role
from secondop.accounts.permissions import specialist_required
from secondop.refusals import page_status

from . import selectors, services
from .matching import explanation, rank_specialists
from .offer_forms import (
    HoldForm,
    OfferAcceptForm,
    OfferDeclineForm,
    RelaxForm,
    SpecialtyForm,
    TellPatientForm,
)


@specialist_required
def home(request):
    """The specialist's workspace: offers waiting for an answer, with the time
    left, and the cases they are reviewing, with their due dates."""
    context = {
        "profile": selectors.profile_for(user=request.user),
        "offers": selectors.open_offers(viewer=request.user),
        "cases": selectors.specialist_cases(viewer=request.user),
        "now": timezone.now(),
    }
    return render(request, "specialists/home.html", context)


# --- Matching (coordinators) ------------------------------------------------------------
# A case page for coordinators: anyone else gets the same 404 as for a case that
# does not exist (access.case_page), and the case's read is logged there.
coordinator_case_page = case_page(roles={Role.COORDINATOR})


def _match_page(request, case, *, hold_form=None, tell_form=None, status=200):
    relax_form = RelaxForm(request.GET or None)
    relax = relax_form.relaxed() if relax_form.is_valid() else frozenset()
    ranking = rank_specialists(case=case, relax=relax)
    if hold_form is None:
        hold_form = HoldForm(
            initial={
                "reason": case.hold_reason or ranking.likely_hold_reason(),
                "until": case.hold_until or timezone.localdate() + timedelta(days=7),
            }
        )
    if tell_form is None:
        preview = case
        if not case.hold_reason:
            preview = copy(case)
            preview.hold_reason = hold_form.initial.get("reason", "other")
            preview.hold_until = hold_form.initial.get("until")
        tell_form = TellPatientForm(initial={"body": services.patient_hold_message(preview)})
    context = {
        "case": case,
        "ranking": ranking,
        "relax_form": relax_form,
        "candidates": [(c, explanation(c)) for c in ranking.candidates[:20]],
        "can_offer": case.status == CaseStatus.MATCHING and not offer_blocker(case),
        "offers": selectors.case_offers(case=case),
        "hold_form": hold_form,
        "tell_form": tell_form,
        # Matching waits for the fee (requests_app.fees); the page says so.
        "fee_blocker": offer_blocker(case) if case.status == CaseStatus.MATCHING else "",
        # Only the case manager writes to the patient from here.
        "is_case_manager": case_relation(request.user, case) == Relation.CASE_MANAGER,
        "now": timezone.now(),
    }
    return render(request, "specialists/match.html", context, status=status)


@coordinator_case_page
def case_match(request, case):
    """The ranked specialists for a case, each with the reasons for its place;
    when no one qualifies, how many each check excluded, the nearest misses,
    and holding the case with a word to the patient."""
    return _match_page(request, case)


@coordinator_case_page
def case_specialty(request, case):
    """Choose the specialty the case needs (triage), with a reason the patient reads."""
    form = SpecialtyForm(request.POST or None, initial={"specialty": case.specialty_id})
    if request.method == "POST" and form.is_valid():
        try:
            services.case_specialty_change(
                actor=request.user,
                case_ref=case.uuid,
                specialty_id=form.cleaned_data["specialty"].pk,
                reason=form.cleaned_data["reason"],
            )
        except services.OfferError as error:
            error.apply_to(form)
        else:
            messages.success(
                request,
                _("The case now asks for %(specialty)s. The patient sees it on their timeline.")
                % {"specialty": form.cleaned_data["specialty"].name},
            )
            back = (
                "specialists:case_match"
                if request.POST.get("next") == "match"
                else "requests_app:staff_case"
            )
            return redirect(back, case.uuid)
    return render(
        request,
        "specialists/case_specialty.html",
        {"case": case, "form": form, "next": request.GET.get("next", "")},
        status=page_status(form),
    )


@require_POST
@coordinator_case_page
def case_hold(request, case):
    form = HoldForm(request.POST)
    if form.is_valid():
        try:
            services.case_hold(
                actor=request.user,
                case_ref=case.uuid,
                reason=form.cleaned_data["reason"],
                until=form.cleaned_data["until"],
                note=form.cleaned_data["note"],
            )
        except services.OfferError as error:
            error.apply_to(form)
        else:
            messages.success(
                request,
                _(
                    "The case is on hold. The patient sees why, and the "
                    "queue shows the day to look again."
                ),
            )
            return redirect("specialists:case_match", case.uuid)
    return _match_page(request, case, hold_form=form, status=page_status(form))


@require_POST
@coordinator_case_page
def case_hold_end(request, case):
    try:
        services.case_hold_end(actor=request.user, case_ref=case.uuid)
    except services.OfferError as error:
        messages.error(request, error.message)
    return redirect("specialists:case_match", case.uuid)


@require_POST
@coordinator_case_page
def case_tell_patient(request, case):
    """Send the (edited) ready message to the patient's thread."""
    form = TellPatientForm(request.POST)
    if form.is_valid():
        try:
            message_post(
                actor=request.user,
                case_ref=case.uuid,
                body=form.cleaned_data["body"],
            )
        except MessageError as error:
            error.apply_to(form)
        else:
            messages.success(
                request,
                _(
                    "Your message is in the request's messages. The patient "
                    "is told there is a new message."
                ),
            )
            return redirect("specialists:case_match", case.uuid)
    return _match_page(request, case, tell_form=form, status=page_status(form))


@require_POST
@coordinator_case_page
def case_offer(request, case):
    relax_form = RelaxForm(request.POST)
    relax_form.is_valid()  # the service checks the reason itself
    try:
        specialist_id = request.POST.get("specialist", "")
        if not specialist_id.isdigit():
            raise services.OfferError(_("Choose a specialist from the list."))
        services.offer_make(
            actor=request.user,
            case_ref=case.uuid,
            specialist_id=int(specialist_id),
            relax=relax_form.relaxed(),
            relax_reason=relax_form.cleaned_data.get("relax_reason", ""),
        )
    except services.OfferError as error:
        messages.error(request, error.message)
        return redirect("specialists:case_match", case.uuid)
    messages.success(
        request,
        _(
            "The case is offered. The specialist is told, and it comes "
            "back to you if they decline or do not answer in time."
        ),
    )
    return redirect("requests_app:staff_case", case.uuid)


# --- Offers (specialists) ---------------------------------------------------------------
@login_required
def offer_detail(request, ref):
    """What a specialist needs to decide, and nothing more: no name, no date of
    birth, no contact details, no records until they accept."""
    if request.user.role != Role.SPECIALIST:
        raise Http404
    offer, lapsed = _offer_or_lapsed(request, ref)
    if lapsed:
        return lapsed
    if case_relation(request.user, offer.case) == Relation.ASSIGNED_SPECIALIST:
        return redirect("requests_app:staff_case", ref)
    context = {
        "offer": offer,
        "summary": selectors.offer_summary(offer=offer),
        "accept_form": OfferAcceptForm(),
        "decline_form": OfferDeclineForm(),
        "now": timezone.now(),
    }
    return render(request, "specialists/offer.html", context)


def _offer_or_lapsed(request, ref):
    """The specialist's offer of the case, or (once its deadline has passed) the
    page that says the time to answer is over, with nothing of the case on it."""
    try:
        return selectors.offer_for(viewer=request.user, case_ref=ref), None
    except Http404:
        if not selectors.offer_lapsed(viewer=request.user, case_ref=ref):
            raise
    return None, render(request, "specialists/offer_lapsed.html", status=410)


def _answer(request, ref, form_class, answer):
    if request.user.role != Role.SPECIALIST:
        raise Http404
    offer, lapsed = _offer_or_lapsed(request, ref)
    if lapsed:
        return lapsed
    form = form_class(request.POST)
    if form.is_valid():
        try:
            answer(form.cleaned_data)
        except services.OfferError as error:
            error.apply_to(form)
        else:
            return None
    forms = {"accept_form": OfferAcceptForm(), "decline_form": OfferDeclineForm()}
    forms["accept_form" if form_class is OfferAcceptForm else "decline_form"] = form
    context = {
        "offer": offer,
        "summary": selectors.offer_summary(offer=offer),
        **forms,
        "now": timezone.now(),
    }
    return render(request, "specialists/offer.html", context, status=page_status(form))


@require_POST
@login_required
def offer_accept(request, ref):
    response = _answer(
        request,
        ref,
        OfferAcceptForm,
        lambda data: services.offer_accept(
            actor=request.user, case_ref=ref, conflict_attested=data["no_conflict"]
        ),
    )
    if response is not None:
        return response
    messages.success(request, _("The case is yours. The patient and the coordinator are told."))
    return redirect("requests_app:staff_case", ref)


@require_POST
@login_required
def offer_decline(request, ref):
    response = _answer(
        request,
        ref,
        OfferDeclineForm,
        lambda data: services.offer_decline(
            actor=request.user,
            case_ref=ref,
            reason=data["reason"],
            note=data["note"],
        ),
    )
    if response is not None:
        return response
    messages.success(request, _("You declined the case. Thank you for answering quickly."))
    return redirect("specialists:home")
