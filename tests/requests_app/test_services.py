import datetime

import pytest
from django.core import mail
from django.http import Http404
from django.utils import timezone

from requests_app import services
from requests_app.models import Case, CaseAmendment, CaseEvent, CaseSection, CaseStatus
from requests_app.notices import AMENDED, OVERDUE, SUBMITTED, WITHDRAWN
from requests_app.workflow import TransitionError
from secondop.audit.models import AuditEvent
from secondop.notifications.models import Notification
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db


def _save(case, actor, section, data, complete=False):
    return services.case_section_save(
        actor=actor, case_ref=case.uuid, section=section, data=data, complete=complete
    )


def _submit(patient, **fields):
    return services.case_submit(
        actor=patient, case_ref=CaseFactory(owner=patient, complete=True, **fields).uuid
    )


def test_a_section_saves_on_its_own_and_remembers_its_state(patient):
    case = services.case_start(actor=patient)
    case, changed = _save(case, patient, "diagnosis", {"diagnosis": "Migraine"})
    assert changed and case.diagnosis == "Migraine"
    assert CaseSection.objects.get(case=case, section="diagnosis").state == "in_progress"


def test_asking_to_complete_a_section_obeys_its_completeness_rule(patient):
    case = services.case_start(actor=patient)
    _save(case, patient, "treatment", {"proposed_treatment": "Surgery"}, complete=True)
    assert CaseSection.objects.get(case=case, section="treatment").state == "in_progress"
    _save(case, patient, "treatment", {"treatment_started": "no"}, complete=True)
    assert CaseSection.objects.get(case=case, section="treatment").state == "completed"


def test_two_tabs_saving_different_sections_keep_both(patient):
    case = services.case_start(actor=patient)
    _save(case, patient, "diagnosis", {"diagnosis": "Migraine"})
    _save(case, patient, "treatment", {"proposed_treatment": "Beta blockers"})
    case.refresh_from_db()
    assert (case.diagnosis, case.proposed_treatment) == ("Migraine", "Beta blockers")


def test_changing_who_the_request_is_for_forgets_the_last_persons_name_and_birth(patient):
    case = services.case_start(actor=patient)
    _save(case, patient, "who", {"relationship": "self"}, complete=True)
    _save(case, patient, "about", {"patient_dob": datetime.date(1980, 3, 27)})
    case.refresh_from_db()
    assert case.patient_name == patient.full_name
    case, _changed = _save(case, patient, "who", {"relationship": "parent", "patient_name": ""})
    assert case.patient_name == "" and case.patient_dob is None
    assert CaseSection.objects.get(case=case, section="about").state == "in_progress"


def test_the_reasons_section_keeps_concerns_and_questions(patient):
    case = services.case_start(actor=patient)
    _save(
        case,
        patient,
        "reasons",
        {
            "reasons": ["peace_of_mind"],
            "concerns": "What it means for my children",
            "questions": ["Is it cancer?", "Do I need surgery?"],
        },
        complete=True,
    )
    case.refresh_from_db()
    assert case.concerns == "What it means for my children"
    assert list(case.questions.values_list("text", flat=True)) == [
        "Is it cancer?",
        "Do I need surgery?",
    ]
    assert CaseSection.objects.get(case=case, section="reasons").state == "completed"


