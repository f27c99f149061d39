import pytest
from django.db import connection
from django.db.models import Q
from django.urls import reverse

from requests_app.icd10.loading import STARTING_SYNONYMS, load_icd10_codes
from requests_app.icd10.models import Icd10Code, Icd10Synonym
from requests_app.icd10.search import (
    COMMON_CONDITIONS,
    GENERAL_CODE_LENGTH,
    WORD,
    fold,
    icd10_search,
    query_terms,
    search_vocabulary,
)

pytestmark = pytest.mark.django_db


def _codes(query: str, **kwargs) -> list[str]:
    return [c.code for c in icd10_search(query=query, **kwargs)]


# --- The table (loaded by migration 0003) -------------------------------------------
def test_it_holds_the_whole_code_set():
    assert Icd10Code.objects.count() >= 98_000
    e119 = Icd10Code.objects.get(code="E11.9")
    assert e119.title == "Type 2 diabetes mellitus without complications"
    assert e119.search_text.startswith("e11.9 type 2 diabetes mellitus")


def test_it_leaves_out_chapters_and_blocks_but_keeps_single_category_blocks():
    assert not Icd10Code.objects.filter(code__in=["1", "A00-A09", "C50-C50"]).exists()
    # simple-icd-10-cm also lists these categories as blocks of their own.
    assert Icd10Code.objects.get(code="B20").title == "Human immunodeficiency virus [HIV] disease"
    assert Icd10Code.objects.get(code="C50").title == "Malignant neoplasm of breast"


def test_it_tops_up_a_partial_table_and_then_does_nothing():
    Icd10Code.objects.filter(code__in=["E11.9", "J45.909", "Z00.00"]).delete()

    assert load_icd10_codes(Icd10Code) == 3
    assert Icd10Code.objects.get(code="J45.909").search_text.startswith("j45.909 ")
    assert load_icd10_codes(Icd10Code) == 0


def test_it_has_the_search_indexes():
    if connection.vendor != "postgresql":
        assert icd10_search(query="e11.9")  # SQLite: no extra indexes, same answers.
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'requests_app_icd10code'"
        )
        names = {row[0] for row in cursor.fetchall()}
    assert {
        "requests_app_icd10code_code_c",
        "requests_app_icd10code_search_trgm",
        "requests_app_icd10code_general_trgm",
        "requests_app_icd10code_general_order",
    } <= names


# --- Search by code -----------------------------------------------------------------
@pytest.mark.parametrize("query", ["E11.9", "e11.9", "e119", " E119 ", "e1.19"])
def test_it_finds_a_code_with_or_without_the_dot(query):
    assert _codes(query) == ["E11.9"]


def test_it_lists_the_codes_under_a_prefix_in_code_order():
    codes = _codes("e11")

    assert len(codes) == 10
    assert codes[0] == "E11"
    assert codes == sorted(codes)
    assert all(code.startswith("E11") for code in codes)


def test_it_finds_codes_with_a_seventh_character():
    assert _codes("s72.001a") == ["S72.001A"]


def test_it_searches_words_when_a_code_like_query_is_no_code():
    codes = icd10_search(query="b12")

    assert codes[0].title == "Vitamin B12 deficiency anemia"
    assert all("b12" in c.search_text for c in codes)


# --- Search by words ----------------------------------------------------------------
def test_it_needs_every_word():
    codes = icd10_search(query="diab type 2")

    assert codes[0].code == "E11"
    assert "E11.9" in [c.code for c in icd10_search(query="diab type 2", limit=50)]
    for code in codes:
        title = code.title.lower()
        # "2" is matched in the title only, so E10.2 (type 1) does not qualify.
        assert "diab" in title and "type 2" in title, code


def test_it_finds_nothing_when_one_word_matches_nothing():
    assert icd10_search(query="diabetes zzqx") == []


def test_it_puts_general_codes_and_short_titles_first():
    assert _codes("migraine")[0] == "G43"
    assert _codes("heart failure")[0] == "I50"


def test_it_understands_common_lay_terms():
    assert _codes("breast cancer")[0] == "C50"
    assert "I21" in _codes("heart attack")
    assert "I10" in _codes("high blood pressure")


