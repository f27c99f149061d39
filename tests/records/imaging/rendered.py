"""A checked study record with series whose frames are already rendered, for the
viewer's tests: frames drawn with Pillow (each image its own shade and a bar at its
own height, each preset its own tint), stored where records.imaging keeps them."""

import datetime
import io

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageDraw

from records.imaging.models import SIZES, FrameSet, Preset, Series
from tests.records.factories import RecordFactory

TINTS = {
    Preset.STORED: (1.0, 1.0, 1.0),
    Preset.SOFT_TISSUE: (1.0, 0.85, 0.85),
    Preset.LUNG: (0.6, 0.8, 1.0),
    Preset.BONE: (1.0, 1.0, 0.7),
    Preset.BRAIN: (0.8, 1.0, 0.8),
}


def frame_bytes(index: int, total: int, preset: str, size: int) -> bytes:
    shade = 40 + int(180 * index / max(total - 1, 1))
    r, g, b = (int(shade * t) for t in TINTS[Preset(preset)])
    picture = Image.new("RGB", (size, size), (r // 3, g // 3, b // 3))
    draw = ImageDraw.Draw(picture)
    draw.ellipse((size // 8, size // 8, size * 7 // 8, size * 7 // 8), fill=(r, g, b))
    top = int((size - size // 16) * index / max(total - 1, 1))
    draw.rectangle((0, top, size, top + size // 16), fill=(255 - r, 255 - g, 255 - b))
    out = io.BytesIO()
    picture.save(out, "WEBP", quality=80)
    return out.getvalue()


def render(series: Series, preset: str, *, ready: int | None = None) -> list[FrameSet]:
    """The preset's frame sets at both sizes, `ready` frames rendered (all of them)."""
    count = series.image_count if ready is None else ready
    made = []
    for size in SIZES:
        frame_set, _ = FrameSet.objects.update_or_create(
            series=series,
            preset=preset,
            size=size,
            defaults={
                "total": series.image_count,
                "ready_count": count,
                "state": FrameSet.State.READY
                if count == series.image_count
                else FrameSet.State.RENDERING,
            },
        )
        for index in range(count):
            key = frame_set.key(index)
            if default_storage.exists(key):
                default_storage.delete(key)
            default_storage.save(
                key, ContentFile(frame_bytes(index, series.image_count, preset, size))
            )
        made.append(frame_set)
    return made


def study_record(case, *, title="CT chest, March 2026", series=None, **fields):
    """A checked study record on `case` with `series` (dicts of Series fields; a
    CT of 12 images and an MR of 4 by default), their stored window rendered."""
    series = series or [
        {
            "modality": "CT",
            "description": "Chest, lung detail",
            "body_part": "CHEST",
            "image_count": 12,
        },
        {"modality": "MR", "description": "Brain T2 axial", "body_part": "HEAD", "image_count": 4},
    ]
    record = RecordFactory(
        case=case,
        category="imaging",
        title=title,
        is_study=True,
        mime="",
        file=b"DICM",
        file__name="CD/DICOM/IM0001",
        **fields,
    )
    record.study = {
        "studies": [
            {
                "study_uid": "1.2.3",
                "date": "2026-03-02",
                "description": "CT chest with contrast",
                "modalities": sorted({s["modality"] for s in series}),
                "series": [
                    {"series_uid": f"1.2.3.{n}", "instances": s["image_count"], **s}
                    for n, s in enumerate(series, 1)
                ],
            }
        ],
        "series_count": len(series),
        "instance_count": sum(s["image_count"] for s in series),
        "modalities": sorted({s["modality"] for s in series}),
        "skipped": [],
    }
    record.save(update_fields=["study"])
    made = []
    for position, fields_ in enumerate(series):
        one = Series.objects.create(
            record=record,
            study_uid="1.2.3",
            series_uid=f"1.2.3.{position + 1}",
            series_date=datetime.date(2026, 3, 2),
            number=position + 1,
            position=position,
            **fields_,
        )
        render(one, Preset.STORED)
        made.append(one)
    return record, made
