"""Reading a SMART Health Link a patient pastes in: the manifest and its files,
fetched by the server itself, safely.

- HTTPS only, to public addresses only: the host is resolved and every address it
  names must be global (no private, loopback, link-local, shared, reserved or
  multicast address); the connection goes to the address that was checked (a second
  DNS answer cannot swap it). A redirect is followed only on the same origin, twice
  at most. `SMART_LINK_FETCH_ALLOW_LOOPBACK_HTTP` lets plain HTTP to a loopback
  address through, for the tests' local issuer only.
- Every step has a timeout (SMART_LINK_FETCH_TIMEOUT) and the whole a deadline
  (SMART_LINK_FETCH_DEADLINE), so a web worker is never held for long; the manifest,
  each file and the number of files have limits.
- Files are compact JWE (`alg` dir, `enc` A256GCM) under the link's key.

Nothing here touches the database or logs the passcode: `SmartLinkUnreadable`
carries a sentence for the patient and the field it is about."""

from __future__ import annotations

import concurrent.futures
import contextlib
import http.client
import ipaddress
import json
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_variables

from secondop import shlink

RECIPIENT = "SecondOp"
CHUNK = 64 * 1024
REDIRECTS = 2
# What a file of a link may be, and the name it gets here (verification reads by name).
KINDS = {
    "application/fhir+json": ("json", gettext_lazy("health record (FHIR)")),
    "application/pdf": ("pdf", gettext_lazy("document (PDF)")),
}


class SmartLinkUnreadable(Exception):
    """The link cannot be read; `message` says why in plain words, `field` is the
    form field it is about ("link" or "passcode")."""

    def __init__(self, message: str, *, field: str = "link") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class LinkFile:
    content_type: str
    data: bytes
    extension: str
    kind: str


@dataclass(frozen=True)
class LinkContents:
    label: str
    files: list[LinkFile]
    left_out: int = 0  # entries of a kind we do not read (a SMART Health Card, an API)


@dataclass
class _Deadline:
    end: float = field(
        default_factory=lambda: time.monotonic() + settings.SMART_LINK_FETCH_DEADLINE
    )

    def step(self) -> float:
        """Seconds the next network step may take."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise SmartLinkUnreadable(
                _(
                    "The place that holds these records took too long to answer. "
                    "Try again in a few minutes."
                )
            )
        return min(left, settings.SMART_LINK_FETCH_TIMEOUT)


# --- Where we may go ---------------------------------------------------------------------
def _loopback_allowed() -> bool:
    return bool(settings.SMART_LINK_FETCH_ALLOW_LOOPBACK_HTTP)


def _address_allowed(text: str) -> bool:
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_loopback:
        return _loopback_allowed()
    return address.is_global and not address.is_multicast


def _private() -> SmartLinkUnreadable:
    return SmartLinkUnreadable(
        _(
            "This link points to a private network address, not to a public health "
            "records service, so we did not open it."
        )
    )


def _checked_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path and query) of a URL we may fetch."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme not in {"https", "http"} or not parts.hostname:
        raise SmartLinkUnreadable(
            _("This link does not lead to a web address we can fetch records from.")
        )
    host = parts.hostname
    if parts.scheme == "http" and not (_loopback_allowed() and _is_loopback_name(host)):
        raise SmartLinkUnreadable(
            _(
                "This link uses an unencrypted (http://) address. We only fetch health "
                "records over a secure (https://) connection."
            )
        )
    if parts.username or parts.password:
        raise SmartLinkUnreadable(
            _("This link does not lead to a web address we can fetch records from.")
        )
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80), target


def _is_loopback_name(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _vetted_address(host: str, port: int, deadline: _Deadline) -> str:
    """One address of `host`, after checking every address it resolves to."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        answer = pool.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
        infos = answer.result(timeout=deadline.step())
    except concurrent.futures.TimeoutError:
        raise SmartLinkUnreadable(
            _("We could not find the place this link points to. Try again later.")
        ) from None
    except OSError:
        raise SmartLinkUnreadable(
            _("We could not find the place this link points to. Check the link and try again.")
        ) from None
    finally:
        pool.shutdown(wait=False)
    addresses = [str(info[4][0]) for info in infos]
    if not addresses or not all(_address_allowed(a) for a in addresses):
        raise _private()
    return addresses[0]


# --- One request ------------------------------------------------------------------------
@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes


def _too_big(what: str) -> SmartLinkUnreadable:
    return SmartLinkUnreadable(
        _("The %(what)s behind this link is too large for us to accept.") % {"what": what}
    )


