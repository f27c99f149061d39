"""SMART Health Links, the format (https://docs.smarthealthit.org/smart-health-links/):
the `shlink:/` link and its QR code, and the files encrypted as JWE.

A link is `shlink:/` and the base64url of a JSON payload: the manifest's `url`,
the `key` (32 random bytes, base64url) that decrypts the files, `exp` (seconds
since the epoch), `flag` ("P" when a passcode is needed) and a `label`. Each file
is a JWE in compact form: `alg` "dir", `enc` "A256GCM", `cty` its content type.
Nothing here touches the database; the services decide who gets what."""

from __future__ import annotations

import base64
import datetime
import json
import secrets
from dataclasses import dataclass

import segno
from jwcrypto import jwe, jwk

PREFIX = "shlink:/"
KEY_BYTES = 32
# What an app shows next to the link (the spec allows 80 characters). No PHI: the
# link may be read by anyone who sees the QR code.
LABEL = "SecondOp second-opinion report"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_key() -> str:
    """A fresh file key, base64url as the payload carries it."""
    return b64url(secrets.token_bytes(KEY_BYTES))


def _jwk(key: str) -> jwk.JWK:
    return jwk.JWK(kty="oct", k=key)


def encrypt(data: bytes, *, key: str, content_type: str) -> str:
    """`data` as a compact JWE (dir, A256GCM) whose `cty` is `content_type`."""
    protected = {"alg": "dir", "enc": "A256GCM", "cty": content_type}
    token = jwe.JWE(data, protected=json.dumps(protected))
    token.add_recipient(_jwk(key))
    return token.serialize(compact=True)


def decrypt(compact: str, *, key: str) -> tuple[bytes, str]:
    """The bytes and `cty` of a compact JWE (for the tests and for links pasted in)."""
    token = jwe.JWE()
    token.deserialize(compact, key=_jwk(key))
    header = json.loads(token.objects["protected"])
    return token.payload, header.get("cty", "")


@dataclass(frozen=True)
class Payload:
    url: str
    key: str
    exp: int | None = None
    flag: str = ""
    label: str = ""

    def as_dict(self) -> dict:
        data: dict[str, object] = {"url": self.url, "key": self.key}
        if self.exp is not None:
            data["exp"] = self.exp
        if self.flag:
            data["flag"] = self.flag
        if self.label:
            data["label"] = self.label[:80]
        return data


def link(
    *, url: str, key: str, expires_at: datetime.datetime | None, passcode: bool, label: str = LABEL
) -> str:
    """The `shlink:/…` text."""
    payload = Payload(
        url=url,
        key=key,
        exp=int(expires_at.timestamp()) if expires_at else None,
        flag="P" if passcode else "",
        label=label,
    )
    body = json.dumps(payload.as_dict(), separators=(",", ":")).encode()
    return PREFIX + b64url(body)


def parse(text: str) -> Payload:
    """The payload of a `shlink:/…` link, or of a viewer URL ending `#shlink:/…`.
    ValueError when it is no SMART Health Link."""
    _viewer, _hash, tail = text.strip().rpartition("#")
    tail = tail or text.strip()
    if not tail.startswith(PREFIX):
        raise ValueError("not a SMART Health Link")
    try:
        data = json.loads(b64url_decode(tail[len(PREFIX) :]))
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError("the link's payload is not base64url JSON") from error
    if not isinstance(data, dict) or not data.get("url") or not data.get("key"):
        raise ValueError("the link has no url or key")
    if len(b64url_decode(data["key"])) != KEY_BYTES:
        raise ValueError("the link's key is not 32 bytes")
    return Payload(
        url=data["url"],
        key=data["key"],
        exp=data.get("exp"),
        flag=data.get("flag", ""),
        label=data.get("label", ""),
    )


def qr_svg_data_uri(text: str) -> str:
    """The link as a QR code, an SVG data: URI for an <img> (CSP allows img data:).
    Medium error correction, as the spec recommends for printed and screen codes."""
    return segno.make(text, error="m", micro=False).svg_data_uri(scale=4, border=4)
