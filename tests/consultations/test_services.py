"""requests_app.consultations.services: proposing, booking, asking for other times,
rescheduling, cancelling, recording; who may; every bad input; the case's moves."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from requests_app.consultations import services
from requests_app.consultations.models import Consultation, ConsultationEvent, Slot, Status
from requests_app.consultations.notices import CONSULTATION
from requests_app.models import CaseEvent, CaseStatus
from requests_app.notices import CASE_UPDATE
from requests_app.workflow import case_transition
from secondop.audit.models import AuditEvent
from secondop.notifications.models import Notification
from tests.consultations.conftest import at, span, to_the_past
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db
Error = services.ConsultationError


def _propose(case, specialist, slots, **kwargs):
    return services.consultation_propose(
        actor=specialist, case_ref=case.uuid, slots=slots, **kwargs
    )


def _errors(excinfo) -> dict:
    return excinfo.value.errors


def _first_slot(consultation):
    return consultation.slots.filter(round=consultation.round).order_by("starts_at").first()


# --- Proposing -----------------------------------------------------------------------------
def test_it_proposes_times_for_a_video_consultation_and_tells_the_patient(
    case, specialist, patient
):
    consultation = _propose(case, specialist, [span(3, 10), span(4, 15), span(5, 9)])
    assert consultation.status == Status.PROPOSED and consultation.mode == "video"
    assert consultation.patient_time_zone == "America/Los_Angeles"
    assert consultation.slots.count() == 3
    # The room is random and unguessable, and each consultation has its own.
    other = CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        specialist=specialist,
        consultation_type="video",
        patient_state="NY",
    )
    second = _propose(other, specialist, [span(6, 10), span(7, 10)])
    assert len(consultation.video_room) >= 32 and consultation.video_room != second.video_room
    assert consultation.video_url == f"https://meet.secondop.local/room/{consultation.video_room}"
    told = Notification.objects.get(recipient=patient, reference=case.reference)
    assert (told.kind, told.title) == (
        CONSULTATION,
        f"Choose a time for your consultation on {case.reference}",
    )
    assert told.url == f"/consultations/{consultation.uuid}/" and told.calendar_ics == ""
    assert not Notification.objects.filter(recipient=specialist).exists()
    assert AuditEvent.objects.filter(
        action="consultations.consultation.proposed", object_id=str(consultation.pk)
    ).exists()
    assert consultation.events.get().action == "proposed"
    # The proposal moves nothing: the case is still in review.
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW


def test_an_in_person_visit_needs_its_place(case, specialist):
    case.consultation_type = "in_person"
    case.save()
    with pytest.raises(Error) as excinfo:
        _propose(case, specialist, [span(3, 10), span(4, 10)])
    assert "Say where the visit will be" in _errors(excinfo)["place"][0]
    consultation = _propose(
        case, specialist, [span(3, 10), span(4, 10)], place="Lakeside Hospital, 4th floor, Clinic B"
    )
    assert consultation.mode == "in_person" and consultation.video_room == ""
    assert consultation.place == "Lakeside Hospital, 4th floor, Clinic B"


def test_a_written_opinion_has_no_consultation(case, specialist):
    case.consultation_type = "written"
    case.save()
    with pytest.raises(Error, match="written opinion only"):
        _propose(case, specialist, [span(3, 10), span(4, 10)])


def test_only_the_assigned_specialist_proposes(
    case, patient, coordinator, other_specialist, other_coordinator, outsider
):
    slots = [span(3, 10), span(4, 10)]
    for insider in (patient, coordinator):  # they see it, but it is not theirs to do
        with pytest.raises(PermissionDenied):
            _propose(case, insider, slots)
    for person in (other_specialist, other_coordinator, outsider):
        with pytest.raises(Http404):
            _propose(case, person, slots)
    assert not Consultation.objects.exists()


@pytest.mark.parametrize(
    ("slots", "key", "message"),
    [
        ([span(3, 10)], "slots", "Propose at least two times"),
        ([], "slots", "Propose at least two times"),
        ([span(3, 10), span(-1, 10)], "slots.1.start", "already passed"),
        (
            [span(3, 10), (at(0, 0) - datetime.timedelta(minutes=5), at(0, 0))],
            "slots.1.start",
            "already passed",
        ),
        ([span(3, 10), (at(4, 11), at(4, 10))], "slots.1.end", "end time must be after the start"),
        ([span(3, 10), (at(4, 10), at(4, 10))], "slots.1.end", "end time must be after the start"),
        ([span(3, 10), span(4, 10, minutes=5)], "slots.1.end", "at least 10 minutes"),
        ([span(3, 10), span(4, 10, minutes=240)], "slots.1.end", "at most 3 hours"),
        (
            [
                span(3, 10, minutes=60),
                span(
                    3,
                    10,
                    minutes=30,
                ),
            ],
            "slots.0.start",
            "overlaps",
        ),
        ([span(3, 10, minutes=60), (at(3, 10, 30), at(3, 11, 30))], "slots.1.start", "overlaps"),
    ],
)
def test_a_bad_proposal_is_refused_with_a_message_on_the_time_concerned(
    case, specialist, slots, key, message
):
    with pytest.raises(Error) as excinfo:
        _propose(case, specialist, slots)
    assert message in " ".join(_errors(excinfo)[key])
    assert not Consultation.objects.exists()


def test_back_to_back_times_do_not_overlap(case, specialist):
    consultation = _propose(case, specialist, [span(3, 10), (at(3, 10, 30), at(3, 11))])
    assert consultation.slots.count() == 2


def test_a_time_the_specialist_has_booked_elsewhere_is_taken(case, specialist, patient):
    other = CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        specialist=specialist,
        consultation_type="video",
        patient_state="CA",
    )
    first = _propose(other, specialist, [span(3, 10), span(4, 10)])
    services.consultation_book(actor=patient, ref=first.uuid, slot_ref=_first_slot(first).uuid)
    with pytest.raises(Error) as excinfo:
        _propose(case, specialist, [(at(3, 10, 15), at(3, 10, 45)), span(5, 10)])
    assert "You already have a consultation booked then" in _errors(excinfo)["slots.0.start"][0]
    assert "Pacific Time" in _errors(excinfo)["slots.0.start"][0]


def test_a_case_has_one_open_consultation(case, specialist, proposed):
    with pytest.raises(Error, match="already being arranged"):
        _propose(case, specialist, [span(6, 10), span(7, 10)])


def test_nothing_is_arranged_once_the_case_has_moved_on(case, specialist):
    case.status = CaseStatus.REPORT_READY
    case.save()
    with pytest.raises(Error, match="moved on"):
        _propose(case, specialist, [span(3, 10), span(4, 10)])


# --- Booking -------------------------------------------------------------------------------
def test_the_patient_books_a_time_the_case_moves_and_both_get_the_invitation(
    case, proposed, patient, specialist
):
    before = proposed.sequence
    slot = _first_slot(proposed)
    consultation = services.consultation_book(actor=patient, ref=proposed.uuid, slot_ref=slot.uuid)
    assert consultation.status == Status.BOOKED
    assert (consultation.starts_at, consultation.ends_at) == (slot.starts_at, slot.ends_at)
    assert consultation.sequence > before
    case.refresh_from_db()
    assert case.status == CaseStatus.CONSULTATION
    moved = CaseEvent.objects.get(case=case, new_status=CaseStatus.CONSULTATION)
    assert moved.actor == patient and moved.old_status == CaseStatus.IN_REVIEW
    for person in (patient, specialist):
        n = Notification.objects.filter(recipient=person).latest("id")
        assert n.kind == CONSULTATION and n.calendar_method == "REQUEST"
        assert "METHOD:REQUEST" in n.calendar_ics and person.email in n.calendar_ics
    # The move's own "there is news" notice is not sent on top.
    assert not Notification.objects.filter(kind=CASE_UPDATE).exists()
    booked = consultation.events.get(action="booked")
    assert (booked.actor, booked.starts_at) == (patient, slot.starts_at)
    assert AuditEvent.objects.filter(action="consultations.consultation.booked").exists()


def test_booking_twice_is_a_no_op(proposed, patient):
    slot = _first_slot(proposed)
    first = services.consultation_book(actor=patient, ref=proposed.uuid, slot_ref=slot.uuid)
    again = services.consultation_book(actor=patient, ref=proposed.uuid, slot_ref=slot.uuid)
    assert again.sequence == first.sequence
    assert ConsultationEvent.objects.filter(action="booked").count() == 1


def test_booking_another_time_once_booked_is_refused(booked, patient):
    other = booked.slots.order_by("starts_at").last()
    with pytest.raises(Error) as excinfo:
        services.consultation_book(actor=patient, ref=booked.uuid, slot_ref=other.uuid)
    assert "already booked" in _errors(excinfo)["slot"][0]


def test_only_the_patient_books(proposed, specialist, coordinator, outsider, other_specialist):
    slot = _first_slot(proposed)
    for insider in (specialist, coordinator):
        with pytest.raises(PermissionDenied):
            services.consultation_book(actor=insider, ref=proposed.uuid, slot_ref=slot.uuid)
    for person in (outsider, other_specialist):
        with pytest.raises(Http404):
            services.consultation_book(actor=person, ref=proposed.uuid, slot_ref=slot.uuid)


def test_no_time_chosen_or_a_time_of_another_consultation(proposed, patient, case, specialist):
    with pytest.raises(Error) as excinfo:
        services.consultation_book(actor=patient, ref=proposed.uuid, slot_ref="")
    assert "Choose one of the times" in _errors(excinfo)["slot"][0]
    stranger = Slot.objects.create(
        consultation=proposed, round=99, starts_at=at(8, 10), ends_at=at(8, 11)
    )
    with pytest.raises(Error) as excinfo:
        services.consultation_book(actor=patient, ref=proposed.uuid, slot_ref=stranger.uuid)
    assert "have changed" in _errors(excinfo)["slot"][0]


def test_a_time_taken_meanwhile_by_another_patient_is_refused(
    case, proposed, patient, specialist, outsider
):
    # The specialist offered the same hour to another patient, who booked it first.
    rival = CaseFactory(
        owner=outsider,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        specialist=specialist,
        consultation_type="video",
        patient_state="CA",
    )
    slot = _first_slot(proposed)
    rival_consultation = Consultation.objects.create(
        case=rival,
        specialist=specialist,
        mode="video",
        patient_time_zone="America/Los_Angeles",
        video_room="r" * 32,
        status=Status.BOOKED,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        booked_at=timezone.now(),
    )
    assert rival_consultation.pk
    with pytest.raises(Error) as excinfo:
        services.consultation_book(actor=patient, ref=proposed.uuid, slot_ref=slot.uuid)
    assert "just been taken" in _errors(excinfo)["slot"][0]
    proposed.refresh_from_db()
    assert proposed.status == Status.PROPOSED
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW


def test_a_time_that_has_passed_cannot_be_booked(proposed, patient):
    slot = _first_slot(proposed)
    Slot.objects.filter(pk=slot.pk).update(
        starts_at=timezone.now() - datetime.timedelta(hours=1), ends_at=timezone.now()
    )
    with pytest.raises(Error) as excinfo:
        services.consultation_book(actor=patient, ref=proposed.uuid, slot_ref=slot.uuid)
    assert "That time has passed" in _errors(excinfo)["slot"][0]


def test_picking_after_a_cancellation_says_so(proposed, patient, specialist):
    slot = _first_slot(proposed)
    services.consultation_cancel(actor=specialist, ref=proposed.uuid, reason="I am unwell.")
    with pytest.raises(Error) as excinfo:
        services.consultation_book(actor=patient, ref=proposed.uuid, slot_ref=slot.uuid)
    assert _errors(excinfo)["slot"] == [
        "This consultation was cancelled, so a time can no longer be chosen."
    ]
    assert excinfo.value.status == 409


def test_a_booking_while_records_are_awaited_leaves_the_case_waiting(
    case, proposed, patient, specialist
):
    case_transition(
        actor=specialist,
        ref=case.uuid,
        to_status=CaseStatus.AWAITING_RECORDS,
        reason="Your latest scan, please",
    )
    services.consultation_book(
        actor=patient, ref=proposed.uuid, slot_ref=_first_slot(proposed).uuid
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_RECORDS


# --- Other times, and rescheduling ----------------------------------------------------------
def test_the_patient_asks_for_other_times_with_a_note(proposed, patient, specialist):
    with pytest.raises(Error) as excinfo:
        services.consultation_ask_other_times(actor=patient, ref=proposed.uuid, note="  ")
    assert "Say which days or times suit you" in _errors(excinfo)["note"][0]
    consultation = services.consultation_ask_other_times(
        actor=patient, ref=proposed.uuid, note="Mornings before 11, any weekday"
    )
    assert consultation.status == Status.OTHER_TIMES
    told = Notification.objects.get(recipient=specialist)
    assert "asked for other consultation times" in told.title and told.calendar_ics == ""
    assert consultation.events.last().note == "Mornings before 11, any weekday"


def test_asking_for_another_time_once_booked_takes_it_out_of_both_calendars(
    case, booked, patient, specialist
):
    services.consultation_ask_other_times(actor=patient, ref=booked.uuid, note="I am travelling")
    for person in (patient, specialist):
        n = Notification.objects.filter(recipient=person).latest("id")
        assert n.calendar_method == "CANCEL" and "METHOD:CANCEL" in n.calendar_ics
    case.refresh_from_db()
    assert case.status == CaseStatus.CONSULTATION  # being rearranged


def test_the_specialist_reschedules_a_booking_with_a_reason(case, booked, specialist, patient):
    with pytest.raises(Error) as excinfo:
        services.consultation_reschedule(
            actor=specialist, ref=booked.uuid, slots=[span(6, 10), span(7, 10)]
        )
    assert "Say why the time is changing" in _errors(excinfo)["reason"][0]
    consultation = services.consultation_reschedule(
        actor=specialist,
        ref=booked.uuid,
        slots=[span(6, 10), span(7, 10)],
        reason="I am in theatre that morning.",
    )
    assert (consultation.status, consultation.round) == (Status.PROPOSED, 2)
    assert consultation.sequence > booked.sequence
    # The old booked time is given up in both calendars.
    for person in (patient, specialist):
        assert (
            Notification.objects.filter(recipient=person).latest("id").calendar_method == "CANCEL"
        )
    # The old times are gone; the new ones are offered.
    old = booked.slots.filter(round=1).first()
    with pytest.raises(Error, match="changed"):
        services.consultation_book(actor=patient, ref=booked.uuid, slot_ref=old.uuid)
    rebooked = services.consultation_book(
        actor=patient, ref=booked.uuid, slot_ref=_first_slot(consultation).uuid
    )
    assert rebooked.starts_at == span(6, 10)[0]
    case.refresh_from_db()
    assert case.status == CaseStatus.CONSULTATION


def test_new_times_after_the_patient_asked_need_no_reason_and_send_no_calendar(
    proposed, patient, specialist
):
    services.consultation_ask_other_times(actor=patient, ref=proposed.uuid, note="Afternoons")
    consultation = services.consultation_reschedule(
        actor=specialist, ref=proposed.uuid, slots=[span(6, 14), span(7, 15)]
    )
    assert consultation.status == Status.PROPOSED
    told = Notification.objects.filter(recipient=patient).latest("id")
    assert "New times are proposed" in told.title and told.calendar_ics == ""


def test_new_times_may_not_clash_with_the_consultations_own_booking_elsewhere(booked, specialist):
    # Its own booked time does not count as taken: the new times replace it.
    consultation = services.consultation_reschedule(
        actor=specialist,
        ref=booked.uuid,
        slots=[(booked.starts_at, booked.ends_at), span(8, 10)],
        reason="Adding a choice",
    )
    assert consultation.status == Status.PROPOSED


# --- Cancelling ----------------------------------------------------------------------------
def test_the_patient_cancels_a_booking_the_case_goes_back_to_review(
    case, booked, patient, specialist
):
    with pytest.raises(Error) as excinfo:
        services.consultation_cancel(actor=patient, ref=booked.uuid, reason="")
    assert "Say why" in _errors(excinfo)["reason"][0]
    consultation = services.consultation_cancel(
        actor=patient, ref=booked.uuid, reason="I had the exam at home"
    )
    assert consultation.status == Status.CANCELLED
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    back = CaseEvent.objects.filter(case=case).latest("id")
    assert (back.actor, back.reason) == (patient, "The consultation was cancelled.")
    for person in (patient, specialist):
        n = Notification.objects.filter(recipient=person).latest("id")
        assert "cancelled" in n.title and n.calendar_method == "CANCEL"
    assert consultation.events.last().note == "I had the exam at home"


def test_the_specialist_who_cancels_gets_the_calendar_cancellation_too(booked, specialist, patient):
    services.consultation_cancel(actor=specialist, ref=booked.uuid, reason="Called away")
    n = Notification.objects.filter(recipient=specialist).latest("id")
    assert n.calendar_method == "CANCEL"


def test_cancelling_times_not_yet_booked_sends_no_calendar(case, proposed, specialist, patient):
    services.consultation_cancel(actor=specialist, ref=proposed.uuid, reason="Not needed")
    n = Notification.objects.filter(recipient=patient).latest("id")
    assert n.calendar_ics == "" and "cancelled" in n.title
    assert not Notification.objects.filter(recipient=specialist).exists()
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW


def test_cancelling_twice_is_a_no_op_and_the_case_manager_may_not(booked, patient, coordinator):
    with pytest.raises(PermissionDenied):
        services.consultation_cancel(actor=coordinator, ref=booked.uuid, reason="x")
    first = services.consultation_cancel(actor=patient, ref=booked.uuid, reason="Not needed")
    again = services.consultation_cancel(actor=patient, ref=booked.uuid, reason="Not needed")
    assert again.sequence == first.sequence


# --- Held or missed --------------------------------------------------------------------------
def test_it_is_recorded_only_once_its_time_has_come(booked, specialist):
    with pytest.raises(Error, match="has not started yet"):
        services.consultation_record_outcome(
            actor=specialist, ref=booked.uuid, outcome="held", notes="Examined"
        )


def test_held_with_exam_notes_moves_the_case_back_to_review(case, booked, specialist, patient):
    to_the_past(booked)
    with pytest.raises(Error) as excinfo:
        services.consultation_record_outcome(actor=specialist, ref=booked.uuid, outcome="held")
    assert "Write your exam notes" in _errors(excinfo)["notes"][0]
    consultation = services.consultation_record_outcome(
        actor=specialist,
        ref=booked.uuid,
        outcome="held",
        notes="Firm 2 cm mass, upper outer quadrant; no nodes felt.",
    )
    assert consultation.status == Status.HELD and consultation.outcome_at
    assert consultation.exam_notes.startswith("Firm 2 cm mass")
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    back = CaseEvent.objects.filter(case=case).latest("id")
    assert (back.actor, back.reason) == (specialist, "The consultation took place.")
    # The audit row says there are notes, never what they say.
    audit = AuditEvent.objects.get(action="consultations.consultation.held")
    assert audit.new_values == {"status": "held", "exam_notes": True}
    assert not Notification.objects.filter(recipient=patient, title__contains="did not").exists()


def test_missed_tells_the_patient(case, booked, specialist, patient):
    to_the_past(booked)
    services.consultation_record_outcome(actor=specialist, ref=booked.uuid, outcome="missed")
    assert Notification.objects.filter(recipient=patient).latest("id").title == (
        f"Your consultation on {case.reference} did not take place"
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW


def test_only_the_specialist_records_and_only_a_booked_consultation(proposed, patient, specialist):
    with pytest.raises(PermissionDenied):
        services.consultation_record_outcome(actor=patient, ref=proposed.uuid, outcome="missed")
    with pytest.raises(Error, match="Only a booked consultation"):
        services.consultation_record_outcome(actor=specialist, ref=proposed.uuid, outcome="missed")
    with pytest.raises(Error) as excinfo:
        services.consultation_record_outcome(actor=specialist, ref=proposed.uuid, outcome="maybe")
    assert "outcome" in _errors(excinfo)


# --- A request that closes --------------------------------------------------------------------
def test_a_withdrawn_request_takes_its_booking_out_of_both_calendars(
    case, booked, patient, specialist
):
    case_transition(
        actor=patient, ref=case.uuid, to_status=CaseStatus.WITHDRAWN, reason="Decided against it"
    )
    assert services.consultations_cancel_for_closed_cases() == 1
    booked.refresh_from_db()
    assert booked.status == Status.CANCELLED
    event = booked.events.last()
    assert (event.actor, event.note) == (None, "The request is withdrawn.")
    for person in (patient, specialist):
        assert (
            Notification.objects.filter(recipient=person).latest("id").calendar_method == "CANCEL"
        )
    assert services.consultations_cancel_for_closed_cases() == 0


# --- The patient declines ---------------------------------------------------------------------
def test_the_patient_declines_before_any_time_is_proposed(case, patient, specialist):
    declined = services.consultation_decline(
        actor=patient, case_ref=case.uuid, note="The records should be enough"
    )
    assert declined.status == Status.DECLINED and declined.video_room == ""
    event = ConsultationEvent.objects.get(consultation=declined)
    assert (event.action, event.actor, event.note) == (
        "declined",
        patient,
        "The records should be enough",
    )
    assert AuditEvent.objects.filter(action="consultations.consultation.declined").exists()
    told = Notification.objects.get(recipient=specialist)
    assert told.email_subject == f"The patient declined the consultation on {case.reference}"
    assert "sign the report without one" in told.email_sentence
    # Nothing more to propose against, and the patient's own receipt.
    assert Notification.objects.filter(recipient=patient, kind=CONSULTATION).exists()
    # A second click changes nothing.
    assert services.consultation_decline(actor=patient, case_ref=case.uuid).pk == declined.pk
    assert ConsultationEvent.objects.count() == 1


def test_declining_a_booking_frees_the_time_and_the_case_goes_back_to_review(
    case, booked, patient, specialist
):
    services.consultation_decline(actor=patient, case_ref=case.uuid)
    booked.refresh_from_db()
    assert booked.status == Status.DECLINED
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    assert CaseEvent.objects.filter(
        case=case, new_status=CaseStatus.IN_REVIEW, reason="The patient declined the consultation."
    ).exists()
    # Both calendars lose the time.
    cancels = Notification.objects.filter(calendar_method="CANCEL")
    assert {n.recipient for n in cancels} == {patient, specialist}


def test_only_the_patient_declines_and_outsiders_get_a_404(case, specialist, coordinator, outsider):
    with pytest.raises(PermissionDenied):
        services.consultation_decline(actor=specialist, case_ref=case.uuid)
    with pytest.raises(PermissionDenied):
        services.consultation_decline(actor=coordinator, case_ref=case.uuid)
    with pytest.raises(Http404):
        services.consultation_decline(actor=outsider, case_ref=case.uuid)
    assert not Consultation.objects.exists()


def test_a_consultation_that_took_place_or_a_written_opinion_cannot_be_declined(
    case, booked, patient, specialist
):
    to_the_past(booked)
    services.consultation_record_outcome(
        actor=specialist, ref=booked.uuid, outcome="held", notes="Examined."
    )
    with pytest.raises(Error, match="already taken place"):
        services.consultation_decline(actor=patient, case_ref=case.uuid)
    written = CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        specialist=specialist,
        consultation_type="written",
    )
    with pytest.raises(Error, match="written opinion only"):
        services.consultation_decline(actor=patient, case_ref=written.uuid)


def test_declining_needs_a_specialist_on_the_case(patient):
    waiting = CaseFactory(
        owner=patient, submitted=True, status=CaseStatus.MATCHING, consultation_type="video"
    )
    with pytest.raises(Error, match="while your specialist is reviewing"):
        services.consultation_decline(actor=patient, case_ref=waiting.uuid)


def test_a_missed_consultation_can_be_closed_with_a_reason(case, booked, specialist, patient):
    to_the_past(booked)
    services.consultation_record_outcome(actor=specialist, ref=booked.uuid, outcome="missed")
    services.consultation_cancel(
        actor=specialist, ref=booked.uuid, reason="We could not reach you twice; the report goes on"
    )
    booked.refresh_from_db()
    assert booked.status == Status.CANCELLED
    assert not Notification.objects.filter(
        calendar_method__in=["CANCEL"], created_at__gt=booked.outcome_at
    ).exists()