@sensitive_variables("body")
def _fetch(
    method: str, url: str, *, body: bytes | None, limit: int, what: str, deadline: _Deadline
) -> _Answer:
    for _hop in range(REDIRECTS + 1):
        scheme, host, port, target = _checked_url(url)
        address = _vetted_address(host, port, deadline)
        connection: http.client.HTTPConnection
        if scheme == "https":
            connection = http.client.HTTPSConnection(
                host, port, timeout=deadline.step(), context=ssl.create_default_context()
            )
        else:
            connection = http.client.HTTPConnection(host, port, timeout=deadline.step())

        def pinned(_address, timeout, source=None, *, _to=(address, port)):
            return socket.create_connection(_to, timeout, source)

        connection._create_connection = pinned  # type: ignore[attr-defined]  # connect to the vetted address
        headers = {"User-Agent": RECIPIENT, "Accept": "application/json, application/jose"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            if response.status in {301, 302, 303, 307, 308}:
                location = response.getheader("Location") or ""
                following = urljoin(url, location)
                moved = urlsplit(following)
                same = (moved.scheme, moved.hostname, moved.port) == (
                    urlsplit(url).scheme,
                    host,
                    urlsplit(url).port,
                )
                if not location or not same or (method != "GET" and response.status < 307):
                    raise SmartLinkUnreadable(
                        _(
                            "The place that holds these records sent us on to another "
                            "address. We do not follow a link elsewhere, so nothing was fetched."
                        )
                    )
                url = following
                continue
            declared = response.getheader("Content-Length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise _too_big(what)
            data = bytearray()
            while True:
                if connection.sock is not None:
                    connection.sock.settimeout(deadline.step())
                chunk = response.read(CHUNK)
                if not chunk:
                    break
                data += chunk
                if len(data) > limit:
                    raise _too_big(what)
            return _Answer(status=response.status, body=bytes(data))
        except ssl.SSLError:
            raise SmartLinkUnreadable(
                _(
                    "We could not make a secure connection to the place that holds these "
                    "records. Try again later, or ask them to check their link."
                )
            ) from None
        except TimeoutError:
            raise SmartLinkUnreadable(
                _(
                    "The place that holds these records took too long to answer. "
                    "Try again in a few minutes."
                )
            ) from None
        except (OSError, http.client.HTTPException):
            raise SmartLinkUnreadable(
                _("We could not reach the place that holds these records. Try again later.")
            ) from None
        finally:
            connection.close()
    raise SmartLinkUnreadable(
        _(
            "The place that holds these records sent us round in circles. Nothing was fetched; "
            "try again later."
        )
    )


# --- The link ---------------------------------------------------------------------------
# A picture of a link's QR code (a phone's photo or screenshot): at most this many
# bytes and pixels are read; a larger photo is reduced before the code is looked for.
QR_PICTURE_MAX_BYTES = 15 * 1024 * 1024
QR_PICTURE_MAX_PIXELS = 50_000_000
QR_PICTURE_LONG_SIDE = 2000


def link_from_picture(fileobj, *, size: int) -> str:
    """The `shlink:/…` text of the QR code in a picture, or why none can be read. The
    picture is decoded in memory, reduced, and never kept."""
    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    if size > QR_PICTURE_MAX_BYTES:
        raise SmartLinkUnreadable(
            _("This picture is too large (over 15 MB). Take a screenshot of the code instead."),
            field="picture",
        )
    try:
        with Image.open(fileobj) as picture:
            if picture.format not in ("PNG", "JPEG", "WEBP", "GIF"):
                raise UnidentifiedImageError
            if picture.width * picture.height > QR_PICTURE_MAX_PIXELS:
                raise SmartLinkUnreadable(
                    _("This picture is too large to read. Take a screenshot of the code instead."),
                    field="picture",
                )
            picture.draft("L", (QR_PICTURE_LONG_SIDE, QR_PICTURE_LONG_SIDE))  # JPEG: cheaper
            picture = picture.convert("L")
            picture.thumbnail((QR_PICTURE_LONG_SIDE, QR_PICTURE_LONG_SIDE))
            codes = zxingcpp.read_barcodes(picture, formats=zxingcpp.BarcodeFormat.QRCode)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise SmartLinkUnreadable(
            _(
                "This file is not a picture we can read. Choose a photo or screenshot "
                "(PNG or JPEG) of the QR code."
            ),
            field="picture",
        ) from None
    texts = [code.text.strip() for code in codes if code.text]
    if not texts:
        raise SmartLinkUnreadable(
            _(
                "We could not find a QR code in this picture. Take a sharper picture with "
                "the whole code in view, or paste the link instead."
            ),
            field="picture",
        )
    for text in texts:
        if "shlink:/" in text:
            return text
    raise SmartLinkUnreadable(
        _(
            "The QR code in this picture is not a SMART Health Link. Check that it is "
            "the code your hospital or health app gave you for your records."
        ),
        field="picture",
    )


def parse(text: str) -> shlink.Payload:
    try:
        payload = shlink.parse(text)
    except (ValueError, TypeError):
        raise SmartLinkUnreadable(
            _(
                "This is not a SMART Health Link. Such a link starts with “shlink:/”, or "
                "is a web address with “#shlink:/” in it. Copy it again in full."
            )
        ) from None
    if not isinstance(payload.url, str) or not isinstance(payload.key, str):
        raise SmartLinkUnreadable(_("This SMART Health Link is damaged. Copy it again in full."))
    if payload.exp is not None and (
        not isinstance(payload.exp, int | float) or payload.exp <= time.time()
    ):
        raise SmartLinkUnreadable(
            _("This link has expired. Ask whoever gave it to you for a new one.")
        )
    return payload


@sensitive_variables("passcode", "request")
def _manifest(payload: shlink.Payload, passcode: str, deadline: _Deadline) -> list[dict]:
    if "P" in (payload.flag or "") and not passcode:
        raise SmartLinkUnreadable(
            _("This link is protected by a passcode. Type the passcode you were given."),
            field="passcode",
        )
    request: dict[str, str] = {"recipient": RECIPIENT}
    if passcode:
        request["passcode"] = passcode
    answer = _fetch(
        "POST",
        payload.url,
        body=json.dumps(request).encode(),
        limit=settings.SMART_LINK_MANIFEST_MAX_BYTES,
        what=_("list of records"),
        deadline=deadline,
    )
    if answer.status == 401:
        remaining = None
        with contextlib.suppress(ValueError, AttributeError):
            remaining = json.loads(answer.body).get("remainingAttempts")
        message = _("The passcode is not right. Check it and type it again.")
        if isinstance(remaining, int):
            message += " " + _("Tries left before the link stops working: %(n)s.") % {
                "n": remaining
            }
        raise SmartLinkUnreadable(message, field="passcode")
    if answer.status in {404, 410}:
        raise SmartLinkUnreadable(
            _("This link has expired or was withdrawn by whoever made it. Ask them for a new one.")
        )
    if answer.status == 429:
        raise SmartLinkUnreadable(
            _(
                "The place that holds these records says there were too many tries. Wait, then try again."
            )
        )
    if answer.status != 200:
        raise SmartLinkUnreadable(
            _(
                "The place that holds these records did not give them to us (it answered "
                "with error %(status)s). Try again later."
            )
            % {"status": answer.status}
        )
    try:
        manifest = json.loads(answer.body)
        files = manifest["files"]
        assert isinstance(files, list) and all(isinstance(f, dict) for f in files)
    except (ValueError, KeyError, TypeError, AssertionError):
        raise SmartLinkUnreadable(
            _("The place that holds these records answered with something we cannot read.")
        ) from None
    if len(files) > settings.SMART_LINK_MAX_FILES:
        raise SmartLinkUnreadable(
            _("This link holds %(n)s files; we take at most %(max)s from one link.")
            % {"n": len(files), "max": settings.SMART_LINK_MAX_FILES}
        )
    return files


@sensitive_variables("key")
def _decrypt(compact: str, *, key: str) -> bytes:
    try:
        data, _cty = shlink.decrypt(compact.strip(), key=key)
    except Exception:  # jwcrypto raises many kinds for a token that is not right
        raise SmartLinkUnreadable(
            _(
                "A file behind this link could not be unlocked with the link's key: it is "
                "damaged or the link is incomplete. Nothing was kept."
            )
        ) from None
    if len(data) > settings.SMART_LINK_FILE_MAX_BYTES:
        raise _too_big(_("file"))
    return data


@sensitive_variables("passcode", "payload")
def read_link(payload: shlink.Payload, *, passcode: str) -> LinkContents:
    """The files of a parsed link, decrypted; SmartLinkUnreadable otherwise."""
    deadline = _Deadline()
    entries = _manifest(payload, passcode, deadline)
    files: list[LinkFile] = []
    left_out = 0
    for entry in entries:
        content_type = str(entry.get("contentType") or "").split(";", 1)[0].strip().lower()
        if content_type not in KINDS:
            left_out += 1
            continue
        embedded = entry.get("embedded")
        if isinstance(embedded, str):
            if len(embedded) > settings.SMART_LINK_FILE_MAX_BYTES:
                raise _too_big(_("file"))
            compact = embedded
        elif isinstance(entry.get("location"), str):
            answer = _fetch(
                "GET",
                entry["location"],
                body=None,
                limit=settings.SMART_LINK_FILE_MAX_BYTES,
                what=_("file"),
                deadline=deadline,
            )
            if answer.status != 200:
                raise SmartLinkUnreadable(
                    _(
                        "A file behind this link is no longer there (error %(status)s). Ask "
                        "whoever gave you the link for a new one."
                    )
                    % {"status": answer.status}
                )
            compact = answer.body.decode("ascii", errors="replace")
        else:
            raise SmartLinkUnreadable(
                _("The place that holds these records answered with something we cannot read.")
            )
        extension, kind = KINDS[content_type]
        files.append(
            LinkFile(
                content_type=content_type,
                data=_decrypt(compact, key=payload.key),
                extension=extension,
                kind=str(kind),
            )
        )
    if not files:
        raise SmartLinkUnreadable(
            _(
                "This link holds no health record or document we can read (only FHIR "
                "records and PDF documents are taken)."
            )
        )
    return LinkContents(label=str(payload.label or ""), files=files, left_out=left_out)
