"""The load's medical records and record requests."""

import datetime

from demo.builders.load.bulk import BATCH, bulk_insert
from demo.builders.load.plan import Load
from demo.data.load import (
    RECORD_TITLES,
    RECORDS_PER_CASE,
    RECORDS_REASONS,
)
from records.models import Record, RecordFile, RecordRequest
from requests_app.models import (
    Case,
    CaseStatus,
)


def records(load: Load) -> str:
    """Medical records for every sent case: RECORDS_PER_CASE on average, mostly
    checked, a few rejected or still being checked, a study in one of five; and the
    open record request behind every case waiting for records. Rows only: no bytes
    are stored (pages list them; nothing here downloads one)."""
    import hashlib
    import uuid

    from records.models import State

    rng, now = load.rng, load.now
    sent = list(
        Case.objects.exclude(status=CaseStatus.DRAFT)
        .filter(records__isnull=True)
        .values_list("pk", "uuid", "owner_id", "submitted_at")
        .iterator()
    )
    if not sent:
        return "0 records"
    categories = list(RECORD_TITLES)
    weights = [5, 5, 4, 4, 1, 1, 1, 1]
    total = load.cases * RECORDS_PER_CASE
    made = files_made = 0
    for start in range(0, len(sent), 1000):
        chunk = sent[start : start + 1000]
        rows = []
        for index, (pk, case_uuid, owner, submitted) in enumerate(chunk, start=start):
            # Spread `total` over the sent cases: each gets its share, give or take.
            count = round(total * (index + 1) / len(sent)) - round(total * index / len(sent))
            for _ in range(count):
                category = rng.choices(categories, weights)[0]
                roll = rng.random()
                state = (
                    State.REJECTED
                    if roll < 0.03
                    else State.SCANNING
                    if roll < 0.05
                    else State.VERIFIED
                )
                when = (submitted or now) - datetime.timedelta(minutes=rng.randint(0, 5000))
                study = category == "imaging" and rng.random() < 0.5
                record_uuid = uuid.uuid4()
                rows.append(
                    (
                        case_uuid,
                        Record(
                            uuid=record_uuid,
                            case_id=pk,
                            uploaded_by_id=owner,
                            category=category,
                            title=rng.choice(RECORD_TITLES[category]),
                            service_date=(
                                when - datetime.timedelta(days=rng.randint(1, 200))
                            ).date(),
                            is_study=study,
                            state=state,
                            reason="malware" if state == State.REJECTED else "",
                            size=0
                            if state == State.REJECTED
                            else rng.randint(40_000, 900_000_000 if study else 8_000_000),
                            mime="" if study else "application/pdf",
                            sha256=hashlib.sha256(record_uuid.bytes).hexdigest(),
                            study={
                                "modalities": ["CT"],
                                "series_count": 3,
                                "instance_count": 412,
                                "studies": [],
                            }
                            if study and state == State.VERIFIED
                            else {},
                            slot_expires_at=when,
                            created_at=when,
                            uploaded_at=when,
                            checked_at=when if state != State.SCANNING else None,
                        ),
                    )
                )
        Record.objects.bulk_create([r for _, r in rows], batch_size=BATCH)
        file_rows = []
        for case_uuid, record in rows:
            for n in range(rng.randint(20, 60) if record.is_study else 1):
                file_uuid = uuid.uuid4()
                file_rows.append(
                    RecordFile(
                        uuid=file_uuid,
                        record_id=record.pk,
                        key=f"cases/{case_uuid}/records/{record.uuid}/{file_uuid}",
                        name=f"DICOM/IM{n:04d}" if record.is_study else "report.pdf",
                        size=max(record.size // 40, 1),
                        stored_size=max(record.size // 40, 1),
                        received_at=record.uploaded_at,
                        checked_at=record.checked_at,
                        kind="dicom" if record.is_study else "pdf",
                        mime=record.mime,
                    )
                )
        RecordFile.objects.bulk_create(file_rows, batch_size=BATCH)
        made += len(rows)
        files_made += len(file_rows)
    waiting = Case.objects.filter(
        status=CaseStatus.AWAITING_RECORDS, record_requests__isnull=True
    ).values_list("pk", "case_manager_id")
    asked = bulk_insert(
        RecordRequest,
        (
            RecordRequest(
                case_id=pk,
                requested_by_id=manager or rng.choice(load.coordinator_ids),
                note=rng.choice(RECORDS_REASONS),
                return_to=CaseStatus.TRIAGE,
                created_at=now - datetime.timedelta(days=rng.randint(0, 10)),
            )
            for pk, manager in waiting.iterator()
        ),
    )
    return f"{made} records ({files_made} files), {asked} record requests"
