"""The coordinator's queue, claiming a case, and the moves made from its page."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from requests_app import services
from requests_app.models import Case, CaseEvent, CaseStatus
from requests_app.notices import CANCELLED, RECORDS_REQUESTED
from secondop.audit.models import AccessLog, AuditEvent
from secondop.notifications.models import Notification
from tests.accounts.factories import UserFactory, enrol_totp
from tests.helpers import assert_constant_queries
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db
QUEUE = "requests_app:coordinator_home"


def _queue(client, filters=None, **query):
    """Filters are POSTed (kept in the session, never in a URL); then the page."""
    if filters is not None:
        response = client.post(reverse(QUEUE), filters)
        assert response.status_code == 302 and response.url == reverse(QUEUE)
    return client.get(reverse(QUEUE), query)


def _refs(response) -> list[str]:
    return [c.reference for c in response.context["page"].object_list]


def _sent(owner, **fields):
    return CaseFactory(owner=owner, submitted=True, **fields)


def test_the_queue_shows_every_open_case_and_counts_per_status(client, patient, coordinator):
    triage = _sent(patient, status="triage")
    new = _sent(patient)
    _sent(patient, status="withdrawn", closed_at=timezone.now())
    CaseFactory(owner=patient, complete=True)  # a draft: never shown
    client.force_login(coordinator)
    response = client.get(reverse(QUEUE))
    assert sorted(_refs(response)) == sorted([triage.reference, new.reference])
    counts = {s.value: n for s, n in response.context["counts"]}
    assert counts["submitted"] == 1 and counts["triage"] == 1
    assert "2 open cases" in response.content.decode()


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"status": "awaiting_records"}, ["waiting"]),
        ({"waiting": "on"}, ["waiting"]),
        ({"urgency": "urgent"}, ["urgent"]),
        ({"overdue": "on"}, ["late"]),
        ({"due_soon": "on"}, ["urgent"]),
        ({"mine": "on"}, ["mine"]),
        ({"unassigned": "on"}, ["waiting", "urgent", "late", "mine"]),
        ({"q": "Zelda"}, ["mine"]),
        ({"q": "zel"}, ["mine"]),
    ],
)
def test_the_queue_filters(client, patient, coordinator, specialist, filters, expected):
    now = timezone.now()
    cases = {
        "waiting": _sent(patient, status="awaiting_records"),
        "urgent": _sent(patient, urgency="urgent", due_at=now + datetime.timedelta(hours=20)),
        "late": _sent(patient, due_at=now - datetime.timedelta(days=1)),
        "mine": _sent(patient, case_manager=coordinator, patient_name="Zelda Fitzgerald"),
        "assigned": _sent(patient, status="in_review", specialist=specialist),
    }
    client.force_login(coordinator)
    response = _queue(client, filters)
    assert sorted(_refs(response)) == sorted(cases[k].reference for k in expected)


def test_search_by_reference_finds_one_case(client, patient, coordinator):
    wanted, _other = _sent(patient), _sent(patient)
    client.force_login(coordinator)
    assert _refs(_queue(client, {"q": wanted.reference})) == [wanted.reference]
    assert _refs(_queue(client, {"q": wanted.reference[-6:]})) == [wanted.reference]


def test_a_name_searched_for_never_travels_in_a_url(client, patient, coordinator):
    wanted = _sent(patient, patient_name="Zelda Fitzgerald")
    client.force_login(coordinator)
    response = client.post(reverse(QUEUE), {"q": "Zelda"})
    assert "Zelda" not in response.url
    page = client.get(reverse(QUEUE))
    assert _refs(page) == [wanted.reference]
    assert 'value="Zelda"' in page.content.decode()  # the search is kept, in the form
    assert "Zelda" not in AccessLog.objects.get().path
    assert _refs(client.get(reverse(QUEUE), {"clear": "1"}, follow=True)) == [wanted.reference]
    assert client.session.get("secondop_queue_filters") is None


def test_the_queue_sorts_and_pages(client, patient, coordinator):
    now = timezone.now()
    for days in range(30):
        _sent(
            patient,
            due_at=now + datetime.timedelta(days=days),
            urgency="urgent" if days == 29 else "routine",
        )
    client.force_login(coordinator)
    first = client.get(reverse(QUEUE))
    due = [c.due_at for c in first.context["page"].object_list]
    assert due == sorted(due) and len(due) == 25
    second = client.get(reverse(QUEUE), {"page": 2})
    assert len(second.context["page"].object_list) == 5
    urgent = _queue(client, {"sort": "urgent"})
    assert urgent.context["page"][0].urgency == "urgent"
    # The pages link to each other; the filters stay in the session.
    assert 'href="?page=2"' in urgent.content.decode()
    assert _queue(client, page=2).context["page"][0].urgency == "routine"


def test_each_queue_page_is_one_access_log_row_with_what_it_showed(client, patient, coordinator):
    cases = [_sent(patient) for _ in range(3)]
    client.force_login(coordinator)
    _queue(client, {"q": "nobody-matches"})
    assert not AccessLog.objects.exists()  # nobody shown, nothing read
    _queue(client, {"sort": "due"})
    row = AccessLog.objects.get()
    assert sorted(row.listed) == sorted(c.reference for c in cases)


def test_the_queue_runs_the_same_queries_for_1_or_50_cases(client, patient, coordinator):
    client.force_login(coordinator)

    def grow(n):
        while Case.objects.count() < n:
            _sent(patient, case_manager=coordinator)

    assert_constant_queries(client, lambda n: reverse(QUEUE), grow, sizes=(1, 50))


# --- Claiming ---------------------------------------------------------------------------
def test_a_coordinator_claims_a_case_and_another_can_take_it_over(client, patient, coordinator):
    case = _sent(patient)
    client.force_login(coordinator)
    client.post(reverse("requests_app:staff_case_claim", args=[case.uuid]))
    case.refresh_from_db()
    assert case.case_manager == coordinator
    other = UserFactory(role="coordinator", email="second@example.com")
    enrol_totp(other)
    services.case_claim(actor=other, case_ref=case.uuid, reason="Cora is on leave")
    case.refresh_from_db()
    assert case.case_manager == other
    event = AuditEvent.objects.filter(action="requests.case.claimed").latest("id")
    assert event.old_values == {"case_manager": coordinator.pk}
    assert event.new_values == {"case_manager": other.pk, "reason": "Cora is on leave"}


def test_a_specialist_cannot_claim(patient, specialist):
    from requests_app.workflow import TransitionError

    case = _sent(patient, status="in_review", specialist=specialist)
    with pytest.raises(TransitionError):
        services.case_claim(actor=specialist, case_ref=case.uuid)


# --- Moves from the case page -----------------------------------------------------------
def _move(client, case, to, reason=""):
    return client.post(
        reverse("requests_app:staff_case_move", args=[case.uuid]),
        {"to_status": to, "reason": reason},
    )


def test_triage_then_records_then_matching_through_the_case_page(client, patient, coordinator):
    case = _sent(patient)
    client.force_login(coordinator)
    page = client.get(reverse("requests_app:staff_case", args=[case.uuid])).content.decode()
    assert "Start triage" in page and "Cancel the request" in page
    assert _move(client, case, "triage").status_code == 302
    response = _move(client, case, "awaiting_records")  # no note: refused, nothing moves
    assert response.status_code == 400
    assert "Write a note for the patient" in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == "triage"
    _move(client, case, "awaiting_records", "Your biopsy pathology report from March")
    case.refresh_from_db()
    assert case.status == "awaiting_records"
    assert Notification.objects.filter(recipient=patient, kind=RECORDS_REQUESTED).exists()
    client.force_login(patient)
    html = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    assert "Your biopsy pathology report from March" in html
    client.force_login(coordinator)
    _move(client, case, "triage")
    _move(client, case, "matching")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.MATCHING
    assert CaseEvent.objects.filter(case=case).count() == 4


def test_the_case_page_does_not_ask_for_records_during_review(client, patient, coordinator):
    """Asking during review is a RecordRequest from the records page; the generic
    form would leave the case waiting for nothing the patient can answer."""
    case = _sent(patient, status="in_review")
    client.force_login(coordinator)
    response = client.get(reverse("requests_app:staff_case", args=[case.uuid]))
    assert "awaiting_records" not in [to for to, _ in response.context["moves"]]
    assert "Ask the patient for records" not in response.content.decode()
    assert _move(client, case, "awaiting_records", "Your scans").status_code == 400
    assert Case.objects.get(pk=case.pk).status == "in_review"


def test_a_case_waiting_for_records_goes_back_to_where_it_came_from(client, patient, coordinator):
    from_review = _sent(patient, status="awaiting_records")
    CaseEvent.objects.create(
        case=from_review, old_status="in_review", new_status="awaiting_records", reason="Your scans"
    )
    from_triage = _sent(patient, status="awaiting_records")
    CaseEvent.objects.create(
        case=from_triage, old_status="triage", new_status="awaiting_records", reason="Your scans"
    )
    client.force_login(coordinator)
    page = client.get(reverse("requests_app:staff_case", args=[from_review.uuid]))
    moves = [to for to, _ in page.context["moves"]]
    assert "in_review" in moves and "triage" not in moves
    assert "Records received: back to review" in page.content.decode()
    page = client.get(reverse("requests_app:staff_case", args=[from_triage.uuid]))
    moves = [to for to, _ in page.context["moves"]]
    assert "triage" in moves and "in_review" not in moves
    assert _move(client, from_review, "in_review").status_code == 302
    assert Case.objects.get(pk=from_review.pk).status == "in_review"


def test_a_move_the_case_has_moved_past_is_refused_clearly(client, patient, coordinator):
    case = _sent(patient, status="matching")
    client.force_login(coordinator)
    response = _move(client, case, "triage")
    assert response.status_code == 400
    assert "no longer possible" in response.content.decode()


def test_cancel_needs_a_reason_and_tells_the_patient(client, patient, coordinator):
    case = _sent(patient, status="triage")
    client.force_login(coordinator)
    _move(client, case, "cancelled", "We cannot find a specialist licensed in your state.")
    case.refresh_from_db()
    assert case.status == "cancelled"
    assert Notification.objects.filter(recipient=patient, kind=CANCELLED).exists()


def test_specialists_see_the_case_but_no_coordinator_actions(client, patient, specialist):
    case = _sent(patient, status="in_review", specialist=specialist)
    client.force_login(specialist)
    html = client.get(reverse("requests_app:staff_case", args=[case.uuid])).content.decode()
    assert "Early-stage breast cancer" in html and "Start triage" not in html
    assert _move(client, case, "cancelled", "x").status_code == 404
    assert Case.objects.get(pk=case.pk).status == "in_review"


# --- Insurance ----------------------------------------------------------------------------
def test_the_insurance_check_is_saved_audited_and_shown_to_the_patient(
    client, patient, coordinator
):
    case = _sent(patient, status="triage")
    client.force_login(coordinator)
    url = reverse("requests_app:staff_case_insurance", args=[case.uuid])
    response = client.post(url, {"fee_quoted": "-5"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose what the check found" in html and "cannot be negative" in html
    client.post(
        url,
        {
            "insurance_status": "covered",
            "fee_quoted": "40.00",
            "insurance_note": "Your plan covers it; your co-pay is $40.",
        },
    )
    case.refresh_from_db()
    assert (case.insurance_status, case.fee_quoted) == ("covered", Decimal("40.00"))
    assert AuditEvent.objects.filter(action="requests.case.insurance_checked").exists()
    client.force_login(patient)
    html = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    assert "Your plan covers it; your co-pay is $40." in html and "40.00" in html


# --- The coordinator's day (issue 15 point 5) ----------------------------------------------
def test_the_queue_shows_how_long_each_case_waited_and_the_patients_last_activity(
    client, patient, coordinator
):
    from requests_app.messaging.models import Message

    now = timezone.now()
    case = _sent(patient, status="triage", submitted_at=now - datetime.timedelta(days=6))
    event = CaseEvent.objects.create(
        case=case, actor=coordinator, old_status="submitted", new_status="triage"
    )
    CaseEvent.objects.filter(pk=event.pk).update(created_at=now - datetime.timedelta(days=3))
    message = Message.objects.create(case=case, author=patient, body="Any news?")
    Message.objects.filter(pk=message.pk).update(created_at=now - datetime.timedelta(hours=5))
    # The coordinator's own message is not the patient's activity.
    Message.objects.create(case=case, author=coordinator, body="Soon.")
    client.force_login(coordinator)
    response = _queue(client)
    row = response.context["page"].object_list[0]
    assert (now - row.state_since).days == 3
    assert round((now - row.patient_active_at).total_seconds() / 3600) == 5
    html = response.content.decode()
    assert "In this status for" in html and "3 days" in html and "5 hours ago" in html


def test_the_queue_runs_the_same_queries_with_waits_for_1_or_50_cases(client, patient, coordinator):
    client.force_login(coordinator)

    def grow(n):
        while Case.objects.filter(owner=patient).count() < n:
            case = _sent(patient)
            CaseEvent.objects.create(
                case=case, actor=patient, old_status="draft", new_status="submitted"
            )

    assert_constant_queries(client, lambda n: reverse(QUEUE), grow, sizes=(1, 50))


def test_claim_and_start_triage_is_one_action_from_the_queue(client, patient, coordinator):
    case = _sent(patient)
    client.force_login(coordinator)
    html = _queue(client).content.decode()
    assert "Claim and start triage" in html
    data = {"expected_manager": "0", "start_triage": "on"}
    url = reverse("requests_app:staff_case_claim", args=[case.uuid])
    response = client.post(url, data)
    assert response.url == reverse("requests_app:staff_case", args=[case.uuid])
    client.post(url, data)  # a double click
    case.refresh_from_db()
    assert case.case_manager == coordinator and case.status == CaseStatus.TRIAGE
    assert case.events.filter(new_status="triage").count() == 1
    assert AuditEvent.objects.filter(action="requests.case.claimed").count() == 1


def test_two_coordinators_claiming_at_once_do_not_take_over_silently(client, patient, coordinator):
    case = _sent(patient)
    other = UserFactory(role="coordinator", email="second@example.com")
    services.case_claim(actor=other, case_ref=case.uuid, expected_manager_id=0, start_triage=True)
    client.force_login(coordinator)
    response = client.post(
        reverse("requests_app:staff_case_claim", args=[case.uuid]),
        {"expected_manager": "0", "start_triage": "on"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "manages this case now" in html
    case.refresh_from_db()
    assert case.case_manager == other
    # The page is shown again for the manager there is now: a reason takes it over.
    assert f'name="expected_manager" value="{other.pk}"' in html
    client.post(
        reverse("requests_app:staff_case_claim", args=[case.uuid]),
        {"expected_manager": str(other.pk), "reason": "Swapping with Omar"},
    )
    case.refresh_from_db()
    assert case.case_manager == coordinator


def test_taking_over_asks_for_a_reason_and_tells_the_displaced_manager(
    client, patient, coordinator
):
    other = UserFactory(role="coordinator", email="second@example.com", full_name="Omar Other")
    case = _sent(patient, status="triage", case_manager=other)
    client.force_login(coordinator)
    url = reverse("requests_app:staff_case_claim", args=[case.uuid])
    page = client.get(reverse("requests_app:staff_case", args=[case.uuid])).content.decode()
    assert "Omar Other manages this case." in page and "Why are you taking it over?" in page

    refused = client.post(url, {"expected_manager": str(other.pk), "reason": " "})
    assert refused.status_code == 400
    assert "Say why you are taking it over" in refused.content.decode()
    assert Case.objects.get(pk=case.pk).case_manager == other

    data = {"expected_manager": str(other.pk), "reason": "Omar is on leave this week"}
    assert client.post(url, data).status_code == 302
    client.post(url, data)  # a double submit
    case.refresh_from_db()
    assert case.case_manager == coordinator
    change = case.manager_changes.get()
    assert (change.old_manager, change.actor, change.reason) == (
        other,
        coordinator,
        "Omar is on leave this week",
    )
    told = Notification.objects.filter(recipient=other, title__contains="took over")
    assert told.count() == 1
    assert told.get().url == reverse("requests_app:staff_case", args=[case.uuid])
    staff_page = client.get(reverse("requests_app:staff_case", args=[case.uuid])).content
    assert b"Cora Coordinator took over as case manager from Omar Other." in staff_page
    assert b"Omar is on leave this week" in staff_page

    # The patient's timeline does not show the care team's reason.
    client.force_login(patient)
    mine = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content
    assert b"on leave" not in mine and b"took over" not in mine


def test_the_case_page_opens_with_the_summary_strip(client, patient, coordinator):
    from tests.records.factories import RecordFactory

    case = _sent(
        patient,
        status="triage",
        urgency="urgent",
        case_manager=coordinator,
        due_at=timezone.now() + datetime.timedelta(days=2, hours=3),
    )
    RecordFactory(case=case)
    RecordFactory(case=case, state="scanning")
    client.force_login(coordinator)
    response = client.get(reverse("requests_app:staff_case", args=[case.uuid]))
    html = response.content.decode()
    strip = html[
        html.index('class="case-strip"') : html.index(
            "</section>", html.index('class="case-strip"')
        )
    ]
    assert re.search(r"2\xa0days, [23]\xa0hours left", strip)
    for expected in (
        case.reference,
        "Urgent",
        "Medical Oncology",
        "New York",
        "Early-stage breast cancer",
        "A written opinion only",
        "1 checked, 1 being checked",
        "Confirmed by the patient",
        "$750.00 (USD)",
        "You",
    ):
        assert expected in strip, expected
    # The strip comes before anything to do, and the answers stand in two columns.
    assert html.index('class="case-strip"') < html.index('id="actions-title"')
    assert 'class="answers-columns"' in html


# The case manager's page of a case in review: a change here is a change to weigh.
STAFF_CASE_QUERIES = 16


def test_the_staff_case_page_runs_as_many_queries_for_50_questions_and_events_as_for_1(
    client, patient, coordinator
):
    case = _sent(patient, status="in_review", case_manager=coordinator)
    client.force_login(coordinator)

    def grow(n):  # n questions, n timeline events
        while case.questions.count() < n:
            case.questions.create(position=case.questions.count() + 1, text="A question")
        while case.events.count() < n:
            CaseEvent.objects.create(
                case=case, actor=coordinator, old_status="triage", new_status="in_review"
            )

    url = reverse("requests_app:staff_case", args=[case.uuid])
    assert assert_constant_queries(client, lambda n: url, grow) == STAFF_CASE_QUERIES