def test_it_ignores_case_and_accents():
    assert "H81.0" in _codes("MENIERE")
    assert "H81.0" in _codes("ménière")


def test_it_finds_specific_codes_when_the_general_ones_run_out():
    codes = _codes("fracture femur right shaft", limit=20)

    assert codes
    assert all(code.startswith("S72.") and len(code) > 5 for code in codes)


def test_it_answers_one_short_word_from_the_general_codes():
    codes = icd10_search(query="ms")

    assert len(codes) == 10
    assert all("ms" in c.search_text and len(c.code) <= 5 for c in codes)


@pytest.mark.parametrize("query", ["", " ", "e", " a ", "!!", "--", "'"])
def test_it_returns_nothing_for_a_query_under_two_characters(query):
    assert icd10_search(query=query) == []


def test_it_respects_the_limit_and_survives_a_long_query():
    assert len(icd10_search(query="fracture", limit=3)) == 3
    assert len(icd10_search(query="fracture", limit=500)) == 50
    assert icd10_search(query="fracture " * 200) != []


# --- Everyday words and common conditions -------------------------------------------
@pytest.mark.parametrize(
    ("organ", "cancer"),
    [
        ("breast", "C50"),
        ("lung", "C34"),
        ("prostate", "C61"),
        ("colon", "C18"),
        ("skin", "C43"),
        ("kidney", "C64"),
        ("brain", "C71"),
    ],
)
def test_it_puts_the_cancer_of_an_organ_first(organ, cancer):
    assert _codes(organ)[0] == cancer


def test_it_moves_up_only_common_conditions():
    # C38.0 "Malignant neoplasm of heart" is rare and not on the list.
    assert _codes("heart")[0] == "I50"
    assert "C38.0" not in _codes("heart")


def test_it_finds_breast_cancer_under_any_name():
    codes = icd10_search(query="breast cancer")

    assert codes[0].code == "C50"
    assert "C50.9" in [c.code for c in icd10_search(query="breast cancer", limit=20)]
    for code in codes:
        title = code.title.lower()
        assert "breast" in title and ("malignant neoplasm" in title or "carcinoma" in title), code


def test_it_understands_common_lay_terms_and_ranks_what_they_mean_first():
    assert _codes("heart attack")[0] == "I21"
    assert _codes("high blood pressure")[0] == "I10"
    assert _codes("stroke")[0] == "I63"
    assert _codes("broken femur")[0] == "S72"


def test_high_blood_pressure_leaves_out_hypertension_that_is_not_blood_pressure():
    titles = [c.title.lower() for c in icd10_search(query="high blood pressure", limit=50)]

    assert len(titles) == 50
    for other in ("pulmonary", "portal", "ocular", "intracranial", "venous"):
        assert not any(other in title for title in titles), other


def test_it_understands_both_spellings_of_tumour():
    assert _codes("tumour") == _codes("tumor")
    assert _codes("brain tumour")[0] == "C71"
    assert _codes("brain tumour") == _codes("brain tumor")


def test_it_understands_an_everyday_term_while_it_is_typed():
    assert _codes("heart att")[0] == "I21"
    assert _codes("high blood pres")[0] == "I10"
    # Two letters could be on the way to anything.
    assert query_terms(["heart", "at"], search_vocabulary().synonyms)[-1].wordings == ()


def test_it_reads_the_longest_everyday_term():
    terms = query_terms(["mini", "stroke"], search_vocabulary().synonyms)

    # A TIA, not a cerebral infarction.
    assert [t.words for t in terms] == [("mini", "stroke")]
    assert terms[0].wordings == ("transient cerebral ischemic attack",)


def test_the_starting_synonyms_are_loaded_and_each_finds_codes():
    assert set(Icd10Synonym.objects.values_list("term", "clinical")) == set(STARTING_SYNONYMS)
    for term, clinical in STARTING_SYNONYMS:
        assert Icd10Code.objects.filter(search_text__contains=fold(clinical)).exists(), term


