"""The coordinator's queue, claiming a case, and the moves made from its page."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from requests_app import services
from requests_app.models import Case, CaseEvent, CaseStatus
from secondop.audit.models import AccessLog, AuditEvent
from secondop.notifications.models import Kind, Notification
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


@pytest.mark.parametrize(("filters", "expected"), [
    ({"status": "awaiting_records"}, ["waiting"]),
    ({"waiting": "on"}, ["waiting"]),
    ({"urgency": "urgent"}, ["urgent"]),
    ({"overdue": "on"}, ["late"]),
    ({"due_soon": "on"}, ["urgent"]),
    ({"mine": "on"}, ["mine"]),
    ({"unassigned": "on"}, ["waiting", "urgent", "late", "mine"]),
    ({"q": "Zelda"}, ["mine"]),
    ({"q": "zel"}, ["mine"]),
])
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
        _sent(patient, due_at=now + datetime.timedelta(days=days),
              urgency="urgent" if days == 29 else "routine")
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
    return client.post(reverse("requests_app:staff_case_move", args=[case.uuid]),
                       {"to_status": to, "reason": reason})


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
    assert Notification.objects.filter(recipient=patient, kind=Kind.RECORDS_REQUESTED).exists()
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


def test_a_case_waiting_for_records_goes_back_to_where_it_came_from(client, patient,
                                                                     coordinator):
    from_review = _sent(patient, status="awaiting_records")
    CaseEvent.objects.create(case=from_review, old_status="in_review",
                             new_status="awaiting_records", reason="Your scans")
    from_triage = _sent(patient, status="awaiting_records")
    CaseEvent.objects.create(case=from_triage, old_status="triage",
                             new_status="awaiting_records", reason="Your scans")
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
    assert Notification.objects.filter(recipient=patient, kind=Kind.CANCELLED).exists()


def test_specialists_see_the_case_but_no_coordinator_actions(client, patient, specialist):
    case = _sent(patient, status="in_review", specialist=specialist)
    client.force_login(specialist)
    html = client.get(reverse("requests_app:staff_case", args=[case.uuid])).content.decode()
    assert "Early-stage breast cancer" in html and "Start triage" not in html
    assert _move(client, case, "cancelled", "x").status_code == 404
    assert Case.objects.get(pk=case.pk).status == "in_review"


# --- Insurance ----------------------------------------------------------------------------
def test_the_insurance_check_is_saved_audited_and_shown_to_the_patient(client, patient,
                                                                       coordinator):
    case = _sent(patient, status="triage")
    client.force_login(coordinator)
    url = reverse("requests_app:staff_case_insurance", args=[case.uuid])
    response = client.post(url, {"fee_quoted": "-5"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose what the check found" in html and "cannot be negative" in html
    client.post(url, {"insurance_status": "covered", "fee_quoted": "40.00",
                      "insurance_note": "Your plan covers it; your co-pay is $40."})
    case.refresh_from_db()
    assert (case.insurance_status, case.fee_quoted) == ("covered", Decimal("40.00"))
    assert AuditEvent.objects.filter(action="requests.case.insurance_checked").exists()
    client.force_login(patient)
    html = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    assert "Your plan covers it; your co-pay is $40." in html and "40.00" in html
