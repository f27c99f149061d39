"""requests_app.consultations.views: the proposal form, the patient's choice, the
booked consultation, other times, cancel, the outcome, the calendar download;
bad input shown beside what was typed; outsiders' 404s; staff reads logged."""

import datetime
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from requests_app.consultations import services
from requests_app.consultations.models import Consultation, Status
from requests_app.models import CaseStatus
from secondop.audit.models import AccessLog
from tests.consultations.conftest import PACIFIC, at, span, to_the_past
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db


def get(client, user, url):
    client.force_login(user)
    return client.get(url)


def post(client, user, url, data):
    client.force_login(user)
    return client.post(url, data)


def html(response) -> str:
    return unescape(response.content.decode())


def row(n: int, day: datetime.date | None, start: str, end: str) -> dict:
    data = {f"start_{n}": start, f"end_{n}": end}
    if day is not None:
        data |= {f"date_{n}_day": day.day, f"date_{n}_month": day.month, f"date_{n}_year": day.year}
    return data


def days(n: int) -> datetime.date:
    return timezone.localtime(timezone.now(), PACIFIC).date() + datetime.timedelta(days=n)


def urls_for(consultation) -> list[str]:
    ref = consultation.uuid
    return [
        reverse("consultations:new", args=[consultation.case.uuid]),
        *(
            reverse(f"consultations:{name}", args=[ref])
            for name in (
                "detail",
                "choose",
                "other_times",
                "times",
                "cancel",
                "outcome",
                "calendar",
            )
        ),
    ]


# --- Proposing ---------------------------------------------------------------------------------
def test_the_specialist_proposes_times_in_the_patients_zone(client, case, specialist):
    url = reverse("consultations:new", args=[case.uuid])
    page = html(get(client, specialist, url))
    assert "Write the times in the patient's time zone: Pacific Time" in page
    assert "The patient lives in California" in page
    response = post(
        client,
        specialist,
        url,
        row(1, days(3), "9:30am", "10:15 am") | row(2, days(4), "2pm", "14:45"),
    )
    consultation = Consultation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("consultations:detail", args=[consultation.uuid])
    first, second = consultation.slots.order_by("starts_at")
    assert first.starts_at == at(3, 9, 30) and first.ends_at == at(3, 10, 15)
    assert second.starts_at == at(4, 14) and second.ends_at == at(4, 14, 45)


@pytest.mark.parametrize(
    ("data", "message", "kept"),
    [
        (row(1, days(3), "9:30am", "10am"), "Propose at least two times", "9:30am"),
        (
            row(1, days(3), "9:30am", "10am") | row(2, days(-2), "9am", "10am"),
            "This time has already passed",
            "10am",
        ),
        (
            row(1, days(3), "9:30am", "10am") | row(2, days(3), "9:45am", "10:30am"),
            "This time overlaps another time you proposed",
            "9:45am",
        ),
        (
            row(1, days(3), "9:30am", "10am") | row(2, days(4), "11am", "10am"),
            "The end time must be after the start time",
            "11am",
        ),
        (
            row(1, days(3), "9:30am", "10am") | row(2, days(4), "25:00", "10am"),
            "Enter a time like 9:30am, 2pm or 14:00",
            "25:00",
        ),
        (row(1, days(3), "9:30am", "10am") | row(2, days(4), "9", "10am"), "Say am or pm", "10am"),
        (row(1, days(3), "9:30am", "10am") | row(2, None, "9am", "10am"), "Enter the date", "9am"),
        (
            row(1, days(3), "9:30am", "10am") | row(2, days(4), "9am", "") | {"date_2_month": ""},
            "The date must include a month",
            "9am",
        ),
    ],
)
def test_bad_times_are_shown_with_what_was_typed(client, case, specialist, data, message, kept):
    response = post(client, specialist, reverse("consultations:new", args=[case.uuid]), data)
    page = html(response)
    assert response.status_code == 400
    assert "There is a problem" in page and message in page
    assert f'value="{kept}"' in page and 'value="9:30am"' in page
    assert not Consultation.objects.exists()


