"""records.services.record_requests: asking the patient for a record."""

from unittest import mock

import pytest
from django.http import Http404

from records import services
from records.models import RecordRequest, State
from requests_app.models import CaseStatus
from requests_app.notices import RECORDS_RECEIVED, RECORDS_REQUESTED
from secondop.notifications.models import Notification
from tests.records.factories import RecordFactory, RecordRequestFactory
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db


# --- Record requests ----------------------------------------------------------------------------
@pytest.fixture
def managed(case, coordinator):
    case.status, case.case_manager = CaseStatus.TRIAGE, coordinator
    case.save()
    return case


def test_a_request_makes_the_case_wait_and_tells_the_patient(managed, coordinator, patient):
    asked = services.record_request_create(
        actor=coordinator,
        case_ref=managed.uuid,
        note="Your biopsy pathology report from March",
        category="pathology",
    )
    managed.refresh_from_db()
    assert managed.status == CaseStatus.AWAITING_RECORDS and asked.return_to == CaseStatus.TRIAGE
    notice = Notification.objects.get(recipient=patient, kind=RECORDS_REQUESTED)
    assert "pathology" not in notice.title.lower()


def test_a_verified_upload_against_it_closes_it_and_returns_the_case(managed, coordinator, patient):
    asked = services.record_request_create(
        actor=coordinator, case_ref=managed.uuid, note="Your biopsy report"
    )
    record = RecordFactory(case=managed, state="scanning", answers=asked)
    report = mock.Mock(
        ok=True,
        kind="pdf",
        mime="application/pdf",
        sha256="a" * 64,
        reason=None,
        dicom=None,
        health=None,
    )
    services.record_verified(
        record_id=record.pk, reports={record.files.get().uuid: report}, summary=None, thumbnails={}
    )
    asked.refresh_from_db()
    managed.refresh_from_db()
    assert asked.fulfilled_at is not None
    assert managed.status == CaseStatus.TRIAGE
    assert Notification.objects.filter(recipient=coordinator, kind=RECORDS_RECEIVED).exists()


def test_a_specialists_request_returns_the_case_to_review(patient, specialist):
    case = CaseFactory(
        owner=patient, submitted=True, status=CaseStatus.IN_REVIEW, specialist=specialist
    )
    asked = services.record_request_create(
        actor=specialist, case_ref=case.uuid, note="The CT from June"
    )
    second = services.record_request_create(
        actor=specialist, case_ref=case.uuid, note="Your latest blood tests"
    )
    assert second.return_to == CaseStatus.IN_REVIEW
    report = mock.Mock(
        ok=True, kind="pdf", mime="application/pdf", reason=None, dicom=None, health=None
    )
    for n, request_ in enumerate((asked, second)):
        record = RecordFactory(case=case, state="scanning", answers=request_)
        report.sha256 = str(n) * 64
        services.record_verified(
            record_id=record.pk,
            reports={record.files.get().uuid: report},
            summary=None,
            thumbnails={},
        )
        case.refresh_from_db()
        expected = CaseStatus.AWAITING_RECORDS if n == 0 else CaseStatus.IN_REVIEW
        assert case.status == expected


def test_only_the_case_manager_or_assigned_specialist_can_ask(case, patient, specialist, outsider):
    case.status = CaseStatus.TRIAGE
    case.save()
    for person in (patient, specialist, outsider):
        with pytest.raises(Http404):
            services.record_request_create(actor=person, case_ref=case.uuid, note="x")


def test_a_request_needs_a_note(managed, coordinator):
    with pytest.raises(services.RecordError) as refused:
        services.record_request_create(actor=coordinator, case_ref=managed.uuid, note="  ")
    assert "Say what is needed" in refused.value.errors["note"][0]
    assert not RecordRequest.objects.exists()


def test_withdrawing_the_last_request_returns_the_case(managed, coordinator):
    asked = services.record_request_create(actor=coordinator, case_ref=managed.uuid, note="CT")
    services.record_request_cancel(actor=coordinator, request_ref=asked.uuid)
    managed.refresh_from_db()
    assert managed.status == CaseStatus.TRIAGE


def test_a_rejected_upload_does_not_close_the_request(managed, coordinator, patient):
    asked = RecordRequestFactory(case=managed, requested_by=coordinator)
    managed.status = CaseStatus.AWAITING_RECORDS
    managed.save()
    record = RecordFactory(case=managed, state="scanning", answers=asked)
    report = mock.Mock(
        ok=False,
        kind="pdf",
        mime="text/html",
        sha256="b" * 64,
        reason="mismatch",
        dicom=None,
        health=None,
    )
    services.record_verified(
        record_id=record.pk, reports={record.files.get().uuid: report}, summary=None, thumbnails={}
    )
    asked.refresh_from_db()
    record.refresh_from_db()
    assert asked.is_open and record.state == State.REJECTED
    assert Notification.objects.filter(
        recipient=patient, title__contains="could not be accepted"
    ).exists()


def test_a_second_request_returns_the_case_to_review_when_it_came_from_review(
    patient, specialist, coordinator
):
    from requests_app.workflow import case_transition

    case = CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        specialist=specialist,
        case_manager=coordinator,
    )
    case_transition(
        actor=coordinator,
        ref=case.uuid,
        to_status=CaseStatus.AWAITING_RECORDS,
        reason="The CT from June",
    )
    asked = services.record_request_create(
        actor=specialist, case_ref=case.uuid, note="Your latest blood tests"
    )
    assert asked.return_to == CaseStatus.IN_REVIEW
