from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST, require_safe

from records.retrieval import selectors as retrieval_selectors
from secondop.accounts.models import STAFF_ROLES, Role
from secondop.accounts.permissions import coordinator_required, patient_required
from secondop.posting import form_post
from secondop.refusals import page_status

from . import access, authorisation, fees, progress, selectors, services
from .forms.case import (
    CaseMoveForm,
    ClaimForm,
    FeeConfirmForm,
    FeeWaiveForm,
    InsuranceCheckForm,
    QueueFilterForm,
    WithdrawForm,
)
from .messaging import selectors as messaging
from .models import CLOSED_STATES, OPEN_STATES, Case, CaseStatus, SectionState, Urgency
from .receipt import render_receipt
from .sections import (
    SECTIONS,
    SECTIONS_BY_KEY,
    choice_label,
    next_section,
    section_answers,
)
from .templatetags.requests_extras import wait
from .workflow import TransitionError, allowed_transitions, case_transition


# --- Patients ---------------------------------------------------------------------
@patient_required
def dashboard(request):
    cases = list(selectors.patient_case_list(viewer=request.user))
    counts = messaging.patient_message_counts(viewer=request.user, cases=cases)
    facts = selectors.case_facts(
        cases=cases, open_questions={pk: c.open_questions for pk, c in counts.items()}
    )
    for case in cases:
        messages_on = counts.get(case.pk, messaging.CaseMessages())
        case.progress = progress.describe(case.status, facts.get(case.pk))
        case.unread_messages = messages_on.unread
    context = {
        "drafts": [c for c in cases if c.status == CaseStatus.DRAFT],
        # A draft deleted before sending has no reference and is not shown again.
        "sent": [c for c in cases if c.reference],
        "section_count": len(SECTIONS),
    }
    return render(request, "requests_app/dashboard.html", context)


@require_POST
@patient_required
def case_start(request):
    case = services.case_start(actor=request.user)
    return redirect("requests_app:case_detail", case.uuid)


@access.patient_case_page
def case_detail(request, case):
    if case.status == CaseStatus.DRAFT:
        states = selectors.case_section_states(case=case)
        rows = [(s, states.get(s.key)) for s in SECTIONS]
        done = sum(1 for _s, state in rows if state == SectionState.COMPLETED)
        return render(
            request,
            "requests_app/task_list.html",
            {
                "case": case,
                "rows": rows,
                "done": done,
                "total": len(rows),
                "prices": selectors.price_list(),
            },
        )
    timeline = selectors.case_timeline(case=case, viewer=request.user)
    # Read once: the progress words count them and the messages panel lists them.
    questions = messaging.open_questions(case=case)
    asked = [e for e in timeline if getattr(e, "new_status", "") == CaseStatus.AWAITING_RECORDS]
    context = {
        "case": case,
        "progress": _progress(case, questions),
        "questions": questions,
        "receipt": fees.receipt_available(case),
        "fee_total": fees.money(case.fee_quoted, case.fee_currency),
        "timeline": timeline,
        "records_asked": asked[-1].reason
        if asked and case.status == CaseStatus.AWAITING_RECORDS
        else "",
        "answers": section_answers(case, list(case.questions.all())),
        "can_amend": services.case_answers_can_change(case),
        "can_withdraw": services.case_can_withdraw(case),
        "care_team_views": selectors.case_care_team_views(case=case),
        "specialist_profile": selectors.accepted_by(case=case),
    }
    return render(request, "requests_app/case_detail.html", context)


def _progress(case, questions: list | None = None) -> dict:
    """`questions`: the case's open questions, when the view has read them."""
    if questions is None:
        questions = messaging.open_questions(case=case)
    facts = selectors.case_facts(cases=[case], open_questions={case.pk: len(questions)})
    return progress.describe(case.status, facts.get(case.pk))


@require_GET
@access.patient_case_page
def case_sent(request, case):
    """Right after sending: the reference, what happens next and when, and the
    records (send them now, or later). A draft has nothing to confirm yet."""
    if case.status == CaseStatus.DRAFT or not case.reference:
        return redirect("requests_app:case_detail", case.uuid)
    context = {"case": case, "progress": _progress(case), "urgent": case.urgency == Urgency.URGENT}
    return render(request, "requests_app/sent.html", context)


