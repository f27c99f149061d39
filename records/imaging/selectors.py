"""Reads of a study's series and their rendered frames. The caller has loaded the
case (or record) through requests_app.access for the person asking; these reads add
no access rule of their own."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

from django.core.files.storage import default_storage
from django.db.models import Prefetch

from records.models import Identity, Record, State

from .models import FrameSet, Preset, Series

if TYPE_CHECKING:
    from requests_app.models import Case


class FrameNotReady(LookupError):
    """The frame asked for is not rendered (yet), or does not exist."""


def _with_stored_frame_sets():
    return Prefetch(
        "frame_sets",
        queryset=FrameSet.objects.filter(preset=Preset.STORED).order_by("-size"),
    )


def series_of_case(case: Case) -> list[Series]:
    """The series of the case's verified imaging studies (dismissed ones, and studies
    labelled for another person that the patient has not answered for, left out),
    study by study in upload order, each in display order, with their stored-window
    frame sets. Pages read through records.imaging.viewer_selectors (the viewer's
    access rule); this is for work on the case's images as a whole."""
    return list(
        Series.objects.filter(
            record__case=case,
            record__state=State.VERIFIED,
            record__dismissed_at__isnull=True,
        )
        .exclude(record__identity=Identity.ASKED)
        .select_related("record")
        .prefetch_related(_with_stored_frame_sets())
        .order_by("record__created_at", "record_id", "position", "id")
    )


def series_of_record(record: Record) -> list[Series]:
    """A study record's series in display order, with their stored frame sets."""
    return list(
        Series.objects.filter(record=record)
        .select_related("record")
        .prefetch_related(_with_stored_frame_sets())
        .order_by("position", "id")
    )


def frame_set(series: Series, preset: str, size: int) -> FrameSet | None:
    return FrameSet.objects.filter(series=series, preset=preset, size=size).first()


def frame_sets_of(series: Series) -> list[FrameSet]:
    """Every frame set of a series (each preset asked for, each size)."""
    return list(FrameSet.objects.filter(series=series).order_by("preset", "-size"))


def open_frame(frame_set: FrameSet, index: int) -> IO[bytes]:
    """The WebP of frame `index` (0-based, display order), opened from storage.
    FrameNotReady when it is not rendered yet (index >= ready_count) or out of range.
    The caller closes it."""
    if index < 0 or index >= frame_set.ready_count:
        raise FrameNotReady(index)
    return default_storage.open(frame_set.key(index), "rb")
