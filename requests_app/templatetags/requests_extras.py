from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from requests_app.models import Case
from requests_app.progress import STATUS_TEXT

register = template.Library()


@register.filter
def is_list(value) -> bool:
    return isinstance(value, list | tuple)


@register.filter
def status_event(status: str) -> str:
    """The timeline sentence for a case arriving at `status`."""
    return STATUS_TEXT[status].event


@register.filter
def field_label(name: str) -> str:
    """The label a person saw for an answer, from its field name."""
    if name == "questions":
        return _("Your questions")
    try:
        return capfirst(Case._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name
