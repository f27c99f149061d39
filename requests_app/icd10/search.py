"""Searching the ICD-10-CM code table (loading it: loading.py).

Search feeds a typeahead, so it must answer in a few milliseconds over ~98,000
codes. On PostgreSQL, requests_app's migration 0003 adds the indexes the queries below need
(see bench/README.md for timings). SQLite, the embedded default, answers the
same queries without them, just more slowly.

Patients search in their own words, so two things are added to plain matching:

* Synonyms (the Icd10Synonym table, edited in the admin): when the query holds
  an everyday term ("heart attack", "cancer"), each code may match either the
  words as typed or the clinical wording ("myocardial infarction", "malignant
  neoplasm"). They are applied at query time, not stored in search_text, so an
  edit takes effect at once, without reloading 98,000 rows.
* Common conditions first: the codes in COMMON_CONDITIONS that match come
  first, in the order of that list, then everything else as before (general
  codes, then shorter titles). Without it, "breast" lists "Accessory breast"
  and "Atrophy of breast" (short titles) before "Malignant neoplasm of breast",
  which is what nearly everyone typing "breast" on a second-opinion form means.
"""

import re
import unicodedata
from dataclasses import dataclass

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Collate, Length

from .models import Icd10Code, Icd10Synonym

MIN_QUERY_LENGTH = 2
MAX_QUERY_LENGTH = 100
MAX_LIMIT = 50
# More words than this add cost without narrowing anything a person would notice.
MAX_WORDS = 8
# "E11" and "E11.9": the ~12,000 categories and first subdivisions. Searched
# first, so a broad word ("fracture") never has to read and sort the ~20,000
# fully specified codes that also contain it.
GENERAL_CODE_LENGTH = 5
# pg_trgm indexes three-character sequences: a shorter word cannot use the index.
TRIGRAM = 3
CANDIDATES = 500

# "e11", "e11.9", "e119", "s72.001a": a letter, a digit, then code characters.
CODE_QUERY = re.compile(r"^[a-z]\d[0-9a-z.]*$")
WORD = re.compile(r"[a-z0-9]+")

# The synonyms and the common conditions are read on every keystroke. The
# admin clears this key when it saves or deletes a synonym; the timeout bounds
# how long a change made elsewhere (a shell, a migration) can go unnoticed.
VOCABULARY_CACHE_KEY = "requests_app:icd10_vocabulary"
VOCABULARY_CACHE_SECONDS = 5 * 60

# What people most often mean, first. General codes only, in this order:
# cancers first, roughly by how many people are diagnosed each year, because a
# cancer diagnosis is the most common reason to ask for a second opinion, and
# because a single organ word ("breast", "lung", "skin") then finds its cancer
# rather than an anatomical oddity; then other conditions, the most common
# first. Only codes that match the query are moved up: "heart" finds Heart
# failure, not Malignant neoplasm of heart, which is not on the list. Titles
# that mention another condition ("Osteoporosis without current pathological
# fracture") stay off it, or a search for that condition would start there.
COMMON_CONDITIONS: tuple[str, ...] = (
    # Cancers
    "C50",  # breast
    "C34",  # bronchus and lung
    "C61",  # prostate
    "C18",  # colon
    "C20",  # rectum
    "C43",  # melanoma of skin
    "C44",  # other malignant neoplasm of skin
    "C67",  # bladder
    "C64",  # kidney
    "C54",  # corpus uteri
    "C25",  # pancreas
    "C73",  # thyroid gland
    "C22",  # liver
    "C16",  # stomach
    "C56",  # ovary
    "C53",  # cervix uteri
    "C71",  # brain
    "C15",  # esophagus
    "C90",  # multiple myeloma
    "C91",  # lymphoid leukemia
    "C92",  # myeloid leukemia
    "C85",  # non-Hodgkin lymphoma
    "C81",  # Hodgkin lymphoma
    # Other conditions
    "I10",  # essential hypertension
    "E11",  # type 2 diabetes
    "E10",  # type 1 diabetes
    "I50",  # heart failure
    "I25",  # chronic ischemic heart disease
    "I21",  # acute myocardial infarction
    "I48",  # atrial fibrillation
    "I63",  # cerebral infarction
    "N18",  # chronic kidney disease
    "J44",  # COPD
    "J45",  # asthma
    "F32",  # depressive episode
    "F41",  # anxiety disorders
    "M17",  # osteoarthritis of knee
    "M16",  # osteoarthritis of hip
    "M54.5",  # low back pain
    "M06",  # rheumatoid arthritis
    "E66",  # overweight and obesity
    "E03",  # hypothyroidism
    "K21",  # gastro-esophageal reflux disease
    "N40",  # benign prostatic hyperplasia
    "G43",  # migraine
    "G40",  # epilepsy
    "G30",  # Alzheimer's disease
    "G20",  # Parkinson's disease
    "G35",  # multiple sclerosis
    "K50",  # Crohn's disease
    "K51",  # ulcerative colitis
    "M32",  # systemic lupus erythematosus
    "B20",  # HIV disease
)