@sensitive_post_parameters()
@access.patient_case_page
def case_section(request, case, key: str):
    section = SECTIONS_BY_KEY.get(key)
    if section is None:
        raise Http404
    if not services.case_answers_can_change(case):
        return redirect("requests_app:case_detail", case.uuid)
    submitted = case.status != CaseStatus.DRAFT
    complete = submitted or "complete" in request.POST
    form = section.form(
        case=case,
        actor=request.user,
        data=request.POST or None,
        complete=complete,
        questions=list(case.questions.all()),
    )
    if key == "specialist" and request.method == "GET" and request.GET.get("preferred"):
        # "Ask for Dr X on my request" (the directory): shown chosen, saved by the person.
        form = section.form_class(case=case, complete=complete, preferred=request.GET["preferred"])
    if request.method == "POST" and form.is_valid():
        try:
            services.case_section_save(
                actor=request.user,
                case_ref=case.uuid,
                section=key,
                data=form.cleaned_data,
                complete=complete,
            )
        except TransitionError as error:
            messages.error(request, error.message)
            return redirect("requests_app:case_detail", case.uuid)
        if submitted:
            messages.success(request, _("Your change is saved and your care team has been told."))
            return redirect("requests_app:case_detail", case.uuid)
        messages.success(request, _("“%(section)s” is saved.") % {"section": section.title})
        if complete:
            # Save and continue: straight on to the next section not yet done,
            # then to the check page (no trip through the task list).
            following = next_section(key, selectors.case_section_states(case=case))
            if following is None:
                return redirect("requests_app:case_check", case.uuid)
            return redirect("requests_app:case_section", case.uuid, following.key)
        return redirect("requests_app:case_detail", case.uuid)
    context = {
        "case": case,
        "section": section,
        "form": form,
        "submitted": submitted,
        "authorisation": authorisation,
        "authorisation_text": authorisation.text_in(authorisation.reading_language()),
        "authorisation_english": authorisation.ENGLISH,
        "fix_in_section": SECTIONS_BY_KEY.get(getattr(form, "fix_in_section", "")),
    }
    return render(request, "requests_app/section.html", context)


@access.patient_case_page
def case_check(request, case):
    if case.status != CaseStatus.DRAFT:
        return redirect("requests_app:case_detail", case.uuid)
    states = selectors.case_section_states(case=case)
    context = {
        "case": case,
        "missing": services.case_missing_sections(states=states),
        "answers": section_answers(case, list(case.questions.all())),
        "prices": selectors.price_list(),
    }
    return render(request, "requests_app/check.html", context)


@require_POST
@access.patient_case_page
def case_submit(request, case):
    try:
        case = services.case_submit(actor=request.user, case_ref=case.uuid)
    except services.IncompleteRequest as error:
        messages.error(request, error.message)
        return redirect("requests_app:case_check", case.uuid)
    except TransitionError as error:
        messages.error(request, error.message)
        return redirect("requests_app:case_detail", case.uuid)
    return redirect("requests_app:case_sent", case.uuid)


@access.patient_case_page
def case_fee(request, case):
    """The fee quoted for the request, what it covers, and the patient's
    confirmation, which matching waits for. Nothing is charged here."""
    if case.status == CaseStatus.DRAFT:
        return redirect("requests_app:case_detail", case.uuid)
    form = FeeConfirmForm(request.POST or None, initial={"fee": case.fee_quoted})
    if request.method == "POST" and form.is_valid():
        try:
            services.case_fee_confirm(
                actor=request.user,
                case_ref=case.uuid,
                fee_seen=form.cleaned_data["fee"],
            )
        except TransitionError as error:
            form.add_error(None, error.message)
            case.refresh_from_db()
            # Shown again with the fee quoted now, to read and tick afresh.
            form.data = form.data.copy()
            form.data["fee"] = str(case.fee_quoted or "")
            form.data.pop("agree", None)
        else:
            messages.success(
                request, _("Thank you: the fee is confirmed. We will now find your specialist.")
            )
            return redirect("requests_app:case_detail", case.uuid)
    context = {
        "case": case,
        "form": form,
        "state": fees.fee_state(case),
        "must_confirm": fees.patient_must_confirm(case),
        "total": fees.money(case.fee_quoted, case.fee_currency),
        "items": [
            (line["label"], fees.money(line["amount"], line["currency"])) for line in case.fee_items
        ],
        "receipt": fees.receipt_available(case),
        "prices": selectors.price_list(),
    }
    return render(request, "requests_app/fee.html", context, status=page_status(form))


