"""The viewer's reads (selectors): which series a person may open, and its frames.

Who may open a series: the care team of its case (requests_app.access: the patient,
the case manager, the assigned specialist) and the specialist of a third opinion on
it (access.reads_records, RECORD_READERS), and only of a record they are shown
(records.selectors.records_for_viewer: a specialist the checked ones). Everyone
else gets the same 404 as for a series that never was.

What is logged: opening the viewer on a series is one access-log row for that
series, whoever opens it (the patient's own openings too: "who looked" lists them
beside the care team's), besides the case's row that case_for_viewer writes for
every staff page. A frame is checked the same way every time and logs nothing:
the page that shows it did.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from django.core import signing
from django.db.models import Prefetch
from django.http import Http404

from records import selectors as record_selectors
from records.models import Identity, Record, State
from records.selectors import Look
from requests_app import access
from requests_app.models import Case
from secondop.accounts.models import Role
from secondop.audit.models import AccessLog
from secondop.audit.services import log_access

from .models import SIZES, FrameSet, Preset, Series

if TYPE_CHECKING:
    from secondop.accounts.models import User


def _shown_series(viewer: User, series: Series, case: Case) -> Series:
    """`series`, if `viewer` reads the case's records (its care team, a third opinion's
    specialist) and is shown its record."""
    if not access.reads_records(viewer=viewer, case=case):
        raise Http404
    shown = record_selectors.records_for_viewer(viewer=viewer, case=case).filter(
        pk=series.record_id, state=State.VERIFIED
    )
    if not shown.exists():
        raise Http404
    series.record.case = case
    return series


def series_for_viewer(*, viewer: User, ref: UUID | str) -> Series:
    """The series `viewer` opens in the viewer, or 404. Every opening writes one row
    for the series (the patient's own too); a staff member's also the case's row
    (case_for_viewer)."""
    series = access.get_or_404(Series.objects.select_related("record__case"), uuid=ref)
    case = access.case_for_viewer(viewer=viewer, ref=series.record.case.uuid)
    _shown_series(viewer, series, case)
    log_access(viewer=viewer, obj=series, kind=AccessLog.Kind.VIEW)
    return series


def series_quietly(*, viewer: User, ref: UUID | str) -> Series:
    """The same check as series_for_viewer, writing nothing: for a frame of the
    series or how far its rendering got (the viewer page wrote the rows)."""
    series = access.get_or_404(Series.objects.select_related("record__case"), uuid=ref)
    case = access.case_quietly(viewer=viewer, ref=series.record.case.uuid)
    return _shown_series(viewer, series, case)


def frame_for_viewer(
    *, viewer: User, ref: UUID | str, preset: str, size: int, index: int
) -> FrameSet:
    """The frame set holding frame `index` of series `ref` at `preset` and `size`, for
    `viewer`: the check of series_quietly (the case in case_list for the viewer, the
    care team, the record shown), asked on every frame in two queries, as a viewer
    scrolls through 15 or more a second. 404 for everyone series_quietly refuses, and
    for an unknown preset or size, a preset the series does not offer, a frame set not
    made, a frame not rendered yet or past the end."""
    if preset not in Preset.values or size not in SIZES or index < 0:
        raise Http404
    frame_set = access.get_or_404(
        FrameSet.objects.select_related("series__record__case"),
        series__uuid=ref,
        preset=preset,
        size=size,
    )
    series = frame_set.series
    case = series.record.case
    if not access.reads_records(viewer=viewer, case=case):
        raise Http404
    # The one visibility rule (a withdrawn case, a closed one past its window) and the
    # records rule, in one query.
    shown = record_selectors.records_for_viewer(viewer=viewer, case=case).filter(
        pk=series.record_id,
        state=State.VERIFIED,
        case__in=access.case_list(viewer=viewer).values("pk"),
    )
    if not shown.exists():
        raise Http404
    if preset not in series.presets or index >= frame_set.ready_count:
        raise Http404
    return frame_set


# --- The frame token ------------------------------------------------------------------
# The viewer asks for 15 or more frames a second. The page's check (series_for_viewer)
# gives the person a token for that series, signed with the secret key and bound to
# them; a frame asked for with it is still checked against the rules that can change
# while a viewer is open, in the one query that reads the frame set: the case is still
# in the person's case list (not withdrawn, not closed past their window, still theirs),
# they are still on its care team, the record is still verified and not dismissed. So
# access ended on the case reaches an open viewer at once, as a new page. What the
# token spares is the case lookup and the records list (two queries). It is refused to
# anyone else (another person, another series, a signed-out session: login_required
# runs first); an expired, foreign or no longer valid token runs the whole check
# (frame_for_viewer), which hands out a fresh one.
FRAME_TOKEN_SALT = "records.imaging.frames"  # noqa: S105 (a namespace, not a secret)
FRAME_TOKEN_SECONDS = 60


def frame_token(*, viewer: User, series: Series) -> str:
    """A token for `viewer`'s frames of `series`, given only once the whole check passed."""
    return signing.dumps([str(series.uuid), viewer.pk], salt=FRAME_TOKEN_SALT, compress=False)


def frame_by_token(
    *, viewer: User, ref: UUID | str, preset: str, size: int, index: int, token: str
) -> FrameSet | None:
    """The frame set holding frame `index`, when `token` is one frame_token gave `viewer`
    for series `ref` less than FRAME_TOKEN_SECONDS ago and the case and record rules
    above still hold (one query); None when not (the caller runs frame_for_viewer,
    which refuses or answers). 404 as frame_for_viewer for a frame that does not
    exist, is not rendered yet or is of a preset the series does not offer."""
    try:
        series_ref, user_id = signing.loads(
            token, salt=FRAME_TOKEN_SALT, max_age=FRAME_TOKEN_SECONDS
        )
    except (signing.BadSignature, ValueError, TypeError):  # expired ones included
        return None
    if series_ref != str(ref) or user_id != viewer.pk:
        return None
    if preset not in Preset.values or size not in SIZES or index < 0:
        raise Http404
    frame_set = (
        FrameSet.objects.select_related("series__record__case")
        .filter(
            series__uuid=ref,
            preset=preset,
            size=size,
            series__record__state=State.VERIFIED,
            series__record__dismissed_at__isnull=True,
            series__record__case__in=access.case_list(viewer=viewer).values("pk"),
        )
        .first()
    )
    if frame_set is None or not access.reads_records(
        viewer=viewer, case=frame_set.series.record.case
    ):
        return None
    if preset not in frame_set.series.presets or index >= frame_set.ready_count:
        raise Http404
    return frame_set


def frame_sets_of(series: Series) -> dict[str, dict[int, FrameSet]]:
    """The series' frame sets by preset and size (one query)."""
    found: dict[str, dict[int, FrameSet]] = defaultdict(dict)
    for frame_set in FrameSet.objects.filter(series=series):
        frame_set.series = series
        found[frame_set.preset][frame_set.size] = frame_set
    return dict(found)


def study_series(*, record: Record) -> list[Series]:
    """Every series of a study record, in display order, with its frame sets."""
    return list(
        Series.objects.filter(record=record)
        .order_by("position", "id")
        .prefetch_related(Prefetch("frame_sets", queryset=FrameSet.objects.all()))
    )


def case_series(*, viewer: User, case: Case) -> list[Series]:
    """Every series of the case's checked study records `viewer` is shown, by
    record and display order, with their frame sets. `case` was loaded for
    `viewer` (case_for_viewer). A study labelled for another person is not listed
    while it waits for the patient's answer (their records page asks them first)."""
    records = (
        record_selectors.records_for_viewer(viewer=viewer, case=case)
        .filter(state=State.VERIFIED, is_study=True)
        .exclude(identity=Identity.ASKED)
    )
    rows = list(
        Series.objects.filter(record__in=records)
        .select_related("record")
        .order_by("record__created_at", "record_id", "position", "id")
        .prefetch_related(Prefetch("frame_sets", queryset=FrameSet.objects.all()))
    )
    for series in rows:
        series.record.case = case
    return rows


# --- Who looked ---------------------------------------------------------------------
def series_looks_by_record(records: list[Record]) -> dict[int, list[Look]]:
    """Who opened the images of each record's series in the viewer, and when (latest
    first): "looked at the images", the case's patient as themselves (`mine`). Two
    queries."""
    if not records:
        return {}
    series: dict[int, int] = {}
    owners: dict[int, int] = {}
    for pk, record_id, owner_id in Series.objects.filter(record__in=records).values_list(
        "pk", "record_id", "record__case__owner_id"
    ):
        series[pk], owners[pk] = record_id, owner_id
    if not series:
        return {}
    rows = (
        AccessLog.objects.filter(
            object_type=Series._meta.label_lower,
            object_id__in=[str(pk) for pk in series],
            kind=AccessLog.Kind.VIEW,
            actor__isnull=False,
        )
        .order_by("-created_at")
        .values_list("object_id", "actor_id", "actor__full_name", "actor__role", "created_at")[
            :2000
        ]
    )
    looks: dict[int, list[Look]] = defaultdict(list)
    for object_id, actor_id, name, role, when in rows:
        pk = int(object_id)
        looks[series[pk]].append(
            Look(name, Role(role).label, "images", when, mine=actor_id == owners[pk])
        )
    return dict(looks)


def with_series_looks(looks: dict[int, list[Look]], records: list[Record]) -> dict[int, list[Look]]:
    """`looks` (records.selectors.looks_by_record) with the viewer's openings added,
    each record's latest first."""
    merged: dict[int, list[Look]] = {pk: list(rows) for pk, rows in looks.items()}
    for pk, rows in series_looks_by_record(records).items():
        merged[pk] = sorted([*merged.get(pk, []), *rows], key=lambda look: look.when, reverse=True)
    return merged


PRESET_ORDER = [Preset.STORED, Preset.SOFT_TISSUE, Preset.LUNG, Preset.BONE, Preset.BRAIN]


@dataclass(frozen=True)
class PresetState:
    """How far one preset of a series got, at each size."""

    preset: str
    label: str
    asked: bool  # its frame sets exist (rendering asked for)
    ready: dict[int, int]  # size -> frames ready
    total: int
    failed: bool

    @property
    def any_ready(self) -> int:
        return max(self.ready.values(), default=0)


def preset_states(series: Series, frame_sets: dict[str, dict[int, FrameSet]]) -> list[PresetState]:
    """Each preset the series offers, in a fixed order, with what is ready."""
    states = []
    labels = dict(Preset.choices)
    for preset in PRESET_ORDER:
        if preset not in series.presets:
            continue
        sets = frame_sets.get(preset, {})
        states.append(
            PresetState(
                preset=str(preset),
                label=str(labels[preset]),
                asked=bool(sets),
                ready={size: sets[size].ready_count if size in sets else 0 for size in SIZES},
                total=max((s.total for s in sets.values()), default=series.image_count)
                or series.image_count,
                failed=bool(sets)
                and all(
                    s.state in (FrameSet.State.FAILED, FrameSet.State.SKIPPED)
                    for s in sets.values()
                ),
            )
        )
    return states
