"""Writes of a study's series and frames: the series made when a study record is
verified, the frame sets queued for rendering (the stored window first, the CT
presets when first asked for), the rendering's progress under a lease, and the
sweep's re-queueing of lapsed work."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

from records import storage
from records.models import Record, State
from secondop.queueing import queue_on_commit
from secondop.refusals import Refusal

from . import rendering, sources
from .models import SIZES, FrameSet, Preset, Series

log = logging.getLogger(__name__)

RENDER_TASK = "records.imaging.tasks.frames_render"
# A frame set's lease: a worker renders while it holds it, and extends it every
# frame; past it, the sweep queues the work again.
LEASE = datetime.timedelta(minutes=5)
# A queued frame set waits this long for a worker before the sweep queues it again
# (the queue lost it); its lease_until says until when.
QUEUED_GRACE = datetime.timedelta(minutes=10)
# Renderings started this many times without rendering a frame fail ("damaged"): a
# file that kills its worker every time must not be tried forever.
MAX_ATTEMPTS = 5


class ImagingError(Refusal):
    pass


class PresetNotOffered(ImagingError):
    status = 404


def _queue(frame_sets: list[FrameSet]) -> None:
    """Queue each (pending) frame set, in order, once the transaction commits; the
    sweep queues it again if no worker took it within QUEUED_GRACE."""
    ids = [f.pk for f in frame_sets]
    FrameSet.objects.filter(pk__in=ids, state=FrameSet.State.PENDING).update(
        lease_until=timezone.now() + QUEUED_GRACE
    )
    for frame_set_id in ids:
        queue_on_commit(RENDER_TASK, frame_set_id)


def _series_summaries(record: Record) -> list[dict]:
    """The verification summary's series, in its (display) order, with their study."""
    out = []
    for study in record.study.get("studies", []):
        for series in study.get("series", []):
            out.append({**series, "study_uid": study.get("study_uid", ""), "date": study["date"]})
    return out


def start_rendering(record: Record) -> list[FrameSet]:
    """For a verified study record: its Series (display order, the instances of each
    in display order) and their stored-window frame sets at both sizes, then each
    queued, series by series. Idempotent: a record whose series exist is left alone.
    Reads the headers of a ZIP's members (StorageUnavailable when storage is down)."""
    if record.state != State.VERIFIED or not record.study.get("studies"):
        return []  # a folder of DICOM files, or a ZIP of them, has a study summary
    if Series.objects.filter(record=record).exists():
        return []
    indexes = {entry.series_uid: entry for entry in sources.index_record(record)}
    ordered = []
    for summary in _series_summaries(record):
        entry = indexes.get(summary["series_uid"])
        # A series verification listed but whose instances are gone: "no pictures".
        instances = sources.order_instances(record, entry.instances) if entry else []
        ordered.append((summary, instances))
    with transaction.atomic():
        record = Record.objects.select_for_update().get(pk=record.pk)
        if record.state != State.VERIFIED or Series.objects.filter(record=record).exists():
            return []
        made: list[FrameSet] = []
        for position, (summary, instances) in enumerate(ordered):
            frames = sources.frames_of(instances)
            series = Series.objects.create(
                record=record,
                study_uid=(summary.get("study_uid") or "")[:64],
                series_uid=summary["series_uid"][:64],
                modality=(summary.get("modality") or "")[:16],
                description=(summary.get("description") or "")[:200],
                body_part=(summary.get("body_part") or "")[:64],
                series_date=parse_date(summary.get("date") or "") if summary.get("date") else None,
                number=summary.get("number"),
                image_count=len(frames),
                position=position,
                sources=frames,
            )
            made.extend(_frame_sets(series, Preset.STORED))
    pending = [f for f in made if f.state == FrameSet.State.PENDING]
    _queue(pending)
    return made


def _frame_sets(series: Series, preset: str) -> list[FrameSet]:
    """The preset's frame sets of a series at each size, made if missing: pending,
    or "no pictures" when the series has none."""
    out = []
    for size in SIZES:
        empty = series.image_count == 0
        frame_set, _created = FrameSet.objects.get_or_create(
            series=series,
            preset=preset,
            size=size,
            defaults={
                "total": series.image_count,
                "state": FrameSet.State.SKIPPED if empty else FrameSet.State.PENDING,
                "reason": "no_pictures" if empty else "",
            },
        )
        out.append(frame_set)
    return out


def ask_for_preset(series: Series, preset: str) -> list[FrameSet]:
    """The preset's frame sets of a series (largest first), made and queued the
    first time it is asked for; asking again changes nothing. PresetNotOffered for a
    preset the series' modality does not offer (the CT windows on an MRI)."""
    if preset not in series.presets:
        raise PresetNotOffered(_("This view is not available for this series."))
    existing = list(FrameSet.objects.filter(series=series, preset=preset).order_by("-size"))
    if len(existing) == len(SIZES):
        return existing
    with transaction.atomic():
        before = {f.pk for f in existing}
        made = _frame_sets(series, preset)
        _queue([f for f in made if f.pk not in before and f.state == FrameSet.State.PENDING])
    return made


# --- The rendering, frame by frame under a lease -------------------------------------------


