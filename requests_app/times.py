"""Time zones and how a consultation's time is written.

The patient's zone comes from their state of residence (secondop.us_states); a
member of the care team reads times in their own zone (their account's setting,
activated for the request by secondop.timezones.TimeZoneMiddleware). Each person
reads a time in their zone, and the zone is always named ("Pacific Time (PDT)"),
so that nobody has to guess."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from secondop.us_states import STATE_TIME_ZONES, TIME_ZONE_NAMES


def patient_zone_name(case) -> str:
    return STATE_TIME_ZONES.get(case.patient_state or "", settings.TIME_ZONE)


def care_team_zone() -> ZoneInfo:
    """The reading care team member's zone: the request's active zone (theirs)."""
    current = timezone.get_current_timezone()
    return current if isinstance(current, ZoneInfo) else ZoneInfo(settings.TIME_ZONE)


def zone_label(zone: ZoneInfo, at: datetime | None = None) -> str:
    """ "Eastern Time (EDT)": the zone's name, and its abbreviation at `at`."""
    name = str(TIME_ZONE_NAMES.get(zone.key, zone.key.replace("_", " ")))
    abbreviation = timezone.localtime(at or timezone.now(), zone).tzname()
    if abbreviation and abbreviation[0].isalpha():  # some zones have only "-03"
        return f"{name} ({abbreviation})"
    return name


def _clock(moment: datetime) -> str:
    return date_format(moment, "TIME_FORMAT")


def format_span(
    starts_at: datetime, ends_at: datetime, zone: ZoneInfo, *, with_zone: bool = True
) -> str:
    """ "Tuesday 14 July 2026, 10:00 AM to 10:30 AM Eastern Time (EDT)"."""
    start, end = timezone.localtime(starts_at, zone), timezone.localtime(ends_at, zone)
    day = date_format(start, _("l j F Y"))
    if end.date() != start.date():
        until = f"{date_format(end, _('l j F'))}, {_clock(end)}"
    else:
        until = _clock(end)
    text = _("%(day)s, %(start)s to %(end)s") % {"day": day, "start": _clock(start), "end": until}
    return f"{text} {zone_label(zone, starts_at)}" if with_zone else text


def format_moment(moment: datetime, zone: ZoneInfo) -> str:
    """ "Tuesday 14 July, 3:05 PM" in `zone` (the zone not named)."""
    local = timezone.localtime(moment, zone)
    return f"{date_format(local, _('l j F'))}, {_clock(local)}"


@dataclass(frozen=True)
class Span:
    """A time as one person reads it: in their zone, and (for the care team) in the
    patient's zone as well when the two differ."""

    starts_at: datetime
    ends_at: datetime
    text: str  # in the reader's zone, zone named
    patient_text: str  # in the patient's zone, zone named; "" when it is the same

    @property
    def iso_start(self) -> str:
        return self.starts_at.isoformat()


def span_for(
    starts_at: datetime, ends_at: datetime, *, reader_zone: ZoneInfo, patient_zone: ZoneInfo
) -> Span:
    same = reader_zone.key == patient_zone.key
    return Span(
        starts_at,
        ends_at,
        format_span(starts_at, ends_at, reader_zone),
        "" if same else format_span(starts_at, ends_at, patient_zone),
    )
