"""A call between the doctors (issue 21, item 3; and item 4's "request the call"):
asked for by the patient or, with consent, by their physician; times proposed by
the assigned specialist; booked by the physician through their own link (no
account); recorded as held or missed with a note the patient reads. A withdrawn
consent or link shows nothing of the case."""

import datetime
import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from requests_app.aftercare import consent
from requests_app.aftercare import services as aftercare
from requests_app.aftercare.models import Share
from requests_app.aftercare.selectors import doctor_activity
from requests_app.consultations import doctor_calls
from requests_app.consultations.models import DoctorCall, DoctorCallSlot
from secondop.audit.models import AccessLog, AuditEvent
from secondop.notifications.models import Notification
from tests.aftercare.factories import delivered_case, sent_share
from tests.consultations.conftest import span

pytestmark = pytest.mark.django_db

LINK = re.compile(r"/doctor-call/([^/\s]+)/")


@pytest.fixture
def case(patient, specialist, coordinator):
    return delivered_case(
        owner=patient,
        specialist=specialist,
        case_manager=coordinator,
        patient_state="CA",
        diagnosis_opinion="different",
    )


@pytest.fixture
def link(case):
    share, token = sent_share(case=case, participation=True)
    share.recipient_name = "Dr. Ana Ruiz"
    share.save(update_fields=["recipient_name"])
    return share, token


def _asked(case, link):
    return doctor_calls.doctor_call_request(
        actor=case.owner, case_ref=case.uuid, share_ref=link[0].uuid, topic="The operation date"
    )


def _propose(call, specialist, slots):
    """Propose, running what is queued on commit (the doctor's email)."""
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        doctor_calls.doctor_call_propose(actor=specialist, ref=call.uuid, slots=slots)


def _proposed(case, link, specialist):
    call = _asked(case, link)
    mail.outbox.clear()
    _propose(call, specialist, [span(2, 9), span(2, 14)])
    [email] = mail.outbox
    return DoctorCall.objects.get(pk=call.pk), LINK.search(email.body)[1]


def _booked(case, link, specialist):
    call, token = _proposed(case, link, specialist)
    slot = call.slots.first()
    doctor_calls.doctor_call_book(token=token, slot_ref=slot.uuid, phone="617 555 0100")
    return DoctorCall.objects.get(pk=call.pk), token


def _pass_the_time(call):
    DoctorCall.objects.filter(pk=call.pk).update(
        starts_at=timezone.now() - datetime.timedelta(hours=1),
        ends_at=timezone.now() - datetime.timedelta(minutes=30),
    )


# --- Who may ask --------------------------------------------------------------------------
def test_it_is_offered_only_when_the_opinion_differs(patient, specialist, link, case):
    assert doctor_calls.offered(case=case)
    agreed = delivered_case(
        owner=patient, specialist=specialist, diagnosis_opinion="agrees", treatment_opinion="agrees"
    )
    assert not doctor_calls.offered(case=agreed)
    share, _token = sent_share(case=agreed, participation=True)
    with pytest.raises(doctor_calls.DoctorCallError, match="differs"):
        doctor_calls.doctor_call_request(actor=patient, case_ref=agreed.uuid, share_ref=share.uuid)


def test_the_patient_asks_and_the_specialist_is_told(case, link):
    call = _asked(case, link)
    assert call.status == "requested" and call.asked_by == "patient"
    assert call.share == link[0] and call.specialist_id == case.specialist_id
    assert call.topic == "The operation date"
    told = set(Notification.objects.filter(kind="doctor_call").values_list("recipient", flat=True))
    assert told == {case.owner_id, case.specialist_id}
    assert AuditEvent.objects.filter(action="consultations.doctor_call.requested").exists()
    # A double submit is the same call.
    assert _asked(case, link).pk == call.pk
    assert DoctorCall.objects.count() == 1


def test_a_doctor_without_consent_to_take_part_cannot_be_called(case):
    share, _token = sent_share(case=case)  # no participation consent
    assert doctor_calls.call_shares(case=case) == []
    with pytest.raises(doctor_calls.DoctorCallError) as refused:
        doctor_calls.doctor_call_request(actor=case.owner, case_ref=case.uuid, share_ref=share.uuid)
    assert "share" in refused.value.errors


def test_a_consent_given_under_the_question_only_wording_allows_no_call(case, link):
    share, _token = link
    Share.objects.filter(pk=share.pk).update(participation_consent_version="2026-12-07")
    share.refresh_from_db()
    assert share.may(consent.QUESTION) and not share.may(consent.CALL)
    assert doctor_calls.call_shares(case=case) == []