def fold(text: str) -> str:
    """Lower-case and strip accents, so "meniere" finds "Ménière's disease"."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def search_text_for(code: str, title: str) -> str:
    return fold(f"{code} {title}")


# --- What search reads besides the code table ---------------------------------------
Synonyms = dict[tuple[str, ...], tuple[str, ...]]
Row = tuple[str, str, str]  # code, title, search_text


@dataclass(frozen=True)
class Vocabulary:
    synonyms: Synonyms
    # The rows of COMMON_CONDITIONS, in that order. Checked in Python: a query
    # for them cost more (~1 ms, mostly planning) than the search itself.
    common: tuple[Row, ...]


def _read_synonyms() -> Synonyms:
    synonyms: dict[tuple[str, ...], list[str]] = {}
    for term, clinical in Icd10Synonym.objects.values_list("term", "clinical"):
        # Folded and split like a query, so "Heart  Attack" matches "heart attack";
        # the wording is matched against search_text, which is folded too.
        words = tuple(WORD.findall(fold(term)))
        wording = " ".join(fold(clinical).split())
        # A wording under three characters could not use the trigram index:
        # every search with that term would read the whole table.
        if words and len(wording) >= TRIGRAM:
            synonyms.setdefault(words, []).append(wording)
    return {words: tuple(wordings) for words, wordings in synonyms.items()}


def _read_common_conditions() -> tuple[Row, ...]:
    rows = Icd10Code.objects.filter(code__in=COMMON_CONDITIONS).values_list(
        "code", "title", "search_text"
    )
    found = {row[0]: row for row in rows}
    return tuple(found[code] for code in COMMON_CONDITIONS if code in found)


def search_vocabulary() -> Vocabulary:
    """The synonyms and the common conditions, from the cache when it has them."""
    vocabulary = cache.get(VOCABULARY_CACHE_KEY)
    if vocabulary is None:
        vocabulary = Vocabulary(synonyms=_read_synonyms(), common=_read_common_conditions())
        cache.set(VOCABULARY_CACHE_KEY, vocabulary, VOCABULARY_CACHE_SECONDS)
    return vocabulary


def icd10_synonyms_changed() -> None:
    """Forget the cached synonyms, once the change is committed.

    Not before: a search between the delete and the commit would read the old
    rows and cache them again for VOCABULARY_CACHE_SECONDS.
    """
    transaction.on_commit(lambda: cache.delete(VOCABULARY_CACHE_KEY))


@dataclass(frozen=True)
class Term:
    """One or more words of the query, and clinical wordings that may stand in for them."""

    words: tuple[str, ...]
    wordings: tuple[str, ...] = ()

    def condition(self) -> Q:
        typed = Q()
        for word in self.words:
            # A number is part of the name ("type 2 diabetes"), not of the code:
            # "2" should not find E10.2, "Type 1 diabetes ...".
            # search_text is already folded, so a case-sensitive LIKE '%word%' is
            # enough and, unlike icontains (UPPER(...) LIKE), uses the trigram index.
            typed &= Q(title__contains=word) if word.isdigit() else Q(search_text__contains=word)
        for wording in self.wordings:
            typed |= Q(search_text__contains=wording)
        return typed

    def matches(self, title: str, search_text: str) -> bool:
        """What condition() asks of the database, for a row already in memory."""
        typed = all(
            (word in title) if word.isdigit() else (word in search_text) for word in self.words
        )
        return typed or any(wording in search_text for wording in self.wordings)

    @property
    def indexed(self) -> bool:
        """Whether the trigram index can find the matches. The wordings always can
        (three characters or more); the words as typed need one such word."""
        return any(len(word) >= TRIGRAM and not word.isdigit() for word in self.words)


def _completions(typed: tuple[str, ...], synonyms: Synonyms) -> tuple[str, ...]:
    """Wordings for the terms the end of the query is on its way to ("heart att")."""
    *whole, partial = typed
    if len(partial) < TRIGRAM:  # "c" or "ca" could be on the way to anything
        return ()
    return tuple(
        wording
        for words, wordings in synonyms.items()
        if len(words) == len(typed) and list(words[:-1]) == whole and words[-1].startswith(partial)
        for wording in wordings
    )


def query_terms(words: list[str], synonyms: Synonyms) -> list[Term]:
    """Group the query's words into terms, the longest everyday term first.

    "high blood pressure" is one term (and "blood" alone is not expanded); the
    last word may be unfinished, so "heart att" already finds heart attacks.
    """
    longest = max(map(len, synonyms), default=1)
    terms: list[Term] = []
    start = 0
    while start < len(words):
        for size in range(min(longest, len(words) - start), 0, -1):
            typed = tuple(words[start : start + size])
            wordings = synonyms.get(typed) or (
                _completions(typed, synonyms) if start + size == len(words) else ()
            )
            if wordings or size == 1:
                terms.append(Term(typed, wordings))
                start += size
                break
    return terms


# --- Search ---------------------------------------------------------------------------
def normalise_query(query: str) -> str:
    return fold(query.strip()[:MAX_QUERY_LENGTH]).strip()


def code_prefix(query: str) -> str:
    """'e119' and 'e11.9' both become 'E11.9': the dot always follows the category."""
    bare = query.replace(".", "").upper()
    return f"{bare[:3]}.{bare[3:]}" if len(bare) > 3 else bare


def _codes_starting_with(prefix: str, limit: int) -> list[Icd10Code]:
    # On PostgreSQL, compare and sort in byte order ("C") so that the prefix is
    # one range of the `(code COLLATE "C")` index, read in order and stopped
    # after `limit` rows. In the database's own collation (en_US, ...) the
    # planner would walk the primary key from "A00" filtering every row.
    ordered_code = Collate("code", "C") if connection.vendor == "postgresql" else F("code")
    return list(
        Icd10Code.objects.annotate(ordered_code=ordered_code)
        .filter(ordered_code__startswith=prefix)
        .order_by("ordered_code")[:limit]
    )


def _common_conditions(terms: list[Term], rows: tuple[Row, ...]) -> list[Icd10Code]:
    fields = ["code", "title", "search_text"]
    return [
        Icd10Code.from_db(DEFAULT_DB_ALIAS, fields, row)
        for row in rows
        if all(term.matches(row[1], row[2]) for term in terms)
    ]


def _codes_with_terms(condition: Q, indexed: bool, limit: int) -> list[Icd10Code]:
    matches = Icd10Code.objects.annotate(code_length=Length("code")).filter(condition)
    # Shorter titles are the more general conditions, which is what people
    # usually mean; the code breaks ties so that results are stable.
    ranking = (Length("title"), "code")
    codes = list(matches.filter(code_length__lte=GENERAL_CODE_LENGTH).order_by(*ranking)[:limit])
    # Without a word the trigram index can use ("ms", "a 1", "250") the rest
    # would mean reading every specific code; the general ones are enough.
    if len(codes) == limit or not indexed:
        return codes
    # A common word ("subsequent encounter") matches tens of thousands of
    # specific codes, and sorting them all takes 20-40 ms. Rank only the first
    # CANDIDATES found: a search that broad needs more words anyway.
    candidates = (
        matches.filter(code_length__gt=GENERAL_CODE_LENGTH).order_by().values("code")[:CANDIDATES]
    )
    codes += Icd10Code.objects.filter(code__in=candidates).order_by(*ranking)[: limit - len(codes)]
    return codes


def icd10_search(*, query: str, limit: int = 10) -> list[Icd10Code]:
    """Codes matching what someone typed into the ICD-10 picker, best first.

    A code-like query ("e11.9", "e119", "S72") matches by code prefix, in code
    order; one with no such code ("b12") is then tried as words. Otherwise every
    word (or everyday term) must occur in the code or title (a number: in the
    title), or the term's clinical wording must. Matching common conditions
    come first, in COMMON_CONDITIONS order; then categories and their first
    subdivisions ("E11", "E11.9") before more specific codes, and within each
    group shorter titles first.
    """
    query = normalise_query(query)
    limit = max(0, min(limit, MAX_LIMIT))
    if len(query) < MIN_QUERY_LENGTH or not limit:
        return []
    if CODE_QUERY.match(query):
        codes = _codes_starting_with(code_prefix(query), limit)
        if codes:
            return codes
    words = list(dict.fromkeys(WORD.findall(query)))[:MAX_WORDS]
    if not words:
        return []
    vocabulary = search_vocabulary()
    terms = query_terms(words, vocabulary.synonyms)
    condition = Q()
    for term in terms:
        condition &= term.condition()
    common = _common_conditions(terms, vocabulary.common)[:limit]
    # Asking for `limit` more, not `limit - len(common)`: any of the common
    # codes may be among them, and is dropped there.
    rest = _codes_with_terms(condition, any(term.indexed for term in terms), limit)
    listed = {code.code for code in common}
    return [*common, *(code for code in rest if code.code not in listed)][:limit]
