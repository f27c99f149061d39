"""The aftercare panels that requests_app's case pages include: requests_app
never imports aftercare, so each panel brings its own data (DESIGN.md, Layers),
in a few queries whatever the number of questions or links."""

from django import template
from django.conf import settings
from django.utils import timezone

from requests_app.consultations import doctor_calls
from requests_app.models import CaseStatus
from requests_app.reports import selectors as reports_selectors
from secondop.accounts.models import Role

from .. import selectors
from ..forms import RatingForm
from ..models import ServiceRating

register = template.Library()


def _shares(context, case) -> list:
    """The case's shares with their openings, read once per page: the patient's
    panel and "Your doctor" both list them (kept in the page's render context, which
    ends with the page)."""
    key = ("aftercare:shares", case.pk)
    if key not in context.render_context:
        context.render_context[key] = selectors.shares_for_case(case=case)
    return context.render_context[key]


def _released(context, case):
    """The newest released version, as the report panel read it on this page (or read now)."""
    key = (reports_selectors.RELEASED_ON_PAGE, case.pk)
    if key not in context.render_context:
        context.render_context[key] = selectors.released_version(case=case)
    return context.render_context[key]


# Where the panel has something to say: the report has reached the patient.
AFTER_DELIVERY = frozenset({CaseStatus.DELIVERED, CaseStatus.FOLLOW_UP, CaseStatus.CLOSED})


@register.inclusion_tag("aftercare/includes/patient_panel.html", takes_context=True)
def aftercare_panel(context, case):
    """The patient's case page: sending the report to their doctor, follow-up
    questions and answers, and the rating once the case is closed."""
    user = context["request"].user
    shown = case.owner_id == user.pk and case.status in AFTER_DELIVERY
    if not shown:
        return {"shown": False}
    questions = list(selectors.follow_ups(case=case))
    window = selectors.follow_up_window(case=case, asked=len(questions))
    closed = case.status == CaseStatus.CLOSED
    rating = ServiceRating.objects.filter(case=case).first() if closed else None
    return {
        "shown": True,
        "case": case,
        "questions": questions,
        "window": window,
        "can_share": _released(context, case) is not None,
        "shares": _shares(context, case),
        "now": timezone.now(),
        "rating": rating,
        "rating_form": RatingForm() if closed and rating is None else None,
        "link_days": settings.SHARE_LINK_DAYS,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("aftercare/includes/staff_panel.html", takes_context=True)
def aftercare_staff_panel(context, case):
    """The care team's case page: the follow-up questions (the assigned
    specialist answers from here), whether the patient sent the report to their
    doctor, and the patient's rating."""
    user = context["request"].user
    if case.status not in AFTER_DELIVERY:
        return {"shown": False}
    shares = _shares(context, case)
    sees = selectors.sees_follow_ups(viewer=user, case=case)
    return {
        "shown": True,
        "case": case,
        "sees_follow_ups": sees,
        "questions": list(selectors.follow_ups(case=case)) if sees else [],
        "answer_links": user.role == Role.SPECIALIST
        and case.specialist_id == user.pk
        and case.status == CaseStatus.FOLLOW_UP,
        "shares_sent": sum(1 for s in shares if s.sent_at),
        "shares_opened": sum(1 for s in shares if s.openings.all()),
        "rating": ServiceRating.objects.filter(case=case).first()
        if case.status == CaseStatus.CLOSED
        else None,
        "is_coordinator": user.role == Role.COORDINATOR,
    }


@register.inclusion_tag("aftercare/includes/doctor_panel.html", takes_context=True)
def doctor_panel(context, case):
    """ "Your doctor" (the patient's case page) or "The patient's doctor" (the care
    team's): the physicians' questions with their answers, and everything they
    did through their links. The assigned specialist answers from here."""
    user = context["request"].user
    if case.status not in AFTER_DELIVERY:
        return {"shown": False}
    for_patient = case.owner_id == user.pk
    if not for_patient and not selectors.sees_follow_ups(viewer=user, case=case):
        return {"shown": False}
    shares = _shares(context, case)
    if not shares:
        # A physician asks, books a call or adds a record only through a link the
        # patient sent: with none, there is nothing to show (and nothing more to read).
        return {"shown": False}
    questions = selectors.physician_questions(case=case)
    calls = doctor_calls.calls_for_case(case=case)
    uploads = selectors.physician_uploads(case=case)
    activity = (
        selectors.doctor_activity(
            case=case,
            shares=shares,
            questions=questions,
            calls=calls,
            uploads=uploads,
        )
        if for_patient
        else []
    )
    if not questions and not activity and not calls and not uploads:
        return {"shown": False}
    return {
        "shown": True,
        "for_patient": for_patient,
        "questions": questions,
        "activity": activity,
        "calls": calls,
        "uploads": uploads,
        "answer_links": user.role == Role.SPECIALIST and case.specialist_id == user.pk,
    }
