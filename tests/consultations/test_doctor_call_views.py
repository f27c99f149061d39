"""The pages of a call between the doctors: the patient asks from their report, the
specialist proposes and records, the doctor books through their own link (no
account, the link's headers, the token in no log); outsiders get a 404, the care
team a 403 on what is not theirs; a withdrawn consent shows nothing of the case."""

import datetime
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from requests_app.aftercare import services as aftercare
from requests_app.consultations import doctor_calls
from requests_app.consultations.models import DoctorCall
from secondop.audit.models import AccessLog, AuditEvent
from tests.accounts.factories import UserFactory, enrol_totp
from tests.aftercare.factories import delivered_case, sent_share
from tests.consultations.conftest import at

pytestmark = pytest.mark.django_db

LINK = re.compile(r"/doctor-call/([^/\s]+)/")


@pytest.fixture
def case(patient, specialist, coordinator):
    return delivered_case(
        owner=patient,
        specialist=specialist,
        case_manager=coordinator,
        patient_state="CA",
        patient_name="Maria Lopez",
        diagnosis_opinion="different",
    )


@pytest.fixture
def link(case):
    share, token = sent_share(case=case, participation=True)
    share.recipient_name = "Dr. Ana Ruiz"
    share.save(update_fields=["recipient_name"])
    return share, token


@pytest.fixture
def call(case, link):
    return doctor_calls.doctor_call_request(
        actor=case.owner, case_ref=case.uuid, share_ref=link[0].uuid
    )


def _slot_post(days=2):
    day = at(days, 9).date()
    data = {"start_1": "9am", "end_1": "9:30am", "start_2": "2pm", "end_2": "2:30pm"}
    for row in (1, 2):
        data |= {
            f"date_{row}_day": day.day,
            f"date_{row}_month": day.month,
            f"date_{row}_year": day.year,
        }
    return data


def _propose(client, call, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("consultations:doctor_call_times", args=[call.uuid]), _slot_post()
        )
    page = response.content.decode()
    assert response.status_code == 302, page[page.find("error-summary") :][:1500]
    return LINK.search(mail.outbox[-1].body)[1]


# --- The patient ---------------------------------------------------------------------------
def test_the_report_page_offers_the_call_when_the_opinion_differs(client, case, link):
    client.force_login(case.owner)
    page = client.get(reverse("reports:case", args=[case.uuid])).content.decode()
    assert reverse("consultations:doctor_call_ask", args=[case.uuid]) in page


def test_the_patient_asks_for_the_call(client, case, link):
    client.force_login(case.owner)
    url = reverse("consultations:doctor_call_ask", args=[case.uuid])
    page = client.get(url).content.decode()
    assert "Dr. Ana Ruiz" in page
    response = client.post(url, {"topic": "The date"})
    assert response.status_code == 400
    assert "Choose the doctor the specialist should call." in response.content.decode()
    assert "The date" in response.content.decode()  # nothing typed is lost
    response = client.post(url, {"share": str(link[0].uuid), "topic": "The date"})
    assert response.status_code == 302
    assert DoctorCall.objects.get().topic == "The date"
    page = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    assert "The call between your doctors" in page


def test_the_patient_without_a_doctor_taking_part_is_sent_to_share_first(client, case):
    sent_share(case=case)  # no participation consent
    client.force_login(case.owner)
    page = client.get(reverse("consultations:doctor_call_ask", args=[case.uuid])).content.decode()
    assert "First send your report to your doctor" in page
    assert reverse("aftercare:share", args=[case.uuid]) in page


def test_an_outsider_or_staff_cannot_ask(client, case, link, outsider, specialist):
    url = reverse("consultations:doctor_call_ask", args=[case.uuid])
    for who in (outsider, specialist):
        client.force_login(who)
        assert client.get(url).status_code == 404
        assert client.post(url, {"share": str(link[0].uuid)}).status_code == 404
    assert not DoctorCall.objects.exists()


# --- The specialist ---------------------------------------------------------------------------
def test_the_specialist_proposes_times_and_the_doctor_gets_a_link(
    client, call, specialist, django_capture_on_commit_callbacks
):
    client.force_login(specialist)
    page = client.get(reverse("consultations:doctor_call", args=[call.uuid])).content.decode()
    assert "Propose times for the call" in page
    response = client.post(reverse("consultations:doctor_call_times", args=[call.uuid]), {})
    assert response.status_code == 400
    assert "Propose at least two times" in response.content.decode()
    token = _propose(client, call, django_capture_on_commit_callbacks)
    assert DoctorCall.objects.get(pk=call.pk).status == "proposed"
    assert mail.outbox[-1].to == ["dr.primary@clinic.example"]
    assert token


