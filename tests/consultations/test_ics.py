"""The consultation's calendar file, and what the emails carrying it say: parsed
with icalendar; one UID, SEQUENCE rising, REQUEST then CANCEL; the time in UTC
for a patient three hours behind; never the video link nor anything medical."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone
from icalendar import Calendar

from requests_app.consultations import ics, services
from requests_app.consultations.models import Status
from secondop.notifications.models import Notification
from tests.consultations.conftest import DIAGNOSIS, span

pytestmark = pytest.mark.django_db
PACIFIC = ZoneInfo("America/Los_Angeles")


def parse(text: str):
    calendar = Calendar.from_ical(text)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def _slot(consultation):
    return consultation.slots.filter(round=consultation.round).order_by("starts_at").first()


def _invites(user) -> list:
    return [
        parse(n.calendar_ics)
        for n in Notification.objects.filter(recipient=user).exclude(calendar_ics="").order_by("id")
    ]


def test_the_booking_invitation_parses_and_says_request(booked, patient):
    calendar, event = parse(ics.consultation_ics(booked, method=ics.REQUEST, attendee=patient))
    assert str(calendar["method"]) == "REQUEST"
    assert str(calendar["version"]) == "2.0"
    assert str(event["status"]) == "CONFIRMED"
    assert event.decoded("dtstart") == booked.starts_at
    assert event.decoded("dtend") == booked.ends_at
    assert str(event["uid"]) == f"consultation-{booked.uuid}@testserver"
    assert booked.case.reference in str(event["summary"])
    assert str(event["attendee"]) == f"mailto:{patient.email}"
    page = f"http://testserver/consultations/{booked.uuid}/"
    assert str(event["location"]) == page and str(event["url"]) == page
    assert event.walk("VALARM"), "a reminder in the calendar itself"


@pytest.mark.parametrize(("month", "utc_hour"), [(7, 17), (1, 18)])  # PDT, then PST
def test_dtstart_is_the_patients_time_in_utc(case, specialist, patient, month, utc_hour):
    # 10:00 in Los Angeles is 17:00 UTC in summer and 18:00 UTC in winter.
    year = timezone.now().year + 1
    start = datetime.datetime(year, month, 15, 10, 0, tzinfo=PACIFIC)
    consultation = services.consultation_propose(
        actor=specialist,
        case_ref=case.uuid,
        slots=[
            (start, start + datetime.timedelta(minutes=45)),
            (start + datetime.timedelta(days=1), start + datetime.timedelta(days=1, hours=1)),
        ],
    )
    services.consultation_book(
        actor=patient, ref=consultation.uuid, slot_ref=_slot(consultation).uuid
    )
    _calendar, event = _invites(patient)[-1]
    assert event["dtstart"].to_ical() == f"{year}{month:02d}15T{utc_hour}0000Z".encode()
    assert event["dtend"].to_ical() == f"{year}{month:02d}15T{utc_hour}4500Z".encode()


def test_the_uid_stays_and_the_sequence_rises_through_every_change(booked, patient, specialist):
    services.consultation_ask_other_times(actor=patient, ref=booked.uuid, note="Afternoons")
    services.consultation_reschedule(
        actor=specialist, ref=booked.uuid, slots=[span(8, 14), span(9, 15)]
    )
    booked.refresh_from_db()
    services.consultation_book(actor=patient, ref=booked.uuid, slot_ref=_slot(booked).uuid)
    services.consultation_cancel(actor=specialist, ref=booked.uuid, reason="Called away")
    for person in (patient, specialist):
        invites = _invites(person)
        methods = [str(calendar["method"]) for calendar, _event in invites]
        assert methods == ["REQUEST", "CANCEL", "REQUEST", "CANCEL"]
        assert len({str(event["uid"]) for _calendar, event in invites}) == 1
        sequences = [int(event["sequence"]) for _calendar, event in invites]
        assert sequences == sorted(set(sequences)), sequences  # strictly rising
        # The rebooked time is the new one; the last file cancels it.
        assert invites[2][1].decoded("dtstart") == span(8, 14)[0]
        assert str(invites[3][1]["status"]) == "CANCELLED"


def test_a_cancellation_says_method_cancel(booked, patient):
    services.consultation_cancel(actor=patient, ref=booked.uuid, reason="Feeling better")
    booked.refresh_from_db()
    calendar, event = parse(ics.consultation_ics(booked, method=ics.CANCEL, attendee=patient))
    assert str(calendar["method"]) == "CANCEL" and str(event["status"]) == "CANCELLED"
    assert int(event["sequence"]) == booked.sequence


def test_no_file_before_anything_is_booked(proposed):
    with pytest.raises(ValueError):
        ics.consultation_ics(proposed, method=ics.REQUEST)


def test_emails_and_calendar_files_never_carry_the_link_the_place_or_anything_medical(
    case, specialist, patient, django_capture_on_commit_callbacks
):
    case.proposed_treatment = "Mastectomy"
    case.save()
    with django_capture_on_commit_callbacks(execute=True):
        consultation = services.consultation_propose(
            actor=specialist, case_ref=case.uuid, slots=[span(3, 10), span(4, 10)]
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.consultation_book(
            actor=patient, ref=consultation.uuid, slot_ref=_slot(consultation).uuid
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.consultation_ask_other_times(
            actor=patient, ref=consultation.uuid, note="My chemotherapy is on Tuesdays"
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.consultation_reschedule(
            actor=specialist, ref=consultation.uuid, slots=[span(6, 10), span(7, 10)]
        )
    consultation.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.consultation_book(
            actor=patient, ref=consultation.uuid, slot_ref=_slot(consultation).uuid
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.consultation_cancel(
            actor=specialist, ref=consultation.uuid, reason="Your biopsy result changes the plan"
        )
    consultation.refresh_from_db()
    assert consultation.status == Status.CANCELLED and len(mail.outbox) >= 8
    secrets_ = [
        consultation.video_room,
        consultation.video_url,
        DIAGNOSIS,
        "Mastectomy",
        "chemotherapy",
        "biopsy",
        patient.full_name,
        specialist.full_name,
    ]
    attachments = 0
    for message in mail.outbox:
        parts = [
            message.subject,
            message.body,
            *(content for content, _type in message.alternatives),
        ]
        for attachment in message.attachments:
            parts.append(attachment.content)
            attachments += 1
            parse(attachment.content)
        text = "\n".join(str(part) for part in parts)
        for secret in secrets_:
            if secret == patient.full_name and message.to == [patient.email]:
                continue  # "Hello Pat": their own name
            if secret == specialist.full_name and message.to == [specialist.email]:
                continue
            assert secret not in text, (secret, message.subject)
    assert attachments == 8  # two bookings, one change of time, one cancel: to both


def test_an_in_person_place_stays_out_of_the_file(case, specialist, patient):
    case.consultation_type = "in_person"
    case.save()
    consultation = services.consultation_propose(
        actor=specialist,
        case_ref=case.uuid,
        slots=[span(3, 10), span(4, 10)],
        place="Breast Cancer Center, 450 Brookline Ave",
    )
    services.consultation_book(
        actor=patient, ref=consultation.uuid, slot_ref=_slot(consultation).uuid
    )
    text = Notification.objects.filter(recipient=patient).latest("id").calendar_ics
    assert "Brookline" not in text and "Cancer" not in text
    assert "in-person visit" in parse(text)[1]["summary"]
