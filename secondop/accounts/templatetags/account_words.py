"""allauth's pages speak in Title Case ("Change Password", "Two-Factor Authentication");
ours are in sentence case. The allauth layout and elements pass their titles, headings
and buttons through `sentence_case`, so a page we have not rewritten still reads like
ours."""

import re

from django import template

register = template.Library()

# A capitalised word (hyphenated parts too: "Sign-In", "Two-Factor"), not inside a tag.
_CAPITALISED = re.compile(r"(?<![<\w/-])([A-Z][a-z]+(?:-[A-Z][a-z]+)*)\b(?![^<]*>)")


@register.filter(is_safe=True)
def sentence_case(value):
    """Lower-case every capitalised word but the first: "Change Password" → "Change
    password". Acronyms (TOTP), names with inner capitals (SecondOp) and "I" stay."""
    text = str(value)
    lead = len(text) - len(text.lstrip())
    seen_first = False

    def lower(match):
        nonlocal seen_first
        word = match.group(0)
        if not seen_first:
            seen_first = True
            return word[0] + word[1:].lower()  # "Two-Factor" → "Two-factor"
        return word.lower()

    # The first word of the text keeps its capital whatever it is.
    first = re.search(r"[^\W\d_]+", text[lead:])
    if first is not None and not _CAPITALISED.match(text, lead + first.start()):
        seen_first = True
    result = _CAPITALISED.sub(lower, text)
    # is_safe: Django marks the result safe when what came in was (only letters change).
    return result
