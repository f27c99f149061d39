"""Reads for the aftercare pages. A case always comes through
requests_app.access.case_for_viewer first (the one visibility rule); these
take that case, or a physician's token, never a bare id from a URL."""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from requests_app.access import Relation
from requests_app.consultations.models import DoctorCall
from requests_app.models import Case, CaseEvent, CaseStatus
from requests_app.reports import selectors as reports_selectors
from requests_app.reports.models import (
    DiagnosisOpinion,
    ReportVersion,
    TreatmentOpinion,
    VersionStatus,
)
from requests_app.times import format_moment, patient_zone_name

from .models import FollowUpQuestion, PhysicianQuestion, PhysicianUpload, Share, ShareOpening

if TYPE_CHECKING:
    from secondop.accounts.models import User


def token_hash(token: str) -> str:
    """What is stored for a physician's link: the SHA-256 of its token. The token
    has 256 random bits, so a plain hash (no salt, no stretching) cannot be
    reversed, and it can be looked up by equality."""
    return hashlib.sha256(token.encode()).hexdigest()


# --- The report -----------------------------------------------------------------------
def released_version(*, case: Case) -> ReportVersion | None:
    """The version the patient reads now, and a physician they sent it to: the
    reports app's rule (the newest released version), in one place."""
    return reports_selectors.released_version(case=case)


def case_delivered_at(*, case: Case) -> datetime.datetime | None:
    """When the report first reached the patient: the case's first move from
    "report ready" to "delivered" (answers to follow-ups move it back to
    "delivered" too, from "follow-up"). The same moment as the case's first move to
    "delivered" of any kind, which a page may have read already and set on the case
    as `first_delivered_at` (requests_app.selectors: patient_case_list, case_facts)."""
    if hasattr(case, "first_delivered_at"):
        return case.first_delivered_at
    return (
        CaseEvent.objects.filter(
            case=case, old_status=CaseStatus.REPORT_READY, new_status=CaseStatus.DELIVERED
        )
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )


# --- Follow-up questions ------------------------------------------------------------------
FOLLOW_UP_STATES = frozenset({CaseStatus.DELIVERED, CaseStatus.FOLLOW_UP})


@dataclass(frozen=True)
class FollowUpWindow:
    """Whether the patient may ask another question now, and if not, why."""

    delivered_at: datetime.datetime | None
    ends_at: datetime.datetime | None
    asked: int
    limit: int
    refusal: str = ""  # "" when they may ask

    @property
    def remaining(self) -> int:
        return max(self.limit - self.asked, 0)

    @property
    def can_ask(self) -> bool:
        return not self.refusal


def follow_up_window(
    *, case: Case, asked: int | None = None, now: datetime.datetime | None = None
) -> FollowUpWindow:
    now = now or timezone.now()
    limit = settings.FOLLOW_UP_QUESTIONS
    if asked is None:
        asked = FollowUpQuestion.objects.filter(case=case).count()
    delivered_at = case_delivered_at(case=case)
    ends_at = (
        delivered_at + datetime.timedelta(days=settings.FOLLOW_UP_DAYS) if delivered_at else None
    )
    refusal = ""
    if case.status not in FOLLOW_UP_STATES or ends_at is None:
        refusal = str(
            _(
                "Follow-up questions can be asked only while the report is delivered "
                "and the request is open."
            )
        )
    elif now >= ends_at:
        refusal = str(
            _(
                "Follow-up questions could be asked for %(days)s days after the report "
                "was delivered, until %(date)s. If you have a new question about your "
                "health, please ask your own doctor or start a new request."
            )
            % {
                "days": settings.FOLLOW_UP_DAYS,
                "date": date_format(timezone.localtime(ends_at), "DATE_FORMAT"),
            }
        )
    elif asked >= limit:
        refusal = str(
            _(
                "You have asked all %(limit)s follow-up questions this request "
                "includes. If you need more help, please ask your own doctor or your "
                "case manager."
            )
            % {"limit": limit}
        )
    return FollowUpWindow(
        delivered_at=delivered_at, ends_at=ends_at, asked=asked, limit=limit, refusal=refusal
    )


