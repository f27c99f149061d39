"""The consultation's calendar file (iCalendar, RFC 5545; its method, RFC 5546).

One event per consultation: the same UID whatever changes, SEQUENCE one more on
every change, so a calendar keeps one entry and takes the newest file. A booking
is METHOD:REQUEST; a cancelled time (the consultation cancelled, or the time given
up for new proposals) is METHOD:CANCEL.

The file travels by email, so it says no more than the email: the time, the
reference and the consultation's page in SecondOp. Never the video link (it is
the key to the room), the place of an in-person visit, the specialist, the
patient or anything medical."""

from datetime import UTC, timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Alarm, Calendar, Event, vCalAddress, vText

from .models import Consultation, Mode

REQUEST, CANCEL = "REQUEST", "CANCEL"
PRODID = "-//SecondOp//Consultations//EN"


def _domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "secondop.local"


def consultation_uid(consultation: Consultation) -> str:
    return f"consultation-{consultation.uuid}@{_domain()}"


def consultation_page_url(consultation: Consultation) -> str:
    return settings.SITE_URL + reverse("consultations:detail", args=[consultation.uuid])


def consultation_ics(consultation: Consultation, *, method: str, attendee=None) -> str:
    """The calendar file for the consultation's booked time (which a CANCEL takes
    out of the calendar). `attendee`: the person the file is for."""
    if method not in (REQUEST, CANCEL):
        raise ValueError(f"Unknown method {method!r}")
    if consultation.starts_at is None:
        raise ValueError("Only a consultation that has had a time has a calendar file")
    reference = consultation.case.reference or ""
    page = consultation_page_url(consultation)
    video = consultation.mode == Mode.VIDEO
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)

    event = Event()
    event.add("uid", consultation_uid(consultation))
    event.add("sequence", consultation.sequence)
    event.add("dtstamp", timezone.now().astimezone(UTC))
    event.add("dtstart", consultation.starts_at.astimezone(UTC))
    event.add("dtend", consultation.ends_at.astimezone(UTC))
    summary = _("SecondOp video consultation") if video else _("SecondOp in-person visit")
    event.add("summary", f"{summary} ({reference})" if reference else summary)
    if method == CANCEL:
        event.add("status", "CANCELLED")
        event.add(
            "description",
            _("This time is cancelled. Sign in to SecondOp for the details: %(url)s")
            % {"url": page},
        )
    else:
        event.add("status", "CONFIRMED")
        words = (
            _("Sign in to SecondOp to join the video consultation: %(url)s")
            if video
            else _("Sign in to SecondOp to see where the visit is: %(url)s")
        ) % {"url": page}
        if consultation.interpreter_booked:
            words += " " + _("A %(language)s interpreter will join.") % {
                "language": consultation.interpreter_language
            }
        event.add("description", words)
    # Where to go: the page that holds the link or the address, behind sign-in.
    event.add("location", page)
    event.add("url", page)
    organizer = vCalAddress(f"mailto:{parseaddr(settings.DEFAULT_FROM_EMAIL)[1]}")
    organizer.params["cn"] = vText("SecondOp")
    event.add("organizer", organizer)
    if attendee is not None and attendee.email:
        address = vCalAddress(f"mailto:{attendee.email}")
        address.params["cn"] = vText(attendee.full_name or attendee.email)
        address.params["role"] = vText("REQ-PARTICIPANT")
        address.params["partstat"] = vText("ACCEPTED")
        address.params["rsvp"] = vText("FALSE")  # nobody reads replies to SecondOp's address
        event.add("attendee", address)
    if method == REQUEST:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", timedelta(minutes=-30))
        event.add_component(alarm)
    calendar.add_component(event)
    return calendar.to_ical().decode()


def doctor_call_ics(
    call, *, method: str, page: str = "", attendee_email: str = "", attendee_name: str = ""
) -> str:
    """The calendar file of a call between the doctors: the time and the
    reference; for the specialist, their call's page (behind sign-in), where the
    number to ring is. Never the number, the patient or anything medical."""
    if method not in (REQUEST, CANCEL):
        raise ValueError(f"Unknown method {method!r}")
    if call.starts_at is None:
        raise ValueError("Only a booked call has a calendar file")
    reference = call.case.reference or ""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", f"doctor-call-{call.uuid}@{_domain()}")
    event.add("sequence", call.sequence)
    event.add("dtstamp", timezone.now().astimezone(UTC))
    event.add("dtstart", call.starts_at.astimezone(UTC))
    event.add("dtend", call.ends_at.astimezone(UTC))
    summary = _("SecondOp: call between doctors")
    event.add("summary", f"{summary} ({reference})" if reference else summary)
    event.add("status", "CANCELLED" if method == CANCEL else "CONFIRMED")
    if page:
        event.add(
            "description",
            _("Sign in to SecondOp for the number to ring: %(url)s") % {"url": page},
        )
        event.add("url", page)
    else:
        event.add(
            "description",
            _("The specialist rings you at the number you gave SecondOp."),
        )
    organizer = vCalAddress(f"mailto:{parseaddr(settings.DEFAULT_FROM_EMAIL)[1]}")
    organizer.params["cn"] = vText("SecondOp")
    event.add("organizer", organizer)
    if attendee_email:
        address = vCalAddress(f"mailto:{attendee_email}")
        address.params["cn"] = vText(attendee_name or attendee_email)
        address.params["role"] = vText("REQ-PARTICIPANT")
        address.params["partstat"] = vText("ACCEPTED")
        address.params["rsvp"] = vText("FALSE")
        event.add("attendee", address)
    if method == REQUEST:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", timedelta(minutes=-15))
        event.add_component(alarm)
    calendar.add_component(event)
    return calendar.to_ical().decode()