@pytest.mark.parametrize(
    "query",
    [
        "breast",
        "cancer",
        "heart",
        "diab type 2",
        "kidney",
        "disease",
        "tumour",
        "can",
        "heart att",
    ],
)
def test_common_conditions_are_matched_as_the_database_matches(query):
    # They are checked in Python (Term.matches), everything else in SQL (Term.condition).
    words = WORD.findall(query)
    terms = query_terms(words, search_vocabulary().synonyms)
    condition = Q(code__in=COMMON_CONDITIONS)
    for term in terms:
        condition &= term.condition()
    in_database = set(Icd10Code.objects.filter(condition).values_list("code", flat=True))

    codes = _codes(query, limit=50)

    assert in_database
    assert codes[: len(in_database)] == [c for c in COMMON_CONDITIONS if c in in_database]


def test_the_common_conditions_are_general_codes():
    codes = Icd10Code.objects.filter(code__in=COMMON_CONDITIONS).values_list("code", flat=True)

    assert set(codes) == set(COMMON_CONDITIONS)
    assert all(len(code) <= GENERAL_CODE_LENGTH for code in COMMON_CONDITIONS)


def test_lay_terms_are_no_longer_stored_in_the_search_text():
    # They are matched at query time, so deleting a synonym takes it away.
    assert Icd10Code.objects.get(code="C50").search_text == "c50 malignant neoplasm of breast"


# --- Editing the synonyms in the admin ------------------------------------------------
def test_the_admin_lists_the_synonyms(client, admin_user):
    client.force_login(admin_user)

    response = client.get(reverse("admin:icd10_icd10synonym_changelist"))

    assert response.status_code == 200
    assert "myocardial infarction" in response.content.decode()


def test_only_admins_reach_the_synonyms(client, coordinator):
    client.force_login(coordinator)

    assert client.get(reverse("admin:icd10_icd10synonym_changelist")).status_code == 404


def test_a_synonym_added_in_the_admin_takes_effect_at_once(
    client, admin_user, django_capture_on_commit_callbacks
):
    assert "G91" not in _codes("water on the brain")  # and the synonyms are now cached
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:icd10_icd10synonym_add"),
            {
                "term": "Water on the brain",
                "clinical": "Hydrocephalus",
            },
        )

    assert response.status_code == 302
    assert _codes("water on the brain")[0] == "G91"


def test_a_synonym_deleted_in_the_admin_stops_matching(
    client, admin_user, django_capture_on_commit_callbacks
):
    assert _codes("heart attack")[0] == "I21"
    synonym = Icd10Synonym.objects.get(term="heart attack")
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:icd10_icd10synonym_delete", args=[synonym.pk]), {"post": "yes"}
        )

    assert response.status_code == 302
    assert "I21" not in _codes("heart attack")


def test_the_admin_refuses_a_synonym_twice_in_another_case(client, admin_user):
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:icd10_icd10synonym_add"),
        {
            "term": "Heart Attack",
            "clinical": "Myocardial infarction",
        },
    )

    assert response.status_code == 200
    assert "This term already has this clinical wording." in response.content.decode()
    assert Icd10Synonym.objects.filter(term__iexact="heart attack").count() == 1


# --- The JSON view ------------------------------------------------------------------
def test_it_sends_anonymous_people_to_sign_in(client):
    url = reverse("requests_app:icd10_search")

    response = client.post(url, {"q": "e11"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_it_returns_codes_as_json(client, patient):
    client.force_login(patient)

    response = client.post(reverse("requests_app:icd10_search"), {"q": "e11.9"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "results": [{"code": "E11.9", "title": "Type 2 diabetes mellitus without complications"}]
    }


def test_it_returns_an_empty_list_for_a_short_or_missing_query(client, patient):
    client.force_login(patient)
    url = reverse("requests_app:icd10_search")

    assert client.post(url, {"q": "e"}).json() == {"results": []}
    assert client.post(url).json() == {"results": []}


def test_it_serves_any_signed_in_person(client, outsider, coordinator):
    # The code table is public reference data: there is no case to be outside of.
    url = reverse("requests_app:icd10_search")
    for user in (outsider, coordinator):
        client.force_login(user)
        results = client.post(url, {"q": "migraine"}).json()["results"]
        assert results[0] == {"code": "G43", "title": "Migraine"}


def test_it_only_answers_post(client, patient):
    # What a patient types about their health stays out of URLs and access logs.
    client.force_login(patient)

    assert client.get(reverse("requests_app:icd10_search"), {"q": "e11"}).status_code == 405