def sees_follow_ups(*, viewer: User, case: Case) -> bool:
    """Follow-up questions and answers are about the report: they have its
    readers (the patient, the case manager, the assigned specialist)."""
    return reports_selectors.sees_report(viewer=viewer, case=case)


# Only the assigned specialist answers the patient's follow-up questions; to
# everyone else a question to answer is the case's 404.
ANSWERS_FOLLOW_UPS: frozenset[Relation] = frozenset({Relation.ASSIGNED_SPECIALIST})


def follow_ups(*, case: Case) -> QuerySet[FollowUpQuestion]:
    return FollowUpQuestion.objects.filter(case=case).select_related("answered_by")


def open_follow_ups(*, case: Case) -> QuerySet[FollowUpQuestion]:
    return FollowUpQuestion.objects.filter(case=case, answered_at__isnull=True)


# --- Physicians' links ---------------------------------------------------------------------
def shares_for_case(*, case: Case) -> list[Share]:
    """The links the patient sent, newest first, each with its openings."""
    return list(
        Share.objects.filter(report__case=case)
        .select_related("smart_link")
        .prefetch_related(
            Prefetch("openings", queryset=ShareOpening.objects.order_by("-created_at", "-id"))
        )
        .order_by("-created_at", "-id")
    )


def share_for_token(*, token: str) -> Share | None:
    """The share a physician's token opens, whatever its state (the view tells
    an expired link from a revoked one), or None."""
    if not token or len(token) > 100:
        return None
    return Share.objects.select_related("report__case").filter(token_hash=token_hash(token)).first()


# --- Concordance ----------------------------------------------------------------------------
# Published figures the page shows beside ours, in percent of cases. Meyer et
# al. report a "changed" diagnosis, our "different"; neither study has our
# "cannot determine".
PUBLISHED = [
    {
        "source": "Van Such et al. 2017, Mayo Clinic, 286 patients",
        "citation": "Van Such M, Lohr R, Beckman T, Naessens JM. Extent of diagnostic "
        "agreement among medical referrals. J Eval Clin Pract. 2017;23(4):870-874.",
        "same": 12,
        "refined": 66,
        "different": 21,
        "treatment_changed": None,
    },
    {
        "source": "Meyer et al. 2015",
        "citation": "Meyer AND, Singh H, Graber ML. Evaluation of outcomes from a national "
        "patient-initiated second-opinion program. Am J Med. 2015;128(10):1138.",
        "same": None,
        "refined": None,
        "different": 14.8,
        "treatment_changed": 37.4,
    },
]

TREATMENT_CHANGED = frozenset({TreatmentOpinion.CHANGES, TreatmentOpinion.ALTERNATIVE})


def _percent(n: int, total: int) -> float | None:
    return round(100 * n / total, 1) if total else None


