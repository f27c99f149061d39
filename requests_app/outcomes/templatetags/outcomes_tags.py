"""The SURE panel the request's pages include: on the "sent" page (before) and
on the patient's report page (after): the four questions, or, once answered,
the patient's own change."""

from django import template

from .. import selectors
from ..forms import SureForm
from ..models import SURE_MAX

register = template.Library()


@register.inclusion_tag("outcomes/includes/sure_panel.html", takes_context=True)
def sure_panel(context, case, moment):
    state = selectors.sure_state(case=case)
    return {
        "case": case,
        "moment": moment,
        "state": state,
        "answered": state.answered(moment),
        "open": selectors.sure_open(case=case, moment=moment),
        "form": SureForm(),
        "max": SURE_MAX,
        "csrf_token": context.get("csrf_token"),
    }