def test_only_the_owner_asks(case, link, outsider, coordinator):
    for who in (outsider, coordinator):
        with pytest.raises(Http404):
            doctor_calls.doctor_call_request(actor=who, case_ref=case.uuid, share_ref=link[0].uuid)
    assert not DoctorCall.objects.exists()


def test_the_physician_asks_through_their_link(case, link):
    share, token = link
    call = doctor_calls.doctor_call_request_by_physician(token=token, topic="Timing")
    assert call.asked_by == "physician" and call.share == share
    event = AuditEvent.objects.get(action="consultations.doctor_call.requested")
    assert event.actor is None
    assert token not in str(event.__dict__)
    told = set(Notification.objects.filter(kind="doctor_call").values_list("recipient", flat=True))
    assert told == {case.owner_id, case.specialist_id}
    texts = [item.text for item in doctor_activity(case=case)]
    assert "Dr. Ana Ruiz asked for a call with the specialist" in texts
    # Once a call is open, nobody asks for another.
    with pytest.raises(doctor_calls.DoctorCallError, match="already"):
        doctor_calls.doctor_call_request(
            actor=case.owner,
            case_ref=case.uuid,
            share_ref=sent_share(case=case, email="b@x.example", participation=True)[0].uuid,
        )


def test_the_physician_cannot_ask_once_consent_is_withdrawn(case, link):
    share, token = link
    aftercare.participation_withdraw(actor=case.owner, share_ref=share.uuid)
    with pytest.raises(aftercare.ConsentWithdrawn):
        doctor_calls.doctor_call_request_by_physician(token=token)
    assert not DoctorCall.objects.exists()


# --- Times, the physician's link, the booking ------------------------------------------------
def test_the_specialist_proposes_and_the_doctor_is_emailed_a_link_without_medical_detail(
    case, link, specialist
):
    call, token = _proposed(case, link, specialist)
    assert call.status == "proposed" and call.round == 1
    assert DoctorCallSlot.objects.filter(call=call).count() == 2
    [email] = mail.outbox
    assert email.to == ["dr.primary@clinic.example"]
    for secret in (case.patient_name, case.diagnosis, "operation", case.reference):
        assert secret not in email.body and secret not in email.subject
    # Only the hash is kept.
    assert call.token_hash and token not in call.token_hash
    # The task again sends nothing (one email per round).
    assert doctor_calls.doctor_call_invite_send(call_id=call.pk) == "nothing to send"


def test_only_the_assigned_specialist_proposes(case, link, coordinator, other_specialist):
    call = _asked(case, link)
    with pytest.raises(PermissionDenied):
        doctor_calls.doctor_call_propose(
            actor=coordinator, ref=call.uuid, slots=[span(2, 9), span(2, 14)]
        )
    with pytest.raises(Http404):
        doctor_calls.doctor_call_propose(
            actor=other_specialist, ref=call.uuid, slots=[span(2, 9), span(2, 14)]
        )


def test_bad_times_are_refused_with_the_reasons(case, link, specialist):
    call = _asked(case, link)
    with pytest.raises(doctor_calls.DoctorCallError) as refused:
        doctor_calls.doctor_call_propose(actor=specialist, ref=call.uuid, slots=[span(-1, 9)])
    assert "slots" in refused.value.errors and "slots.0.start" in refused.value.errors


def test_a_new_round_replaces_the_link(case, link, specialist):
    call, first = _proposed(case, link, specialist)
    mail.outbox.clear()
    _propose(call, specialist, [span(3, 9), span(3, 14)])
    second = LINK.search(mail.outbox[0].body)[1]
    with pytest.raises(aftercare.ShareRefused):
        doctor_calls.doctor_call_open(token=first)
    assert doctor_calls.doctor_call_open(token=second).call.round == 2


def test_the_doctor_books_a_time_and_the_specialist_gets_the_calendar_file(case, link, specialist):
    call, token = _booked(case, link, specialist)
    assert call.status == "booked" and call.physician_phone == "617 555 0100"
    booked = Notification.objects.filter(kind="doctor_call", title__contains="booked")
    assert set(booked.values_list("recipient", flat=True)) == {case.owner_id, case.specialist_id}
    invite = booked.get(recipient=specialist)
    assert "BEGIN:VCALENDAR" in invite.calendar_ics and "617" not in invite.calendar_ics
    assert booked.get(recipient=case.owner).calendar_ics == ""
    assert AuditEvent.objects.get(action="consultations.doctor_call.booked").actor is None
    texts = [item.text for item in doctor_activity(case=case)]
    assert any(text.startswith("Dr. Ana Ruiz booked the call") for text in texts)
    # The same choice again changes nothing; another is refused.
    slot = call.slots.first()
    assert doctor_calls.doctor_call_book(token=token, slot_ref=slot.uuid, phone="1").pk == call.pk
    with pytest.raises(doctor_calls.DoctorCallError, match="already booked"):
        doctor_calls.doctor_call_book(
            token=token, slot_ref=call.slots.last().uuid, phone="617 555 0100"
        )