@dataclass
class ConcordanceRow:
    specialty: str
    diagnosis: dict[str, int] = field(default_factory=dict)
    treatment: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.diagnosis.values())

    @property
    def treatment_coded(self) -> int:
        return sum(n for opinion, n in self.treatment.items() if opinion)

    @property
    def treatment_changed(self) -> int:
        return sum(self.treatment.get(opinion, 0) for opinion in TREATMENT_CHANGED)

    def diagnosis_cells(self) -> list[tuple[str, int, float | None]]:
        return [
            (
                opinion,
                self.diagnosis.get(opinion, 0),
                _percent(self.diagnosis.get(opinion, 0), self.total),
            )
            for opinion in DiagnosisOpinion.values
        ]

    def treatment_cells(self) -> list[tuple[str, int, float | None]]:
        coded = self.treatment_coded
        return [
            (
                opinion,
                self.treatment.get(opinion, 0),
                _percent(self.treatment.get(opinion, 0), coded),
            )
            for opinion in TreatmentOpinion.values
        ]

    @property
    def treatment_changed_percent(self) -> float | None:
        return _percent(self.treatment_changed, self.treatment_coded)

    @property
    def diagnosis_changed_percent(self) -> float | None:
        return _percent(self.diagnosis.get(DiagnosisOpinion.DIFFERENT, 0), self.total)

    def add(self, other: ConcordanceRow) -> None:
        for opinion, n in other.diagnosis.items():
            self.diagnosis[opinion] = self.diagnosis.get(opinion, 0) + n
        for opinion, n in other.treatment.items():
            self.treatment[opinion] = self.treatment.get(opinion, 0) + n


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def concordance(
    *, start: datetime.date | None = None, end: datetime.date | None = None
) -> tuple[list[ConcordanceRow], ConcordanceRow]:
    """How the specialists' coded opinions compare with the first diagnosis and
    treatment plan, by specialty, for reports first released to the patient
    from `start` to `end` (both days included, local time).

    Each report counts once, with its current released version's opinions (an
    amendment corrects the earlier one). Counts only: no case, no patient, no
    specialist is named. One grouped query, whatever the number of reports."""
    first_released = (
        ReportVersion.objects.filter(report=OuterRef("report"), released_at__isnull=False)
        .order_by("released_at")
        .values("released_at")[:1]
    )
    # Second opinions only: a third opinion (its request's `parent` set) is counted
    # apart, as the public outcomes page does (requests_app.outcomes).
    versions = ReportVersion.objects.filter(
        status=VersionStatus.RELEASED,
        superseded_at__isnull=True,
        report__case__parent__isnull=True,
    ).annotate(first_released=Subquery(first_released))
    if start:
        versions = versions.filter(first_released__gte=_local_midnight(start))
    if end:
        versions = versions.filter(
            first_released__lt=_local_midnight(end + datetime.timedelta(days=1))
        )
    grouped = (
        versions.values("report__case__specialty__name", "diagnosis_opinion", "treatment_opinion")
        .annotate(n=Count("id"))
        .order_by()
    )
    rows: dict[str, ConcordanceRow] = {}
    for item in grouped:
        name = (
            gettext(item["report__case__specialty__name"])
            if item["report__case__specialty__name"]
            else str(_("Specialty not given"))
        )
        row = rows.setdefault(name, ConcordanceRow(specialty=name))
        diagnosis, treatment = item["diagnosis_opinion"], item["treatment_opinion"]
        row.diagnosis[diagnosis] = row.diagnosis.get(diagnosis, 0) + item["n"]
        row.treatment[treatment] = row.treatment.get(treatment, 0) + item["n"]
    ordered = sorted(rows.values(), key=lambda r: (-r.total, r.specialty))
    total = ConcordanceRow(specialty=str(_("All specialties")))
    for row in ordered:
        total.add(row)
    return ordered, total


# --- What the concordance page may show --------------------------------------------------
# The opinions in the order the tables show them; "" is a report that recorded none.
DIAGNOSIS_COLUMNS = (*DiagnosisOpinion.values, "")
TREATMENT_COLUMNS = (*TreatmentOpinion.values, "")
FEWER_THAN = _("fewer than 11")
HIDDEN = _("hidden")


@dataclass(frozen=True)
class Figure:
    """One cell as published: its count, or None and the words shown instead."""

    count: int | None
    percent: float | None = None
    label: str = ""

    @property
    def shown(self) -> bool:
        return self.count is not None


@dataclass
class PublishedRow:
    specialty: str
    total: int
    diagnosis: list[Figure]
    treatment: list[Figure]
    treatment_changed: Figure


@dataclass
class Published:
    """The concordance figures as the page and the CSV show them (suppression.py):
    no count from 1 to 10, none that can be worked out from the others."""

    reports: int
    rows: list[PublishedRow]
    total: PublishedRow | None
    merged: int = 0  # specialties with fewer than 11 reports, shown together
    too_few: bool = False  # fewer than 11 reports in all: nothing is shown
    hidden_columns: dict[str, bool] = field(default_factory=dict)

    @property
    def any_hidden(self) -> bool:
        figures = [
            f
            for row in [*self.rows, *([self.total] if self.total else [])]
            for f in (*row.diagnosis, *row.treatment)
        ]
        return any(not f.shown for f in figures)

    @property
    def diagnosis_not_recorded(self) -> bool:
        return bool(self.total and self.total.diagnosis[-1].count != 0)

    @property
    def treatment_not_recorded(self) -> bool:
        return bool(self.total and self.total.treatment[-1].count != 0)


