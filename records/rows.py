"""The records page's rows, ready to print. A case can hold hundreds of records, and
the template engine pays for every variable, filter, tag and translation in its
loop, per record: here each row's words, links and flags are worked out once, the
translations looked up once per page and the links reversed once per page, so the
template's loop only prints (templates/records/case_records.html).

What is already safe to print is made a SafeString here (each value is a str, built
of escaped parts or of characters that need no escaping): mark_safe's guard for lazy
strings costs more per call than the rest of a row's printing.

The words are the template's own msgids (the Spanish catalogue covers them), and
escaped as the template escaped them: a `{% translate %}`'s words and every value
are escaped, a `{% blocktranslate %}`'s sentence is not (only its values are)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from secondop.timezones import format_local
from secondop.types import Text

from . import services
from .models import Category, Identity, State
from .services import human_size
from .templatetags.records_extras import StateTags

if TYPE_CHECKING:
    from secondop.accounts.models import User

    from .models import Record
    from .selectors import Look

# Reversed once per page with this in place of a record's UUID, then filled in per row.
_PLACEHOLDER = str(UUID(int=0))
SEPARATOR = " · "
# Words of our own, escaped once: nothing in them needs it.
_TRUE, _FALSE = SafeString("true"), SafeString("false")
_STATES = {state: SafeString(state) for state in State.values}


def _url_for(name: str):
    """A function from a record's UUID to the URL `name` gives it: one reverse, its
    path escaped once (a UUID adds nothing that needs escaping)."""
    pattern = conditional_escape(reverse(name, args=[_PLACEHOLDER]))
    return lambda ref: SafeString(pattern.replace(_PLACEHOLDER, ref))


def _number(value) -> str:
    """A number as a template prints it in a sentence (localized, escaped)."""
    return conditional_escape(formats.localize(value))


def _sentence(translated: str, **values) -> SafeString:
    """A {% blocktranslate %}: its sentence as translated, its values escaped."""
    return SafeString(translated % {k: conditional_escape(v) for k, v in values.items()})


class Words:
    """The page's words in the reader's language, each looked up once per page."""

    def __init__(self) -> None:
        self.folder = conditional_escape(_("Folder"))
        self.health = {
            "ccda": conditional_escape(_("Health record summary (C-CDA)")),
            "fhir": conditional_escape(_("Health record summary (FHIR)")),
        }
        self.not_kept = conditional_escape(_("Not kept"))
        self.service_date = _("Date of service: %(date)s")
        self.sent_by = _("sent by %(who)s")
        self.answers = _("Answers the request: “%(note)s”")
        self.you = conditional_escape(_("You"))
        self.did = {
            "download": conditional_escape(_("downloaded")),
            "images": conditional_escape(_("looked at the images")),
            "preview": conditional_escape(_("saw its preview")),
        }
        self.opened = conditional_escape(_("opened"))
        self.looked_at_by = conditional_escape(_("Looked at by:"))
        self.look_at_pictures = conditional_escape(_("Look at the pictures"))
        self.viewer_skipped = conditional_escape(
            _("The viewer program on your CD was not kept: we show the images ourselves.")
        )
        self.remove = conditional_escape(_("Remove from the list"))
        self.state_tag = StateTags()  # records_extras.record_state_tag, made once

    def series(self, n: int) -> str:
        return ngettext("%(n)s series", "%(n)s series", n) % {"n": _number(n)}

    def images(self, n: int) -> str:
        return ngettext("%(n)s image", "%(n)s images", n) % {"n": _number(n)}

    def more(self, n: int) -> str:
        return ngettext("and %(n)s more", "and %(n)s more", n) % {"n": _number(n)}


@dataclass(frozen=True)
class LookLine:
    """One "who looked" of a row: "Dr Ana Ruiz (Specialist), downloaded", and when."""

    who: str
    did: str
    iso: str
    day: str


@dataclass(frozen=True)
class RecordRow:
    record: Record  # for the identity includes, which only a few rows show
    uuid: SafeString
    state: str
    awaits: str  # "true" or "false", for records-status.js
    title: SafeString
    thumbnail_url: str
    detail_url: str
    state_tag: SafeString
    # The hint line's parts, each ending in its separator where the template had one.
    service_date: SafeString
    kind: SafeString
    size: str
    sender: SafeString
    rejected: bool
    found: str  # what the name claims, when the type is another (name_and_type_by_record)
    reason: str | None
    # What few rows show; `extras` says whether any of it is there (one test per row).
    extras: bool
    asks_identity: bool
    identity_confirmed: bool
    scans: bool
    viewer_skipped: bool
    dismiss_url: str
    answers: SafeString
    looks: list[LookLine]
    more_looks: str


@dataclass(frozen=True)
class RowGroup:
    label: Text
    rows: list[RecordRow]


def record_rows(
    records: list[Record],
    *,
    viewer: User,
    is_owner: bool,
    words: Words,
    found: dict[int, str],
    looks: dict[int, list[Look]],
) -> list[RowGroup]:
    """The records page's rows by category, in Category's order (each group's records
    in the order given). Each record's `case` must be set (the view sets it)."""
    page = _Page(viewer=viewer, is_owner=is_owner, words=words)
    by_category: dict[str, list[RecordRow]] = {}
    for record in records:
        by_category.setdefault(record.category, []).append(
            page.row(
                record,
                found=found.get(record.pk),
                looks=looks.get(record.pk) if is_owner else None,
            )
        )
    return [
        RowGroup(label, by_category[value])
        for value, label in Category.choices
        if value in by_category
    ]


