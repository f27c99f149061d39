"""What a sighted person reads on a page, and the form they fill in on it.

Used by bench/time_to_send.py (the keystroke-level model) and
bench/reading_grade.py (the Flesch-Kincaid grade of every patient page).
Standard library only: html.parser builds a small tree of the page.

"Read" means the words in <main> a person sees with our JavaScript running:
no script, style or <option> text, nothing `hidden`, nothing `visually-hidden`
(it is for screen readers), no character-count limit (the script shows a count
only near the limit), only the <summary> of a closed <details>, and a
conditional reveal (`data-reveal-name` / `data-reveal-values`, static/js/app.js)
only when the choice it belongs to is made."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}
NOT_READ = {"script", "style", "template", "noscript", "option", "textarea", "select", "svg"}
BLOCK = {
    "p",
    "div",
    "li",
    "dt",
    "dd",
    "h1",
    "h2",
    "h3",
    "h4",
    "td",
    "th",
    "label",
    "legend",
    "summary",
    "section",
    "tr",
    "br",
    "ul",
    "ol",
    "dl",
    "table",
    "fieldset",
    "form",
    "details",
    "button",
    "a",
    "caption",
    "figcaption",
    "header",
    "footer",
    "nav",
}
WORD = re.compile(r"[^\W_]+(?:['\u2019.\-][^\W_]+)*", re.UNICODE)


@dataclass
class Node:
    tag: str
    attrs: dict
    parent: Node | None = None
    children: list = field(default_factory=list)

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def find(self, tag: str) -> Node | None:
        return next((n for n in self.iter() if n.tag == tag), None)

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v if v is not None else "") for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(
            Node(tag, {k: (v if v is not None else "") for k, v in attrs}, self.current)
        )

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(html: str) -> Node:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


def main_of(html: str) -> Node:
    root = parse(html)
    return root.find("main") or root


def revealed(node: Node, chosen: dict) -> bool:
    """A conditional reveal shows when its choice is made (as the JS does)."""
    name = node.attrs.get("data-reveal-name")
    if not name:
        return True
    values = set(node.attrs.get("data-reveal-values", "").split())
    given = chosen.get(name)
    given = set(given) if isinstance(given, list | tuple | set) else {given}
    return bool(values & {str(g) for g in given if g not in (None, "", False)})


def seen(node: Node, chosen: dict, *, reading: bool = True) -> bool:
    """Whether `node` itself is shown (its ancestors are checked by the walk);
    `reading`: whether its own text counts as read (a list's options do not)."""
    if (reading and node.tag in NOT_READ) or "hidden" in node.attrs:
        return False
    if "visually-hidden" in node.classes:
        return False
    if reading and "char-count" in node.classes:
        # The script makes the limit visually hidden and shows a count only once
        # three quarters of it is used (static/js/app.js).
        return False
    if node.tag == "input" and node.attrs.get("type") == "hidden":
        return False
    return revealed(node, chosen)


def _text(node: Node, chosen: dict, out: list[str]) -> None:
    if not seen(node, chosen):
        return
    if node.tag == "details" and "open" not in node.attrs:
        summary = node.find("summary")
        if summary is not None:
            _text(summary, chosen, out)
        return
    if node.tag in BLOCK:
        out.append("\n")
    for child in node.children:
        if isinstance(child, Node):
            _text(child, chosen, out)
        else:
            out.append(child)
    if node.tag in BLOCK:
        out.append("\n")


def visible_text(html: str, chosen: dict | None = None) -> str:
    """The text of <main> as a sighted person sees it, one block a line."""
    out: list[str] = []
    _text(main_of(html), chosen or {}, out)
    lines = [" ".join(line.split()) for line in "".join(out).split("\n")]
    return "\n".join(line for line in lines if line)


def words(text: str) -> list[str]:
    return WORD.findall(text)


def sentences(text: str) -> str:
    """Blocks (headings, labels, list items) as sentences, for a readability
    formula: a line without its own full stop ends as one."""
    return " ".join(line if line[-1] in ".?!:" else line + "." for line in text.split("\n") if line)


def visible_to(node: Node, chosen: dict) -> bool:
    """`node` and every ancestor shown; a closed <details> hides all but its summary."""
    child = None
    while node is not None:
        if not seen(node, chosen, reading=False):
            return False
        if (
            node.tag == "details"
            and "open" not in node.attrs
            and (child is None or child.tag != "summary")
        ):
            return False
        child, node = node, node.parent
    return True
