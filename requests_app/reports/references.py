"""What a report cites: ClinicalTrials.gov identifiers and the references of its
evidence, read from what the specialist typed (pure functions: no database)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

# "NCT" and 8 digits: ClinicalTrials.gov's identifier (NCT04280705).
NCT = re.compile(r"NCT\d{8}")
# What separates identifiers as typed: commas, semicolons, spaces, new lines.
SEPARATORS = re.compile(r"[\s,;]+")
# A DOI (10.prefix/suffix), with or without "doi:" or a doi.org address before it.
DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)", re.IGNORECASE)
# A PubMed identifier, named as such: "PMID: 32109013", "PMID 32109013".
PMID = re.compile(r"\bPMID:?\s*(\d{1,8})\b", re.IGNORECASE)


class TrialIdsInvalid(ValueError):
    """`bad` are the identifiers as typed that are not "NCT" and 8 digits;
    `repeated` those named more than once (normalised)."""

    def __init__(self, bad: list[str], repeated: list[str]) -> None:
        self.bad, self.repeated = bad, repeated
        super().__init__(f"bad {bad}, repeated {repeated}")


def parse_trial_ids(typed: str) -> list[str]:
    """The identifiers in `typed`, upper-case, in their order. Raises
    TrialIdsInvalid naming what is malformed and what is repeated."""
    ids: list[str] = []
    bad: list[str] = []
    repeated: list[str] = []
    for token in SEPARATORS.split(typed or ""):
        if not token:
            continue
        normal = token.upper()
        if not NCT.fullmatch(normal):
            bad.append(token)
        elif normal in ids:
            if normal not in repeated:
                repeated.append(normal)
        else:
            ids.append(normal)
    if bad or repeated:
        raise TrialIdsInvalid(bad, repeated)
    return ids


def trial_url(nct_id: str) -> str:
    return f"https://clinicaltrials.gov/study/{nct_id}"


@dataclass(frozen=True)
class Reference:
    """One line of the evidence: the words as typed, and its DOI or PMID if it
    names one (`start`:`end`, the part of the words a page makes the link)."""

    text: str
    doi: str = ""
    pmid: str = ""
    start: int = 0
    end: int = 0

    @property
    def url(self) -> str:
        if self.doi:
            return "https://doi.org/" + quote(self.doi, safe="/:;()._-")
        if self.pmid:
            return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/"
        return ""

    @property
    def before(self) -> str:
        return self.text[: self.start] if self.url else self.text

    @property
    def linked(self) -> str:
        return self.text[self.start : self.end] if self.url else ""

    @property
    def after(self) -> str:
        return self.text[self.end :] if self.url else ""


def _reference(text: str) -> Reference:
    doi = DOI.search(text)
    if doi:
        value = doi.group(1).rstrip(".,;")
        if value.endswith(")") and value.count(")") > value.count("("):
            value = value[:-1]
        start = doi.start(1)
        return Reference(text=text, doi=value, start=start, end=start + len(value))
    pmid = PMID.search(text)
    if pmid:
        return Reference(text=text, pmid=pmid.group(1), start=pmid.start(), end=pmid.end())
    return Reference(text=text)


def evidence_references(evidence: str) -> list[Reference]:
    """Each non-empty line of `evidence` as a Reference."""
    return [_reference(line.strip()) for line in (evidence or "").splitlines() if line.strip()]


NAMES_DOI = re.compile(r"\bdoi\b", re.IGNORECASE)
NAMES_PMID = re.compile(r"\bpmid\b", re.IGNORECASE)


def evidence_problems(evidence: str) -> list[tuple[int, str]]:
    """(line number, "doi" or "pmid") for each line that names a DOI or a PMID
    without one we can read."""
    problems = []
    lines = [line.strip() for line in (evidence or "").splitlines() if line.strip()]
    for number, text in enumerate(lines, start=1):
        if NAMES_DOI.search(text) and not DOI.search(text):
            problems.append((number, "doi"))
        elif NAMES_PMID.search(text) and not PMID.search(text) and not DOI.search(text):
            problems.append((number, "pmid"))
    return problems
