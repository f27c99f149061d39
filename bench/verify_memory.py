"""Peak memory of records verification on big inputs. See bench/README.md.

    .venv/bin/python bench/verify_memory.py [--dir DIR] [--case NAME ...] [--s3] [--clamd ADDRESS]

Makes the inputs once in DIR (default: a temporary folder, removed afterwards
unless --dir is given): a 1 GiB DICOM (2,048 frames of 512x512), a 1 GiB PDF (one
page and a 1 GiB stream), a 1 GiB ZIP of 64 DICOMs, and a 2,000-instance study (20
series of 100) as a folder and as a ZIP. Each case then runs in a fresh Python
process that verifies it as records.checking does (verify_file, then for a study
summarise_study and one dicom_thumbnail per series) and reports its peak
resident memory (VmHWM from /proc/self/status, reset once the libraries are
loaded), beside its resident memory at that point (the baseline), and the time.

--s3 serves the files from a moto S3 server (in this process) instead of local
storage, so the ranged reader is what is measured; --clamd scans as well.

The hostile cases (issue 17) are files made to exhaust a worker: a DICOM whose RLE
frame decodes to 65,535 x 65,535 (4.3 GB from 67 MB), a DICOM with a 315 MB private
element, a ZIP whose central directory lists 1,000,000 entries (52 MB), and an
uncompressed 8,192 x 8,192 frame to draw. Their target is a peak under 300 MB.
--before REV measures the verification code of git revision REV instead (e.g. the
commit before the fix), for the before/after table; each child is capped at
--cap-gb of address space (default 12) so that the old code's worst case fails
there rather than taking the machine.
"""

import argparse
import contextlib
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GIB = 1024**3
LIMIT_MB = 200
HOSTILE_LIMIT_MB = 300
HOSTILE = [
    "hostile-dicom-65535",
    "hostile-dicom-private-315m",
    "hostile-zip-1m-entries",
    "dicom-8192-native-thumbnail",
]
CASES = [
    "dicom-1g",
    "dicom-1g-thumbnail",
    "pdf-1g",
    "zip-1g",
    "png-12mp",
    "study-folder",
    "study-zip",
    *HOSTILE,
]
STUDY_SERIES, STUDY_INSTANCES = 20, 100


# --- Inputs ----------------------------------------------------------------------------
def _dicom_header(*, frames: int, rows: int = 512, columns: int = 512, uid: str = "1.2.3") -> bytes:
    """CT_small's header, made multi-frame, without its pixel data."""
    import pydicom
    from pydicom.data import get_testdata_file

    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    del ds.PixelData
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, columns, frames
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.StudyInstanceUID, ds.SeriesInstanceUID = f"{uid}.1", f"{uid}.1.1"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"{uid}.1.1.1"
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def _frame(rows: int = 512, columns: int = 512) -> bytes:
    import numpy as np

    y, x = np.mgrid[0:rows, 0:columns]
    return ((x * 7 + y * 3) % 4096).astype("<u2").tobytes()


def write_dicom(path: Path, *, frames: int, uid: str = "1.2.3") -> None:
    frame = _frame()
    with path.open("wb") as out:
        out.write(_dicom_header(frames=frames, uid=uid))
        out.write(struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, len(frame) * frames))
        for _ in range(frames):
            out.write(frame)


def write_pdf(path: Path, *, stream_bytes: int) -> None:
    """One page with a drawing, and an unreferenced 1 GiB stream: a PDF reader
    must not read what the page does not need."""
    block = os.urandom(1024 * 1024)
    offsets = []
    with path.open("wb") as out:
        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

        def obj(body: bytes) -> None:
            offsets.append(out.tell())
            out.write(b"%d 0 obj\n" % len(offsets) + body + b"\nendobj\n")

        drawing = b"0.2 0.4 0.8 rg 50 50 400 600 re f"
        obj(b"<< /Type /Catalog /Pages 2 0 R >>")
        obj(b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
        obj(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>")
        obj(b"<< /Length %d >>\nstream\n" % len(drawing) + drawing + b"\nendstream")
        offsets.append(out.tell())
        out.write(b"5 0 obj\n<< /Length %d >>\nstream\n" % stream_bytes)
        for _ in range(stream_bytes // len(block)):
            out.write(block)
        out.write(b"\nendstream\nendobj\n")
        xref = out.tell()
        out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1))
        for offset in offsets:
            out.write(b"%010d 00000 n \n" % offset)
        out.write(
            b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(offsets) + 1, xref)
        )


