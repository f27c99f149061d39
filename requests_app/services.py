"""Writes for requests: start, save a section, submit, withdraw."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from secondop.accounts.models import Role, User
from secondop.audit.services import client_ip, log_event
from secondop.notifications.models import Kind
from secondop.notifications.services import notify

from . import authorisation
from .answers import answer_text
from .models import (
    Case,
    CaseAmendment,
    CaseQuestion,
    CaseSection,
    CaseStatus,
    ReferenceCounter,
    Relationship,
    SectionState,
    Urgency,
)
from .sections import SECTIONS
from .workflow import TransitionError, case_transition

EDITABLE_STATES = frozenset(set(CaseStatus) - {CaseStatus.CLOSED, CaseStatus.WITHDRAWN,
                                                CaseStatus.CANCELLED})


class IncompleteRequest(Exception):
    def __init__(self, missing):
        super().__init__("incomplete")
        self.missing = missing


@transaction.atomic
def case_start(*, actor, request=None) -> Case:
    case = Case.objects.create(owner=actor)
    log_event(actor=actor, action="requests.case.started", obj=case, request=request)
    return case


@transaction.atomic
def case_section_save(*, case_id: int, actor, section: str, form, request=None) -> Case:
    """Save one section's answers (a valid form bound to the case) and its state.

    Locks the case, so two tabs saving different sections both keep their answers;
    after submission every change is recorded as an amendment."""
    case = Case.objects.select_for_update().get(pk=case_id, owner=actor)
    if case.status not in EDITABLE_STATES:
        raise TransitionError(_("This request is closed and can no longer be changed."))
    submitted = case.status != CaseStatus.DRAFT
    if submitted and not form.complete:
        raise TransitionError(_("After you send a request, every section must stay complete."))

    old, new = {}, {}
    if section == "authorisation":
        fields = ["authorisation_version", "authorisation_signed_name",
                  "authorisation_signed_at", "authorisation_ip"]
        old = {f: str(answer_text(case, f)) for f in fields}
        case.authorisation_version = authorisation.VERSION
        case.authorisation_signed_name = form.cleaned_data["signature"]
        case.authorisation_signed_at = timezone.now()
        case.authorisation_ip = client_ip(request)
    else:
        fields = [f for f in form._meta.fields if f in form.cleaned_data]
        old = {f: str(answer_text(case, f)) for f in fields}
        for f in fields:
            setattr(case, f, form.cleaned_data[f])
        if section == "who" and case.relationship == Relationship.SELF:
            case.patient_name = actor.full_name
            case.authority_attested = False
    new = {f: str(answer_text(case, f)) for f in fields}
    case.save(update_fields=[*fields, "updated_at"])

    if section == "reasons":
        old_questions = list(case.questions.values_list("text", flat=True))
        questions = form.cleaned_data["questions"]
        if questions != old_questions:
            case.questions.all().delete()
            CaseQuestion.objects.bulk_create(
                CaseQuestion(case=case, position=i, text=q) for i, q in enumerate(questions, 1)
            )
            old["questions"], new["questions"] = old_questions, questions

    state = SectionState.COMPLETED if form.complete else SectionState.IN_PROGRESS
    CaseSection.objects.update_or_create(case=case, section=section, defaults={"state": state})

    changed_old = {k: v for k, v in old.items() if new.get(k) != v}
    changed_new = {k: new[k] for k in changed_old}
    if submitted and changed_new:
        CaseAmendment.objects.create(case=case, actor=actor, section=section,
                                     old_values=changed_old, new_values=changed_new)
        log_event(actor=actor, action="requests.case.amended", obj=case, request=request,
                  old=changed_old, new=changed_new)
        _notify_coordinators(case, _("Request %(ref)s was amended by the patient")
                             % {"ref": case.reference})
    elif changed_new:
        log_event(actor=actor, action="requests.case.section_saved", obj=case, request=request,
                  new={"section": section, "state": state})
    return case


def case_missing_sections(*, case: Case, states: dict[str, str]) -> list:
    return [s for s in SECTIONS if states.get(s.key) != SectionState.COMPLETED]


def _next_reference(year: int) -> str:
    counter, _created = ReferenceCounter.objects.select_for_update().get_or_create(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"SO-{year}-{counter.last:06d}"


def urgency_for(case: Case, today) -> str:
    window = settings.CASE_URGENT_IF_TREATMENT_WITHIN_DAYS
    if case.treatment_date and today <= case.treatment_date <= today + timedelta(days=window):
        return Urgency.URGENT
    return Urgency.ROUTINE


def case_submit(*, case_id: int, actor, request=None) -> Case:
    """draft -> submitted: a reference, an urgency and a due date; coordinators told.

    A second click finds the case already submitted and does nothing."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id, owner=actor)
        if case.status == CaseStatus.SUBMITTED:
            return case
        states = dict(case.sections.values_list("section", "state"))
        missing = case_missing_sections(case=case, states=states)
        if missing and case.status == CaseStatus.DRAFT:
            raise IncompleteRequest(missing)

        def assign(case, event):
            now = timezone.now()
            case.urgency = urgency_for(case, timezone.localdate())
            days = (settings.CASE_TURNAROUND_DAYS_URGENT if case.urgency == Urgency.URGENT
                    else settings.CASE_TURNAROUND_DAYS_ROUTINE)
            case.reference = _next_reference(now.year)
            case.submitted_at = now
            case.due_at = now + timedelta(days=days)
            return ["urgency", "reference", "submitted_at", "due_at"]

        result = case_transition(case_id=case.pk, actor=actor, to_status=CaseStatus.SUBMITTED,
                                 request=request, on_change=assign)
        case = result.case
        if result.changed:
            _notify_coordinators(case, _("New request %(ref)s to triage") % {"ref": case.reference})
            notify(recipient=actor, kind=Kind.CASE_UPDATE,
                   title=_("We received your request %(ref)s") % {"ref": case.reference},
                   url=reverse("requests_app:case_detail", args=[case.pk]),
                   reference=case.reference)
        return case


def case_withdraw(*, case_id: int, actor, reason: str, request=None) -> Case:
    with transaction.atomic():
        Case.objects.filter(pk=case_id, owner=actor).get()  # owner check before the move
        result = case_transition(case_id=case_id, actor=actor, to_status=CaseStatus.WITHDRAWN,
                                 reason=reason, request=request)
        case = result.case
        if result.changed and case.reference:
            _notify_coordinators(case, _("Request %(ref)s was withdrawn") % {"ref": case.reference})
        return case


def _notify_coordinators(case: Case, title: str) -> None:
    for coordinator in User.objects.filter(role=Role.COORDINATOR, is_active=True):
        notify(recipient=coordinator, kind=Kind.NEW_CASE, title=title,
               url=reverse("requests_app:coordinator_home"), reference=case.reference or "")