def test_others_of_the_care_team_read_but_do_not_act_and_outsiders_get_a_404(
    client, call, coordinator, outsider
):
    url = reverse("consultations:doctor_call", args=[call.uuid])
    times = reverse("consultations:doctor_call_times", args=[call.uuid])
    outcome = reverse("consultations:doctor_call_outcome", args=[call.uuid])
    client.force_login(coordinator)
    assert client.get(url).status_code == 200
    assert client.post(times, _slot_post()).status_code == 403
    assert client.post(outcome, {"outcome": "held", "note": "x"}).status_code == 403
    other = UserFactory(role="specialist")
    enrol_totp(other)
    for who in (outsider, other):
        client.force_login(who)
        assert client.get(url).status_code == 404
        assert client.post(times, _slot_post()).status_code == 404


# --- The doctor's link ------------------------------------------------------------------------
def test_the_doctor_books_from_their_link_with_no_account(
    client, call, specialist, django_capture_on_commit_callbacks
):
    client.force_login(specialist)
    token = _propose(client, call, django_capture_on_commit_callbacks)
    client.logout()
    url = reverse("doctor_call:physician", args=[token])
    response = client.get(url)
    page = response.content.decode()
    assert response.status_code == 200
    assert response["Referrer-Policy"] == "no-referrer" and "no-store" in response["Cache-Control"]
    assert "Maria Lopez" in page and "Book this time" in page
    response = client.post(url, {"phone": "617 555 0100"})
    assert response.status_code == 400
    assert "Choose one of the times offered." in response.content.decode()
    assert "617 555 0100" in response.content.decode()
    slot = DoctorCall.objects.get(pk=call.pk).slots.first()
    response = client.post(url, {"slot": str(slot.uuid), "phone": "617 555 0100"})
    assert response.status_code == 302
    assert DoctorCall.objects.get(pk=call.pk).status == "booked"
    page = client.get(url).content.decode()
    assert "617 555 0100" in page
    ics = client.get(reverse("doctor_call:calendar", args=[token]))
    assert ics.status_code == 200 and b"BEGIN:VCALENDAR" in ics.content
    assert b"Maria" not in ics.content and token.encode() not in ics.content
    for row in [*AuditEvent.objects.all(), *AccessLog.objects.all()]:
        assert token not in row.path


def test_the_doctors_link_shows_nothing_once_consent_is_withdrawn(
    client, case, link, call, specialist, django_capture_on_commit_callbacks
):
    client.force_login(specialist)
    token = _propose(client, call, django_capture_on_commit_callbacks)
    client.logout()
    aftercare.participation_withdraw(actor=case.owner, share_ref=link[0].uuid)
    for response in (
        client.get(reverse("doctor_call:physician", args=[token])),
        client.post(reverse("doctor_call:physician", args=[token]), {"phone": "1"}),
        client.get(reverse("doctor_call:calendar", args=[token])),
    ):
        assert response.status_code == 410
        assert "Maria Lopez" not in response.content.decode()
    assert client.get(reverse("doctor_call:physician", args=["bogus"])).status_code == 404


def test_the_doctor_asks_for_a_call_from_the_report_link(client, case, link):
    _share, token = link
    page = client.get(reverse("aftercare:shared_report", args=[token])).content.decode()
    assert "Ask for a call" in page
    response = client.post(
        reverse("aftercare:shared_call_request", args=[token]), {"topic": "x" * 501}
    )
    assert response.status_code == 400
    assert not DoctorCall.objects.exists()
    response = client.post(
        reverse("aftercare:shared_call_request", args=[token]), {"topic": "Timing"}
    )
    assert response.status_code == 302
    assert DoctorCall.objects.get().asked_by == "physician"
    page = client.get(reverse("aftercare:shared_report", args=[token])).content.decode()
    assert "The specialist will propose times" in page


def test_the_specialist_records_the_call_and_the_patient_reads_the_note(
    client, case, call, specialist, django_capture_on_commit_callbacks
):
    client.force_login(specialist)
    token = _propose(client, call, django_capture_on_commit_callbacks)
    slot = DoctorCall.objects.get(pk=call.pk).slots.first()
    doctor_calls.doctor_call_book(token=token, slot_ref=slot.uuid, phone="617 555 0100")
    DoctorCall.objects.filter(pk=call.pk).update(
        starts_at=timezone.now() - datetime.timedelta(hours=1),
        ends_at=timezone.now() - datetime.timedelta(minutes=30),
    )
    url = reverse("consultations:doctor_call_outcome", args=[call.uuid])
    response = client.post(url, {"outcome": "held"})
    assert response.status_code == 400
    assert "Write a short note for the patient" in response.content.decode()
    response = client.post(url, {"outcome": "held", "note": "We agreed to wait for the MRI."})
    assert response.status_code == 302
    client.force_login(case.owner)
    page = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    assert "We agreed to wait for the MRI." in page
