"""Reads for records retrieval: a case's sources for the viewer (the patient and
their case manager), one source through the access module, and each source's state
in plain words with its clock ("asked on 2 December, due by 1 January")."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from requests_app.access import Relation, case_relation, for_viewer
from requests_app.models import Case
from requests_app.times import patient_zone_name

from .models import Received, RecordSource

if TYPE_CHECKING:
    from secondop.accounts.models import User

# Who sees a case's sources (and their letters): the patient, and the coordinator who
# manages the case. The specialist reads the records, not where they came from.
SEES: frozenset[Relation] = frozenset({Relation.OWNER, Relation.CASE_MANAGER})
# The days of the legal clock on which the case manager is reminded.
REMINDER_DAYS = (10, 20, 28)
# 45 CFR 164.524(b)(2): 30 days to act on a request, and one 30-day extension.
ANSWER_DAYS = 30
EXTENSION_DAYS = 30


def sees_sources(*, viewer: User, case: Case) -> bool:
    return case_relation(viewer, case) in SEES


def case_sources(*, viewer: User, case: Case) -> QuerySet[RecordSource]:
    """The case's sources, for someone who may see them (none for anyone else)."""
    if not sees_sources(viewer=viewer, case=case):
        return RecordSource.objects.none()
    return RecordSource.objects.filter(case=case).order_by("created_at", "id")


def source_for_viewer(
    *,
    viewer: User,
    ref: UUID | str,
    needs: frozenset[Relation] = SEES,
    for_update: bool = False,
) -> RecordSource:
    """One source: a 404 to anyone its case is hidden from or who does not see
    sources, a 403 to those who see it without the right (`needs`)."""
    return for_viewer(RecordSource, ref, viewer, sees=SEES, needs=needs, for_update=for_update)


def today_for(case: Case) -> datetime.date:
    """Today where the patient lives: the clock's days are theirs."""
    return timezone.localdate(timezone.now(), timezone=_zone(case))


def _zone(case: Case) -> ZoneInfo:
    return ZoneInfo(patient_zone_name(case))


def is_late(source: RecordSource, *, today: datetime.date) -> bool:
    return source.due_on is not None and source.received != Received.FULLY and source.due_on < today


def _day(day: datetime.date | None, today: datetime.date) -> str:
    """ "2 December" this year, "2 December 2025" in another."""
    if day is None:
        return ""
    return date_format(day, "MONTH_DAY_FORMAT" if day.year == today.year else "DATE_FORMAT")


@dataclass(frozen=True)
class SourceState:
    """A source's state: a short tag for lists, and a sentence in plain words."""

    tag: str
    colour: str  # the house tag colour: grey, blue, yellow, green, red
    words: str
    late: bool


# What a source's deliveries held, in the words of the clock's sentence ("received in
# part: pathology report, imaging").
RECEIVED_WORDS = {
    "records": _("visit notes"),
    "labs": _("lab results"),
    "imaging": _("imaging"),
    "pathology": _("pathology report"),
    "operative": _("operative notes"),
    "prior_opinion": _("an earlier opinion"),
}


def describe(
    source: RecordSource,
    *,
    for_patient: bool,
    today: datetime.date,
    received_kinds: tuple[str, ...] = (),
) -> SourceState:
    """What has happened to the request to `source`, for the patient or for staff;
    `received_kinds`: the record categories its deliveries held."""
    if not source.is_signed:
        return SourceState(
            _("Not signed"),
            "grey",
            _("Waiting for your signature")
            if for_patient
            else _("Waiting for the patient's signature"),
            False,
        )
    if not source.is_sent:
        signed = _day(timezone.localdate(source.signed_at, _zone(source.case)), today)
        if source.email_failed_at is not None and not for_patient:
            return SourceState(
                _("Email not delivered"),
                "red",
                _(
                    "The email to the records office was refused (%(reason)s). Check the "
                    "address, then send it again, or fax or post it."
                )
                % {"reason": source.email_failure_reason or _("no reason given")},
                False,
            )
        if source.is_sending:
            return SourceState(
                _("Sending"), "blue", _("Being emailed to the records office"), False
            )
        if for_patient:
            words = _("Signed on %(day)s; your care team will send it") % {"day": signed}
        else:
            words = _("Signed on %(day)s: ready to send") % {"day": signed}
        return SourceState(_("Signed"), "blue", words, False)
    asked = _("asked on %(asked)s, due by %(due)s") % {
        "asked": _day(source.sent_on, today),
        "due": _day(source.due_on, today),
    }
    parts = [asked]
    if source.extended_at is not None:
        parts[0] += " " + _("(the records office took 30 more days)")
    late = is_late(source, today=today)
    what = ", ".join(
        str(RECEIVED_WORDS.get(kind, _("other records"))) for kind in dict.fromkeys(received_kinds)
    )
    if source.received == Received.FULLY:
        tag, colour = _("Received"), "green"
        parts.append(
            _("received in full: %(what)s") % {"what": what} if what else _("received in full")
        )
    elif source.received == Received.PARTLY:
        tag, colour = _("Received in part"), "yellow"
        parts.append(
            _("received in part: %(what)s") % {"what": what} if what else _("received in part")
        )
    else:
        tag, colour = _("Asked"), "blue"
    if late:
        tag, colour = _("Late"), "red"
        parts.append(_("late: not all received by the due date"))
    return SourceState(tag, colour, "; ".join(parts), late)