def write_big_zip(path: Path, *, entries: int, frames_each: int) -> None:
    frame = _frame()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for n in range(entries):
            with archive.open(f"DICOM/IM{n:04d}", "w", force_zip64=True) as member:
                member.write(_dicom_header(frames=frames_each, uid=f"1.2.4.{n}"))
                member.write(
                    struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, len(frame) * frames_each)
                )
                for _ in range(frames_each):
                    member.write(frame)


def write_png(path: Path) -> None:
    """The largest picture verification decodes whole for its thumbnail (3,584 x
    3,500 RGB, 12.5 megapixels: just under IMAGE_DECODE_MAX_BYTES as Pillow holds
    it, four bytes a pixel)."""
    from PIL import Image

    noise = Image.effect_noise((3584, 3500), 64).convert("RGB")
    noise.save(path, "PNG", compress_level=1)


def study_instances():
    import pydicom
    from pydicom.data import get_testdata_file

    template = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    study = "1.2.826.0.1.3680043.8.498.77"
    for s in range(1, STUDY_SERIES + 1):
        for i in range(1, STUDY_INSTANCES + 1):
            template.SeriesInstanceUID, template.SeriesNumber = f"{study}.{s}", s
            template.StudyInstanceUID = study
            template.SOPInstanceUID = template.file_meta.MediaStorageSOPInstanceUID = (
                f"{study}.{s}.{i}"
            )
            template.InstanceNumber = i
            out = io.BytesIO()
            template.save_as(out, enforce_file_format=True)
            yield f"DICOM/S{s:04d}/I{i:04d}", out.getvalue()


def make_inputs(folder: Path, cases: list[str]) -> None:
    """The inputs of `cases` (the big ones take minutes and gigabytes: only when asked)."""
    folder.mkdir(parents=True, exist_ok=True)
    if not set(cases) - set(HOSTILE):
        _make_hostile(folder)
        return
    steps = [
        ("dicom-1g.dcm", lambda p: write_dicom(p, frames=2048)),
        ("pdf-1g.pdf", lambda p: write_pdf(p, stream_bytes=GIB)),
        ("zip-1g.zip", lambda p: write_big_zip(p, entries=64, frames_each=32)),
        ("png-12mp.png", write_png),
    ]
    for name, make in steps:
        path = folder / name
        if not path.exists():
            print(f"making {name}", flush=True)
            make(path.with_suffix(".part"))
            path.with_suffix(".part").rename(path)
    _make_hostile(folder)
    _make_study(folder)


def _make_hostile(folder: Path) -> None:
    from tests.records import samples

    hostile = [
        ("hostile-65535.dcm", lambda p: samples.write_dicom_rle_declaring(p)),
        ("hostile-private-315m.dcm", lambda p: samples.write_dicom_private_blob(p)),
        ("hostile-1m-entries.zip", lambda p: samples.write_zip_listing(p, entries=1_000_000)),
        ("native-8192.dcm", lambda p: samples.write_dicom_native(p, rows=8192, columns=8192)),
    ]
    for name, make in hostile:
        path = folder / name
        if not path.exists():
            print(f"making {name}", flush=True)
            make(path.with_suffix(".part"))
            path.with_suffix(".part").rename(path)


def _make_study(folder: Path) -> None:
    study = folder / "study"
    if not (folder / "study-zip.zip").exists():
        print("making the 2,000-instance study", flush=True)
        with zipfile.ZipFile(
            folder / "study-zip.part", "w", zipfile.ZIP_DEFLATED, compresslevel=1
        ) as archive:
            for name, data in study_instances():
                (study / name).parent.mkdir(parents=True, exist_ok=True)
                (study / name).write_bytes(data)
                archive.writestr(name, data)
            for name, data in {
                "AUTORUN.INF": b"[autorun]\r\n",
                "VIEWER/viewer.exe": b"MZ" + bytes(510),
            }.items():
                (study / name).parent.mkdir(parents=True, exist_ok=True)
                (study / name).write_bytes(data)
                archive.writestr(name, data)
        (folder / "study-zip.part").rename(folder / "study-zip.zip")


