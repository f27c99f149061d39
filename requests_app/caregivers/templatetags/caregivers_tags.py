from django import template

from requests_app.access import follows_anyone

from .. import selectors

register = template.Library()


@register.inclusion_tag("caregivers/includes/followed_panel.html", takes_context=True)
def followed_panel(context):
    """On a patient's home: the requests they follow as someone's caregiver."""
    user = context["request"].user
    if not follows_anyone(viewer=user):
        return {"cases": []}
    return {"cases": list(selectors.cases_followed(viewer=user))}
