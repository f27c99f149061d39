"""Imaging: time to the first viewable frame, and the rendering's peak memory. See
bench/README.md, "Imaging frames".

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/secondop_bench_imaging \\
        .venv/bin/python bench/imaging.py [--dir DIR] [--images 200] [--frames 500]

1. First frame: a 200-image CT series (512 x 512, 16-bit, RLE Lossless: what
   pydicom's encoder makes) is uploaded to local storage as a folder study and
   verified by records.checking (not timed). Timed from the moment the record is
   verified: imaging_start (the series made, instances in display order, frame sets
   queued) then frames_render of the 1,024 px stored frame set, until its first frame
   is stored and counted (ready_count 1), then on to the last frame. The Celery hop
   between the two tasks (a Redis round trip, milliseconds) is not included.
2. Peak memory, each case in a fresh Python process whose peak resident memory
   (VmHWM, reset once the libraries are loaded) and tracemalloc peak are reported:
   rendering every frame of a 512 x 512 x 500 series at 1,024 and 512 px (one
   multi-frame file, uncompressed, 250 MiB; and 500 RLE files), and a DICOM
   declaring one 65,535 x 65,535 frame (a JPEG; and an RLE frame that really
   decodes to 4.3 GB), which must be refused cheaply.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_FIRST_FRAME_S = 2.0
TARGET_PEAK_MB = 300


def ensure_database() -> None:
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        return
    import psycopg2
    from psycopg2 import sql

    params = {k.lower(): db[k] for k in ("USER", "PASSWORD", "HOST", "PORT") if db.get(k)}
    conn = psycopg2.connect(dbname="postgres", **params)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]])
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
    conn.close()


def ct_series(count: int, *, rle: bool = True) -> dict[str, bytes]:
    from tests.records.imaging import dicoms

    series = "1.2.826.0.1.3680043.8.498.4242.1"
    return {
        f"CD/DICOM/S0001/I{n:04d}": dicoms.instance(
            dicoms.ct_slice(512, seed=n),
            study="1.2.826.0.1.3680043.8.498.4242",
            series=series,
            number=n,
            position=float(n),
            rle=rle,
            RescaleSlope=1,
            RescaleIntercept=-1024,
            WindowCenter=40,
            WindowWidth=400,
        )
        for n in range(1, count + 1)
    }


def first_frame(images: int) -> dict:
    import uuid
    from unittest import mock

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from records import checking
    from records.imaging import services, tasks
    from records.imaging.models import FrameSet
    from records.models import Record, RecordFile, State
    from tests.requests_app.factories import CaseFactory

    made = time.perf_counter()
    files = ct_series(images)
    made = time.perf_counter() - made
    case = CaseFactory(submitted=True)
    record = Record.objects.create(
        case=case,
        uploaded_by=case.owner,
        category="imaging",
        title="CT chest",
        is_study=True,
        state=State.UPLOADED,
        size=sum(map(len, files.values())),
        uploaded_at=timezone.now(),
        slot_expires_at=timezone.now(),
    )
    for name, data in files.items():
        file_uuid = uuid.uuid4()
        key = f"{record.prefix}{file_uuid}"
        default_storage.save(key, ContentFile(data))
        RecordFile.objects.create(
            uuid=file_uuid, record=record, key=key, name=name, size=len(data), stored_size=len(data)
        )
    verify = time.perf_counter()
    queued: list = []
    with mock.patch("records.services.outcome.queue_on_commit", lambda *a: queued.append(a)):
        checking.check_record(record.pk)
    verify = time.perf_counter() - verify
    record.refresh_from_db()
    assert record.state == State.VERIFIED, record.reason
    assert queued and queued[0][0] == "records.imaging.tasks.imaging_start", queued

    first_at: list[float] = []
    real_done = services._frame_done

    def frame_done(frame_set, index):
        if index == 0 and not first_at:
            first_at.append(time.perf_counter())
        return real_done(frame_set, index)

    render_queue: list = []
    start = time.perf_counter()
    with (
        mock.patch.object(services, "queue_on_commit", lambda *a: render_queue.append(a)),
        mock.patch.object(services, "_frame_done", frame_done),
    ):
        tasks.imaging_start.run(record.pk)
        series_made = time.perf_counter()
        first_set = render_queue[0][1]
        assert tasks.frames_render.run(first_set) == "ready"
    done = time.perf_counter()
    frame_set = FrameSet.objects.get(pk=first_set)
    assert (frame_set.size, frame_set.ready_count) == (1024, images)
    return {
        "images": images,
        "bytes": sum(map(len, files.values())),
        "synthesis_s": round(made, 2),
        "verification_s": round(verify, 2),
        "series_made_s": round(series_made - start, 3),
        "first_frame_s": round(first_at[0] - start, 3),
        "whole_series_1024_s": round(done - start, 2),
        "frames_per_s": round(images / (done - series_made), 1),
        "frame_sets_queued": len(render_queue),
    }


_CHILD = r"""
import json, os, sys, time, tracemalloc
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "secondop.settings")
os.environ.setdefault("DJANGO_DEBUG", "true")
import django
django.setup()
import numpy, PIL.Image, pydicom.pixels, gdcm, openjpeg, rle
from records.imaging import rendering

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024

