"""Reading gettext catalogues and templates for the translation tests."""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from django.template.base import Lexer, TokenType

_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(parts: list[str]) -> str:
    text = "".join(part.strip()[1:-1] for part in parts)
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[1]), text)


@dataclass
class Entry:
    msgid: str
    context: str | None = None
    plural: str | None = None
    strings: list[str] = field(default_factory=list)
    fuzzy: bool = False

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.context, self.msgid)


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file (the header left out)."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip()]
        fields: dict[str, list[str]] = {}
        current = None
        fuzzy = False
        for line in lines:
            if line.startswith("#,") and "fuzzy" in line:
                fuzzy = True
            if line.startswith("#"):
                continue
            if line.startswith('"'):
                fields[current].append(line)  # type: ignore[index]
                continue
            current, _, rest = line.partition(" ")
            fields[current] = [rest]
        if "msgid" not in fields:
            continue
        msgid = _unquote(fields["msgid"])
        if not msgid:
            continue  # the header
        strings = [_unquote(v) for k, v in sorted(fields.items()) if k.startswith("msgstr")]
        entries.append(
            Entry(
                msgid=msgid,
                context=_unquote(fields["msgctxt"]) if "msgctxt" in fields else None,
                plural=_unquote(fields["msgid_plural"]) if "msgid_plural" in fields else None,
                strings=strings,
                fuzzy=fuzzy,
            )
        )
    return entries


# Words a reader sees that are the same in every language.
UNTRANSLATED_WORDS = frozenset({"SecondOp", "English", "Español"})
# Attributes whose value a person reads (or hears).
_TEXT_ATTRIBUTES = frozenset(
    {"alt", "title", "aria-label", "placeholder", "aria-description", "aria-roledescription"}
)
_DATA_TEXT = re.compile(r"^data-(text-.*|.*-(text|label|message|summary|confirm|title))$")
_WORDS = re.compile(r"[^\W\d_]{2,}")
_MARK = "\x00"  # where a template tag or variable was


def _skeleton(source: str) -> str:
    """The template's text with every tag and variable replaced by a mark, and
    what is translated ({% blocktranslate %}), a comment, or a class name given
    through a block (`{% block body_class %}`) left out."""
    out: list[str] = []
    skip = 0
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            words = token.contents.split() or [""]
            if words[0] in {"blocktranslate", "blocktrans", "comment"} or (
                words[0] == "block" and len(words) > 1 and words[1].endswith("_class")
            ):
                skip += 1
                out.append(_MARK)
                continue
            if skip and words[0] in {"endblocktranslate", "endblocktrans", "endcomment"}:
                skip -= 1
                continue
            if skip and words[0] == "endblock" and out and out[-1] == _MARK:
                skip -= 1
                continue
            if not skip:
                out.append(_MARK)
        elif token.token_type == TokenType.VAR:
            if not skip:
                out.append(_MARK)
        elif token.token_type == TokenType.TEXT and not skip:
            out.append(token.contents)
    return "".join(out)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self._code = 0

    def _words(self, text: str) -> list[str]:
        return [w for w in _WORDS.findall(text.replace(_MARK, " ")) if w not in UNTRANSLATED_WORDS]

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style"}:
            self._code += 1
        for name, value in attrs:
            if not value or _MARK in name:
                continue
            if (name in _TEXT_ATTRIBUTES or _DATA_TEXT.match(name)) and self._words(value):
                self.found.append((self.getpos()[0], f'{name}="{value}"'))

    def handle_endtag(self, tag):
        if tag in {"script", "style"}:
            self._code = max(0, self._code - 1)

    def handle_data(self, data):
        # A tag whose name or attributes are written with template tags
        # ("<{{ tag }} ...") is not read as a tag: it is not text either.
        if self._code or "=" in data or "<" in data:
            return
        if self._words(data):
            self.found.append((self.getpos()[0], " ".join(data.replace(_MARK, "…").split())))


# A filter's words given as a plain string ({{ x|default:"today" }}): `_("today")` is
# translated, a string in quotes is not.
_FILTER_WORDS = re.compile(r"""\|(?:default|default_if_none|yesno):(["'])(.*?)\1""")
# ...but one word in lower case is a value, not words ('en', 'info', 'true,false').
_MACHINE_VALUE = re.compile(r"[a-z-]+(,[a-z-]+)*")


def unmarked_text(source: str) -> list[tuple[int, str]]:
    """Text a person reads in a template that is not inside a translation tag:
    (line, text). Line numbers of text are of the template without its tags."""
    reader = _Reader()
    reader.feed(_skeleton(source))
    reader.close()
    for token in Lexer(source).tokenize():
        if token.token_type in (TokenType.VAR, TokenType.BLOCK):
            for match in _FILTER_WORDS.finditer(token.contents):
                if reader._words(match[2]) and not _MACHINE_VALUE.fullmatch(match[2]):
                    reader.found.append((token.lineno, token.contents))
    return reader.found