@dataclass(frozen=True)
class SourceLine:
    source: RecordSource
    state: SourceState
    deliveries: tuple[str, ...] = ()


# A record the office sent and that did not vanish: uploaded, being checked, checked
# or refused (a refused one was still sent; the records page says why).
SENT_STATES = ("uploaded", "scanning", "verified", "rejected")


def received_kinds(*, sources: list[RecordSource]) -> dict[int, tuple[str, ...]]:
    """The record categories each source sent through its link, in a fixed order."""
    from records.models import Category, Record

    order = {value: i for i, value in enumerate(Category.values)}
    kinds: dict[int, set[str]] = {}
    rows = (
        Record.objects.filter(office_upload__source__in=sources, state__in=SENT_STATES)
        .values_list("office_upload__source_id", "category")
        .distinct()
    )
    for source_id, category in rows:
        kinds.setdefault(source_id, set()).add(category)
    return {pk: tuple(sorted(found, key=order.__getitem__)) for pk, found in kinds.items()}


def deliveries(*, case: Case, sources: list[RecordSource]) -> dict[int, tuple[str, ...]]:
    """What each source sent through its link, by day: "Mercy Hospital sent 3 files
    on 7 December"."""
    from records.models import RecordFile

    today = today_for(case)
    zone = _zone(case)
    by_source: dict[int, dict[datetime.date, int]] = {}
    rows = RecordFile.objects.filter(
        record__office_upload__source__in=sources, record__state__in=SENT_STATES
    ).values_list("record__office_upload__source_id", "record__uploaded_at")
    for source_id, uploaded_at in rows:
        if uploaded_at is None:
            continue
        day = timezone.localdate(uploaded_at, zone)
        days = by_source.setdefault(source_id, {})
        days[day] = days.get(day, 0) + 1
    names = {s.pk: s.name for s in sources}
    result = {}
    for source_id, days in by_source.items():
        result[source_id] = tuple(
            ngettext(
                "%(name)s sent %(n)s file on %(day)s",
                "%(name)s sent %(n)s files on %(day)s",
                n,
            )
            % {"name": names[source_id], "n": n, "day": _day(day, today)}
            for day, n in sorted(days.items())
        )
    return result


@dataclass(frozen=True)
class LinkSummary:
    live: int
    until: datetime.datetime | None
    revoked: bool


def link_summary(*, source: RecordSource) -> LinkSummary:
    """The source's upload links, for its case manager: how many open, and until."""
    from .models import OfficeLink

    links = list(OfficeLink.objects.filter(source=source))
    now = timezone.now()
    live = [lk for lk in links if lk.revoked_at is None and lk.expires_at > now]
    return LinkSummary(
        live=len(live),
        until=max((lk.expires_at for lk in live), default=None),
        revoked=any(lk.revoked_at is not None for lk in links) and not live,
    )


def source_lines(*, viewer: User, case: Case) -> list[SourceLine]:
    """The case's sources with their states, worded for the viewer."""
    for_patient = case_relation(viewer, case) == Relation.OWNER
    today = today_for(case)
    sources = list(case_sources(viewer=viewer, case=case))
    sent = deliveries(case=case, sources=sources) if sources else {}
    kinds = received_kinds(sources=sources) if sources else {}
    lines = []
    for source in sources:
        source.case = case  # no query per source
        state = describe(
            source, for_patient=for_patient, today=today, received_kinds=kinds.get(source.pk, ())
        )
        lines.append(SourceLine(source, state, sent.get(source.pk, ())))
    return lines
