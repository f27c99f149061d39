"""The load's steps in the order they run (`seed_load --only` names them), the
models they fill, and the statistics refreshed after them."""

import time

from allauth.account.models import EmailAddress
from django.db import connection

from demo.builders.load.accounts import coordinators, patients
from demo.builders.load.cases import cases, events, questions, reference_counters, sections
from demo.builders.load.records import records
from demo.builders.load.reports import reports
from demo.builders.load.specialists import offers, specialists
from records.models import Record, RecordFile, RecordRequest
from requests_app.aftercare.models import FollowUpQuestion
from requests_app.models import Case, CaseEvent, CaseQuestion, CaseSection
from requests_app.reports.models import Report, ReportAnswer, ReportVersion
from secondop.accounts.models import User

STEPS = [
    coordinators,
    patients,
    cases,
    sections,
    questions,
    events,
    reference_counters,
    specialists,
    offers,
    records,
    reports,
]
LOADED_MODELS = [
    User,
    EmailAddress,
    Case,
    CaseSection,
    CaseQuestion,
    CaseEvent,
    Record,
    RecordFile,
    RecordRequest,
    Report,
    ReportVersion,
    ReportAnswer,
    FollowUpQuestion,
]


def analyze() -> str | None:
    """Fresh planner statistics (and, outside a transaction, the visibility map
    that index-only scans need): the steady state autovacuum would reach later.
    A line for the summary, or None where there is nothing to do (not PostgreSQL)."""
    if connection.vendor != "postgresql":
        return None
    started = time.perf_counter()
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for model in LOADED_MODELS:
            cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")
    return f"{command.lower()}: {time.perf_counter() - started:.1f} s"
