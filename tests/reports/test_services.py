"""requests_app.reports.services: the draft, signing and its rules, amendments,
release and return, the PDF task."""

import datetime
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.core.exceptions import PermissionDenied
from django.http import Http404

from requests_app.models import CaseEvent, CaseStatus
from requests_app.reports import codes, services, tasks
from requests_app.reports.models import ReportVersion
from secondop.audit.models import AuditEvent
from secondop.notifications.models import Notification
from secondop.storage import StorageUnavailable
from tests.accounts.factories import UserFactory, enrol_totp
from tests.records.factories import RecordFactory
from tests.reports.factories import (
    ANSWER_1,
    ANSWER_2,
    COMPLETE,
    assigned_case,
    release,
    sign,
    write_draft,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(patient, coordinator, specialist):
    return assigned_case(patient, coordinator, specialist)


# --- The draft ---------------------------------------------------------------------------------
def test_it_starts_the_draft_on_the_first_save_with_the_questions_and_records(case, specialist):
    draft = write_draft(case, specialist)
    assert draft.number == 1 and draft.status == "draft"
    assert [(a.position, a.question_text, a.answer) for a in draft.answers.all()] == [
        (1, "Is surgery my only option?", ANSWER_1),
        (2, "Should anything be done first?", ANSWER_2),
    ]
    assert [r.title for r in draft.reviewed.all()] == ["Core biopsy, left breast"]
    assert AuditEvent.objects.filter(action="reports.version.started").count() == 1


def test_saving_again_changes_the_same_draft(case, specialist):
    first = write_draft(case, specialist)
    second = write_draft(case, specialist, text={"summary": "Rewritten"}, answers={1: "Later"})
    assert second.pk == first.pk and ReportVersion.objects.count() == 1
    second.refresh_from_db()
    assert second.summary == "Rewritten" and second.diagnosis == ""
    # An answer not given keeps what was written.
    assert list(second.answers.values_list("answer", flat=True)) == ["Later", ANSWER_2]


def test_only_checked_records_of_the_case_can_be_ticked(case, specialist):
    waiting = RecordFactory(case=case, state="scanning")
    elsewhere = RecordFactory()
    draft = write_draft(
        case,
        specialist,
        records=[
            str(waiting.uuid),
            str(elsewhere.uuid),
            *[str(r.uuid) for r in case.records.filter(state="verified")],
        ],
    )
    assert [r.record_id for r in draft.reviewed.all()] == [case.records.get(state="verified").pk]


def test_the_attached_pdf_must_be_the_specialists_own_report(case, specialist):
    pathology = case.records.get()
    with pytest.raises(services.ReportError):
        write_draft(case, specialist, attached_record=str(pathology.uuid))
    own = RecordFactory(case=case, category="specialist_report", uploaded_by=specialist)
    assert write_draft(case, specialist, attached_record=str(own.uuid)).attached_record == own


def test_only_the_assigned_specialist_writes(case, coordinator, patient, outsider):
    other = UserFactory(role="specialist")
    enrol_totp(other)
    with pytest.raises(PermissionDenied):
        write_draft(case, coordinator)  # the case manager reads, never writes
    for person in (patient, outsider, other):
        with pytest.raises(Http404):
            write_draft(case, person)


# --- Signing ---------------------------------------------------------------------------------------
def test_signing_locks_the_version_names_the_signer_and_sends_the_case_on(
    case, specialist, django_capture_on_commit_callbacks
):
    write_draft(case, specialist)
    with django_capture_on_commit_callbacks(execute=True):
        version = services.report_sign(actor=specialist, case_ref=case.uuid)
    version.refresh_from_db()
    case.refresh_from_db()
    assert version.status == "signed" and version.signed_at
    assert version.signer_line == "Dr. Spec, MD, PhD"
    assert version.signer_specialties == "Medical Oncology"
    assert codes.normalise(version.verification_code) == version.verification_code
    assert case.status == CaseStatus.REPORT_READY
    # Rendered on commit by the task: stored with its hash.
    assert version.pdf_ready and len(version.pdf_sha256) == 64
    assert version.pdf_key == f"cases/{case.uuid}/reports/{version.uuid}.pdf"
    assert Notification.objects.filter(kind="report_submitted").exists()


def test_a_signed_version_cannot_be_edited(case, specialist):
    version = sign(case, specialist)
    with pytest.raises(services.ReportError, match="amend"):
        write_draft(case, specialist, text={"summary": "Changed after signing"})
    version.refresh_from_db()
    assert version.summary.startswith("Core biopsy") and version.status == "signed"
    with pytest.raises(services.ReportError):
        services.report_sign(actor=specialist, case_ref=case.uuid)


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"diagnosis_opinion": ""}, "diagnosis_opinion", "opinion on the diagnosis"),
        ({"treatment_opinion": ""}, "treatment_opinion", "opinion on the treatment plan"),
        (
            {"text": {"diagnosis": "", "reasons": "Why."}, "diagnosis_opinion": "different"},
            "diagnosis",
            "“A different diagnosis”",
        ),
        (
            {"text": {"diagnosis": "", "reasons": "Why."}, "diagnosis_opinion": "refined"},
            "diagnosis",
            "“Agrees, with a refinement”",
        ),
        (
            {"answers": {1: ANSWER_1, 2: "  "}},
            "answer_2",
            "question 2: “Should anything be done first?”",
        ),
        ({"records": []}, "records", "at least one record"),
    ],
)
def test_signing_says_what_is_missing(case, specialist, overrides, field, words):
    write_draft(case, specialist, **overrides)
    with pytest.raises(services.ReportError) as refused:
        services.report_sign(actor=specialist, case_ref=case.uuid)
    assert [f for f, _m in refused.value.problems] == [field]
    assert words in refused.value.problems[0][1]
    assert CaseEvent.objects.filter(case=case, new_status="report_ready").count() == 0