def test_a_taken_time_is_named_in_the_error(client, case, specialist, patient):
    other = CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        specialist=specialist,
        consultation_type="video",
        patient_state="CA",
    )
    first = services.consultation_propose(
        actor=specialist, case_ref=other.uuid, slots=[span(3, 10), span(4, 10)]
    )
    services.consultation_book(
        actor=patient, ref=first.uuid, slot_ref=first.slots.order_by("starts_at").first().uuid
    )
    response = post(
        client,
        specialist,
        reverse("consultations:new", args=[case.uuid]),
        row(1, days(3), "10:15am", "10:45am") | row(2, days(5), "9am", "10am"),
    )
    page = html(response)
    assert response.status_code == 400
    assert "Time 1: starts at: You already have a consultation booked then" in page
    assert Consultation.objects.count() == 1


def test_an_in_person_proposal_asks_for_the_place(client, case, specialist):
    case.consultation_type = "in_person"
    case.save()
    url = reverse("consultations:new", args=[case.uuid])
    response = post(
        client, specialist, url, row(1, days(3), "9am", "10am") | row(2, days(4), "9am", "10am")
    )
    assert response.status_code == 400 and "Say where the visit will be" in html(response)
    response = post(
        client,
        specialist,
        url,
        row(1, days(3), "9am", "10am")
        | row(2, days(4), "9am", "10am")
        | {"place": "Clinic B, 4th floor"},
    )
    assert response.status_code == 302
    assert Consultation.objects.get().place == "Clinic B, 4th floor"


def test_an_open_consultation_sends_the_specialist_to_it(client, proposed, specialist):
    response = get(client, specialist, reverse("consultations:new", args=[proposed.case.uuid]))
    assert response["Location"] == reverse("consultations:detail", args=[proposed.uuid])


# --- The patient's choice ---------------------------------------------------------------------
def test_the_patient_sees_the_times_in_their_zone_and_books_one(client, proposed, patient, case):
    case_page = html(get(client, patient, reverse("requests_app:case_detail", args=[case.uuid])))
    assert "Choose a time for your consultation" in case_page
    url = reverse("consultations:detail", args=[proposed.uuid])
    assert url in case_page
    page = html(get(client, patient, url))
    assert "Times are in your time zone: Pacific Time" in page
    assert "10:00 AM to 10:30 AM Pacific Time" in page
    assert proposed.video_room not in page  # not before it is booked
    slot = proposed.slots.order_by("starts_at").first()
    response = post(
        client,
        patient,
        reverse("consultations:choose", args=[proposed.uuid]),
        {"slot": str(slot.uuid)},
    )
    assert response.status_code == 302
    page = html(client.get(url))
    assert "Your consultation is booked for" in page
    assert proposed.video_url in page and "Join the video consultation" in page
    assert reverse("consultations:calendar", args=[proposed.uuid]) in page
    case.refresh_from_db()
    assert case.status == CaseStatus.CONSULTATION
    case_page = html(client.get(reverse("requests_app:case_detail", args=[case.uuid])))
    assert "Choose a time for your consultation" not in case_page
    assert "Booked for" in case_page


def test_choosing_nothing_says_so(client, proposed, patient):
    response = post(client, patient, reverse("consultations:choose", args=[proposed.uuid]), {})
    assert response.status_code == 400
    assert "Choose one of the times, or ask for other times." in html(response)


def test_a_slot_that_is_not_one_of_ours_says_so(client, proposed, patient):
    response = post(
        client,
        patient,
        reverse("consultations:choose", args=[proposed.uuid]),
        {"slot": "not-a-uuid"},
    )
    assert response.status_code == 400
    assert "Choose one of the times, or ask for other times." in html(response)
    with pytest.raises(services.ConsultationError):
        services.consultation_book(actor=patient, ref=proposed.uuid, slot_ref="not-a-uuid")


def test_picking_after_a_cancellation_says_it_was_cancelled(client, proposed, patient, specialist):
    slot = proposed.slots.order_by("starts_at").first()
    services.consultation_cancel(actor=specialist, ref=proposed.uuid, reason="Unwell")
    response = post(
        client,
        patient,
        reverse("consultations:choose", args=[proposed.uuid]),
        {"slot": str(slot.uuid)},
    )
    page = html(response)
    assert response.status_code == 409
    assert "This consultation was cancelled, so a time can no longer be chosen." in page
    assert "Reason: Unwell" in page


