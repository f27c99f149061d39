import pytest

from requests_app.models import Case, CaseEvent, CaseStatus
from requests_app.workflow import TRANSITIONS, TransitionError, allowed_transitions, case_transition
from secondop.audit.models import AuditEvent

pytestmark = pytest.mark.django_db
S = CaseStatus


def _case(owner, status=S.IN_REVIEW):
    fields = {} if status == S.DRAFT else {"reference": f"SO-T-{Case.objects.count() + 1}",
                                           "submitted_at": "2026-11-01T10:00Z"}
    return Case.objects.create(owner=owner, status=status, **fields)


def test_an_allowed_move_writes_the_timeline_and_the_audit_log(patient):
    case = _case(patient)
    result = case_transition(case_id=case.pk, actor=patient, to_status=S.WITHDRAWN,
                             reason="I have decided on my treatment")
    assert result.changed
    case.refresh_from_db()
    assert case.status == S.WITHDRAWN and case.closed_at is not None
    event = CaseEvent.objects.get(case=case)
    assert (event.old_status, event.new_status, event.actor) == (S.IN_REVIEW, S.WITHDRAWN, patient)
    assert AuditEvent.objects.filter(action="requests.case.withdrawn", object_id=str(case.pk)).exists()


def test_a_repeat_is_a_no_op(patient):
    case = _case(patient, S.WITHDRAWN)
    result = case_transition(case_id=case.pk, actor=patient, to_status=S.WITHDRAWN)
    assert not result.changed
    assert CaseEvent.objects.count() == 0


def test_a_move_not_in_the_table_is_refused(coordinator, patient):
    case = _case(patient, S.SUBMITTED)
    with pytest.raises(TransitionError, match="cannot become"):
        case_transition(case_id=case.pk, actor=coordinator, to_status=S.DELIVERED)
    case.refresh_from_db()
    assert case.status == S.SUBMITTED


def test_a_role_not_allowed_is_refused(patient):
    case = _case(patient, S.SUBMITTED)
    with pytest.raises(TransitionError, match="not allowed"):
        case_transition(case_id=case.pk, actor=patient, to_status=S.TRIAGE)


def test_withdraw_and_cancel_need_a_reason(patient, coordinator):
    case = _case(patient)
    with pytest.raises(TransitionError, match="reason"):
        case_transition(case_id=case.pk, actor=patient, to_status=S.WITHDRAWN, reason="  ")
    with pytest.raises(TransitionError, match="reason"):
        case_transition(case_id=case.pk, actor=coordinator, to_status=S.CANCELLED)


def _give_reference(case, event):
    from django.utils import timezone

    case.reference, case.submitted_at = f"SO-T-{case.pk}", timezone.now()
    return ["reference", "submitted_at"]


@pytest.mark.parametrize(("frm", "to"), sorted(TRANSITIONS))
def test_every_move_in_the_table_works_for_its_roles_and_no_other(frm, to, request):
    users = {r: request.getfixturevalue(f) for r, f in
             [("patient", "patient"), ("coordinator", "coordinator"),
              ("specialist", "specialist"), ("admin", "admin_user")]}
    for role, user in users.items():
        case = _case(users["patient"], frm)
        if role in TRANSITIONS[(frm, to)]:
            assert to in allowed_transitions(case=case, role=role)
            case_transition(case_id=case.pk, actor=user, to_status=to, reason="because",
                            on_change=_give_reference if to == S.SUBMITTED else None)
            case.refresh_from_db()
            assert case.status == to
        else:
            with pytest.raises(TransitionError):
                case_transition(case_id=case.pk, actor=user, to_status=to, reason="because")