def test_agreeing_or_undetermined_needs_no_diagnosis_text(case, specialist):
    version = sign(
        case, specialist, diagnosis_opinion="undetermined", text={"summary": "x", "reasons": "y"}
    )
    assert version.status == "signed"


# --- Review: release and return -----------------------------------------------------------------------
def test_release_delivers_the_case_and_tells_the_patient(case, specialist, coordinator, patient):
    sign(case, specialist)
    version = release(case, coordinator)
    case.refresh_from_db()
    assert version.status == "released" and version.released_by == coordinator
    assert case.status == CaseStatus.DELIVERED
    assert Notification.objects.filter(recipient=patient, kind="report_released").exists()
    # A second click changes nothing.
    assert services.report_release(actor=coordinator, version_ref=version.uuid).pk == version.pk


def test_nothing_is_released_before_its_pdf_is_stored(case, specialist, coordinator):
    version = sign(case, specialist, render=False)
    with pytest.raises(services.ReportError, match="being prepared"):
        services.report_release(actor=coordinator, version_ref=version.uuid)
    services.report_pdf_store(version_id=version.pk)
    assert services.report_release(actor=coordinator, version_ref=version.uuid).status == "released"


def test_return_sends_it_back_with_a_comment_the_patient_does_not_read(
    case, specialist, coordinator, patient
):
    version = sign(case, specialist)
    services.report_return(
        actor=coordinator,
        version_ref=version.uuid,
        comment="Please explain the staging in plain words.",
    )
    version.refresh_from_db()
    case.refresh_from_db()
    assert version.status == "returned" and version.return_comment.startswith("Please explain")
    assert case.status == CaseStatus.IN_REVIEW
    draft = ReportVersion.objects.get(report=version.report, status="draft")
    assert draft.number == 2 and draft.summary == version.summary
    assert list(draft.answers.values_list("answer", flat=True)) == [ANSWER_1, ANSWER_2]
    assert Notification.objects.filter(recipient=specialist, kind="report_returned").exists()
    # The comment is for the specialist: the patient's timeline has no reason.
    assert (
        CaseEvent.objects.get(case=case, new_status="in_review", old_status="report_ready").reason
        == ""
    )
    # Signing the new version sends it back to the case manager.
    version_2 = sign(case, specialist, text={**COMPLETE["text"], "summary": "Staging explained."})
    case.refresh_from_db()
    assert version_2.number == 2 and case.status == CaseStatus.REPORT_READY


def test_only_the_case_manager_reviews(case, specialist, coordinator, patient):
    version = sign(case, specialist)
    other = UserFactory(role="coordinator")
    enrol_totp(other)
    with pytest.raises(PermissionDenied):
        services.report_release(actor=specialist, version_ref=version.uuid)
    for person in (other, patient):
        with pytest.raises(Http404):
            services.report_release(actor=person, version_ref=version.uuid)
        with pytest.raises(Http404):
            services.report_return(actor=person, version_ref=version.uuid, comment="x")
    with pytest.raises(services.ReportError, match="Say what"):
        services.report_return(actor=coordinator, version_ref=version.uuid, comment=" ")