open("/proc/self/clear_refs", "w").write("5")
baseline = status("VmRSS")
paths = sys.argv[1:]
tracemalloc.start()
started = time.perf_counter()
frames = 0
outcome = {}
try:
    for path in paths:
        with open(path, "rb") as handle:
            instance = rendering.open_instance(handle)
            for index in range(instance.geometry.frames):
                for size in (1024, 512):
                    rendering.render_frame(handle, instance, index, "stored", size)
                frames += 1
except rendering.FrameRefused as refused:
    outcome = {"refused": refused.reason, "detail": str(refused)}
_now, traced = tracemalloc.get_traced_memory()
print(json.dumps({**outcome, "frames": frames, "seconds": round(time.perf_counter() - started, 2),
                  "peak_mb": round(status("VmHWM") / 1024**2, 1),
                  "baseline_mb": round(baseline / 1024**2, 1),
                  "tracemalloc_peak_mb": round(traced / 1024**2, 1)}))
"""


def measure(paths: list[Path]) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, *map(str, paths)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if done.returncode != 0:
        return {"error": done.stderr[-2000:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def memory_cases(folder: Path, frames: int) -> dict[str, dict]:
    import numpy as np

    from tests.records import samples
    from tests.records.imaging import dicoms

    multi = folder / "multiframe-512x512x500.dcm"
    if not multi.exists():
        stack = np.stack([dicoms.ct_slice(512, seed=n) for n in range(frames)])
        multi.write_bytes(
            dicoms.instance(
                stack, RescaleSlope=1, RescaleIntercept=-1024, WindowCenter=40, WindowWidth=400
            )
        )
        del stack
    series = folder / "series-500-rle"
    if not series.exists():
        series.mkdir()
        for name, data in ct_series(frames).items():
            (series / name.rsplit("/", 1)[-1]).write_bytes(data)
    declared = folder / "declared-65535-jpeg.dcm"
    if not declared.exists():
        declared.write_bytes(samples.dicom_declaring(65535, 65535))
    rle = folder / "declared-65535-rle.dcm"
    if not rle.exists():
        samples.write_dicom_rle_declaring(rle, rows=65535, columns=65535)
    native = folder / "native-8192.dcm"
    if not native.exists():
        samples.write_dicom_native(native, rows=8192, columns=8192)
    return {
        f"512x512x{frames}, one uncompressed multi-frame file": measure([multi]),
        f"512x512x{frames}, {frames} RLE files": measure(sorted(series.iterdir())),
        "declared 65,535 x 65,535 (JPEG, 1 MB file)": measure([declared]),
        "declared 65,535 x 65,535 (RLE that decodes to 4.3 GB)": measure([rle]),
        "8,192 x 8,192 uncompressed (downsampled while read)": measure([native]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", help="keep the generated inputs here (default: temporary)")
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--frames", type=int, default=500)
    parser.add_argument("--skip-first-frame", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "secondop.settings")
    os.environ.setdefault("DJANGO_DEBUG", "true")
    if not os.environ.get("DATABASE_URL") and not args.skip_first_frame:
        sys.exit("Set DATABASE_URL (this script migrates that database).")
    folder = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="imaging-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["MEDIA_ROOT"] = str(folder / "media")

    import django

    django.setup()
    failed = False
    if not args.skip_first_frame:
        ensure_database()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        result = first_frame(args.images)
        print(json.dumps({"first_frame": result}, indent=2))
        failed |= result["first_frame_s"] > TARGET_FIRST_FRAME_S
    for name, result in memory_cases(folder, args.frames).items():
        print(f"{name}: {json.dumps(result)}")
        failed |= "error" in result or result.get("peak_mb", 0) > TARGET_PEAK_MB
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
