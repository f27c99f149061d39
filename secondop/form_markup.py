"""Template tags for the shared form templates (templates/django/forms/): the parts
that run once per field, option or attribute, written in Python because the
template language's per-node cost adds up on pages with many fields (the queue's
filters: 13 fields, ~60 options).

Each writes exactly the markup of the template it replaces (Django's attrs.html,
select_option.html, and our field.html's character count), character for
character: tests/platform/test_form_markup.py renders both and compares them.

`{% load form_markup %}` (TEMPLATES' "libraries")."""

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.base import render_value_in_context
from django.template.loader import get_template
from django.utils.html import escape
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.translation import get_language, ngettext

register = template.Library()

SELECT_OPTION = "django/forms/widgets/select_option.html"


def _formatted(value) -> str:
    """`{{ value|stringformat:'s' }}`, autoescaped: escaped unless already safe."""
    text = str(value) if isinstance(value, tuple) else "%s" % value  # noqa: UP031 (as stringformat)
    return text if isinstance(value, SafeData) else escape(text)


def attrs_markup(attrs: dict, context) -> str:
    """Django's django/forms/widgets/attrs.html."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(" " + render_value_in_context(name, context))
        if value is not True:
            out.append('="' + _formatted(value) + '"')
    return "".join(out)


@register.simple_tag(takes_context=True)
def html_attrs(context, attrs) -> SafeString:
    """`{% html_attrs widget.attrs %}`: a widget's attributes, as attrs.html writes them."""
    return mark_safe(attrs_markup(attrs or {}, context))  # noqa: S308 (each part escaped)


@register.simple_tag(takes_context=True)
def select_options(context, optgroups) -> SafeString:
    """`{% select_options widget.optgroups %}`: a select's options and optgroups, as
    Django's select.html and select_option.html write them. An option with another
    template still renders through it."""
    out = []
    for group_name, group_choices, _index in optgroups:
        if group_name:
            out.append(
                '\n  <optgroup label="' + render_value_in_context(group_name, context) + '">'
            )
        for option in group_choices:
            out.append("\n  ")
            if option["template_name"] == SELECT_OPTION:
                out.append(
                    '<option value="'
                    + _formatted(option["value"])
                    + '"'
                    + attrs_markup(option["attrs"], context)
                    + ">"
                    + render_value_in_context(option["label"], context)
                    + "</option>"
                )
            else:
                with context.push(widget=option):
                    out.append(get_template(option["template_name"]).template.render(context))
        if group_name:
            out.append("\n  </optgroup>")
    return mark_safe("".join(out))  # noqa: S308 (each part escaped)


# The character count's words, per language and limit: fixed strings, no one's data.
_CHARACTER_COUNT_WORDS: dict[tuple[str | None, int], dict[str, str]] = {}


def character_count_words(limit: int) -> dict[str, str]:
    """The GOV.UK character count's strings for a textarea of `limit` characters, as
    `{% blocktranslate count ... %}` wrote them (static/js/app.js reads the data-*
    ones; "%{count}" is its number). The "too many" msgids are the same as the
    server's error in secondop/forms.py."""
    key = (get_language(), limit)
    words = _CHARACTER_COUNT_WORDS.get(key)
    if words is None:
        js = "%{count}"
        words = {
            "remaining_one": escape(
                ngettext(
                    "You have %(count)s character remaining",
                    "You have %(count)s characters remaining",
                    1,
                )
                % {"count": js}
            ),
            "remaining_other": escape(
                ngettext(
                    "You have %(count)s character remaining",
                    "You have %(count)s characters remaining",
                    2,
                )
                % {"count": js}
            ),
            "over_one": escape(
                ngettext(
                    "You have %(count)s character too many",
                    "You have %(count)s characters too many",
                    1,
                )
                % {"count": js}
            ),
            "over_other": escape(
                ngettext(
                    "You have %(count)s character too many",
                    "You have %(count)s characters too many",
                    2,
                )
                % {"count": js}
            ),
            "limit": mark_safe(  # noqa: S308 (a translation, the number escaped)
                ngettext(
                    "You can enter up to %(limit)s character",
                    "You can enter up to %(limit)s characters",
                    limit,
                )
                % {"limit": escape(intcomma(limit))}
            ),
        }
        _CHARACTER_COUNT_WORDS[key] = words
    return words


class FieldFacts:
    """What django/forms/field.html asks of a bound field, each read once (a bound
    field's `errors` and `widget_type` are computed anew at every lookup, and a
    missing `field.field.reveal` costs the template three failed lookups)."""

    __slots__ = (
        "auto_id",
        "character_count",
        "errors",
        "help_text",
        "label",
        "reveal",
        "use_fieldset",
        "widget_type",
    )

    def __init__(self, field):
        self.errors = field.errors
        self.widget_type = field.widget_type
        self.reveal = getattr(field.field, "reveal", None)
        self.label = field.label
        self.help_text = field.help_text
        self.use_fieldset = field.use_fieldset
        self.auto_id = field.auto_id
        limit = getattr(field.field, "max_length", None)
        self.character_count = (
            character_count_words(limit) if limit and self.widget_type == "textarea" else None
        )


@register.filter
def field_facts(field) -> FieldFacts:
    """`{% with f=field|field_facts %}` in field.html."""
    return FieldFacts(field)