# --- Amendments -------------------------------------------------------------------------------------------
def test_an_amendment_keeps_the_old_version_and_marks_it_superseded_on_release(
    case, specialist, coordinator, patient
):
    first = sign(case, specialist)
    release(case, coordinator)
    draft = services.report_amend(
        actor=specialist, case_ref=case.uuid, reason="The second biopsy's pathology arrived."
    )
    assert draft.number == 2 and draft.amendment_reason.startswith("The second biopsy")
    assert draft.summary == first.summary
    second = sign(
        case, specialist, text={**COMPLETE["text"], "summary": "Updated with the second biopsy."}
    )
    first.refresh_from_db()
    assert first.superseded_at is None  # still the patient's report until the amendment is out
    Notification.objects.all().delete()
    second = services.report_release(actor=coordinator, version_ref=second.uuid)
    first.refresh_from_db()
    case.refresh_from_db()
    assert first.status == "released" and first.summary.startswith("Core biopsy")
    assert first.superseded_at == second.released_at and first.superseded_by == second
    assert first.pdf_ready  # still readable and downloadable
    assert case.status == CaseStatus.DELIVERED  # an amendment moves nothing
    told = Notification.objects.get(recipient=patient)
    assert told.kind == "report_released" and "amended" in told.title


def test_amending_asks_for_a_reason_and_waits_for_a_signed_report(case, specialist, coordinator):
    with pytest.raises(services.ReportError, match="no signed report"):
        services.report_amend(actor=specialist, case_ref=case.uuid, reason="x")
    sign(case, specialist)
    with pytest.raises(services.ReportError, match="reason"):
        services.report_amend(actor=specialist, case_ref=case.uuid, reason="  ")
    draft = services.report_amend(actor=specialist, case_ref=case.uuid, reason="Typo")
    # A second click returns the same draft.
    assert services.report_amend(actor=specialist, case_ref=case.uuid, reason="Typo").pk == draft.pk
    with pytest.raises(services.ReportError, match="newer version"):
        services.report_release(
            actor=coordinator, version_ref=ReportVersion.objects.get(number=1).uuid
        )


def test_an_amendment_signed_before_release_goes_to_the_case_manager(case, specialist, coordinator):
    sign(case, specialist)
    services.report_amend(actor=specialist, case_ref=case.uuid, reason="Added the CT")
    Notification.objects.all().delete()
    second = sign(case, specialist)
    case.refresh_from_db()
    assert case.status == CaseStatus.REPORT_READY
    assert Notification.objects.get(recipient=coordinator).title.startswith("An amended report")
    services.report_release(actor=coordinator, version_ref=second.uuid)
    assert ReportVersion.objects.get(number=1).superseded_by == second


# --- The PDF task ------------------------------------------------------------------------------------
def test_storage_down_at_render_retries_and_shows_nothing_half_done(case, specialist):
    version = sign(case, specialist, render=False)
    with (
        mock.patch("secondop.storage.save_bytes", side_effect=StorageUnavailable),
        mock.patch.object(tasks.report_render, "retry", side_effect=Retry) as retry,
        pytest.raises(Retry),
    ):
        tasks.report_render.run(version.pk)
    assert retry.call_args.kwargs["countdown"] == 30
    version.refresh_from_db()
    assert not version.pdf_ready and version.pdf_key == ""
    # Eagerly (no broker): left for the sweep, which queues it again later.
    with mock.patch("secondop.storage.save_bytes", side_effect=StorageUnavailable):
        assert tasks.report_render.apply(args=[version.pk]).get() == "later"
    ReportVersion.objects.filter(pk=version.pk).update(
        signed_at=version.signed_at - datetime.timedelta(minutes=10)
    )
    assert tasks.reports_sweep() == 1  # eager: rendered now that storage answers
    version.refresh_from_db()
    assert version.pdf_ready
    assert tasks.report_render.run(version.pk) == "done"  # idempotent


