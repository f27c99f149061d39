import pytest
from django.http import Http404

from requests_app.models import CaseEvent, CaseStatus
from requests_app.progress import STATUS_TEXT, describe
from requests_app.workflow import (
    CASE_MANAGER,
    COORDINATORS,
    NOTICES,
    OWNER,
    SPECIALIST_ASSIGNED,
    SPECIALIST_OFFERED,
    TRANSITIONS,
    TransitionError,
    allowed_transitions,
    case_transition,
)
from secondop.audit.models import AuditEvent
from secondop.notifications.models import Notification
from tests.accounts.factories import UserFactory
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db
S = CaseStatus


def _case(owner, status=S.IN_REVIEW, **fields):
    if status == S.DRAFT:
        return CaseFactory(owner=owner, **fields)
    return CaseFactory(owner=owner, submitted=True, status=status, **fields)


def test_an_allowed_move_writes_the_timeline_and_the_audit_log(patient):
    case = _case(patient)
    result = case_transition(
        ref=case.uuid, actor=patient, to_status=S.WITHDRAWN, reason="I have decided on my treatment"
    )
    assert result.changed
    case.refresh_from_db()
    assert case.status == S.WITHDRAWN and case.closed_at is not None
    event = CaseEvent.objects.get(case=case)
    assert (event.old_status, event.new_status, event.actor) == (S.IN_REVIEW, S.WITHDRAWN, patient)
    assert AuditEvent.objects.filter(
        action="requests.case.withdrawn", object_id=str(case.pk)
    ).exists()


def test_a_repeat_is_a_no_op(patient):
    case = _case(patient, S.WITHDRAWN)
    result = case_transition(ref=case.uuid, actor=patient, to_status=S.WITHDRAWN)
    assert not result.changed
    assert CaseEvent.objects.count() == 0


def test_a_move_not_in_the_table_is_refused(coordinator, patient):
    case = _case(patient, S.SUBMITTED)
    with pytest.raises(TransitionError, match="cannot become"):
        case_transition(ref=case.uuid, actor=coordinator, to_status=S.DELIVERED)
    case.refresh_from_db()
    assert case.status == S.SUBMITTED


def test_a_role_not_allowed_is_refused(patient):
    case = _case(patient, S.SUBMITTED)
    with pytest.raises(TransitionError, match="not allowed"):
        case_transition(ref=case.uuid, actor=patient, to_status=S.TRIAGE)


def test_withdraw_and_cancel_need_a_reason(patient, coordinator):
    case = _case(patient)
    with pytest.raises(TransitionError, match="reason"):
        case_transition(ref=case.uuid, actor=patient, to_status=S.WITHDRAWN, reason="  ")
    with pytest.raises(TransitionError, match="reason"):
        case_transition(ref=case.uuid, actor=coordinator, to_status=S.CANCELLED)


# --- Access: the case is loaded through the rule --------------------------------------
def test_another_patient_cannot_move_a_case_by_its_id(patient, outsider):
    case = _case(patient, S.AWAITING_RECORDS)
    with pytest.raises(Http404):
        case_transition(ref=case.uuid, actor=outsider, to_status=S.TRIAGE)
    case.refresh_from_db()
    assert case.status == S.AWAITING_RECORDS


def test_a_specialist_cannot_move_a_case_not_assigned_to_them(patient, specialist):
    case = _case(patient, S.OFFERED)
    with pytest.raises(Http404):
        case_transition(ref=case.uuid, actor=specialist, to_status=S.IN_REVIEW)
    mine = _case(patient, S.OFFERED, specialist=specialist)
    assert case_transition(ref=mine.uuid, actor=specialist, to_status=S.IN_REVIEW).changed


def test_an_administrator_moves_no_case(patient, admin_user):
    case = _case(patient, S.SUBMITTED)
    with pytest.raises(Http404):
        case_transition(ref=case.uuid, actor=admin_user, to_status=S.TRIAGE)


