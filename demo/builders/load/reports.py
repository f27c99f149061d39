"""The load's reports, answers and open follow-up questions."""

import datetime

from demo.builders.load.bulk import BATCH, bulk_insert
from demo.builders.load.plan import Load
from demo.data.load import (
    AMENDED,
    DIAGNOSIS_MIX,
    FOLLOW_UP_QUESTIONS,
    REPORT_TEXT,
    TREATMENT_MIX,
)
from requests_app.aftercare.models import FollowUpQuestion
from requests_app.models import (
    Case,
    CaseQuestion,
    CaseStatus,
)
from requests_app.reports.models import Report, ReportAnswer, ReportVersion
from secondop.accounts.models import Role, User

S = CaseStatus


def reports(load: Load) -> str:
    """The signed, released report behind every delivered, followed-up and closed
    case, released when the case was delivered: its coded opinions (DIAGNOSIS_MIX,
    TREATMENT_MIX), an answer to each of the patient's questions, and for a few an
    amended second version that supersedes the first. Every case in follow-up has
    its open question. Rows only: no PDF is rendered or stored (pages list them;
    the concordance page counts them)."""
    import hashlib
    import uuid

    from django.db.models import Exists, Min, OuterRef, Q

    from requests_app.reports import codes

    rng = load.rng
    delivered_at = Min(
        "events__created_at",
        filter=Q(events__old_status=S.REPORT_READY, events__new_status=S.DELIVERED),
    )
    todo = list(
        Case.objects.filter(
            status__in=(S.DELIVERED, S.FOLLOW_UP, S.CLOSED), specialist__isnull=False
        )
        .exclude(Exists(Report.objects.filter(case=OuterRef("pk"))))
        .annotate(delivered_at=delivered_at)
        .filter(delivered_at__isnull=False)
        .values_list(
            "pk",
            "uuid",
            "status",
            "specialist_id",
            "case_manager_id",
            "owner_id",
            "diagnosis",
            "delivered_at",
            "updated_at",
        )
        .order_by("pk")
    )
    names = dict(User.objects.filter(role=Role.SPECIALIST).values_list("pk", "full_name"))
    made = amended = answered = asked = 0
    for start in range(0, len(todo), 2000):
        chunk = todo[start : start + 2000]
        questions: dict[int, list] = {}
        for question in CaseQuestion.objects.filter(case_id__in=[c[0] for c in chunk]):
            questions.setdefault(question.case_id, []).append(question)
        made_reports = Report.objects.bulk_create(
            [Report(case_id=c[0], created_at=c[7]) for c in chunk], batch_size=BATCH
        )
        versions, answers, follow_ups = [], [], []
        for report, (
            pk,
            case_uuid,
            status,
            specialist,
            manager,
            owner,
            diagnosis,
            released,
            last,
        ) in zip(made_reports, chunk, strict=True):
            times = [released]
            if rng.random() < AMENDED and released < last:  # amended before the last move
                times.append(
                    datetime.datetime.fromtimestamp(
                        rng.uniform(released.timestamp(), last.timestamp()), datetime.UTC
                    )
                )
            for number, at in enumerate(times, start=1):
                opinion = rng.choices(list(DIAGNOSIS_MIX), list(DIAGNOSIS_MIX.values()))[0]
                version_uuid = uuid.uuid4()
                signed = at - datetime.timedelta(hours=rng.uniform(1, 48))
                versions.append(
                    ReportVersion(
                        uuid=version_uuid,
                        report_id=report.pk,
                        number=number,
                        status="released",
                        author_id=specialist,
                        **REPORT_TEXT,
                        diagnosis_opinion=opinion,
                        diagnosis=diagnosis if opinion in ("refined", "different") else "",
                        treatment_opinion=rng.choices(
                            list(TREATMENT_MIX), list(TREATMENT_MIX.values())
                        )[0],
                        amendment_reason="A lab result arrived after signing."
                        if number == 2
                        else "",
                        signed_at=signed,
                        signer_name=names.get(specialist, ""),
                        verification_code=codes.new_code(),
                        pdf_key=f"cases/{case_uuid}/reports/{version_uuid}.pdf",
                        pdf_sha256=hashlib.sha256(version_uuid.bytes).hexdigest(),
                        pdf_size=rng.randint(80_000, 400_000),
                        pdf_stored_at=signed,
                        released_at=at,
                        released_by_id=manager or rng.choice(load.coordinator_ids),
                        superseded_at=times[-1] if number < len(times) else None,
                        created_at=signed - datetime.timedelta(hours=rng.uniform(1, 72)),
                        updated_at=at,
                    )
                )
            amended += len(times) > 1
            if status == S.FOLLOW_UP:
                follow_ups.append(
                    FollowUpQuestion(
                        case_id=pk,
                        position=1,
                        asked_by_id=owner,
                        asked_at=last,
                        text=rng.choice(FOLLOW_UP_QUESTIONS),
                    )
                )
        ReportVersion.objects.bulk_create(versions, batch_size=BATCH)
        by_report = {}
        for version in versions:
            by_report.setdefault(version.report_id, []).append(version)
        updates = []
        for first, *later in by_report.values():
            if later:
                first.superseded_by_id = later[0].pk
                updates.append(first)
        ReportVersion.objects.bulk_update(updates, ["superseded_by"], batch_size=BATCH)
        case_of = {report.pk: report.case_id for report in made_reports}
        for version in versions:
            for question in questions.get(case_of[version.report_id], []):
                answers.append(
                    ReportAnswer(
                        version_id=version.pk,
                        question_id=question.pk,
                        position=question.position,
                        question_text=question.text,
                        answer="Yes, with the conditions set out in the report.",
                    )
                )
        answered += bulk_insert(ReportAnswer, answers)
        asked += bulk_insert(FollowUpQuestion, follow_ups)
        made += len(made_reports)
    return (
        f"{made} reports ({amended} amended), {answered} answers, {asked} open follow-up questions"
    )
