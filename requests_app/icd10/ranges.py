"""ICD-10-CM code ranges ("C00-D49, E11.3"): what a board certification
usually treats (specialists.Certification.icd10_ranges), read and checked."""

import re
from dataclasses import dataclass
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# A prefix of an ICD-10-CM code, dots left out: a letter, a digit, a digit or
# letter (C4A, O9A), then up to four more characters.
_ICD10_PREFIX = r"[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}"
_ICD10_ITEM = re.compile(rf"^({_ICD10_PREFIX})(?:-({_ICD10_PREFIX}))?$")
_ICD10_CODE = re.compile(rf"^{_ICD10_PREFIX}$")


@dataclass(frozen=True)
class Icd10Range:
    """Codes whose first len(start) characters sort between start and end,
    both included. A prefix ("C50") is the range C50-C50."""

    start: str
    end: str

    def __contains__(self, code: str) -> bool:
        code = normalise_icd10_code(code)
        head = code[: len(self.start)]
        # A code shorter than the bounds ("G93" against G93.5-G93.6) is broader
        # than the range, so it is not in it. A word is in no range, although
        # "CAN" sorts between C00 and D49.
        return (
            len(head) == len(self.start)
            and self.start <= head <= self.end
            and bool(_ICD10_CODE.match(code))
        )


def normalise_icd10_code(code: str) -> str:
    return code.strip().upper().replace(".", "")


@lru_cache(maxsize=1024)
def parse_icd10_ranges(text: str) -> tuple[Icd10Range, ...]:
    """Read a certification's `icd10_ranges`: items separated by commas, each a
    prefix ("C50", "E11.3") or an inclusive range of two prefixes of the same
    length ("C00-D49"). Dots and case do not matter. Comparing characters in
    ASCII order puts the ICD-10-CM categories that end in a letter where the
    classification puts them: C4A after C44, O9A after O99.

    Raises ValueError naming every item it cannot read."""
    ranges, errors = [], []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        match = _ICD10_ITEM.match(item.upper().replace(".", "").replace(" ", ""))
        start, end = (match.group(1), match.group(2) or match.group(1)) if match else ("", "")
        if not match or len(start) != len(end) or start > end:
            errors.append(item)
            continue
        ranges.append(Icd10Range(start, end))
    if errors:
        raise ValueError(", ".join(errors))
    return tuple(ranges)


def icd10_code_in(code: str, ranges: str) -> bool:
    """Whether an ICD-10-CM code ("C50.911") falls in a list of ranges ("C00-D49, D50")."""
    return any(code in each for each in parse_icd10_ranges(ranges))


def validate_icd10_ranges(value: str) -> None:
    try:
        parse_icd10_ranges(value)
    except ValueError as error:
        raise ValidationError(
            _(
                "Not a code or a range of codes: %(items)s. Write C50 or C00-D49, the two ends "
                "of a range as long as each other, the lower first."
            ),
            code="invalid",
            params={"items": str(error)},
        ) from error
