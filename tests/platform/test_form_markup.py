"""secondop/form_markup.py writes what Django's own widget templates (and the
character count's blocktranslate tags it replaced) write, character for character."""

from pathlib import Path

import django
import pytest
from django import forms
from django.template import Context, Engine
from django.utils import translation
from django.utils.safestring import mark_safe

from secondop.form_markup import character_count_words

DJANGO_WIDGETS = Path(django.__file__).parent / "forms" / "templates"


@pytest.fixture
def django_engine():
    """Django's shipped form templates alone (ours override them on the site)."""
    return Engine(dirs=[DJANGO_WIDGETS], libraries={"form_markup": "secondop.form_markup"})


ATTRS = {
    "id": "id_x",
    "required": True,
    "disabled": False,
    "data-n": 2000,
    "aria-label": 'A "quoted" <b>label</b> & more',
    "data-safe": mark_safe("<already safe>"),
    "data-none": None,
}


def test_html_attrs_writes_what_attrs_html_writes(django_engine):
    context = Context({"widget": {"attrs": ATTRS}})
    django_html = django_engine.get_template("django/forms/widgets/attrs.html").render(context)
    ours = django_engine.from_string("{% load form_markup %}{% html_attrs widget.attrs %}").render(
        context
    )
    assert ours == django_html
    assert ' aria-label="A &quot;quoted&quot; &lt;b&gt;label&lt;/b&gt; &amp; more"' in ours


class Grouped(forms.Form):
    choice = forms.ChoiceField(
        choices=[
            ("", "Any"),
            ("Group <one>", [("a", "A & a"), (1, "One")]),
            ("b", "B"),
        ],
        widget=forms.Select(attrs={"class": "wide", "aria-describedby": "hint"}),
    )
    many = forms.MultipleChoiceField(choices=[("x", "X"), ("y", "Y")])


@pytest.mark.parametrize(("name", "value"), [("choice", "a"), ("choice", ""), ("many", ["y"])])
def test_select_options_write_what_select_html_writes(django_engine, name, value):
    form = Grouped({name: value})
    widget = form[name].field.widget
    context = Context(widget.get_context(form[name].html_name, value, {"id": "id_" + name}))
    django_html = django_engine.get_template("django/forms/widgets/select.html").render(context)
    ours = django_engine.from_string(
        '{% load form_markup %}<select name="{{ widget.name }}"{% html_attrs widget.attrs %}>'
        "{% select_options widget.optgroups %}\n</select>"
    ).render(context)
    # The form renderer strips the file's last newline; and our select (as the loop it
    # replaced) leaves out the one each included select_option.html file ends with.
    assert ours == django_html.strip().replace("</option>\n", "</option>")


BLOCKTRANSLATE = """{% load i18n humanize %}
{% blocktranslate count counter=1 with count="%{count}" asvar remaining_one %}You have {{ count }} character remaining{% plural %}You have {{ count }} characters remaining{% endblocktranslate %}
{% blocktranslate count counter=2 with count="%{count}" asvar remaining_other %}You have {{ count }} character remaining{% plural %}You have {{ count }} characters remaining{% endblocktranslate %}
{% blocktranslate count counter=1 with count="%{count}" asvar over_one %}You have {{ count }} character too many{% plural %}You have {{ count }} characters too many{% endblocktranslate %}
{% blocktranslate count counter=2 with count="%{count}" asvar over_other %}You have {{ count }} character too many{% plural %}You have {{ count }} characters too many{% endblocktranslate %}
{{ remaining_one|force_escape }}|{{ remaining_other|force_escape }}|{{ over_one|force_escape }}|{{ over_other|force_escape }}|{% blocktranslate count counter=n with limit=n|intcomma %}You can enter up to {{ limit }} character{% plural %}You can enter up to {{ limit }} characters{% endblocktranslate %}"""


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("limit", [1, 1000, 2000])
def test_the_character_count_words_are_the_blocktranslate_ones(language, limit):
    from django.template import engines

    with translation.override(language):
        expected = engines["django"].from_string(BLOCKTRANSLATE).render({"n": limit}).strip()
        words = character_count_words(limit)
        ours = "|".join(
            str(words[k])
            for k in ("remaining_one", "remaining_other", "over_one", "over_other", "limit")
        )
    assert ours == expected
    if language == "es" and limit == 2000:
        assert "caracteres" in ours
