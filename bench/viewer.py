"""The image viewer: frames per second while scrolling a ready series over the local
server. See bench/README.md, "Image viewer scrolling".

    .venv/bin/python bench/viewer.py [--images 200] [--passes 3] [--database-url ...]

In one run: migrates its own database (`secondop_viewer_bench`, created if missing),
starts a moto S3 server, and makes a case whose assigned specialist has a ready
200-image CT series: 512 x 512 slices (tests/records/imaging/dicoms.py) rendered by
records.imaging.rendering at 1,024 and 512 px, stored where the frame endpoint reads
them (the case once; the frames stored in each run, as moto keeps them in memory
only, from WebP files rendered once and kept in --dir). Then it serves SecondOp with production settings under
gunicorn (2 sync workers, as bench/pages.py and the production image), signs the
specialist in through the login and TOTP pages, and measures:

1. **In the browser** (Debian's Chromium, headless, through Playwright): the viewer
   page of the series; a script in the page presses the down arrow on the image,
   waits until the next frame is decoded (`img.decode()`) and painted (the next
   animation frame), and goes on, from the first image to the last, as fast as the
   frames come. Frames per second = images moved / time. `cold`: the first pass, every
   frame fetched from the server (the viewer fetches 8 ahead); `warm`: the page loaded
   again and the same again (frames are no-store: fetched again, the server warm). At 1280 px (the 1,024 px
   set) and 390 px (the 512 px set).
2. **Over HTTP alone**: each frame of the series fetched in turn with one keep-alive
   connection (no browser, no preloading): the server's frames per second and each
   frame's time (p50/p95).
"""