def _claim(frame_set_id: int) -> FrameSet | None:
    """Take the frame set's lease, or None when there is nothing to do (gone, done,
    failed, or another worker holds a live lease)."""
    now = timezone.now()
    with transaction.atomic():
        frame_set = (
            FrameSet.objects.select_for_update(skip_locked=True)
            .select_related("series__record__case")
            .filter(pk=frame_set_id)
            .first()
        )
        if frame_set is None or frame_set.state not in (
            FrameSet.State.PENDING,
            FrameSet.State.RENDERING,
        ):
            return None
        if frame_set.state == FrameSet.State.RENDERING and (
            frame_set.lease_until and frame_set.lease_until > now
        ):
            return None
        if frame_set.attempts >= MAX_ATTEMPTS:
            _finish(frame_set, FrameSet.State.FAILED, "damaged")
            return None
        frame_set.state = FrameSet.State.RENDERING
        frame_set.attempts += 1
        frame_set.lease_until = now + LEASE
        frame_set.save(update_fields=["state", "attempts", "lease_until", "updated_at"])
    return frame_set


def _finish(frame_set: FrameSet, state: str, reason: str = "") -> None:
    frame_set.state, frame_set.reason, frame_set.lease_until = state, reason, None
    FrameSet.objects.filter(pk=frame_set.pk).update(
        state=state, reason=reason, lease_until=None, updated_at=timezone.now()
    )


def hold_lease(frame_set_id: int, *, seconds: float) -> None:
    """Hold a frame set's lease `seconds` from now (a retry's backoff)."""
    FrameSet.objects.filter(pk=frame_set_id, state=FrameSet.State.RENDERING).update(
        lease_until=timezone.now() + datetime.timedelta(seconds=seconds)
    )


def _frame_done(frame_set: FrameSet, index: int) -> bool:
    """Record frame `index` as viewable; False when the frame set (or its record) is
    gone meanwhile."""
    updated = FrameSet.objects.filter(pk=frame_set.pk, ready_count=index).update(
        ready_count=index + 1,
        attempts=1,  # counts the tries without progress
        lease_until=timezone.now() + LEASE,
        updated_at=timezone.now(),
    )
    frame_set.ready_count = index + 1
    return bool(updated)


def render_frame_set(
    frame_set_id: int,
    *,
    save: Callable[[str, bytes], None] | None = None,
) -> str:
    """Render a frame set's frames from ready_count on, in display order, each saved
    to storage then counted (so the viewer shows frames as they come). A frame the
    renderer refuses ends the set FAILED with its reason (the frames before it stay
    viewable); a source file gone ends it "source_missing". StorageUnavailable is
    raised for the task to retry (the frames done are kept). Returns the outcome."""
    frame_set = _claim(frame_set_id)
    if frame_set is None:
        return "nothing to do"
    save = save or (lambda key, data: storage.save_bytes(key, data, "image/webp"))
    series = frame_set.series
    frames = series.sources
    written: list[str] = []
    with sources.SourceOpener(series.record) as opener:
        instance_key: tuple[str, str] | None = None
        instance: rendering.Instance | None = None
        for index in range(frame_set.ready_count, len(frames)):
            file_uuid, member, number = frames[index]
            handle = opener.open(file_uuid, member)
            if handle is None:
                _finish(frame_set, FrameSet.State.FAILED, "source_missing")
                return "source_missing"
            try:
                if instance is None or instance_key != (file_uuid, member):
                    instance = rendering.open_instance(handle)
                    instance_key = (file_uuid, member)
                data = rendering.render_frame(
                    handle, instance, number, frame_set.preset, frame_set.size
                )
            except rendering.FrameRefused as refused:
                log.info("frame set %s: frame %s refused (%s)", frame_set.pk, index, refused)
                _finish(frame_set, FrameSet.State.FAILED, refused.reason)
                return refused.reason
            except MemoryError:
                _finish(frame_set, FrameSet.State.FAILED, "too_large")
                return "too_large"
            key = frame_set.key(index)
            save(key, data)
            written.append(key)
            if not _frame_done(frame_set, index):
                _drop_orphans(written)
                return "gone"
    _finish(frame_set, FrameSet.State.READY)
    return "ready"


def _drop_orphans(keys: list[str]) -> None:
    """Frames written for a frame set deleted meanwhile (its record deleted while
    rendering): deleted again so nothing outlives the record."""
    try:
        storage.delete(keys)
    except Exception:
        log.warning("could not delete %s orphaned frames now", len(keys), exc_info=True)


def lapsed_frame_sets(*, limit: int = 200) -> list[int]:
    """Frame sets whose rendering lease lapsed (a worker died, its retries ran out),
    and pending ones nobody picked up (the queue lost them), oldest first."""
    lapsed = FrameSet.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=timezone.now()),
        state__in=[FrameSet.State.PENDING, FrameSet.State.RENDERING],
    )
    return list(lapsed.order_by("updated_at", "id").values_list("pk", flat=True)[:limit])


def records_without_series(*, limit: int = 50) -> list[int]:
    """Verified study records with series in their summary and no Series rows yet:
    start_rendering was lost (storage was down, the queue lost it), or the record was
    verified before frames were rendered."""
    return list(
        Record.objects.filter(state=State.VERIFIED, study__series_count__gt=0, series__isnull=True)
        .order_by("checked_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


def requeue(frame_set_ids: list[int]) -> int:
    """Queue each frame set again (the sweep): a lapsed rendering goes back to
    pending, and waits QUEUED_GRACE for a worker."""
    FrameSet.objects.filter(pk__in=frame_set_ids, state=FrameSet.State.RENDERING).update(
        state=FrameSet.State.PENDING
    )
    _queue(list(FrameSet.objects.filter(pk__in=frame_set_ids, state=FrameSet.State.PENDING)))
    return len(frame_set_ids)