def test_submit_gives_a_reference_a_due_date_and_tells_the_coordinators(
    patient, coordinator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case = _submit(patient)
    assert case.reference == f"SO-{timezone.now().year}-000001"
    assert case.status == CaseStatus.SUBMITTED
    assert case.urgency == "routine"
    assert (case.due_at - case.submitted_at).days == 7
    note = Notification.objects.get(recipient=coordinator)
    assert note.kind == SUBMITTED and note.reference == case.reference
    assert note.delivered_at is not None
    assert Notification.objects.get(recipient=patient).kind == SUBMITTED  # the receipt
    assert {tuple(m.to) for m in mail.outbox} == {(coordinator.email,), (patient.email,)}
    assert all("breast" not in m.body.lower() for m in mail.outbox)


def test_a_treatment_within_14_days_makes_it_urgent(patient):
    case = _submit(patient, treatment_date=timezone.localdate() + datetime.timedelta(days=10))
    assert case.urgency == "urgent"
    assert (case.due_at - case.submitted_at).days == 3


def test_a_treatment_date_moved_closer_after_sending_makes_it_urgent(patient):
    case = _submit(patient)
    soon = timezone.localdate() + datetime.timedelta(days=5)
    case, _changed = _save(
        case,
        patient,
        "treatment",
        {"proposed_treatment": "Mastectomy", "treatment_started": "no", "treatment_date": soon},
    )
    assert case.urgency == "urgent"
    assert (case.due_at - case.submitted_at).days == 3


def test_references_count_up(patient):
    first, second = _submit(patient), _submit(patient)
    assert int(second.reference[-6:]) == int(first.reference[-6:]) + 1


def test_a_second_submit_does_nothing_twice(patient, coordinator):
    case = CaseFactory(owner=patient, complete=True)
    services.case_submit(actor=patient, case_ref=case.uuid)
    again = services.case_submit(actor=patient, case_ref=case.uuid)
    assert again.reference.endswith("000001")
    assert CaseEvent.objects.filter(case=case).count() == 1
    assert Notification.objects.filter(recipient=coordinator).count() == 1


def test_submit_is_refused_with_what_is_missing(patient):
    case = services.case_start(actor=patient)
    with pytest.raises(services.IncompleteRequest) as error:
        services.case_submit(actor=patient, case_ref=case.uuid)
    assert [s.key for s in error.value.missing][:2] == ["who", "about"]
    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFT and case.reference is None


def test_a_change_after_submit_is_a_logged_amendment_that_tells_the_care_team(patient, coordinator):
    case = _submit(patient)
    _save(
        case,
        patient,
        "diagnosis",
        {"diagnosis": "Stage 2 breast cancer", "diagnosed_on": datetime.date(2026, 10, 1)},
    )
    amendment = CaseAmendment.objects.get(case=case)
    assert amendment.old_values == {"diagnosis": "Early-stage breast cancer"}  # as people read it
    assert amendment.new_values == {"diagnosis": "Stage 2 breast cancer"}
    assert AuditEvent.objects.filter(action="requests.case.amended").exists()
    note = Notification.objects.get(recipient=coordinator, kind=AMENDED)
    assert case.reference in note.title


def test_after_submit_a_section_cannot_be_left_incomplete(patient):
    case = _submit(patient)
    with pytest.raises(TransitionError):
        _save(case, patient, "about", {"patient_phone": ""})
    case.refresh_from_db()
    assert case.patient_phone == "212 555 0123"  # nothing half-written


def test_withdraw_needs_a_reason_and_closes_the_case(patient, coordinator):
    case = _submit(patient)
    with pytest.raises(TransitionError):
        services.case_withdraw(actor=patient, case_ref=case.uuid, reason="")
    case = services.case_withdraw(actor=patient, case_ref=case.uuid, reason="Decided on surgery")
    assert case.status == CaseStatus.WITHDRAWN
    assert CaseEvent.objects.filter(
        case=case, new_status="withdrawn", reason="Decided on surgery"
    ).exists()
    assert Notification.objects.filter(recipient=coordinator, kind=WITHDRAWN).exists()


def test_a_closed_request_cannot_be_changed(patient):
    case = CaseFactory(owner=patient, withdrawn=True)
    with pytest.raises(TransitionError, match="closed"):
        _save(case, patient, "diagnosis", {"diagnosis": "x"})


# --- Outsiders: every service called with another person's case is a 404 -------------
# A coordinator sees sent requests (not drafts): their refusal is the role check below.
@pytest.mark.parametrize(
    ("who", "stage"),
    [
        (who, stage)
        for who in ("outsider", "specialist", "admin_user")
        for stage in ("complete", "submitted")
    ]
    + [("coordinator", "complete")],
)
def test_every_service_is_a_404_for_someone_who_cannot_see_the_case(request, patient, stage, who):
    actor = request.getfixturevalue(who)
    case = CaseFactory(owner=patient, **{stage: True})
    calls = [
        lambda: services.case_submit(actor=actor, case_ref=case.uuid),
        lambda: services.case_withdraw(actor=actor, case_ref=case.uuid, reason="x"),
        lambda: _save(case, actor, "diagnosis", {"diagnosis": "Changed by someone else"}),
    ]
    for call in calls:
        with pytest.raises(Http404):
            call()
    case.refresh_from_db()
    assert case.diagnosis == "Early-stage breast cancer"
    assert case.status == ("submitted" if stage == "submitted" else "draft")


def test_a_coordinator_who_sees_a_case_still_cannot_change_the_patients_answers(
    patient, coordinator
):
    case = CaseFactory(owner=patient, submitted=True)
    with pytest.raises(TransitionError, match="patient's own account"):
        _save(case, coordinator, "diagnosis", {"diagnosis": "Changed"})
    with pytest.raises(TransitionError, match="not allowed"):
        services.case_withdraw(actor=coordinator, case_ref=case.uuid, reason="x")
    assert Case.objects.get(pk=case.pk).diagnosis == "Early-stage breast cancer"


def test_an_overdue_case_is_flagged_once_and_its_manager_told(patient, coordinator, specialist):
    from requests_app.tasks import cases_flag_overdue

    late = CaseFactory(
        owner=patient,
        submitted=True,
        status="in_review",
        specialist=specialist,
        case_manager=coordinator,
        due_at=timezone.now() - datetime.timedelta(hours=1),
    )
    CaseFactory(owner=patient, submitted=True)  # due next week
    CaseFactory(owner=patient, withdrawn=True, due_at=timezone.now() - datetime.timedelta(1))
    assert cases_flag_overdue() == 1
    assert cases_flag_overdue() == 0  # once
    told = set(Notification.objects.filter(kind=OVERDUE).values_list("recipient__email", flat=True))
    assert told == {coordinator.email, specialist.email}
    late.refresh_from_db()
    assert late.overdue_flagged_at is not None


def test_the_patients_state_sets_the_zone_they_read_times_in(patient):
    case = CaseFactory(owner=patient, complete=True)
    data = {
        "patient_dob": datetime.date(1970, 5, 17),
        "patient_sex": "female",
        "patient_phone": "415 555 0100",
        "patient_state": "CA",
        "preferred_language": "English",
        "interpreter_needed": False,
        "accessibility_needs": "",
    }
    services.case_section_save(
        actor=patient, case_ref=case.uuid, section="about", data=data, complete=True
    )
    patient.refresh_from_db()
    assert patient.time_zone == "America/Los_Angeles"
    event = AuditEvent.objects.get(action="accounts.user.time_zone_changed")
    assert event.new_values == {"time_zone": "America/Los_Angeles"}
