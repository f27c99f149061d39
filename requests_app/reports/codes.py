"""Verification codes: 10 characters of Crockford's base32 (50 random bits),
printed on the PDF as two groups of five ("7KQ2M-XW9RB").

Crockford's alphabet leaves out I, L, O and U, so a code read aloud or typed from
paper survives the usual confusions: reading it back, O is taken as 0 and I or L
as 1, case is ignored, and hyphens and spaces are dropped."""

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 10
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(text: str) -> str:
    """What a person typed, as stored; "" when it cannot be a code."""
    code = "".join((text or "").split()).replace("-", "").upper().translate(_READ_AS)
    if len(code) != LENGTH or any(ch not in ALPHABET for ch in code):
        return ""
    return code


def grouped(code: str) -> str:
    return f"{code[:5]}-{code[5:]}" if code else ""
