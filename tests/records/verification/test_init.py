"""records.verification itself: what callers import from the package, the platform's
file names among them."""

import pytest

from records import verification
from records.verification import base, clean_filename, content_disposition
from records.verification import verify as verify_module


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("C:\\Users\\pat\\scan.pdf", "scan.pdf"),
        ("../../etc/passwd", "passwd"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("a\u2066b\u2069c\u200f.pdf", "abc.pdf"),
        ("tab\there\x00\x1b.pdf", "tabhere.pdf"),
        ('what"is<this>?.pdf', "what_is_this__.pdf"),
        ("  ..hidden.pdf. ", "hidden.pdf"),
        ("", "file"),
        ("\u202e", "file"),
        ("CON.txt", "_CON.txt"),
        ("Résumé médical.pdf", "Résumé médical.pdf"),
    ],
)
def test_it_cleans_file_names(given, expected):
    assert clean_filename(given) == expected


def test_it_trims_long_names_keeping_the_extension():
    name = clean_filename("x" * 400 + ".pdf")
    assert len(name) == 255 and name.endswith("x.pdf")


def test_content_disposition_has_an_ascii_fallback_and_the_utf8_name():
    header = content_disposition('Résumé "final"\u202e.pdf', inline=False)
    assert header == (
        'attachment; filename="Resume _final_.pdf"; '
        "filename*=UTF-8''R%C3%A9sum%C3%A9%20_final_.pdf"
    )
    assert content_disposition("scan.png", inline=True) == (
        "inline; filename=\"scan.png\"; filename*=UTF-8''scan.png"
    )
    assert content_disposition("检查报告.pdf", inline=False).startswith(
        "attachment; filename=\"file.pdf\"; filename*=UTF-8''%E6%A3%80"
    )


def test_callers_import_every_name_from_the_package():
    # The package's modules are its own business: records and the bench import these.
    for name in verification.__all__:
        assert getattr(verification, name) is not None, name
    assert verification.verify_file is verify_module.verify_file
    assert verification.ScannerUnavailable is base.ScannerUnavailable
