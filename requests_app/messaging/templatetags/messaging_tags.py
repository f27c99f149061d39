"""The messages panel that the case pages include (the patient's and the care
team's): it brings its own data, as the records panel does."""

from django import template
from django.utils.translation import gettext as _

from requests_app.access import Relation, case_relation, is_care_team, is_owner
from requests_app.messaging import selectors
from secondop.accounts.models import Role

register = template.Library()


@register.inclusion_tag("messaging/includes/case_panel.html", takes_context=True)
def messages_panel(context, case, questions=None):
    """`questions`: the case's open questions (selectors.open_questions) when the
    page's view has read them already; else the panel reads them."""
    user = context["request"].user
    shown = selectors.sees_thread(viewer=user, case=case)
    if questions is None and shown:
        questions = selectors.open_questions(case=case)
    return {
        "case": case,
        "shown": shown,
        # Of the care team first: their relation costs no query.
        "is_owner": is_care_team(viewer=user, case=case)
        and case_relation(user, case) == Relation.OWNER,
        "unread": selectors.unread_count(viewer=user, case=case) if shown else 0,
        "questions": questions if shown else [],
        "can_post": shown and selectors.can_post(viewer=user, case=case),
    }


@register.inclusion_tag("messaging/includes/waiting_tag.html")
def waiting_on_patient_tag(case, questions=None):
    """ "Waiting on the patient", when the case has a question the patient has
    not answered. Uses the `waiting_on_patient` annotation when the list has it
    (selectors.with_waiting_on_patient), or the open `questions` the page's view
    read, else asks."""
    waiting = getattr(case, "waiting_on_patient", None)
    if waiting is None and questions is not None:
        waiting = bool(questions)
    if waiting is None:
        waiting = bool(selectors.open_questions(case=case))
    return {"waiting": waiting}


@register.simple_tag
def author_label(message, case, viewer) -> str:
    """Who wrote `message`, in the reader's words: "You", "Dr. Spec, your
    specialist", "Pat Patient (the patient)"."""
    author = message.author
    if author.pk == viewer.pk:
        return _("You")
    if author.pk == case.owner_id:
        if case.acting_as:
            return _("%(name)s (for the patient, %(acting)s)") % {
                "name": author.full_name,
                "acting": case.acting_as,
            }
        return _("%(name)s (the patient)") % {"name": author.full_name}
    if author.role == Role.PATIENT:  # on the patient's side, not the patient: a caregiver
        if is_owner(viewer, case):
            return _("%(name)s, your caregiver") % {"name": author.full_name}
        return _("%(name)s, the patient's caregiver") % {"name": author.full_name}
    if author.role == Role.SPECIALIST:
        role = _("your specialist") if is_owner(viewer, case) else _("specialist")
    elif author.pk == case.case_manager_id:
        role = _("your nurse coordinator") if is_owner(viewer, case) else _("case manager")
    else:  # a coordinator who managed the case before it was taken over
        role = _("nurse coordinator")
    return _("%(name)s, %(role)s") % {"name": author.full_name, "role": role}