@require_safe
@access.patient_case_page
def case_receipt(request, case):
    """The itemised receipt (PDF) for the patient's insurer, after delivery."""
    if not fees.receipt_available(case):
        raise Http404
    # The account holder's own document: not in the access log (staff reads are).
    pdf = render_receipt(case)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="receipt-{case.reference}.pdf"'
    return response


@sensitive_post_parameters()
@access.patient_case_page
def case_withdraw(request, case):
    if not services.case_can_withdraw(case):
        return redirect("requests_app:case_detail", case.uuid)
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.case_withdraw(
                actor=request.user,
                case_ref=case.uuid,
                reason=form.cleaned_data["reason"],
            )
        except TransitionError as error:
            form.add_error("reason", error.message)
        else:
            messages.success(
                request,
                _("Your request is withdrawn.") if case.reference else _("Your draft is deleted."),
            )
            return redirect("requests_app:dashboard")
    return render(request, "requests_app/withdraw.html", {"case": case, "form": form})


# --- Coordinators and the care team -------------------------------------------------
# The moves a coordinator makes from the case page; offers, reports and follow-up
# have pages of their own.
STAFF_MOVES = (
    CaseStatus.TRIAGE,
    CaseStatus.AWAITING_RECORDS,
    CaseStatus.IN_REVIEW,
    CaseStatus.MATCHING,
    CaseStatus.CANCELLED,
    CaseStatus.CLOSED,
)


def _staff_moves(case, role) -> list[str]:
    """The moves the case page's form offers. Asking for records during review
    goes through the records page (a RecordRequest the patient answers, for the
    case manager or the specialist), never this form; a case waiting for records
    goes back only to where it came from."""
    moves = [to for to in allowed_transitions(case=case, role=role) if to in STAFF_MOVES]
    if case.status == CaseStatus.IN_REVIEW:
        return [to for to in moves if to != CaseStatus.AWAITING_RECORDS]
    if case.status == CaseStatus.AWAITING_RECORDS:
        asked = case.events.filter(new_status=CaseStatus.AWAITING_RECORDS).last()
        came_from = (
            CaseStatus.IN_REVIEW
            if asked and asked.old_status == CaseStatus.IN_REVIEW
            else CaseStatus.TRIAGE
        )
        back = {CaseStatus.TRIAGE, CaseStatus.IN_REVIEW} - {came_from}
        return [to for to in moves if to not in back]
    return [to for to in moves if to != CaseStatus.IN_REVIEW]


QUEUE_FILTERS_KEY = "secondop_queue_filters"


@coordinator_required
def coordinator_home(request):
    """The queue: every open case, filtered, sorted and searched.

    The filters are POSTed and kept in the session, never in the URL: a search
    holds a patient's name, which must not reach browser history or any log.
    Only the page number and a status (from the counts) travel in the URL."""
    if request.method == "POST":
        form = QueueFilterForm(request.POST)
        if form.is_valid():
            request.session[QUEUE_FILTERS_KEY] = form.stored()
            return redirect("requests_app:coordinator_home")
    else:
        if "clear" in request.GET:
            request.session.pop(QUEUE_FILTERS_KEY, None)
            return redirect("requests_app:coordinator_home")
        stored = dict(request.session.get(QUEUE_FILTERS_KEY, {}))
        if request.GET.get("status"):
            stored["status"] = request.GET["status"]
        form = QueueFilterForm(stored or None)
    filters = form.filters() if form.is_bound else {}
    page = selectors.case_queue(
        viewer=request.user, filters=filters, page=request.GET.get("page", 1)
    )
    counts = selectors.case_counts_by_status(viewer=request.user)
    query = {"status": request.GET["status"]} if request.GET.get("status") else {}
    now = timezone.now()
    context = {
        "form": form,
        "page": page,
        "rows": _queue_rows(page, viewer=request.user, now=now),
        "query": urlencode(query),
        "counts": [(s, counts.get(s.value, 0)) for s in CaseStatus if s in OPEN_STATES],
        "total": sum(counts.values()),
        "now": now,
        "filtered": bool(filters and any(filters.values())),
    }
    return render(request, "requests_app/coordinator_home.html", context, status=page_status(form))


