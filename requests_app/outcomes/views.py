"""Outcome pages. The account holder's own answers (SURE before and after, the
90-day question) through the case's access rule (404 for anyone else); the
public figures page for everyone, signed in or not: counts only, suppressed."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from requests_app.access import patient_case_page
from requests_app.aftercare.selectors import DIAGNOSIS_COLUMNS, TREATMENT_COLUMNS
from requests_app.reports.models import DiagnosisOpinion, TreatmentOpinion
from secondop.refusals import page_status

from . import publishing, selectors, services
from .forms import SureForm, TreatmentOutcomeForm
from .models import Moment, TreatmentChange


def _posted(request):
    return request.POST if request.method == "POST" else None


def _after_sure(case, moment):
    if moment == Moment.BEFORE:
        return redirect("requests_app:case_detail", case.uuid)
    return redirect("reports:case", case.uuid)


@patient_case_page
def sure(request, case, moment):
    """The four SURE questions for one moment: answer them, or skip them."""
    state = selectors.sure_state(case=case)
    if not selectors.sure_open(case=case, moment=moment) or state.answered(moment):
        return _after_sure(case, moment)
    form = SureForm(_posted(request))
    if request.method == "POST":
        skipping = "skip" in request.POST
        if skipping or form.is_valid():
            answers = None if skipping else dict(form.cleaned_data)
            try:
                row = services.sure_record(
                    actor=request.user, case_ref=case.uuid, moment=moment, answers=answers
                )
            except services.OutcomeError as refusal:
                refusal.apply_to(form)
            else:
                if row.skipped:
                    messages.info(request, _("You skipped the four questions. That is fine."))
                else:
                    messages.success(request, _("Thank you for answering."))
                return _after_sure(case, moment)
    return render(
        request,
        "outcomes/sure.html",
        {"case": case, "moment": moment, "form": form, "state": state},
        status=page_status(form),
    )


@patient_case_page
def treatment(request, case):
    """The 90-day question, once it is asked: the account holder answers (or
    changes their answer)."""
    outcome = selectors.treatment_outcome(case=case)
    if outcome is None:
        messages.info(
            request,
            _("We ask this three months after your report is delivered. Please come back then."),
        )
        return redirect("requests_app:case_detail", case.uuid)
    initial = {"answer": outcome.answer} if outcome.answer else None
    form = TreatmentOutcomeForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.treatment_outcome_answer(
                actor=request.user, case_ref=case.uuid, answer=form.cleaned_data["answer"]
            )
        except services.OutcomeError as refusal:
            refusal.apply_to(form)
        else:
            messages.success(request, _("Thank you. Your answer helps other patients."))
            return redirect("requests_app:case_detail", case.uuid)
    return render(
        request,
        "outcomes/treatment.html",
        {"case": case, "form": form, "outcome": outcome},
        status=page_status(form),
    )


def _labels(columns, choices) -> list[str]:
    names = dict(choices)
    return [str(names[c]) if c else _("Not recorded") for c in columns]


SURE_LABELS = (
    _("Unsure before, sure after"),
    _("Unsure before and after"),
    _("Sure before and after"),
    _("Sure before, unsure after"),
)


@require_GET
def public(request):
    """Our figures, for anyone: concordance, SURE change, the 90-day outcome and
    turnaround, by specialty and by quarter, beside the published figures."""
    every = selectors.delivered_facts()
    # Third opinions are counted apart (their own table below): the figures set
    # beside the published studies are the second opinions'.
    facts = [f for f in every if not f.third_opinion]
    thirds = [f for f in every if f.third_opinion]
    measures = [
        (
            "diagnosis",
            _("The specialist's opinion of the diagnosis"),
            DIAGNOSIS_COLUMNS,
            lambda f: f.diagnosis,
            _labels(DIAGNOSIS_COLUMNS, DiagnosisOpinion.choices),
        ),
        (
            "treatment",
            _("The specialist's opinion of the treatment plan"),
            TREATMENT_COLUMNS,
            lambda f: f.treatment,
            _labels(TREATMENT_COLUMNS, TreatmentOpinion.choices),
        ),
        (
            "sure",
            _("Decision confidence (SURE test) before and after the report"),
            selectors.SURE_COLUMNS,
            lambda f: f.sure,
            [str(label) for label in SURE_LABELS],
        ),
        (
            "outcome",
            _("Three months after the report: did the treatment change?"),
            selectors.OUTCOME_COLUMNS,
            lambda f: f.outcome or None,
            [str(label) for label in TreatmentChange.labels],
        ),
    ]
    tables = []
    for key, title, columns, value, labels in measures:
        tables.append(
            {
                "key": key,
                "title": title,
                "by_specialty": publishing.count_table(
                    facts, publishing.by_specialty, columns, value, labels
                ),
                "by_quarter": publishing.count_table(
                    facts, publishing.by_quarter, columns, value, labels
                ),
            }
        )
    tables.append(
        {
            "key": "third_diagnosis",
            "title": _("Third opinions: the third specialist's opinion of the diagnosis"),
            "by_specialty": publishing.count_table(
                thirds,
                publishing.by_specialty,
                DIAGNOSIS_COLUMNS,
                lambda f: f.diagnosis,
                _labels(DIAGNOSIS_COLUMNS, DiagnosisOpinion.choices),
            ),
            "by_quarter": publishing.count_table(
                thirds,
                publishing.by_quarter,
                DIAGNOSIS_COLUMNS,
                lambda f: f.diagnosis,
                _labels(DIAGNOSIS_COLUMNS, DiagnosisOpinion.choices),
            ),
        }
    )
    by_key = {t["key"]: t["by_specialty"] for t in tables}
    headline = publishing.headline(by_key)
    context = {
        "facts": len(facts),
        "thirds": len(thirds),
        "tables": tables,
        "headline": headline,
        "turnaround_by_specialty": publishing.turnaround_table(facts, publishing.by_specialty),
        "turnaround_by_quarter": publishing.turnaround_table(facts, publishing.by_quarter),
        "threshold": publishing.THRESHOLD,
    }
    return render(request, "outcomes/public.html", context)