import argparse
import datetime
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import (  # noqa: E402
    GUNICORN,
    PROXY_HEADERS,
    Server,
    ensure_database,
    free_port,
    percentile,
    production_environment,
    sign_in,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/secondop_viewer_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/11"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
TARGET_FPS = 15
SPECIALIST = "viewer-bench-specialist@example.invalid"
PATIENT = "viewer-bench-patient@example.invalid"
PASSWORD = "viewer-bench-password-1"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
TITLE = "Viewer bench CT"

# Down the series as fast as the frames show: press, wait until decoded and painted.
SCROLL = """async (count) => {
    const stage = document.querySelector("[data-viewer-stage]");
    const image = document.querySelector("[data-viewer-image]");
    const painted = () => new Promise((done) => requestAnimationFrame(() => done()));
    const times = [];
    const started = performance.now();
    for (let step = 1; step < count; step += 1) {
        const before = performance.now();
        stage.dispatchEvent(new KeyboardEvent("keydown", {key: "ArrowDown", bubbles: true}));
        while (!(image.dataset.frame || "").endsWith(`/${step}/`)) await painted();
        await image.decode();
        await painted();
        times.push(performance.now() - before);
    }
    return {elapsed: performance.now() - started, times};
}"""


def build_world(images: int, cache: Path):
    """The bench's case and specialist (made once, then found) and a ready series
    (made in each run: moto keeps its objects in memory only)."""
    from allauth.mfa.totp.internal.auth import TOTP
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from records.imaging import rendering
    from records.imaging.models import SIZES, FrameSet, Preset, Series
    from records.models import Record
    from requests_app.models import Case, CaseStatus
    from secondop.accounts.models import User
    from tests.records.imaging import dicoms
    from tests.requests_app.factories import CaseFactory

    print(f"Rendering a {images}-image CT series at 1,024 and 512 px...")
    patient = User.objects.filter(email=PATIENT).first() or User.objects.create_user(
        email=PATIENT, password=PASSWORD, full_name="Bench Patient", role="patient"
    )
    specialist = User.objects.filter(email=SPECIALIST).first()
    if specialist is None:
        specialist = User.objects.create_user(
            email=SPECIALIST, password=PASSWORD, full_name="Dr. Bench", role="specialist"
        )
        TOTP.activate(specialist, TOTP_SECRET)
    for user in (patient, specialist):
        user.emailaddress_set.get_or_create(email=user.email, defaults={"verified": True})
    case = Case.objects.filter(owner=patient).first() or CaseFactory(
        owner=patient, submitted=True, status=CaseStatus.IN_REVIEW
    )
    Case.objects.filter(pk=case.pk).update(specialist=specialist, status=CaseStatus.IN_REVIEW)
    Record.objects.filter(title=TITLE).delete()
    record = Record.objects.create(
        case=case,
        uploaded_by=patient,
        category="imaging",
        title=TITLE,
        is_study=True,
        state="verified",
        slot_expires_at=timezone.now() + datetime.timedelta(hours=1),
        study={"studies": [{"study_uid": "1.2.3", "date": "2026-03-02", "series": []}]},
    )
    series = Series.objects.create(
        record=record,
        study_uid="1.2.3",
        series_uid="1.2.3.1",
        modality="CT",
        description="Chest axial",
        body_part="CHEST",
        image_count=images,
    )
    sets = {
        size: FrameSet.objects.create(
            series=series, preset=Preset.STORED, size=size, total=images, state="rendering"
        )
        for size in SIZES
    }
    started = time.perf_counter()
    cache.mkdir(parents=True, exist_ok=True)
    for index in range(images):
        data = None
        for size, frame_set in sets.items():
            kept = cache / f"{index:05d}-{size}.webp"
            if not kept.exists():
                if data is None:
                    data = dicoms.instance(dicoms.ct_slice(512, seed=index), number=index + 1)
                kept.write_bytes(rendering.render_file(_bytes(data), 0, Preset.STORED, size))
            default_storage.save(frame_set.key(index), ContentFile(kept.read_bytes()))
    FrameSet.objects.filter(series=series).update(ready_count=images, state="ready")
    print(f"  rendered and stored in {time.perf_counter() - started:.1f} s")
    return series


def _bytes(data: bytes):
    import io

    return io.BytesIO(data)


def browser_passes(base: str, cookie: str, series, *, width: int, passes: int) -> list[dict]:
    from django.conf import settings
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--headless=new", "--no-sandbox", "--disable-gpu"]
        )
        for run in range(passes):
            context = browser.new_context(
                viewport={"width": width, "height": 900 if width > 640 else 844},
                extra_http_headers=PROXY_HEADERS,
            )
            context.add_cookies(
                [
                    {
                        "name": settings.SESSION_COOKIE_NAME,
                        "value": cookie,
                        "url": base,
                    }
                ]
            )
            page = context.new_page()
            for label in ("cold", "warm"):
                page.goto(f"{base}/imaging/series/{series.uuid}/")
                page.wait_for_function(
                    "() => { const i = document.querySelector('[data-viewer-image]');"
                    " return document.querySelector('.viewer-enhanced') && i.dataset.frame"
                    " && i.complete && i.naturalWidth > 0; }"
                )
                size = page.evaluate(
                    "() => document.querySelector('[data-viewer-image]').dataset.frame.split('/').at(-3)"
                )
                outcome = page.evaluate(SCROLL, series.image_count)
                times = sorted(outcome["times"])
                results.append(
                    {
                        "width": width,
                        "size": size,
                        "pass": label,
                        "run": run + 1,
                        "fps": (series.image_count - 1) / (outcome["elapsed"] / 1000),
                        "p50": percentile(times, 50),
                        "p95": percentile(times, 95),
                        "max": times[-1],
                    }
                )
            context.close()
        browser.close()
    return results