def _queue_rows(page, *, viewer, now) -> list[dict]:
    """The queue's rows as the table shows them, each a dict read once here: the
    template's lookups on a dict are its cheapest, and a page of 25 rows runs each
    of them 25 times (links, waits, "You" were tags and filters per row)."""
    rows = []
    for case in page.object_list:
        mine = access.is_case_manager(viewer, case)
        rows.append(
            {
                "uuid": case.uuid,
                "url": reverse("requests_app:staff_case", args=[case.uuid]),
                "reference": case.reference,
                "patient_name": case.patient_name,
                "status": choice_label("status", case.status),
                "held": bool(case.hold_reason),
                "hold_due": case.hold_is_due,
                "hold_until": case.hold_until,
                "urgent": case.urgency == Urgency.URGENT,
                "urgency": choice_label("urgency", case.urgency),
                "specialty": case.specialty or "",
                "overdue": bool(case.due_at and case.due_at < now),
                "due_at": case.due_at,
                "state_wait": wait(case.state_since, now),
                "active_at": case.patient_active_at,
                "active_wait": wait(case.patient_active_at, now),
                "mine": mine,
                "manager": case.case_manager.full_name if case.case_manager_id else "",
                "claim_url": reverse("requests_app:staff_case_claim", args=[case.uuid])
                if not mine and not case.case_manager_id and case.status == CaseStatus.SUBMITTED
                else "",
            }
        )
    return rows


def _staff_case_page(
    request,
    case,
    *,
    move_form=None,
    insurance_form=None,
    claim_form=None,
    waive_form=None,
    status=200,
):
    is_coordinator = request.user.role == Role.COORDINATOR
    is_case_manager = access.is_case_manager(request.user, case)
    moves = _staff_moves(case, request.user.role) if is_coordinator else []
    prices = selectors.price_list() if is_coordinator else []
    fee_state = fees.fee_state(case)
    context = {
        "case": case,
        "progress": progress.describe(case.status),
        "timeline": selectors.case_timeline(case=case, viewer=request.user, for_staff=True),
        # Read once for the "waiting on the patient" tag and the messages panel.
        "questions": messaging.open_questions(case=case),
        "answers": section_answers(case, list(case.questions.all())),
        "is_coordinator": is_coordinator,
        "is_case_manager": is_case_manager,
        "moves": [(to, progress.action_label(case.status, to)) for to in moves],
        "move_form": move_form or CaseMoveForm(moves=moves),
        "insurance_form": insurance_form
        or (InsuranceCheckForm(instance=case, prices=prices) if is_coordinator else None),
        "claim_form": claim_form
        or ClaimForm(
            initial={
                "expected_manager": case.case_manager_id or 0,
                "start_triage": case.status == CaseStatus.SUBMITTED,
            }
        ),
        "waive_form": waive_form or FeeWaiveForm(),
        # The strip's choice labels, translated once per language (not per call).
        "labels": {
            name: choice_label(name, getattr(case, name))
            for name in ("urgency", "patient_state", "consultation_type", "payment")
        },
        "fee_state": fee_state,
        "fee_words": fees.STAFF_WORDS[fee_state],
        "fee_total": fees.money(case.fee_quoted, case.fee_currency),
        "record_counts": selectors.case_record_counts(case=case),
        # Shown to the case manager only (the page's "Records from hospitals" panel).
        "record_sources": retrieval_selectors.source_lines(viewer=request.user, case=case)
        if is_coordinator and is_case_manager
        else [],
        "now": timezone.now(),
    }
    return render(request, "requests_app/staff_case.html", context, status=status)


# The coordinators' actions on a case: anyone else gets the case's 404.
coordinator_case_page = access.case_page(roles={Role.COORDINATOR})


def _only_offered_to_offer(view):
    """A specialist who has only been offered the case goes to the offer's summary,
    not the whole request, before the case is loaded (so no second read is logged)."""

    @wraps(view)
    def wrapper(request, *args, ref, **kwargs):
        if request.user.is_authenticated and request.user.role == Role.SPECIALIST:
            visible = access.case_list(viewer=request.user).filter(uuid=ref)
            if visible.exists() and not visible.filter(specialist=request.user).exists():
                return redirect("specialists:offer", ref)
        return view(request, *args, ref=ref, **kwargs)

    return wrapper