def _merge_small(rows: list[ConcordanceRow]) -> tuple[list[ConcordanceRow], int]:
    """Specialties with fewer than 11 reports go together into one row; if that
    row is still under 11, the smallest named ones join it until it is not."""
    from .suppression import THRESHOLD

    named = [row for row in rows if row.total >= THRESHOLD]
    small = [row for row in rows if row.total < THRESHOLD]
    if not small:
        return named, 0
    named.sort(key=lambda r: (-r.total, r.specialty))
    other = ConcordanceRow(specialty="")
    for row in small:
        other.add(row)
    merged = len(small)
    while other.total < THRESHOLD and named:
        other.add(named.pop())
        merged += 1
    if not named:  # everything is one row: the total row says it all
        return [], merged
    other.specialty = (
        str(_("Other specialties (%(n)s, each with fewer than 11 reports)") % {"n": merged})
        if merged > 1
        else str(_("One other specialty"))
    )
    return [*named, other], merged


def protected_figures(
    counts: list[list[int]], totals: list[int], grand: int
) -> tuple[list[list[Figure]], list[Figure], bool]:
    """Each row's figures and the total row's, with what is hidden hidden (suppression.py).
    Rows are each 11 or more and shown with the grand total; the outcomes page uses it too."""
    from .suppression import is_primary, protect, protect_row

    columns = len(counts[0])
    column_totals = [sum(row[c] for row in counts) for c in range(columns)]
    if len(counts) == 1:  # the total row is the row: protect it as one row
        protected = protect_row(column_totals)
        cell_of = {(0, c): (0, c) for c in range(columns)} | {
            (1, c): (0, c) for c in range(columns)
        }
    else:
        protected = protect(counts)
        cell_of = {}

    def figure(cell: tuple[int, int], value: int, denominator: int) -> Figure:
        if protected.shows(cell_of.get(cell, cell)):
            return Figure(value, _percent(value, denominator))
        whole = protected.whole_table_hidden
        return Figure(None, None, str(FEWER_THAN if is_primary(value) and not whole else HIDDEN))

    rows = [
        [figure((r, c), counts[r][c], totals[r]) for c in range(columns)]
        for r in range(len(counts))
    ]
    total = [figure((len(counts), c), column_totals[c], grand) for c in range(columns)]
    return rows, total, protected.whole_table_hidden


def concordance_published(rows: list[ConcordanceRow], total: ConcordanceRow) -> Published:
    """What may be shown of the concordance figures (see suppression.py): nothing
    when there are fewer than 11 reports; specialties under 11 reports together;
    counts from 1 to 10 hidden ("fewer than 11") with partners hidden so that
    none can be worked out from the totals. "Treatment changed" (suggested
    changes plus an alternative) is shown only when both its parts are."""
    from .suppression import THRESHOLD

    if total.total < THRESHOLD:
        return Published(reports=total.total, rows=[], total=None, too_few=True)
    kept, merged = _merge_small(rows)
    # One row in all: protected as a table of one row (the total row is the same).
    table = kept or [total]
    totals = [row.total for row in table]
    diagnosis, diagnosis_total, _whole = protected_figures(
        [[row.diagnosis.get(c, 0) for c in DIAGNOSIS_COLUMNS] for row in table], totals, total.total
    )
    treatment, treatment_total, _whole = protected_figures(
        [[row.treatment.get(c, 0) for c in TREATMENT_COLUMNS] for row in table], totals, total.total
    )

    changes = TREATMENT_COLUMNS.index(TreatmentOpinion.CHANGES)
    alternative = TREATMENT_COLUMNS.index(TreatmentOpinion.ALTERNATIVE)

    def changed(figures: list[Figure], row_total: int) -> Figure:
        suggested, other = figures[changes].count, figures[alternative].count
        if suggested is not None and other is not None:  # both shown
            n = suggested + other
            return Figure(n, _percent(n, row_total))
        return Figure(None)

    published = [
        PublishedRow(
            row.specialty, row.total, diagnosis[i], treatment[i], changed(treatment[i], row.total)
        )
        for i, row in enumerate(kept)
    ]
    total_row = PublishedRow(
        total.specialty,
        total.total,
        diagnosis_total,
        treatment_total,
        changed(treatment_total, total.total),
    )
    return Published(reports=total.total, rows=published, total=total_row, merged=merged)


