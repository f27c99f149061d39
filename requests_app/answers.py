"""Every answer of a request as (label, value) rows, per section, for the check
page and the case page. Reads only the case and its questions: no queries."""

from django.utils.translation import gettext_lazy as _

from .models import Case, Reason
from .sections import SECTIONS


def answer_text(case: Case, name: str) -> str:
    """One answer as a person reads it (choice labels, dates, Yes/No)."""
    if name == "reasons":
        labels = dict(Reason.choices)
        return ", ".join(str(labels.get(r, r)) for r in case.reasons)
    return _display(case, name)


def _display(case: Case, name: str):
    field = Case._meta.get_field(name)
    value = getattr(case, name)
    if field.choices and value:
        return getattr(case, f"get_{name}_display")()
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if value in (None, ""):
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%-d %B %Y")
    return str(value)


def section_answers(case: Case, questions: list) -> list[tuple]:
    """[(section, [(label, value), ...]), ...]"""
    result = []
    for section in SECTIONS:
        rows = []
        if section.key == "authorisation":
            if case.authorisation_signed_at:
                rows.append((_("Signed by"), case.authorisation_signed_name))
                rows.append((_("Signed on"), case.authorisation_signed_at.strftime("%-d %B %Y")))
                rows.append((_("Version"), case.authorisation_version))
            else:
                rows.append((_("Signed"), ""))
            result.append((section, rows))
            continue
        for name in section.form_class._meta.fields:
            if name == "reasons":
                rows.append((_("Reasons"), answer_text(case, name)))
                continue
            if section.key == "who" and case.relationship == "self" and name != "relationship":
                continue
            label = section.form_class.base_fields[name].label if name in section.form_class.base_fields else Case._meta.get_field(name).verbose_name
            rows.append((label, _display(case, name)))
        if section.key == "reasons":
            rows.append((_("Your questions"), [q.text for q in questions]))
        result.append((section, rows))
    return result

