from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from secondop.accounts.permissions import coordinator_required, patient_required

from . import authorisation, progress, selectors, services
from .answers import section_answers
from .models import CaseStatus, SectionState
from .sections import SECTIONS, SECTIONS_BY_KEY
from .workflow import TransitionError


@coordinator_required
def coordinator_home(request):
    counts = selectors.case_counts_by_status(viewer=request.user)
    context = {
        "queue": selectors.coordinator_queue(viewer=request.user)[:50],
        "counts": [(s, counts.get(s.value, 0)) for s in CaseStatus if s != CaseStatus.DRAFT],
    }
    return render(request, "requests_app/coordinator_home.html", context)


@patient_required
def dashboard(request):
    cases = list(
        selectors.patient_case_list(viewer=request.user).annotate(
            completed_sections=Count("sections", filter=Q(sections__state=SectionState.COMPLETED))
        )
    )
    for case in cases:
        case.progress = progress.describe(case.status)
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
    case = services.case_start(actor=request.user, request=request)
    return redirect("requests_app:case_detail", case.pk)


@patient_required
def case_detail(request, pk: int):
    case = selectors.case_for_owner(viewer=request.user, pk=pk)
    states = selectors.case_section_states(case=case)
    if case.status == CaseStatus.DRAFT:
        rows = [(s, states.get(s.key)) for s in SECTIONS]
        done = sum(1 for _s, state in rows if state == SectionState.COMPLETED)
        return render(request, "requests_app/task_list.html",
                      {"case": case, "rows": rows, "done": done, "total": len(rows)})
    context = {
        "case": case,
        "progress": progress.describe(case.status),
        "timeline": selectors.case_timeline(case=case),
        "answers": section_answers(case, list(case.questions.all())),
        "can_amend": case.status in services.EDITABLE_STATES,
    }
    return render(request, "requests_app/case_detail.html", context)


def _section_form(section, request, case, complete=False):
    data = request.POST if request.method == "POST" else None
    if section.key == "authorisation":
        return section.form_class(data, case=case, signer=request.user)
    kwargs = {"case": case, "complete": complete}
    if section.key == "reasons":
        kwargs["questions"] = [q.text for q in case.questions.all()]
    return section.form_class(data, **kwargs)


@patient_required
def case_section(request, pk: int, key: str):
    case = selectors.case_for_owner(viewer=request.user, pk=pk)
    section = SECTIONS_BY_KEY.get(key)
    if section is None:
        raise Http404
    if case.status not in services.EDITABLE_STATES:
        return redirect("requests_app:case_detail", case.pk)
    submitted = case.status != CaseStatus.DRAFT
    complete = submitted or "complete" in request.POST or key == "authorisation"
    form = _section_form(section, request, case, complete=complete)
    if request.method == "POST" and form.is_valid():
        try:
            services.case_section_save(case_id=case.pk, actor=request.user, section=key,
                                       form=form, request=request)
        except TransitionError as error:
            messages.error(request, str(error))
            return redirect("requests_app:case_detail", case.pk)
        if submitted:
            messages.success(request, _("Your change is saved and your coordinator has been told."))
            return redirect("requests_app:case_detail", case.pk)
        messages.success(request, _("“%(section)s” is saved.") % {"section": section.title})
        return redirect("requests_app:case_detail", case.pk)
    context = {
        "case": case, "section": section, "form": form, "submitted": submitted,
        "authorisation": authorisation if key == "authorisation" else None,
    }
    return render(request, "requests_app/section.html", context)


@patient_required
def case_check(request, pk: int):
    case = selectors.case_for_owner(viewer=request.user, pk=pk)
    if case.status != CaseStatus.DRAFT:
        return redirect("requests_app:case_detail", case.pk)
    states = selectors.case_section_states(case=case)
    missing = services.case_missing_sections(case=case, states=states)
    context = {"case": case, "missing": missing,
               "answers": section_answers(case, list(case.questions.all()))}
    return render(request, "requests_app/check.html", context)


@require_POST
@patient_required
def case_submit(request, pk: int):
    case = selectors.case_for_owner(viewer=request.user, pk=pk)
    try:
        case = services.case_submit(case_id=case.pk, actor=request.user, request=request)
    except services.IncompleteRequest:
        messages.error(request, _("Some sections are not complete yet: see the list below."))
        return redirect("requests_app:case_check", case.pk)
    except TransitionError as error:
        messages.error(request, str(error))
        return redirect("requests_app:case_detail", case.pk)
    messages.success(request, _("Your request is sent. Your reference is %(ref)s.")
                     % {"ref": case.reference})
    return redirect("requests_app:case_detail", case.pk)


@patient_required
def case_withdraw(request, pk: int):
    case = selectors.case_for_owner(viewer=request.user, pk=pk)
    if case.status not in services.EDITABLE_STATES:
        return redirect("requests_app:case_detail", case.pk)
    error = None
    reason = ""
    if request.method == "POST":
        reason = request.POST.get("reason", "").strip()[:2000]
        try:
            services.case_withdraw(case_id=case.pk, actor=request.user, reason=reason,
                                   request=request)
        except TransitionError as exc:
            error = str(exc)
        else:
            messages.success(request, _("Your request is withdrawn."))
            return redirect("requests_app:dashboard")
    return render(request, "requests_app/withdraw.html",
                  {"case": case, "error": error, "reason": reason,
                   "back": reverse("requests_app:case_detail", args=[case.pk])})