def test_the_doctor_must_choose_a_time_offered_and_give_a_number(case, link, specialist):
    call, token = _proposed(case, link, specialist)
    with pytest.raises(doctor_calls.DoctorCallError) as refused:
        doctor_calls.doctor_call_book(token=token, slot_ref="not-a-uuid", phone="")
    assert set(refused.value.errors) == {"slot", "phone"}
    with pytest.raises(doctor_calls.DoctorCallError) as refused:
        doctor_calls.doctor_call_book(
            token=token, slot_ref=call.slots.first().uuid, phone="call me"
        )
    assert set(refused.value.errors) == {"phone"}
    assert DoctorCall.objects.get(pk=call.pk).status == "proposed"


def test_opening_the_link_is_logged_and_refused_after_consent_or_the_link_is_withdrawn(
    case, link, specialist
):
    call, token = _proposed(case, link, specialist)
    opened = doctor_calls.doctor_call_view(token=token)
    assert opened.call.pk == call.pk
    row = AccessLog.objects.filter(actor=None).latest("pk")
    assert token not in (row.path or "")
    aftercare.participation_withdraw(actor=case.owner, share_ref=link[0].uuid)
    with pytest.raises(aftercare.ConsentWithdrawn):
        doctor_calls.doctor_call_open(token=token)
    Share.objects.filter(pk=link[0].pk).update(participation_withdrawn_at=None)
    aftercare.share_revoke(actor=case.owner, share_ref=link[0].uuid)
    with pytest.raises(aftercare.ShareRefused) as refused:
        doctor_calls.doctor_call_book(
            token=token, slot_ref=call.slots.first().uuid, phone="617 555 0100"
        )
    assert refused.value.reason == "revoked"
    with pytest.raises(aftercare.ShareRefused) as refused:
        doctor_calls.doctor_call_open(token="nothing-like-it")
    assert refused.value.reason == "unknown"


# --- Held or missed ---------------------------------------------------------------------------
def test_the_specialist_records_the_call_and_the_patient_reads_the_note(case, link, specialist):
    call, _token = _booked(case, link, specialist)
    with pytest.raises(doctor_calls.DoctorCallError, match="not started"):
        doctor_calls.doctor_call_record_outcome(
            actor=specialist, ref=call.uuid, outcome="held", note="We agreed."
        )
    _pass_the_time(call)
    with pytest.raises(doctor_calls.DoctorCallError) as refused:
        doctor_calls.doctor_call_record_outcome(
            actor=specialist, ref=call.uuid, outcome="maybe", note=""
        )
    assert set(refused.value.errors) == {"outcome", "note"}
    done = doctor_calls.doctor_call_record_outcome(
        actor=specialist, ref=call.uuid, outcome="held", note="We agreed to wait for the MRI."
    )
    assert done.status == "held" and done.outcome_note == "We agreed to wait for the MRI."
    event = AuditEvent.objects.get(action="consultations.doctor_call.held")
    assert "MRI" not in str(event.new_values)
    assert Notification.objects.filter(
        kind="doctor_call", recipient=case.owner, title__contains="recorded"
    ).exists()


def test_only_the_assigned_specialist_records(case, link, specialist, coordinator):
    call, _token = _booked(case, link, specialist)
    _pass_the_time(call)
    with pytest.raises(PermissionDenied):
        doctor_calls.doctor_call_record_outcome(
            actor=coordinator, ref=call.uuid, outcome="missed", note="No answer."
        )
    with pytest.raises(PermissionDenied):
        doctor_calls.doctor_call_record_outcome(
            actor=case.owner, ref=call.uuid, outcome="missed", note="No answer."
        )


def test_the_sweep_sends_an_invitation_a_lost_task_never_sent(case, link, specialist):
    call = _asked(case, link)
    DoctorCall.objects.filter(pk=call.pk).update(
        status="proposed", round=1, updated_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    assert doctor_calls.invites_due() == [call.pk]
    assert doctor_calls.doctor_call_invite_send(call_id=call.pk) == "sent"
    assert doctor_calls.invites_due() == []
