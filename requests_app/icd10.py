"""The ICD-10-CM code table: loading it from simple-icd-10-cm and searching it.

Search feeds a typeahead, so it must answer in a few milliseconds over ~98,000
codes. On PostgreSQL, migration 0003 adds the indexes the two queries below
need (see bench/README.md for timings). SQLite, the embedded default, answers
the same queries without them, just more slowly.
"""

import re
import unicodedata
import warnings

from django.db import connection
from django.db.models import F, Model
from django.db.models.functions import Collate, Length

from .models import Icd10Code

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

# Everyday words for the clinical wording ICD-10-CM uses, added to search_text
# when loading so that "breast cancer" finds "Malignant neoplasm of breast".
# Deliberately short: each entry must mean the same thing wherever it applies.
LAY_TERMS = {
    "malignant neoplasm": "cancer",
    "neoplasm": "tumor",
    "myocardial infarction": "heart attack",
    "cerebral infarction": "stroke",
    "essential (primary) hypertension": "high blood pressure",
}


def fold(text: str) -> str:
    """Lower-case and strip accents, so "meniere" finds "Ménière's disease"."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def search_text_for(code: str, title: str) -> str:
    text = fold(f"{code} {title}")
    extra = [lay for clinical, lay in LAY_TERMS.items() if clinical in text]
    return " ".join([text, *extra])


def icd10_code_rows() -> list[tuple[str, str]]:
    """Every code except chapters and blocks ("1", "A00-A09"), with its title."""
    with warnings.catch_warnings():
        # It reads its data files through a deprecated importlib.resources API.
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as icd  # ~2.5 s to read its tables: only when loading.

    # 39 categories are also a block of their own ("B20" HIV disease, "C50"
    # breast cancer): they are listed twice and is_chapter_or_block() is true
    # for both, so keep categories explicitly and drop the duplicates.
    codes = dict.fromkeys(
        code
        for code in icd.get_all_codes(with_dots=True)
        if icd.is_category(code) or not icd.is_chapter_or_block(code)
    )
    return [(code, icd.get_description(code)) for code in codes]


def load_icd10_codes(model: type[Model] = Icd10Code, batch_size: int = 5000) -> int:
    """Fill the code table; returns the number of rows added.

    Takes the model class so that a migration can pass its historical model.
    Idempotent: a full table is left alone, a partial one is topped up.
    """
    rows = icd10_code_rows()
    before = model.objects.count()
    if before >= len(rows):
        return 0
    model.objects.bulk_create(
        (
            model(code=code, title=title, search_text=search_text_for(code, title))
            for code, title in rows
        ),
        batch_size=batch_size,
        ignore_conflicts=True,
    )
    return model.objects.count() - before


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


def _codes_with_words(words: list[str], limit: int) -> list[Icd10Code]:
    matches = Icd10Code.objects.annotate(code_length=Length("code"))
    for word in words:
        if word.isdigit():
            # A number is part of the name ("type 2 diabetes"), not of the code:
            # "2" should not find E10.2, "Type 1 diabetes ...".
            matches = matches.filter(title__contains=word)
        else:
            # search_text is already folded, so a case-sensitive LIKE '%word%' is
            # enough and, unlike icontains (UPPER(...) LIKE), uses the trigram index.
            matches = matches.filter(search_text__contains=word)
    # Shorter titles are the more general conditions, which is what people
    # usually mean; the code breaks ties so that results are stable.
    ranking = (Length("title"), "code")
    codes = list(
        matches.filter(code_length__lte=GENERAL_CODE_LENGTH).order_by(*ranking)[:limit]
    )
    # Without a word the trigram index can use ("ms", "a 1", "250") the rest
    # would mean reading every specific code; the general ones are enough.
    if len(codes) == limit or not any(len(w) >= TRIGRAM and not w.isdigit() for w in words):
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
    word must occur in the code, title or lay terms (a number: in the title);
    categories and their first subdivisions ("E11", "E11.9") come before more
    specific codes, and within each group shorter titles come first.
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
    return _codes_with_words(words, limit)
