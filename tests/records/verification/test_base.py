"""records.verification.base: the reasons a patient reads."""

from records.verification import REASONS


def test_every_reason_reads_as_a_sentence():
    for code, message in REASONS.items():
        text = str(message)
        assert text[0].isupper() and text.endswith("."), code
        assert "_" not in text and len(text) < 300, code
