from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from requests_app.access import is_case_manager
from requests_app.models import Case
from requests_app.progress import STATUS_TEXT

register = template.Library()


@register.filter
def is_list(value) -> bool:
    return isinstance(value, list | tuple)


@register.filter
def managed_by(case: Case, user) -> bool:
    """`{% if case|managed_by:user %}`: the user is the case's manager (access module)."""
    return is_case_manager(user, case)


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


@register.simple_tag
def money(amount, currency="USD") -> str:
    """An amount with its currency: "$450.00 (USD)"."""
    from requests_app.fees import money as money_words

    return money_words(amount, currency)


@register.filter
def wait(since, now) -> str:
    """How long since `since`, in the largest whole unit: "3 days", "5 hours",
    "12 minutes" (the queue's columns; timesince's pairs are too long there)."""
    from django.utils.translation import ngettext

    if since is None or now is None:
        return ""
    seconds = max(0, int((now - since).total_seconds()))
    days, hours, minutes = seconds // 86400, seconds // 3600, seconds // 60
    if days:
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    if hours:
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
