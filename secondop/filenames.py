"""File names people gave their files, made safe to show and to offer as a download.

Platform level (records name uploads with them; the report's PDF is downloaded with
them): nothing here knows any domain app."""

import re
import unicodedata
from urllib.parse import quote

_BIDI = dict.fromkeys([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
# Characters nobody can see: controls (Cc), format characters (Cf: the bidirectional
# overrides and isolates above, zero-width spaces and joiners, the byte-order mark,
# invisible operators) and surrogates (Cs).
_INVISIBLE = frozenset({"Cc", "Cf", "Cs"})
# Line and paragraph breaks, tabs and other separators become one space in a one-line text.
_BREAKS = frozenset({"Zl", "Zp", "Zs"})
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"/\\|?*]')
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)


def _visible(ch: str) -> bool:
    return ord(ch) not in _BIDI and unicodedata.category(ch) not in _INVISIBLE


def clean_text(text: str) -> str:
    """A one-line text a person typed or a file was named with (a record's title),
    safe to show: every control and format character (bidirectional overrides,
    zero-width spaces) removed, line breaks and tabs made single spaces, NFC.
    May be empty: the caller says what to do then."""
    text = unicodedata.normalize("NFC", str(text or ""))
    out = []
    for ch in text:
        if ch in "\t\n\r\v\f" or unicodedata.category(ch) in _BREAKS:
            out.append(" ")
        elif _visible(ch):
            out.append(ch)
    return " ".join("".join(out).split())


def has_hidden_characters(text: str) -> bool:
    """True when clean_text would remove something other than spacing."""
    return any(not _visible(ch) and ch not in "\t\n\r\v\f" for ch in str(text or ""))


def clean_filename(name: str) -> str:
    """A file name safe to show and to offer as a download: the last path part, no
    control characters or bidirectional overrides (which make ``exe.pdf`` read as
    ``fdp.exe``) or other invisible format characters, no characters Windows
    refuses, at most 255 characters with the extension kept. Never empty ("file")."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if _visible(ch))
    name = _WINDOWS_FORBIDDEN.sub("_", name).strip().strip(".").strip()
    if not name:
        return "file"
    if _WINDOWS_RESERVED.match(name):
        name = f"_{name}"
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and 0 < len(ext) <= 16:
            name = f"{stem[: 255 - len(ext) - 1].rstrip()}.{ext}"
        else:
            name = name[:255]
    return name


def clean_path(path: str) -> str:
    """A relative path (a ZIP entry, a file in an uploaded folder) with each part
    cleaned; ``.`` and ``..`` parts and leading slashes are dropped."""
    parts = [p for p in re.split(r"[/\\]+", str(path or "")) if p not in ("", ".", "..")]
    return "/".join(clean_filename(p) for p in parts) or "file"


def content_disposition(filename: str, *, inline: bool) -> str:
    """A Content-Disposition header value (RFC 6266): an ASCII ``filename`` for old
    clients and the full name as ``filename*=UTF-8''...`` (RFC 5987)."""
    name = clean_filename(filename)
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    fallback = re.sub(r'[^\x20-\x7e]|["\\%]', "_", fallback).strip()
    stem, dot, ext = fallback.rpartition(".")
    if not fallback or (dot and not stem.strip("_ ")):
        fallback = f"file.{ext}" if dot and ext else "file"
    encoded = quote(name, safe="!#$&+-.^_`|~")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