@_only_offered_to_offer
@access.case_page(roles=STAFF_ROLES)
def staff_case(request, case):
    """The care team's view of a case: every answer, the timeline and what this
    person may do next. Opening it is a read of PHI, logged by case_for_viewer.
    A specialist who has only been offered the case sees the offer's summary."""
    return _staff_case_page(request, case)


@sensitive_post_parameters()
@require_POST
@coordinator_case_page
def staff_case_claim(request, case):
    """Claim a case (from its page or the queue: for a new request, claim and
    start triage at once), or take it over from its manager with a reason."""
    form = ClaimForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        taking_over = case.case_manager_id is not None and not access.is_case_manager(
            request.user, case
        )
        try:
            case = services.case_claim(
                actor=request.user,
                case_ref=case.uuid,
                reason=data["reason"],
                expected_manager_id=data["expected_manager"],
                start_triage=data["start_triage"],
            )
        except TransitionError as error:
            form.add_error("reason" if taking_over else None, error.message)
        else:
            if data["start_triage"] and case.status == CaseStatus.TRIAGE:
                messages.success(
                    request,
                    _("You manage %(ref)s and its triage has started.") % {"ref": case.reference},
                )
            else:
                messages.success(
                    request, _("You are now the case manager of %(ref)s.") % {"ref": case.reference}
                )
            return redirect("requests_app:staff_case", case.uuid)
    # Who manages it now (a colleague may have just claimed it): the form is shown
    # again for that manager, with the reason kept.
    case.refresh_from_db()
    form.data = form.data.copy()
    form.data["expected_manager"] = str(case.case_manager_id or 0)
    return _staff_case_page(request, case, claim_form=form, status=400)


@sensitive_post_parameters()
@require_POST
@coordinator_case_page
def staff_case_fee_waive(request, case):
    """Let matching go ahead before the patient confirms a fee, with a reason."""
    form = FeeWaiveForm(request.POST)
    if form.is_valid():
        try:
            services.case_fee_waive(
                actor=request.user,
                case_ref=case.uuid,
                reason=form.cleaned_data["reason"],
            )
        except TransitionError as error:
            form.add_error("reason", error.message)
        else:
            messages.success(
                request,
                _("Saved: matching can go ahead without the patient's confirmation of the fee."),
            )
            return redirect("requests_app:staff_case", case.uuid)
    return _staff_case_page(request, case, waive_form=form, status=400)


@sensitive_post_parameters()
@require_POST
@coordinator_case_page
def staff_case_move(request, case):
    form = CaseMoveForm(request.POST, moves=_staff_moves(case, request.user.role))

    def done(_result) -> str:
        to = form.cleaned_data["to_status"]
        if to in CLOSED_STATES and not access.is_case_manager(request.user, case):
            # Closing ends every coordinator's access but the case manager's.
            return reverse("requests_app:coordinator_home")
        return reverse("requests_app:staff_case", args=[case.uuid])

    return form_post(
        request,
        form,
        act=lambda data: case_transition(
            actor=request.user, ref=case.uuid, to_status=data["to_status"], reason=data["reason"]
        ),
        # `case` is the page's: its status is still the one the move left.
        success=lambda _result: (
            _("%(ref)s: %(action)s: done.")
            % {
                "ref": case.reference,
                "action": progress.action_label(case.status, form.cleaned_data["to_status"]),
            }
        ),
        then=done,
        page=lambda form, status: _staff_case_page(request, case, move_form=form, status=status),
        refusals=TransitionError,
    )


@sensitive_post_parameters()
@require_POST
@coordinator_case_page
def staff_case_insurance(request, case):
    form = InsuranceCheckForm(
        request.POST, instance=Case(pk=case.pk), prices=selectors.price_list()
    )
    return form_post(
        request,
        form,
        act=lambda data: services.case_insurance_check(
            actor=request.user,
            case_ref=case.uuid,
            status=data["insurance_status"],
            fee_quoted=data["fee_quoted"],
            items=data["items"],
            note=data["insurance_note"],
        ),
        success=_("The insurance check is saved and the patient is told."),
        then=lambda _case: reverse("requests_app:staff_case", args=[case.uuid]),
        page=lambda form, status: _staff_case_page(
            request, case, insurance_form=form, status=status
        ),
        refusals=TransitionError,
    )