# --- A consultation the patient asked for ----------------------------------------------------------
class TestTheConsultationAskedForIsSettledBeforeSigning:
    """A case whose patient asked for video or in person is not signed until the
    consultation was held, the patient declined it, or it was cancelled with a
    reason the patient reads (issue 15, point 4)."""

    @pytest.fixture
    def video_case(self, patient, coordinator, specialist):
        return assigned_case(
            patient, coordinator, specialist, consultation_type="video", patient_state="NY"
        )

    def _slots(self, days=3):
        from tests.consultations.conftest import span

        return [span(days, 10), span(days + 1, 15)]

    def _refused(self, case, specialist, words: str):
        write_draft(case, specialist)
        with pytest.raises(services.ReportError) as refused:
            services.report_sign(actor=specialist, case_ref=case.uuid)
        messages = dict(refused.value.problems)
        assert words in messages["consultation"], messages
        assert not ReportVersion.objects.filter(status="signed").exists()
        case.refresh_from_db()
        assert case.status == CaseStatus.IN_REVIEW

    def test_signing_is_refused_when_none_was_ever_proposed(self, video_case, specialist):
        self._refused(video_case, specialist, "none has been proposed")

    def test_signing_is_refused_while_times_wait_for_the_patient(self, video_case, specialist):
        from requests_app.consultations import services as consultations

        consultations.consultation_propose(
            actor=specialist, case_ref=video_case.uuid, slots=self._slots()
        )
        self._refused(video_case, specialist, "still being arranged")

    def test_signing_is_refused_after_a_missed_one_until_it_is_closed_with_a_reason(
        self, video_case, specialist, patient
    ):
        from requests_app.consultations import services as consultations
        from tests.consultations.conftest import to_the_past

        proposed = consultations.consultation_propose(
            actor=specialist, case_ref=video_case.uuid, slots=self._slots()
        )
        consultations.consultation_book(
            actor=patient, ref=proposed.uuid, slot_ref=proposed.slots.first().uuid
        )
        to_the_past(proposed)
        consultations.consultation_record_outcome(
            actor=specialist, ref=proposed.uuid, outcome="missed"
        )
        self._refused(video_case, specialist, "did not take place")

        consultations.consultation_cancel(
            actor=specialist,
            ref=proposed.uuid,
            reason="We tried twice; the written opinion will do",
        )
        version = services.report_sign(actor=specialist, case_ref=video_case.uuid)
        assert version.status == "signed"

    def test_it_signs_once_the_consultation_was_held(self, video_case, specialist, patient):
        from requests_app.consultations import services as consultations
        from tests.consultations.conftest import to_the_past

        proposed = consultations.consultation_propose(
            actor=specialist, case_ref=video_case.uuid, slots=self._slots()
        )
        consultations.consultation_book(
            actor=patient, ref=proposed.uuid, slot_ref=proposed.slots.first().uuid
        )
        write_draft(video_case, specialist)
        # Booked, the case is at "consultation": not signable until it is recorded.
        with pytest.raises(services.ReportError):
            services.report_sign(actor=specialist, case_ref=video_case.uuid)
        to_the_past(proposed)
        consultations.consultation_record_outcome(
            actor=specialist, ref=proposed.uuid, outcome="held", notes="Examined by video."
        )
        assert services.signing_problems(ReportVersion.objects.get()) == []
        assert services.report_sign(actor=specialist, case_ref=video_case.uuid).status == "signed"

    def test_it_signs_once_the_patient_declined(self, video_case, specialist, patient):
        from requests_app.consultations import services as consultations

        consultations.consultation_decline(actor=patient, case_ref=video_case.uuid)
        write_draft(video_case, specialist)
        assert services.report_sign(actor=specialist, case_ref=video_case.uuid).status == "signed"

    def test_it_signs_once_cancelled_with_a_reason(self, video_case, specialist):
        from requests_app.consultations import services as consultations

        proposed = consultations.consultation_propose(
            actor=specialist, case_ref=video_case.uuid, slots=self._slots()
        )
        consultations.consultation_cancel(
            actor=specialist, ref=proposed.uuid, reason="The records answer every question asked"
        )
        write_draft(video_case, specialist)
        assert services.report_sign(actor=specialist, case_ref=video_case.uuid).status == "signed"

    def test_a_written_opinion_only_is_signed_without_one(self, case, specialist):
        assert case.consultation_type == "written"
        write_draft(case, specialist)
        assert services.report_sign(actor=specialist, case_ref=case.uuid).status == "signed"
