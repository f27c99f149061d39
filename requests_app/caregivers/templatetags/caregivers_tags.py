from django import template

from .. import selectors

register = template.Library()


@register.inclusion_tag("caregivers/includes/followed_panel.html", takes_context=True)
def followed_panel(context):
    """On a patient's home: the requests they follow as someone's caregiver."""
    user = context["request"].user
    return {"cases": list(selectors.cases_followed(viewer=user))}
