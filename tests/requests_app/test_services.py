import datetime

import pytest
from django.core import mail
from django.utils import timezone

from requests_app import services
from requests_app.forms import AboutForm, DiagnosisForm, TreatmentForm
from requests_app.models import CaseAmendment, CaseEvent, CaseSection, CaseStatus
from requests_app.workflow import TransitionError
from secondop.audit.models import AuditEvent
from secondop.notifications.models import Kind, Notification
from tests.requests_app.factories import complete_case

pytestmark = pytest.mark.django_db


def test_a_section_saves_on_its_own_and_remembers_its_state(patient):
    case = services.case_start(actor=patient)
    form = DiagnosisForm({"diagnosis": "Migraine"}, case=case, complete=False)
    assert form.is_valid()
    services.case_section_save(case_id=case.pk, actor=patient, section="diagnosis", form=form)
    case.refresh_from_db()
    assert case.diagnosis == "Migraine"
    assert CaseSection.objects.get(case=case, section="diagnosis").state == "in_progress"


def test_two_tabs_saving_different_sections_keep_both(patient):
    case = services.case_start(actor=patient)
    stale = type(case).objects.get(pk=case.pk)  # the second tab loaded before the first saved
    form = DiagnosisForm({"diagnosis": "Migraine"}, case=case, complete=False)
    assert form.is_valid()
    services.case_section_save(case_id=case.pk, actor=patient, section="diagnosis", form=form)
    form = TreatmentForm({"proposed_treatment": "Beta blockers", "treatment_started": "no"},
                         case=stale, complete=True)
    assert form.is_valid()
    services.case_section_save(case_id=case.pk, actor=patient, section="treatment", form=form)
    case.refresh_from_db()
    assert case.diagnosis == "Migraine"
    assert case.proposed_treatment == "Beta blockers"


def test_submit_gives_a_reference_a_due_date_and_tells_the_coordinators(
    patient, coordinator, django_capture_on_commit_callbacks
):
    case = complete_case(patient)
    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_submit(case_id=case.pk, actor=patient)
    year = timezone.now().year
    assert case.reference == f"SO-{year}-000001"
    assert case.status == CaseStatus.SUBMITTED
    assert case.urgency == "routine"
    assert (case.due_at - case.submitted_at).days == 7
    note = Notification.objects.get(recipient=coordinator)
    assert note.kind == Kind.NEW_CASE and note.reference == case.reference
    assert note.delivered_at is not None
    assert {tuple(m.to) for m in mail.outbox} == {(coordinator.email,), (patient.email,)}
    assert all("breast" not in m.body.lower() for m in mail.outbox)


def test_a_treatment_within_14_days_makes_it_urgent(patient):
    soon = timezone.localdate() + datetime.timedelta(days=10)
    case = services.case_submit(case_id=complete_case(patient, treatment_date=soon).pk,
                                actor=patient)
    assert case.urgency == "urgent"
    assert (case.due_at - case.submitted_at).days == 3


def test_references_count_up(patient):
    first = services.case_submit(case_id=complete_case(patient).pk, actor=patient)
    second = services.case_submit(case_id=complete_case(patient).pk, actor=patient)
    assert int(second.reference[-6:]) == int(first.reference[-6:]) + 1


def test_a_second_submit_does_nothing_twice(patient, coordinator):
    case = complete_case(patient)
    services.case_submit(case_id=case.pk, actor=patient)
    again = services.case_submit(case_id=case.pk, actor=patient)
    assert again.reference.endswith("000001")
    assert CaseEvent.objects.filter(case=case).count() == 1
    assert Notification.objects.filter(recipient=coordinator).count() == 1


def test_submit_is_refused_with_what_is_missing(patient):
    case = services.case_start(actor=patient)
    with pytest.raises(services.IncompleteRequest) as error:
        services.case_submit(case_id=case.pk, actor=patient)
    assert [s.key for s in error.value.missing][:2] == ["who", "about"]
    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFT and case.reference is None


def test_a_change_after_submit_is_a_logged_amendment(patient, coordinator):
    case = services.case_submit(case_id=complete_case(patient).pk, actor=patient)
    form = DiagnosisForm({"diagnosis": "Stage 2 breast cancer", "diagnosed_on": "2026-10-01"},
                         case=case, complete=True)
    assert form.is_valid()
    services.case_section_save(case_id=case.pk, actor=patient, section="diagnosis", form=form)
    amendment = CaseAmendment.objects.get(case=case)
    assert amendment.old_values == {"diagnosis": "Early-stage breast cancer"}  # as people read it
    assert amendment.new_values == {"diagnosis": "Stage 2 breast cancer"}
    assert AuditEvent.objects.filter(action="requests.case.amended").exists()
    assert Notification.objects.filter(recipient=coordinator, title__contains="amended").exists()


def test_after_submit_a_section_cannot_be_left_incomplete(patient):
    case = services.case_submit(case_id=complete_case(patient).pk, actor=patient)
    form = AboutForm({}, case=case, complete=False)
    assert form.is_valid()
    with pytest.raises(TransitionError):
        services.case_section_save(case_id=case.pk, actor=patient, section="about", form=form)


def test_withdraw_needs_a_reason_and_closes_the_case(patient):
    case = services.case_submit(case_id=complete_case(patient).pk, actor=patient)
    with pytest.raises(TransitionError):
        services.case_withdraw(case_id=case.pk, actor=patient, reason="")
    case = services.case_withdraw(case_id=case.pk, actor=patient, reason="Decided on surgery")
    assert case.status == CaseStatus.WITHDRAWN
    assert CaseEvent.objects.filter(case=case, new_status="withdrawn",
                                    reason="Decided on surgery").exists()


def test_nobody_else_can_save_or_submit(patient, outsider):
    case = complete_case(patient)
    with pytest.raises(type(case).DoesNotExist):
        services.case_submit(case_id=case.pk, actor=outsider)
