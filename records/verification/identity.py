"""Whose images are these? A study's PatientName and PatientBirthDate compared with
the request's patient, before anyone but the patient sees it.

Names are compared loosely on purpose: a false alarm asks the patient one question
("It is mine"), a missed one shows a stranger's scans to a specialist, but a flag on
every study would teach people to click it away. So:

- DICOM's order (Family^Given^Middle^Prefix^Suffix) against the way people write
  their name ("Jane Q. Doe", "Doe, Jane");
- case, accents (NFKD, combining marks dropped: "José" is "JOSE"), punctuation and
  spaces ("O'Brien" is "OBRIEN", "Smith-Jones" is "SMITH JONES");
- the family name and the first given name must both be there; middle names,
  prefixes and suffixes are not compared (a disc often drops them); an initial matches
  a name that starts with it; a name written the other way round ("JANE^DOE") matches;
- a value a study does not carry (an anonymised disc) is no mismatch, but no match
  either: the outcome then says nothing could be compared.

Pure Python (no Django): records.services.outcome calls it at verification."""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

MATCHED = "matched"  # something compared, and everything compared agreed
MISMATCH = "mismatch"  # a name or a birth date that is not the patient's
UNCHECKED = "unchecked"  # nothing to compare (no name nor date on either side)

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Titles and letters after a name, never compared.
_AFFIXES = frozenset(
    {"dr", "mr", "mrs", "ms", "miss", "mx", "prof", "jr", "sr", "ii", "iii", "iv", "md", "phd"}
)


def fold(text: str) -> str:
    """Lower case, accents and compatibility forms undone ("Ｊｏｓé" -> "jose")."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.casefold()


def words(text: str) -> list[str]:
    """The folded words of a name: punctuation and spaces are separators."""
    return _WORD.findall(fold(text))


@dataclass(frozen=True)
class PersonName:
    """A name in parts: family words and given words (first given name first)."""

    family: tuple[str, ...]
    given: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.family and not self.given


def dicom_name(value: str) -> PersonName:
    """A DICOM PN value: the first of its component groups (alphabetic, ideographic,
    phonetic) that has anything in it. Without a caret ("DOE JANE"), the first word is
    taken for the family name, as most systems write it."""
    group = next((g for g in (value or "").split("=") if g.strip(" ^")), "")
    if "^" not in group:
        found = [w for w in words(group) if w not in _AFFIXES]
        return PersonName(tuple(found[:1]), tuple(found[1:]))
    family, given, middle, *_rest = [*group.split("^"), "", "", ""]
    return PersonName(tuple(words(family)), tuple(words(given) + words(middle)))


def dicom_name_display(value: str) -> str:
    """A DICOM PN in reading order for the patient ("DOE^JANE^Q" -> "JANE Q DOE"),
    as written otherwise (its case kept: it is what the disc says)."""
    group = next((g for g in (value or "").split("=") if g.strip(" ^")), "")
    if "^" not in group:
        return " ".join(group.split())
    family, given, middle, prefix, suffix = [*group.split("^"), "", "", "", ""][:5]
    parts = [prefix, given, middle, family]
    shown = " ".join(" ".join(p.split()) for p in parts if p.strip())
    return f"{shown}, {suffix.strip()}" if suffix.strip() else shown


def _runs(tokens: list[str]) -> list[tuple[int, int]]:
    return [(i, j) for i in range(len(tokens)) for j in range(i + 1, len(tokens) + 1)]


def _given_matches(given: str, other: str) -> bool:
    if len(given) == 1 or len(other) == 1:
        return given[0] == other[0]
    return given == other


def names_match(dicom: str, person: str) -> bool | None:
    """Whether a DICOM name is the person's name written another way; None when either
    side has no name to compare."""
    parts = dicom_name(dicom)
    # Word order is not compared ("Doe, Jane" is "Jane Doe"): the family name is found
    # as a run of words anywhere, the given name among the others. Titles and letters
    # after a name are left out, unless the name is one of them (a family named "Jr").
    everything = words(person)
    if parts.empty or not everything:
        return None
    stripped = [w for w in everything if w not in _AFFIXES]
    return any(
        _ordered_match(candidate, tokens)
        for tokens in (stripped, everything)
        if tokens
        for candidate in (parts, PersonName(parts.given[:1], parts.family))
    )


def _ordered_match(parts: PersonName, tokens: list[str]) -> bool:
    family = "".join(parts.family)
    if not family:  # only a given name on the disc: it must be one of theirs
        return any(_given_matches(parts.given[0], t) for t in tokens)
    for i, j in _runs(tokens):
        if "".join(tokens[i:j]) != family:
            continue
        rest = tokens[:i] + tokens[j:]
        if not parts.given:
            return True
        if any(_given_matches(parts.given[0], t) for t in rest):
            return True
    return False


def dicom_date(value: str) -> datetime.date | None:
    """A DICOM DA ("19700302", or the old "1970.03.02"); None when absent or not a
    real date."""
    digits = re.sub(r"\D", "", value or "")
    if len(digits) != 8:
        return None
    try:
        return datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


@dataclass(frozen=True)
class Label:
    """What one study says about whose it is, as the patient is shown it."""

    name: str  # in reading order, as on the disc
    birth_date: datetime.date | None
    name_differs: bool
    birth_date_differs: bool

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "birth_date": self.birth_date.isoformat() if self.birth_date else "",
            "name_differs": self.name_differs,
            "birth_date_differs": self.birth_date_differs,
        }


@dataclass(frozen=True)
class IdentityOutcome:
    result: str  # MATCHED, MISMATCH or UNCHECKED
    labels: list[Label] = field(default_factory=list)  # the ones that differ

    @property
    def flagged(self) -> bool:
        return self.result == MISMATCH


def check_identity(
    labels: Iterable[tuple[str, str]], *, name: str, birth_date: datetime.date | None
) -> IdentityOutcome:
    """Compare each (PatientName, PatientBirthDate) a record's studies carry with the
    request's patient. A name that is not theirs, or a birth date that is not theirs,
    flags the record; a value missing on either side is neither."""
    compared = False
    differing: list[Label] = []
    for raw_name, raw_date in labels:
        same_name = names_match(raw_name, name)
        found_date = dicom_date(raw_date)
        same_date = None if found_date is None or birth_date is None else found_date == birth_date
        compared = compared or same_name is not None or same_date is not None
        if same_name is False or same_date is False:
            differing.append(
                Label(
                    dicom_name_display(raw_name),
                    found_date,
                    name_differs=same_name is False,
                    birth_date_differs=same_date is False,
                )
            )
    if differing:
        return IdentityOutcome(MISMATCH, differing)
    return IdentityOutcome(MATCHED if compared else UNCHECKED)