def _give_reference(case, event):
    from django.utils import timezone

    case.reference, case.submitted_at = f"SO-T-{case.pk}", timezone.now()
    return ["reference", "submitted_at"]


@pytest.mark.parametrize(("frm", "to"), sorted(TRANSITIONS))
def test_every_move_in_the_table_works_for_its_roles_and_no_other(frm, to, request):
    users = {
        r: request.getfixturevalue(f)
        for r, f in [
            ("patient", "patient"),
            ("coordinator", "coordinator"),
            ("specialist", "specialist"),
            ("admin", "admin_user"),
        ]
    }
    for role, user in users.items():
        case = _case(users["patient"], frm, specialist=users["specialist"])
        if role in TRANSITIONS[(frm, to)]:
            assert to in allowed_transitions(case=case, role=role)
            case_transition(
                ref=case.uuid,
                actor=user,
                to_status=to,
                reason="because",
                on_change=_give_reference if to == S.SUBMITTED else None,
            )
            case.refresh_from_db()
            assert case.status == to
        else:
            with pytest.raises((TransitionError, Http404)):
                case_transition(ref=case.uuid, actor=user, to_status=to, reason="because")


# --- Declared side effects --------------------------------------------------------------
def test_every_move_declares_its_notices():
    assert set(NOTICES) == set(TRANSITIONS)


@pytest.mark.parametrize(("frm", "to"), sorted(TRANSITIONS))
def test_every_move_sends_exactly_the_notices_it_declares(frm, to, request):
    patient = request.getfixturevalue("patient")
    specialist = request.getfixturevalue("specialist")
    coordinators = [
        request.getfixturevalue("coordinator"),
        UserFactory(role="coordinator", email="second@example.com"),
    ]
    UserFactory(role="coordinator", email="gone@example.com", is_active=False)
    role = sorted(TRANSITIONS[(frm, to)])[0]
    actor = {"patient": patient, "coordinator": coordinators[0], "specialist": specialist}[role]
    case = _case(patient, frm, specialist=specialist)
    case_transition(
        ref=case.uuid,
        actor=actor,
        to_status=to,
        reason="because",
        on_change=_give_reference if to == S.SUBMITTED else None,
    )

    expected = set()
    for notice in NOTICES[(frm, to)]:
        people = {
            OWNER: [patient],
            COORDINATORS: coordinators,
            CASE_MANAGER: coordinators,  # nobody has claimed it: all of them
            SPECIALIST_ASSIGNED: [specialist],
            SPECIALIST_OFFERED: [],
        }[notice.to]  # offers: tests/specialists
        for person in people:
            if notice.to != OWNER and person == actor:
                continue  # staff are not told of their own moves
            expected.add((person.email, notice.kind))
    sent = set(Notification.objects.values_list("recipient__email", "kind"))
    assert sent == expected
    case.refresh_from_db()
    assert all(case.reference in n.title for n in Notification.objects.all())


def test_a_draft_withdrawn_tells_nobody(patient, coordinator):
    case = _case(patient, S.DRAFT)
    case_transition(ref=case.uuid, actor=patient, to_status=S.WITHDRAWN, reason="Not needed")
    assert not Notification.objects.exists()


# --- Wording ----------------------------------------------------------------------------
def test_every_status_has_its_words():
    assert set(STATUS_TEXT) == set(CaseStatus)
    for status, text in STATUS_TEXT.items():
        assert text.plain and text.event, status
        assert describe(status)["staff_label"] == CaseStatus(status).label


def test_the_tracker_marks_the_current_step_as_in_progress():
    steps = describe(S.TRIAGE)["steps"]
    assert [s.state for s in steps][:3] == ["done", "current", "todo"]
    # What is being checked is the request (records only when some were sent).
    assert steps[1].label == "now: a nurse coordinator is checking your request"
    assert steps[0].label == "Request sent"


