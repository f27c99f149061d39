"""The consultation panel and next step that requests_app's case pages include:
requests_app never imports consultations, so the panel brings its own data
(DESIGN.md, Layers)."""

from zoneinfo import ZoneInfo

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from requests_app.access import Relation, case_relation
from requests_app.consultations import selectors, services
from requests_app.consultations.models import Action, Mode, Status
from requests_app.models import CaseStatus
from requests_app.times import care_team_zone, span_for

register = template.Library()

# Before a specialist has the case: one will, and then propose times.
BEFORE_REVIEW = frozenset(
    {
        CaseStatus.DRAFT,
        CaseStatus.SUBMITTED,
        CaseStatus.TRIAGE,
        CaseStatus.AWAITING_RECORDS,
        CaseStatus.MATCHING,
        CaseStatus.OFFERED,
    }
)


@register.inclusion_tag("consultations/includes/case_panel.html", takes_context=True)
def consultation_panel(context, case):
    user = context["request"].user
    if case.consultation_type not in Mode.values:
        return {"wanted": False}
    shown = selectors.sees_consultations(viewer=user, case=case)
    consultations = selectors.case_consultations(case=case) if shown else []
    latest = consultations[0] if consultations else None
    # The patient and the assigned specialist are of the care team, who alone see
    # consultations (and whose relation costs no query).
    relation = case_relation(user, case) if shown else Relation.NONE
    is_owner = relation == Relation.OWNER
    is_specialist = relation == Relation.ASSIGNED_SPECIALIST
    when = None
    if (
        latest is not None
        and latest.starts_at
        and latest.status in (Status.BOOKED, Status.HELD, Status.MISSED)
    ):
        patient_zone = ZoneInfo(latest.patient_time_zone)
        when = span_for(
            latest.starts_at,
            latest.ends_at,
            reader_zone=patient_zone if is_owner else care_team_zone(),
            patient_zone=patient_zone,
        )
    cancelled = (
        selectors.last_event(latest, Action.CANCELLED)
        if latest is not None and latest.status == Status.CANCELLED
        else None
    )
    return {
        "wanted": True,
        "shown": shown,
        "case": case,
        "is_owner": is_owner,
        "cancelled": cancelled,
        # Times can still come only while a specialist may still propose them.
        "still_possible": case.status in services.ARRANGING or case.status in BEFORE_REVIEW,
        "can_decline": is_owner and services.can_decline(case=case),
        "is_specialist": is_specialist,
        "mode": Mode(case.consultation_type),
        "consultation": latest,
        "when": when,
        "can_propose": is_specialist
        and shown
        and (latest is None or not latest.is_open)
        and case.status in services.ARRANGING,
        "waiting_for_specialist": is_owner
        and latest is None
        and case.specialist_id
        and case.status in services.ARRANGING,
    }


@register.simple_tag(takes_context=True)
def consultation_next_step(context, case) -> dict | None:
    """The patient's next step while times wait for them to choose: its words and
    where to do it; None otherwise."""
    user = context["request"].user
    if case.consultation_type not in Mode.values:
        return None
    if not selectors.sees_consultations(viewer=user, case=case):
        return None
    if case_relation(user, case) != Relation.OWNER:
        return None
    consultation = selectors.open_consultation(case=case)
    if consultation is not None and consultation.status == Status.PROPOSED:
        return {
            "text": _("Choose a time for your consultation"),
            "url": reverse("consultations:detail", args=[consultation.uuid]),
            "link": _("See the times"),
        }
    return None