def test_the_care_team_reads_the_time_in_their_zone_and_the_patients(
    client, booked, specialist, coordinator
):
    for person in (specialist, coordinator):
        page = html(get(client, person, reverse("consultations:detail", args=[booked.uuid])))
        assert "Eastern Time" in page and "For the patient:" in page and "Pacific Time" in page
        assert "1:00 PM to 1:30 PM Eastern Time" in page  # 10:00 in Los Angeles
    staff = html(
        get(client, specialist, reverse("requests_app:staff_case", args=[booked.case.uuid]))
    )
    assert "Video consultation" in staff and "Booked for" in staff


def test_the_calendar_download_parses(client, booked, patient):
    response = get(client, patient, reverse("consultations:calendar", args=[booked.uuid]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "attachment" in response["Content-Disposition"]
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["method"]) == "REQUEST"
    assert calendar.walk("VEVENT")[0].decoded("dtstart") == booked.starts_at


def test_no_calendar_before_a_booking(client, proposed, patient):
    assert (
        get(client, patient, reverse("consultations:calendar", args=[proposed.uuid])).status_code
        == 404
    )


# --- Other times, rescheduling, cancel, outcome --------------------------------------------------
def test_the_patient_asks_for_other_times(client, proposed, patient, specialist):
    url = reverse("consultations:other_times", args=[proposed.uuid])
    response = post(client, patient, url, {"note": ""})
    assert response.status_code == 400 and "Say which days or times suit you" in html(response)
    response = post(client, patient, url, {"note": "Thursday afternoons"})
    assert response.status_code == 302
    page = html(get(client, specialist, reverse("consultations:detail", args=[proposed.uuid])))
    assert "The patient asked for other times" in page and "Thursday afternoons" in page
    assert reverse("consultations:times", args=[proposed.uuid]) in page


def test_the_specialist_changes_a_booked_time_with_a_reason(client, booked, specialist):
    url = reverse("consultations:times", args=[booked.uuid])
    page = html(get(client, specialist, url))
    assert "It is booked now for" in page and "Why the time is changing" in page
    data = row(1, days(6), "9am", "9:30am") | row(2, days(7), "9am", "9:30am")
    response = post(client, specialist, url, data)
    assert response.status_code == 400 and "Say why the time is changing" in html(response)
    response = post(client, specialist, url, data | {"reason": "A conference that week"})
    assert response.status_code == 302
    booked.refresh_from_db()
    assert (booked.status, booked.round) == (Status.PROPOSED, 2)


def test_either_side_cancels_with_a_reason(client, booked, patient, case):
    url = reverse("consultations:cancel", args=[booked.uuid])
    response = post(client, patient, url, {"reason": ""})
    assert response.status_code == 400 and "Say why the consultation is cancelled" in html(response)
    assert post(client, patient, url, {"reason": "I feel better"}).status_code == 302
    booked.refresh_from_db()
    case.refresh_from_db()
    assert booked.status == Status.CANCELLED and case.status == CaseStatus.IN_REVIEW


def test_the_specialist_records_it_held_and_the_notes_stay_with_the_care_team(
    client, booked, specialist, patient, coordinator
):
    url = reverse("consultations:outcome", args=[booked.uuid])
    detail = reverse("consultations:detail", args=[booked.uuid])
    assert "Once it has started" in html(get(client, specialist, detail))
    response = post(client, specialist, url, {"outcome": "held", "notes": "Examined"})
    assert response.status_code == 409 and "has not started yet" in html(response)
    to_the_past(booked)
    assert url in html(get(client, specialist, detail))
    response = post(client, specialist, url, {"outcome": "held", "notes": ""})
    assert response.status_code == 400 and "Write your exam notes" in html(response)
    response = post(
        client, specialist, url, {"outcome": "held", "notes": "Firm mobile mass, no nodes."}
    )
    assert response.status_code == 302
    assert "Firm mobile mass" in html(get(client, coordinator, detail))
    patient_page = html(get(client, patient, detail))
    assert "took place" in patient_page and "Firm mobile mass" not in patient_page
    assert booked.video_room not in patient_page  # the room is over


# --- Who may -----------------------------------------------------------------------------------
def test_outsiders_get_404_on_every_url(
    client, booked, outsider, other_specialist, other_coordinator
):
    for person in (outsider, other_specialist, other_coordinator):
        for url in urls_for(booked):
            client.force_login(person)
            for response in (client.get(url), client.post(url, {"reason": "x"})):
                assert response.status_code in (404, 405), (person.role, url)
                if response.status_code == 405:
                    assert url.endswith(("/choose/", "/calendar.ics", f"{booked.uuid}/"))
    assert not AccessLog.objects.filter(object_type="consultations.consultation").exists()


def test_insiders_without_the_right_get_403(client, booked, patient, coordinator, specialist):
    ref = booked.uuid
    for person, names in (
        (patient, ("times", "outcome")),
        (coordinator, ("times", "outcome", "cancel", "other_times")),
        (specialist, ("other_times",)),
    ):
        for name in names:
            assert (
                get(client, person, reverse(f"consultations:{name}", args=[ref])).status_code == 403
            ), (person.role, name)
    assert (
        get(client, patient, reverse("consultations:new", args=[booked.case.uuid])).status_code
        == 403
    )
    assert (
        post(
            client, specialist, reverse("consultations:choose", args=[ref]), {"slot": "x"}
        ).status_code
        == 403
    )


def test_staff_reads_are_logged_and_the_patients_are_not(client, booked, patient, specialist):
    url = reverse("consultations:detail", args=[booked.uuid])
    get(client, patient, url)
    assert not AccessLog.objects.filter(object_type="consultations.consultation").exists()
    get(client, specialist, url)
    get(client, specialist, reverse("consultations:calendar", args=[booked.uuid]))
    kinds = list(
        AccessLog.objects.filter(
            object_type="consultations.consultation", actor=specialist
        ).values_list("kind", flat=True)
    )
    assert sorted(kinds) == ["download", "view"]


def test_a_written_opinion_shows_no_consultation_panel(client, patient, specialist):
    case = CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        specialist=specialist,
        consultation_type="written",
    )
    page = html(get(client, specialist, reverse("requests_app:staff_case", args=[case.uuid])))
    assert "consultation-panel" not in page
    assert (
        get(client, specialist, reverse("consultations:new", args=[case.uuid])).status_code == 302
    )


