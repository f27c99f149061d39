"""A verified study's series and their rendered frames (docs: the imaging contract).

A `Series` is one series of a study record, in display order; a `FrameSet` is its
frames rendered to WebP for one window preset at one display size, stored at
`frame_key(...)` under the record's prefix, ready in order 0..ready_count-1."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# The long side of a rendered frame: a laptop's viewer, and a phone's.
SIZES = (1024, 512)


class Preset(models.TextChoices):
    STORED = "stored", _("As stored")
    SOFT_TISSUE = "soft_tissue", _("Soft tissue")
    LUNG = "lung", _("Lung")
    BONE = "bone", _("Bone")
    BRAIN = "brain", _("Brain")


# CT window presets: (width, centre) in Hounsfield units.
CT_WINDOWS: dict[str, tuple[float, float]] = {
    Preset.SOFT_TISSUE: (400.0, 40.0),
    Preset.LUNG: (1500.0, -600.0),
    Preset.BONE: (2000.0, 300.0),
    Preset.BRAIN: (80.0, 40.0),
}


def presets_for(modality: str) -> tuple[str, ...]:
    """The presets a series of this modality offers: CT the four windows besides
    the stored one; every other modality its stored window only."""
    if (modality or "").upper() == "CT":
        return (Preset.STORED, *CT_WINDOWS)
    return (Preset.STORED,)


class Series(models.Model):
    record = models.ForeignKey("records.Record", on_delete=models.CASCADE, related_name="series")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    study_uid = models.CharField(max_length=64, blank=True)
    series_uid = models.CharField(max_length=64)
    modality = models.CharField(max_length=16, blank=True)
    description = models.CharField(max_length=200, blank=True)
    body_part = models.CharField(max_length=64, blank=True)
    series_date = models.DateField(null=True, blank=True)
    number = models.IntegerField(null=True, blank=True)
    # Frames in display order (every frame of every instance).
    image_count = models.PositiveIntegerField(default=0)
    # Display order in the study.
    position = models.PositiveIntegerField(default=0)
    # Where each frame comes from, in display order: [file uuid, ZIP member name or "",
    # frame number in that instance]. Filled by services.start_rendering.
    sources = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["record", "position", "id"]
        verbose_name_plural = "series"
        constraints = [
            models.UniqueConstraint(
                fields=["record", "series_uid"], name="series_unique_in_record"
            ),
        ]

    def __str__(self):
        # No description: this string reaches the audit and access logs.
        return f"series {self.uuid}"

    @property
    def presets(self) -> tuple[str, ...]:
        return presets_for(self.modality)


class FrameSet(models.Model):
    """One series' frames for one preset at one size. Rendered by
    records.imaging.tasks.frames_render under a lease (`lease_until`): a sweep queues
    again the work whose lease lapsed."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to be prepared")
        RENDERING = "rendering", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Could not be prepared")
        SKIPPED = "skipped", _("No pictures")

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="frame_sets")
    preset = models.CharField(max_length=16, choices=Preset, default=Preset.STORED)
    size = models.PositiveSmallIntegerField(default=1024)
    state = models.CharField(max_length=10, choices=State, default=State.PENDING)
    # Frames rendered so far, in display order: 0..ready_count-1 can be shown.
    ready_count = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    # Why it failed or has no pictures: a records.imaging.rendering.REASONS key.
    reason = models.CharField(max_length=40, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["series", "preset", "-size"]
        indexes = [models.Index(fields=["state", "lease_until"])]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "preset", "size"], name="frame_set_unique_per_preset_size"
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["failed", "skipped"]) | ~Q(reason=""),
                name="frame_set_failed_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(ready_count__lte=models.F("total")),
                name="frame_set_ready_within_total",
            ),
        ]

    def __str__(self):
        return f"frame set {self.pk} ({self.preset}, {self.size})"

    @property
    def record(self):
        return self.series.record

    @property
    def is_ready(self) -> bool:
        return self.state == self.State.READY

    def key(self, index: int) -> str:
        return frame_key(self.series, self.preset, self.size, index)


def frame_key(series: Series, preset: str, size: int, index: int) -> str:
    """Where frame `index` (0-based, display order) of a frame set is stored."""
    return f"{frames_prefix(series.record)}{series.uuid}/{preset}/{size}/{index:05d}.webp"


def frames_prefix(record) -> str:
    """The folder of every frame of a record (deleted with the record). The record's
    prefix ends with a slash."""
    return f"{record.prefix}frames/"
