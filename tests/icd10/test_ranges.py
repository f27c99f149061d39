"""ICD-10-CM code ranges: which codes a list of ranges holds, and what it refuses."""

import pytest
from django.core.exceptions import ValidationError

from requests_app.icd10.ranges import icd10_code_in, parse_icd10_ranges, validate_icd10_ranges


@pytest.mark.parametrize(
    ("code", "ranges", "inside"),
    [
        ("D49.9", "C00-D49", True),
        ("D50", "C00-D49", False),
        ("C00", "C00-D49", True),
        ("B99.9", "C00-D49", False),
        ("C50.911", "C50", True),
        ("C50", "C50", True),
        ("C51.0", "C50", False),
        ("C5", "C50", False),
        ("c50.911 ", "c50", True),
        ("C50911", "C50", True),
        # Categories ending in a letter sort after the digits, as in the classification.
        ("O9A.11", "O00-O9A", True),
        ("C4A.9", "C43-C44", False),
        ("C4A.9", "C43-C44, C4A", True),
        ("C7A.010", "C00-D49", True),
        # Four-character bounds: the category alone is broader than the range.
        ("G93.51", "G93.5-G93.6", True),
        ("G93.6", "G93.5-G93.6", True),
        ("G93.7", "G93.5-G93.6", False),
        ("G93", "G93.5-G93.6", False),
        ("E11.319", "E10.3, E11.3", True),
        ("E11.9", "E10.3, E11.3", False),
        ("C50.911", "", False),
        ("", "C00-D49", False),
        ("cancer", "C00-D49", False),
        ("C50.9111111", "C50", False),
    ],
)
def test_it_tells_whether_a_code_is_in_a_list_of_ranges(code, ranges, inside):
    assert icd10_code_in(code, ranges) is inside


def test_it_reads_spaces_dots_and_case_loosely():
    assert parse_icd10_ranges(" c00 - d49 ,, e11.3 ,") == parse_icd10_ranges("C00-D49, E113")


@pytest.mark.parametrize(
    "text",
    [
        "C00-D4",
        "D49-C00",
        "cancer",
        "C50-",
        "C00--D49",
        "5C0",
        "C00-D49; E11",
        "C50.91234",
    ],
)
def test_it_refuses_what_it_cannot_read(text):
    with pytest.raises(ValidationError):
        validate_icd10_ranges(text)


def test_the_refusal_names_the_items_it_could_not_read():
    with pytest.raises(ValidationError) as refused:
        validate_icd10_ranges("C00-D49, D49-C00, C50, xyz")
    assert "D49-C00, xyz" in refused.value.messages[0]
