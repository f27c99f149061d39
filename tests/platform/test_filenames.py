"""secondop.filenames: the bidirectional, control and other invisible characters that
make a name or a title read as something it is not are removed before display."""

import unicodedata

import pytest

from secondop.filenames import (
    clean_filename,
    clean_text,
    content_disposition,
    has_hidden_characters,
)

# Every bidirectional control, the zero-width ones, the byte-order mark, a soft hyphen,
# an invisible operator, and C0/C1 controls.
HIDDEN = (
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    "\u200b\u200c\u200d\u2060\ufeff\u00ad\u2062\x00\x07\x1b\x7f\x85\x9b"
)


def test_every_hidden_character_is_a_control_or_format_character():
    assert {unicodedata.category(ch) for ch in HIDDEN} <= {"Cc", "Cf"}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("report\u202efdp.exe", "reportfdp.exe"),
        (f"a{HIDDEN}b.pdf", "ab.pdf"),
        ("zero\u200bwidth\ufeff.pdf", "zerowidth.pdf"),
        (HIDDEN, "file"),
    ],
)
def test_file_names_lose_every_hidden_character(given, expected):
    assert clean_filename(given) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Biopsy\u202e\u2066 report", "Biopsy report"),
        ("CT of the\nchest\tand\u2028abdomen", "CT of the chest and abdomen"),
        ("  Résumé  médical ", "Résumé médical"),
        ("检查报告", "检查报告"),
        (HIDDEN, ""),
        ("", ""),
    ],
)
def test_titles_lose_hidden_characters_and_line_breaks(given, expected):
    assert clean_text(given) == expected


def test_it_says_when_something_hidden_was_there():
    assert has_hidden_characters("a\u202eb") and has_hidden_characters("\u200b")
    assert not has_hidden_characters("Line one\nline two") and not has_hidden_characters("é")


def test_a_download_name_never_carries_a_hidden_character():
    header = content_disposition("report\u202efdp\u200b.exe", inline=False)
    assert header == "attachment; filename=\"reportfdp.exe\"; filename*=UTF-8''reportfdp.exe"