# --- One case, in its own process ----------------------------------------------------------
def status_kb(field: str) -> int:
    """VmHWM (peak resident memory) or VmRSS (resident now), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def _verification(before: str | None):
    """records.verification, or the same module as it was at git revision `before`."""
    if not before:
        from records import verification

        return verification
    import importlib.util

    source = subprocess.run(
        ["git", "show", f"{before}:records/verification.py"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    path = Path(tempfile.mkdtemp(prefix="verification-before-")) / "verification.py"
    path.write_bytes(source)
    spec = importlib.util.spec_from_file_location("records.verification_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def child(
    case: str,
    folder: Path,
    storage_options: dict,
    clamd: str | None,
    before: str | None = None,
    cap_gb: float = 12,
) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "secondop.settings")
    os.environ.setdefault("DJANGO_DEBUG", "true")
    import django

    django.setup()
    import resource

    from django.core.files.storage import FileSystemStorage

    from records.storage_io import open_object

    verification = _verification(before)
    ScannerUnavailable = verification.ScannerUnavailable
    dicom_thumbnail, summarise_study = verification.dicom_thumbnail, verification.summarise_study
    verify_file = verification.verify_file
    cap = int(cap_gb * GIB)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    if storage_options:
        from storages.backends.s3 import S3Storage

        storage = S3Storage(**storage_options)
    else:
        storage = FileSystemStorage(location=folder)
    # The baseline holds the libraries once loaded (libmagic's database, PDFium, numpy,
    # Pillow, and pydicom's data dictionary, the biggest at about 50 MB): what remains
    # is what verifying costs.
    import magic
    import numpy  # noqa: F401
    import pydicom.pixels  # noqa: F401
    import pypdfium2  # noqa: F401
    from PIL import Image  # noqa: F401

    magic.from_buffer(b"%PDF-1.4", mime=True)
    before = status_kb("VmRSS")
    # Loading the libraries peaked higher than they then stay; reset the high-water
    # mark (Linux: 5 > clear_refs) so the peak is the verification's own.
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    started = time.perf_counter()
    check = {"max_size": 5 * GIB, "clamd_address": clamd, "clamd_max_stream": 2 * GIB}
    outcome: dict = {}
    try:
        if case in ("dicom-1g", "pdf-1g", "zip-1g", "png-12mp"):
            key = {
                "dicom-1g": "dicom-1g.dcm",
                "pdf-1g": "pdf-1g.pdf",
                "zip-1g": "zip-1g.zip",
                "png-12mp": "png-12mp.png",
            }[case]
            report = verify_file(storage=storage, key=key, name=key, **check)
            outcome = {
                "ok": report.ok,
                "reason": report.reason,
                "kind": report.kind,
                "size": report.size,
                "members": len(report.members or []),
                "thumbnail": bool(report.thumbnail),
            }
        elif case == "dicom-1g-thumbnail":
            with open_object(storage, "dicom-1g.dcm") as handle:
                png = dicom_thumbnail(handle)
            outcome = {"png_bytes": len(png)}
        elif case == "study-folder":
            keys = sorted(
                str(p.relative_to(folder)) for p in (folder / "study").rglob("*") if p.is_file()
            )
            reports = [
                verify_file(storage=storage, key=key, name=key, skip_viewer_files=True, **check)
                for key in keys
            ]
            summary = summarise_study(reports)
            drawn = 0
            for series in summary["studies"][0]["series"]:
                with open_object(storage, series["thumbnail_source"]) as handle:
                    drawn += bool(dicom_thumbnail(handle))
            outcome = {
                "ok": all(r.ok for r in reports),
                "files": len(reports),
                "instances": summary["instance_count"],
                "series": summary["series_count"],
                "skipped": len(summary["skipped"]),
                "thumbnails": drawn,
            }
        elif case == "study-zip":
            report = verify_file(storage=storage, key="study-zip.zip", name="CD.zip", **check)
            summary = summarise_study(report.members or [])
            drawn = 0
            with (
                open_object(storage, "study-zip.zip") as handle,
                zipfile.ZipFile(handle) as archive,
            ):
                for series in summary["studies"][0]["series"]:
                    with archive.open(series["thumbnail_source"]) as member:
                        drawn += bool(dicom_thumbnail(member))
            outcome = {
                "ok": report.ok,
                "reason": report.reason,
                "instances": summary["instance_count"],
                "series": summary["series_count"],
                "skipped": len(summary["skipped"]),
                "thumbnails": drawn,
            }
        elif case in HOSTILE:
            key = {
                "hostile-dicom-65535": "hostile-65535.dcm",
                "hostile-dicom-private-315m": "hostile-private-315m.dcm",
                "hostile-zip-1m-entries": "hostile-1m-entries.zip",
                "dicom-8192-native-thumbnail": "native-8192.dcm",
            }[case]
            report = verify_file(storage=storage, key=key, name=key, **check)
            outcome = {"ok": report.ok, "reason": report.reason}
            if report.ok and report.kind == "dicom":
                # What records.checking does next: draw the series' picture.
                try:
                    with open_object(storage, key) as handle:
                        outcome["png_bytes"] = len(dicom_thumbnail(handle))
                except Exception as error:
                    outcome["picture"] = f"{type(error).__name__}: {str(error)[:80]}"
    except ScannerUnavailable as error:  # clamd's own trouble with a 1 GiB stream
        outcome = {"clamd": f"no verdict: {error}"}
    except MemoryError:
        outcome = {"error": f"MemoryError at the {cap_gb:g} GiB address-space cap"}

    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "case": case,
                "baseline_mb": before / 1024,
                "peak_mb": status_kb("VmHWM") / 1024,
                "seconds": seconds,
                **outcome,
            }
        )
    )


# --- Driver ---------------------------------------------------------------------------------
def start_s3(folder: Path) -> tuple[object, dict]:
    import boto3
    from boto3.s3.transfer import TransferConfig
    from moto.server import ThreadedMotoServer

    from tests.helpers import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )
    client.create_bucket(Bucket="bench")
    config = TransferConfig(max_concurrency=2)
    print("uploading the inputs to moto", flush=True)
    for path in folder.rglob("*"):
        if path.is_file() and not path.name.endswith(".part"):
            client.upload_file(str(path), "bench", str(path.relative_to(folder)), Config=config)
    options = {
        "bucket_name": "bench",
        "endpoint_url": endpoint,
        "region_name": "us-east-1",
        "access_key": "bench",
        "secret_key": "bench",
        "addressing_style": "path",
    }
    return server, options


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, help="where the inputs are made and kept")
    parser.add_argument("--case", action="append", choices=CASES, help="run only these")
    parser.add_argument("--s3", action="store_true", help="serve the inputs from moto S3")
    parser.add_argument("--clamd", help="scan with this clamd (tcp://... or unix://...)")
    parser.add_argument("--before", help="measure records/verification.py of this git revision")
    parser.add_argument(
        "--cap-gb", type=float, default=12, help="address space each case may map (GiB)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--storage", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(
            args.child,
            args.dir,
            json.loads(args.storage or "{}"),
            args.clamd,
            args.before,
            args.cap_gb,
        )
        return 0

    folder = args.dir or Path(tempfile.mkdtemp(prefix="verify-bench-"))
    try:
        make_inputs(folder, args.case or CASES)
        server, storage_options = start_s3(folder) if args.s3 else (None, {})
        results = []
        for case in args.case or CASES:
            command = [
                sys.executable,
                __file__,
                "--child",
                case,
                "--dir",
                str(folder),
                "--storage",
                json.dumps(storage_options),
            ]
            if args.clamd:
                command += ["--clamd", args.clamd]
            if args.before:
                command += ["--before", args.before]
            command += ["--cap-gb", str(args.cap_gb)]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(done.stderr[-3000:], file=sys.stderr)
                return 1
            result = json.loads(done.stdout.strip().splitlines()[-1])
            results.append(result)
            print(json.dumps(result), flush=True)
        if server is not None:
            server.stop()
    finally:
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"\n{'case':<28} {'baseline MB':>12} {'peak MB':>9} {'seconds':>8}  outcome")
    over = []
    for r in results:
        extra = {
            k: v for k, v in r.items() if k not in ("case", "baseline_mb", "peak_mb", "seconds")
        }
        limit = HOSTILE_LIMIT_MB if r["case"] in HOSTILE else LIMIT_MB
        print(
            f"{r['case']:<28} {r['baseline_mb']:>12.1f} {r['peak_mb']:>9.1f} {r['seconds']:>8.1f}"
            f"  (limit {limit})  {extra}"
        )
        if r["peak_mb"] >= limit or "error" in r:
            over.append(r["case"])
    print(f"\n{'every case under its limit' if not over else 'OVER: ' + ', '.join(over)}")
    return 0 if not over else 1


if __name__ == "__main__":
    sys.exit(main())
