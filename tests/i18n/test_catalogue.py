"""The Spanish catalogue is whole: every string a person reads is marked for
translation, in the catalogue, translated and not fuzzy."""

import re
import shutil
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from .catalogue import read_po, unmarked_text

LOCALE = Path(settings.BASE_DIR) / "locale"
CATALOGUE = LOCALE / "es" / "LC_MESSAGES" / "django.po"
TEMPLATES = Path(settings.BASE_DIR) / "templates"
SCRIPTS = Path(settings.BASE_DIR) / "static" / "js"
# What scripts/messages leaves out: tests, benchmarks, vendored and collected files.
IGNORED = [".venv/*", "tests/*", "bench/*", "static/*", "staticfiles/*", "test-artifacts/*"]


def test_every_string_has_its_spanish_and_none_is_fuzzy():
    entries = read_po(CATALOGUE)
    assert len(entries) > 3000
    untranslated = [e.msgid for e in entries if not e.strings or not all(e.strings)]
    fuzzy = [e.msgid for e in entries if e.fuzzy]
    assert untranslated == [], "Translate these in locale/es (scripts/messages adds them)"
    assert fuzzy == [], "Check these translations and remove their fuzzy mark"


def test_our_spanish_for_allauth_and_django_words_is_whole():
    entries = read_po(LOCALE / "overrides" / "es" / "LC_MESSAGES" / "django.po")
    assert entries
    assert [e.msgid for e in entries if e.fuzzy or not all(e.strings)] == []


def test_plurals_have_all_three_spanish_forms():
    plurals = [e for e in read_po(CATALOGUE) if e.plural]
    assert plurals
    assert [e.msgid for e in plurals if len(e.strings) != 3] == []


def test_placeholders_survive_translation():
    placeholder = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{[a-z_0-9]*\}")
    wrong = [
        e.msgid
        for e in read_po(CATALOGUE)
        for text in e.strings
        if sorted(placeholder.findall(text))
        != sorted(
            placeholder.findall(e.plural if e.plural and text is not e.strings[0] else e.msgid)
        )
        and not (
            e.plural and sorted(placeholder.findall(text)) == sorted(placeholder.findall(e.plural))
        )
    ]
    assert wrong == []


def test_the_catalogue_holds_every_marked_string_and_nothing_else(tmp_path, settings, monkeypatch):
    # makemessages over the code, in a tree of links to it with a copy of the
    # catalogue (it writes to every "locale" folder it finds): what it finds must be
    # what the catalogue has.
    base = Path(settings.BASE_DIR)
    for item in base.iterdir():
        if item.name != "locale" and not item.name.startswith("."):
            (tmp_path / item.name).symlink_to(item)
    shutil.copytree(LOCALE, tmp_path / "locale")
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    monkeypatch.chdir(tmp_path)
    call_command(
        "makemessages",
        locale=["es"],
        no_obsolete=True,
        symlinks=True,
        extensions=["html", "txt", "py", "css"],
        ignore_patterns=IGNORED,
        add_location="never",
        verbosity=0,
    )
    fresh = {e.key for e in read_po(tmp_path / "locale" / "es" / "LC_MESSAGES" / "django.po")}
    ours = {e.key for e in read_po(CATALOGUE)}
    assert sorted(fresh - ours, key=str) == [], "New strings: run scripts/messages, translate"
    assert sorted(ours - fresh, key=str) == [], "Strings no longer used: run scripts/messages"


def test_no_template_text_is_left_unmarked():
    found = [
        f"{path.relative_to(TEMPLATES)}:{line}: {text}"
        for path in sorted(TEMPLATES.rglob("*"))
        if path.suffix in {".html", ".txt"} and "admin" not in path.parts
        for line, text in unmarked_text(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_the_template_check_finds_what_is_not_marked():
    assert unmarked_text("<p>Your request is sent.</p>")
    assert unmarked_text('<img src="x.png" alt="A scan">')
    assert unmarked_text('<button aria-label="Close the panel">x</button>')
    assert unmarked_text('<div data-text-error="Could not load"></div>')
    assert unmarked_text('{% load i18n %}<p>{% translate "Sent" %} today</p>')
    assert unmarked_text('{{ day|default:"not yet" }}')
    # Marked, or not words a person reads:
    assert not unmarked_text('{% load i18n %}<p>{% translate "Your request is sent." %}</p>')
    assert not unmarked_text(
        "{% load i18n %}<p>{% blocktranslate %}Hi {{ n }}{% endblocktranslate %}</p>"
    )
    assert not unmarked_text('<p class="tag tag-red" id="status-1">{{ status }} · 3</p>')
    assert not unmarked_text("{% block body_class %}shared-page{% endblock %}<p>-</p>")
    assert not unmarked_text('{{ day|default:_("today") }}{{ n|default:"-" }}')
    assert not unmarked_text("<p>SecondOp</p>")


def test_scripts_carry_no_sentences_of_their_own():
    # A script's words come from its page (data-* attributes, translated there):
    # a sentence in quotes in a script would reach every reader in English.
    sentence = re.compile(r"""(["'`])[A-Z][a-z]+(?: [a-z]+){2,}[^"'`]*\1""")
    found = [
        f"{path.relative_to(SCRIPTS)}: {match[0]}"
        for path in sorted(SCRIPTS.rglob("*.js"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("//")
        for match in sentence.finditer(line)
    ]
    assert found == []