def physician_question(*, share: Share) -> PhysicianQuestion | None:
    """The question asked through this link, or one asked earlier through
    another link to the same address on the same case."""
    return (
        PhysicianQuestion.objects.filter(
            case_id=share.report.case_id, share__recipient_email__iexact=share.recipient_email
        )
        .select_related("answered_by")
        .first()
    )


def physician_questions(*, case: Case) -> list[PhysicianQuestion]:
    """Every question the patient's physicians asked on the case, oldest first."""
    return list(PhysicianQuestion.objects.filter(case=case).select_related("share", "answered_by"))


@dataclass(frozen=True)
class DoctorActivity:
    at: datetime.datetime
    text: str


def doctor_activity(
    *,
    case: Case,
    shares: list[Share] | None = None,
    questions: list[PhysicianQuestion] | None = None,
    calls: list[DoctorCall] | None = None,
    uploads: list[PhysicianUpload] | None = None,
) -> list[DoctorActivity]:
    """What the patient's physicians did through their links, newest first: for
    the patient's "Your doctor" list (openings, questions, answers). `shares`
    (shares_for_case), `questions` (physician_questions), `calls` (the case's
    calls between the doctors, with their shares) and `uploads`
    (physician_uploads): when the page has read them already."""
    items: list[DoctorActivity] = []
    if shares is None:
        shares = shares_for_case(case=case)
    if questions is None:
        questions = physician_questions(case=case)
    for share in shares:
        who = share.recipient_name or share.recipient_email
        for opening in share.openings.all():
            words = (
                _("%(who)s downloaded your report")
                if opening.kind == ShareOpening.Kind.DOWNLOAD
                else _("%(who)s opened your report")
            )
            items.append(DoctorActivity(opening.created_at, str(words) % {"who": who}))
    for question in questions:
        who = question.share.recipient_name or question.share.recipient_email
        items.append(
            DoctorActivity(
                question.asked_at, str(_("%(who)s asked the specialist a question")) % {"who": who}
            )
        )
        if question.answered_at is not None:
            items.append(
                DoctorActivity(
                    question.answered_at,
                    str(_("The specialist answered %(who)s's question")) % {"who": who},
                )
            )
    if calls is None:
        calls = list(DoctorCall.objects.filter(case=case).select_related("share"))
    for call in calls:
        who = call.share.recipient_name or call.share.recipient_email
        if call.asked_by == DoctorCall.AskedBy.PHYSICIAN:
            items.append(
                DoctorActivity(
                    call.created_at,
                    str(_("%(who)s asked for a call with the specialist")) % {"who": who},
                )
            )
        if call.booked_at is not None and call.starts_at is not None:
            items.append(
                DoctorActivity(
                    call.booked_at,
                    str(_("%(who)s booked the call with the specialist for %(when)s"))
                    % {"who": who, "when": format_moment(call.starts_at, _patient_zone(case))},
                )
            )
    for upload in physician_uploads(case=case) if uploads is None else uploads:
        who = upload.share.recipient_name or upload.share.recipient_email
        items.append(
            DoctorActivity(
                upload.created_at,
                str(_("%(who)s added a record: %(title)s"))
                % {"who": who, "title": upload.record.title},
            )
        )
    return sorted(items, key=lambda item: item.at, reverse=True)


def _patient_zone(case: Case) -> ZoneInfo:
    return ZoneInfo(patient_zone_name(case))


def physician_uploads(*, case: Case) -> list[PhysicianUpload]:
    """The records the patient's physicians sent through their links, newest first
    (not the slots they opened and never filled)."""
    return list(
        PhysicianUpload.objects.filter(record__case=case)
        .exclude(record__state="pending")
        .filter(record__dismissed_at__isnull=True)
        .select_related("record", "share")
        .order_by("-created_at")
    )
