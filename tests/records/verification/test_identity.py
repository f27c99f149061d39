"""records.verification.identity: a study's PatientName and PatientBirthDate against
the request's patient. A person's name written the DICOM way, in another case, with
or without its accents, spaces and punctuation, is still theirs; someone else's name
or birth date is not."""

import datetime
import unicodedata

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from records.verification.identity import (
    MATCHED,
    MISMATCH,
    UNCHECKED,
    check_identity,
    dicom_date,
    dicom_name_display,
    fold,
    names_match,
    words,
)

# Names as people have them: letters with and without accents, two to three words.
letters = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzéèçñüøåíóáÉÑ"), min_size=2, max_size=10
)


def accentless(text: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    ).upper()


@given(given_name=letters, family=letters)
@example(given_name="josé", family="garcía")
@example(given_name="aa", family="jr")  # a family name that is also a suffix
def test_it_matches_a_name_written_the_dicom_way_in_capitals_without_accents(given_name, family):
    assume(fold(given_name) != fold(family))
    person = f"{given_name.title()} {family.title()}"
    assert names_match(f"{accentless(family)}^{accentless(given_name)}", person)
    assert names_match(f"{family}^{given_name}", person)  # as typed
    assert names_match(f"{accentless(family)}^{accentless(given_name)[0]}", person)  # an initial


@given(given_name=letters, family=letters, spaces=st.sampled_from([" ", "  ", "\t", " - ", "'"]))
def test_spaces_and_punctuation_do_not_matter(given_name, family, spaces):
    person = f"  {given_name}{spaces}{family}. "
    assert names_match(f"{family}^{given_name}", person)
    assert words(person) == words(f"{given_name} {family}")


@given(text=st.text(max_size=40))
def test_folding_is_idempotent_and_case_blind(text):
    assert fold(fold(text)) == fold(text)
    assert fold(text.upper()) == fold(text.lower()) or not text.isascii()


@given(given_name=letters, family=letters, other=letters)
def test_another_family_name_is_not_theirs(given_name, family, other):
    assume(fold(other) != fold(family) and fold(other) != fold(given_name))
    assume(fold(family) not in fold(other) and fold(other) not in fold(family))
    person = f"{given_name} {family}"
    assert names_match(f"{other}^{given_name}", person) is False


@given(a=letters, b=letters)
def test_the_order_of_the_words_is_not_compared(a, b):
    assert names_match(f"{a}^{b}", f"{a} {b}") == names_match(f"{a}^{b}", f"{b} {a}")


@pytest.mark.parametrize(
    ("dicom", "person"),
    [
        ("DOE^JANE", "Jane Doe"),
        ("DOE^JANE^QUINN^MRS^", "Jane Q. Doe"),
        ("DE LA CRUZ^MARIA", "María de la Cruz"),
        ("SMITH-JONES^ANNA", "Anna Smith Jones"),
        ("SMITHJONES^ANNA", "Anna Smith-Jones"),
        ("OBRIEN^SEAN", "Seán O'Brien"),
        ("DOE^JANE", "Doe, Jane"),
        ("DOE JANE", "Jane Doe"),  # no carets: a system that writes it as one string
        ("JANE^DOE", "Jane Doe"),  # written the wrong way round
        ("Yamada^Tarou=山田^太郎=やまだ^たろう", "Tarou Yamada"),  # the alphabetic group
        ("DOE^", "Jane Doe"),  # only a family name on the disc
        ("\uff24\uff2f\uff25^\uff2a\uff21\uff2e\uff25", "Jane Doe"),  # full-width letters (NFKD)
    ],
)
def test_it_matches_the_ways_a_name_is_written(dicom, person):
    assert names_match(dicom, person) is True


@pytest.mark.parametrize(
    ("dicom", "person"),
    [
        ("SMITH^JOHN", "Jane Doe"),
        ("DOE^JOHN", "Jane Doe"),  # the same family, another person
        ("CompressedSamples^CT1", "Margaret Okafor"),
        ("DOERING^JANE", "Jane Doe"),  # a longer name is not a match
    ],
)
def test_it_does_not_match_another_persons_name(dicom, person):
    assert names_match(dicom, person) is False


@pytest.mark.parametrize(("dicom", "person"), [("", "Jane Doe"), ("^^^", "Jane Doe"), ("DOE", "")])
def test_a_missing_name_is_neither(dicom, person):
    assert names_match(dicom, person) is None


def test_the_patient_reads_the_name_in_reading_order():
    assert dicom_name_display("DOE^JANE^Q^DR^JR") == "DR JANE Q DOE, JR"
    assert dicom_name_display("DOE  JANE") == "DOE JANE"
    assert dicom_name_display("") == ""


@pytest.mark.parametrize(
    ("value", "date"),
    [
        ("19700517", datetime.date(1970, 5, 17)),
        ("1970.05.17", datetime.date(1970, 5, 17)),
        ("", None),
        ("1970", None),
        ("19701345", None),
    ],
)
def test_birth_dates_are_read_as_dicom_writes_them(value, date):
    assert dicom_date(value) == date


BORN = datetime.date(1970, 5, 17)


def test_a_study_labelled_for_the_patient_matches():
    outcome = check_identity([("DOE^JANE", "19700517")], name="Jane Doe", birth_date=BORN)
    assert outcome.result == MATCHED and not outcome.flagged and outcome.labels == []


def test_another_name_flags_the_study_with_what_it_says():
    outcome = check_identity([("SMITH^JOHN", "19700517")], name="Jane Doe", birth_date=BORN)
    assert outcome.result == MISMATCH and outcome.flagged
    [label] = outcome.labels
    assert label.as_json() == {
        "name": "JOHN SMITH",
        "birth_date": "1970-05-17",
        "name_differs": True,
        "birth_date_differs": False,
    }


def test_another_birth_date_flags_the_study_even_with_the_same_name():
    outcome = check_identity([("DOE^JANE", "19710517")], name="Jane Doe", birth_date=BORN)
    assert outcome.flagged
    assert outcome.labels[0].birth_date_differs and not outcome.labels[0].name_differs


def test_one_study_of_two_for_someone_else_flags_the_record():
    outcome = check_identity(
        [("DOE^JANE", "19700517"), ("SMITH^JOHN", "19450101")], name="Jane Doe", birth_date=BORN
    )
    assert outcome.flagged and [label.name for label in outcome.labels] == ["JOHN SMITH"]


@pytest.mark.parametrize(
    ("labels", "name", "born", "result"),
    [
        ([("", "")], "Jane Doe", BORN, UNCHECKED),  # an anonymised disc
        ([], "Jane Doe", BORN, UNCHECKED),
        ([("DOE^JANE", "")], "Jane Doe", BORN, MATCHED),  # the name alone
        ([("", "19700517")], "Jane Doe", BORN, MATCHED),  # the date alone
        ([("SMITH^JOHN", "")], "", None, UNCHECKED),  # nothing on the request to compare
        ([("", "19710101")], "Jane Doe", None, UNCHECKED),
    ],
)
def test_a_missing_value_is_no_mismatch_and_nothing_compared_says_so(labels, name, born, result):
    assert check_identity(labels, name=name, birth_date=born).result == result