def test_the_case_manager_alone_is_told_once_a_case_is_claimed(patient, coordinator, specialist):
    other = UserFactory(role="coordinator", email="other@example.com")
    case = _case(patient, S.OFFERED, specialist=None, case_manager=coordinator)
    from specialists.models import Offer
    from tests.specialists.factories import SpecialistFactory

    profile = SpecialistFactory()
    Offer.objects.create(
        case=case, specialist=profile.user, offered_by=coordinator, deadline="2030-01-01T00:00Z"
    )
    case_transition(ref=case.uuid, actor=profile.user, to_status=S.MATCHING, reason="Busy")
    told = set(Notification.objects.values_list("recipient__email", flat=True))
    assert told == {coordinator.email} and other.email not in told


# --- What each notice says by email ------------------------------------------------------
def _declared_notices():
    from requests_app import workflow

    found = [notice for notices in workflow.NOTICES.values() for notice in notices]
    for name in dir(workflow):
        if name.startswith("NOTICE_"):
            found += list(getattr(workflow, name))
    return found


def test_every_notice_says_in_its_own_words_what_happened_and_what_to_do():
    notices = _declared_notices()
    assert len(notices) > 40
    for notice in notices:
        assert notice.subject and notice.sentence and notice.action, notice.title
        # The words take only the reference (and a notice's own details).
        values = {"ref": "SO-2026-000001", "deadline": "Tuesday 8 December, 9:40 PM"}
        assert "%" not in str(notice.subject) % values
        assert "%" not in str(notice.sentence) % values
    # No subject serves two kinds: a person can tell from the inbox what happened.
    kinds_by_subject = {}
    for notice in notices:
        kinds_by_subject.setdefault(str(notice.subject), set()).add(notice.kind)
    assert {s: k for s, k in kinds_by_subject.items() if len(k) > 1} == {}


def test_a_notice_links_to_the_page_to_act_on(db, patient, coordinator, specialist):
    from requests_app.workflow import NOTICES, case_url_for, notice_url

    case = CaseFactory(owner=patient, submitted=True)
    pages = {}
    for (frm, to), notices in NOTICES.items():
        for notice in notices:
            user = {"owner": patient, "offered": specialist, "specialist": specialist}.get(
                notice.to, coordinator
            )
            pages[(frm, to, notice.to)] = notice_url(case, notice, user, case_url_for)
    assert pages[(S.MATCHING, S.OFFERED, "offered")] == f"/specialist/offers/{case.uuid}/"
    assert pages[(S.REPORT_READY, S.DELIVERED, "owner")] == f"/reports/case/{case.uuid}/"
    assert pages[(S.SUBMITTED, S.TRIAGE, "owner")] == f"/requests/{case.uuid}/"
    assert all(url.startswith("/") for url in pages.values())


def test_send_notices_with_a_calendar_tells_the_actor_too(patient, specialist):
    """Without a calendar staff are not told of their own doing; with one, each
    reader (the actor included) gets the file made out to them."""
    from requests_app.workflow import NOTICE_CONSULTATION_CANCELLED, send_notices
    from secondop.notifications.services import CalendarInvite

    case = _case(patient, specialist=specialist)
    send_notices(case, NOTICE_CONSULTATION_CANCELLED, actor=specialist, url_for=lambda c, u: "/x/")
    assert list(Notification.objects.values_list("recipient", "calendar_ics", "url")) == [
        (patient.pk, "", "/x/")
    ]
    Notification.objects.all().delete()
    send_notices(
        case,
        NOTICE_CONSULTATION_CANCELLED,
        actor=specialist,
        url_for=lambda c, u: "/x/",
        calendar=lambda user: CalendarInvite(ics=f"BEGIN:VCALENDAR {user.pk}", method="CANCEL"),
    )
    rows = Notification.objects.order_by("id").values_list("recipient", "calendar_ics")
    assert list(rows) == [
        (patient.pk, f"BEGIN:VCALENDAR {patient.pk}"),
        (specialist.pk, f"BEGIN:VCALENDAR {specialist.pk}"),
    ]