def http_pass(base: str, cookie: str, series, size: int, *, token: bool = True) -> dict:
    """`token`: as the viewer asks, with the page's frame token (the short check), else
    every frame through the whole check."""
    import re

    import requests
    from django.conf import settings

    session = requests.Session()
    session.headers.update(PROXY_HEADERS)
    session.cookies.set(settings.SESSION_COOKIE_NAME, cookie)
    query = ""
    if token:
        page = session.get(f"{base}/imaging/series/{series.uuid}/")
        page.raise_for_status()
        query = "?t=" + re.search(r'data-frame-token="([^"]+)"', page.text).group(1)
    times = []
    total_bytes = 0
    started = time.perf_counter()
    for index in range(series.image_count):
        before = time.perf_counter()
        response = session.get(
            f"{base}/imaging/series/{series.uuid}/frames/stored/{size}/{index}/{query}"
        )
        response.raise_for_status()
        if token and response.headers.get("X-Frame-Token"):
            query = "?t=" + response.headers["X-Frame-Token"]
        total_bytes += len(response.content)
        times.append((time.perf_counter() - before) * 1000)
    elapsed = time.perf_counter() - started
    times.sort()
    return {
        "size": size,
        "fps": series.image_count / elapsed,
        "p50": percentile(times, 50),
        "p95": percentile(times, 95),
        "kb": total_bytes / series.image_count / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--passes", type=int, default=3, help="browser runs per width")
    parser.add_argument(
        "--dir", default="/tmp/viewer-bench-frames", help="rendered frames kept between runs"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=4,
        help="threads per gunicorn worker (1: sync workers), as GUNICORN_THREADS in production",
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"Chromium is not installed at {CHROMIUM}: apt-get install -y chromium")

    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    s3_port = free_port()
    s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=s3_port, verbose=False)
    s3.start()
    env = production_environment(args, f"http://127.0.0.1:{s3_port}")
    os.environ.clear()
    os.environ.update(env, DJANGO_SETTINGS_MODULE="secondop.settings")
    ensure_database(args.database_url)

    import boto3
    import django

    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()
    from django.core.management import call_command

    boto3.client(
        "s3",
        endpoint_url=env["AWS_S3_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench-secret",
    ).create_bucket(Bucket=env["AWS_STORAGE_BUCKET_NAME"])
    call_command("migrate", verbosity=0)
    series = build_world(args.images, Path(args.dir))
    print(
        f"machine: {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}; "
        f"storage: moto S3 on loopback"
    )
    options = list(GUNICORN)
    if args.threads > 1:
        # As docker/gunicorn.conf.py runs production: gthread workers.
        options[options.index("sync")] = "gthread"
        options += ["--threads", str(args.threads)]
    app = Server("secondop", "bench.viewer_wsgi:application", free_port(), env, options)
    print(f"gunicorn {' '.join(options)}")
    try:
        app.wait("/healthz")
        cookie = sign_in(app.base, SPECIALIST, PASSWORD, TOTP_SECRET)
        print("\nIn Chromium: the viewer, down the series with the arrow key (ms per image)")
        print("| width | frames | pass | frames/s | p50 | p95 | max |")
        print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
        rows = []
        for width in (1280, 390):
            rows += browser_passes(app.base, cookie, series, width=width, passes=args.passes)
        for width in (1280, 390):
            for label in ("cold", "warm"):
                these = [r for r in rows if r["width"] == width and r["pass"] == label]
                fps = statistics.median(r["fps"] for r in these)
                print(
                    f"| {width} px | {these[0]['size']} px | {label} | {fps:.1f} "
                    f"({min(r['fps'] for r in these):.1f}-{max(r['fps'] for r in these):.1f}) | "
                    f"{statistics.median(r['p50'] for r in these):.1f} | "
                    f"{statistics.median(r['p95'] for r in these):.1f} | "
                    f"{max(r['max'] for r in these):.1f} |"
                )
        print("\nOver HTTP alone: every frame in turn, one keep-alive connection")
        print("| frames | check | frames/s | p50 ms | p95 ms | KiB a frame |")
        print("| --- | --- | ---: | ---: | ---: | ---: |")
        for size in (1024, 512):
            for token in (True, False):
                one = http_pass(app.base, cookie, series, size, token=token)
                print(
                    f"| {size} px | {'frame token' if token else 'whole'} | {one['fps']:.1f} | "
                    f"{one['p50']:.1f} | {one['p95']:.1f} | {one['kb']:.0f} |"
                )
        print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        worst = min(r["fps"] for r in rows)
        verdict = "met" if worst >= TARGET_FPS else "NOT met"
        print(f"\nTarget {TARGET_FPS} frames/s: {verdict} (slowest pass {worst:.1f})")
    finally:
        app.stop()
        s3.stop()


if __name__ == "__main__":
    main()