class _Page:
    """What every row of one page shares: the reader, the words, the links."""

    def __init__(self, *, viewer: User, is_owner: bool, words: Words) -> None:
        self.viewer = viewer
        self.is_owner = is_owner
        self.words = words
        self.thumbnail_url = _url_for("records:thumbnail")
        self.detail_url = _url_for("records:detail")
        self.dismiss_url = _url_for("records:dismiss")
        self._service_dates: dict = {}  # many records share a date of service

    def service_date(self, day) -> str:
        text = self._service_dates.get(day)
        if text is None:
            text = self._service_dates[day] = SafeString(  # of escaped parts
                _sentence(self.words.service_date, date=formats.date_format(day, "DATE_FORMAT"))
                + SEPARATOR
            )
        return text

    def kind(self, record: Record, study: dict) -> str:
        words = self.words
        if study.get("instance_count"):
            modalities = ", ".join(conditional_escape(m) for m in study.get("modalities") or "")
            return (
                f"{modalities}{SEPARATOR}{words.series(study.get('series_count') or 0)}, "
                f"{words.images(study['instance_count'])}{SEPARATOR}"
            )
        if record.is_study:
            return f"{words.folder}{SEPARATOR}"
        if record.health_format in words.health:
            return f"{words.health[record.health_format]}{SEPARATOR}"
        return ""

    def looks(self, looks: list[Look]) -> list[LookLine]:
        words, lines = self.words, []
        for look in looks[:3]:
            local = timezone.localtime(look.when) if timezone.is_aware(look.when) else look.when
            lines.append(
                LookLine(
                    who=words.you if look.mine else format_html("{} ({})", look.name, look.role),
                    did=words.did.get(look.kind, words.opened),
                    iso=formats.date_format(local, "c"),
                    day=conditional_escape(format_local(look.when, "j M Y")),
                )
            )
        return lines

    def row(self, record: Record, *, found: str | None, looks: list[Look] | None) -> RecordRow:
        words, is_owner = self.words, self.is_owner
        ref = str(record.uuid)
        state = record.state
        verified = state == State.VERIFIED
        study = record.study or {}
        answers = (
            _sentence(words.answers, note=Truncator(record.answers.note).chars(80))
            if record.answers_id
            else ""
        )
        dismiss_url = (
            self.dismiss_url(ref) if services.can_dismiss(user=self.viewer, record=record) else ""
        )
        asks_identity = verified and record.awaits_patient and is_owner
        identity_confirmed = verified and record.identity == Identity.CONFIRMED
        scans = is_owner and record.is_study and verified
        viewer_skipped = verified and bool(study.get("skipped"))
        return RecordRow(
            record=record,
            uuid=SafeString(ref),  # a UUID's hex digits and dashes
            state=_STATES.get(state) or conditional_escape(state),
            awaits=_TRUE if record.awaits_patient else _FALSE,
            title=conditional_escape(record.title),
            thumbnail_url=self.thumbnail_url(ref) if record.thumbnail_key and verified else "",
            detail_url=self.detail_url(ref),
            state_tag=words.state_tag(record),
            service_date=self.service_date(record.service_date) if record.service_date else "",
            kind=SafeString(self.kind(record, study)),  # of escaped parts
            size=SafeString(human_size(int(record.size or 0)))  # digits and a unit
            if state != State.REJECTED
            else words.not_kept,
            sender=SafeString(SEPARATOR + _sentence(words.sent_by, who=record.sender))
            if not is_owner
            else "",
            rejected=state == State.REJECTED,
            found=found or "",
            reason=services.describe_record_reason(record) if record.reason else None,
            extras=bool(
                asks_identity
                or identity_confirmed
                or scans
                or viewer_skipped
                or dismiss_url
                or answers
                or looks
            ),
            asks_identity=asks_identity,
            identity_confirmed=identity_confirmed,
            scans=scans,
            viewer_skipped=viewer_skipped,
            dismiss_url=dismiss_url,
            answers=answers,
            looks=self.looks(looks) if looks else [],
            more_looks=words.more(len(looks) - 3) if looks and len(looks) > 3 else "",
        )