# --- Declining -------------------------------------------------------------------------------
def test_the_patient_declines_from_the_case_panel_and_it_is_on_the_timeline(
    client, case, patient, specialist
):
    client.force_login(patient)
    page = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    decline_url = reverse("consultations:decline", args=[case.uuid])
    assert decline_url in page
    assert "I no longer want a consultation" in page
    form = client.get(decline_url)
    assert form.status_code == 200
    response = client.post(decline_url, {"note": "My own doctor can examine me"})
    assert response.status_code == 302
    page = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    assert "The consultation was declined by the patient." in page
    assert "My own doctor can examine me" in page
    assert "You declined it" in page
    assert "will propose times" not in page


def test_only_the_patient_reaches_the_decline_page(client, case, specialist, outsider):
    url = reverse("consultations:decline", args=[case.uuid])
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.post(url, {"note": ""}).status_code == 404


def test_the_patient_page_promises_no_times_once_the_review_is_over(client, case, patient):
    from requests_app.models import Case

    Case.objects.filter(pk=case.pk).update(status=CaseStatus.DELIVERED)
    client.force_login(patient)
    page = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    assert "will propose times" not in page
    assert "No consultation took place for this request." in page


def test_a_written_opinion_has_nothing_to_decline(client, patient):
    written = CaseFactory(
        owner=patient, submitted=True, status=CaseStatus.IN_REVIEW, consultation_type="written"
    )
    client.force_login(patient)
    url = reverse("consultations:decline", args=[written.uuid])
    assert "There is no consultation to decline now" in client.get(url).content.decode()
    response = client.post(url, {"note": ""})
    assert response.status_code == 409
    assert "written opinion only" in response.content.decode()
