"""Time SecondOp's main pages at 100,000 requests, against two floors. See bench/README.md.

    .venv/bin/python bench/pages.py [--cases 100000] [--duration 15] [--connections 16]
                                    [--rounds 3] [--skip-seed]

In one run: migrates the bench database (and runs seed_load if it has fewer
cases than --cases), starts a moto S3 server, serves SecondOp with production
settings (bench/settings.py: the project's settings and one bench-only URL, the
signed-in floor of bench/signed_in) and the bare project (bench/bare) with the
same gunicorn settings, signs in through the login pages, drives each page with
wrk (in rounds over every page), then times the same pages in this process with
Django's test client (server time, no network) and lists their queries.

The two floors: the bare Django view (no middleware, no session, one query, a
small template) and the signed-in floor (SecondOp's whole middleware stack, a
Redis session, the user loaded, @login_required, one query, a small template),
served by the same gunicorn as the pages. Every page's ratio to both is in the
table, with the load average during its runs.
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON_BIN = Path(sys.executable).parent

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/secondop_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/10"
# The same for both servers. Sync workers, as the production image runs
# (docker/web-start.sh): the pages are short and CPU-bound, and on 2 cores 2
# workers (one per core) keep the CPUs busy; threads would only add GIL
# switching. No access log: writing it is not what is measured.
GUNICORN = [
    "--workers",
    "2",
    "--worker-class",
    "sync",
    "--worker-tmp-dir",
    "/dev/shm",
    "--log-level",
    "warning",
    "--timeout",
    "60",
]
# As behind the production TLS proxy (TRUSTED_PROXY_COUNT=1): https, and the
# client's address as the proxy saw it.
PROXY_HEADERS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1"}
LOAD_DOMAIN = "load.secondop.test"
# Served by SecondOp's gunicorn through bench/settings.py (bench/signed_in), never in
# production's URLs.
from bench.signed_in import FLOOR_PATH  # noqa: E402

SIGNED_IN_FLOOR = "signed-in floor (SecondOp's stack, one query)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def production_environment(args, s3_url: str) -> dict[str, str]:
    """What secondop/production.py demands with DEBUG off, all on loopback."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "DJANGO_DEBUG",
            "CACHE_REDIS_URL",
            "CELERY_BROKER_URL",
            "MAIL_FILE_DIR",
            "DJANGO_SETTINGS_MODULE",
            "DJANGO_PRODUCTION",
        )
    }
    env.update(
        {
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "TRUSTED_PROXY_COUNT": "1",
            # The pages send no email: TLS SMTP on a port nothing listens on.
            "SMTP_URL": f"smtp://127.0.0.1:{free_port()}?tls=True",
            # Nor does any page scan an upload: clamd on a port nothing listens on.
            "CLAMD_ADDRESS": f"tcp://127.0.0.1:{free_port()}",
            "AWS_STORAGE_BUCKET_NAME": "secondop-bench",
            "AWS_S3_ENDPOINT_URL": s3_url,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench-secret",
            # {% static %} without collectstatic's manifest, so the bench never writes
            # staticfiles/ into the tree; a manifest lookup is a dict read either way.
            "STATIC_MANIFEST": "false",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def ensure_database(url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    name = url.rsplit("/", 1)[1].split("?")[0]
    conn = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            print(f"Creating database {name}")
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    conn.close()


class Server:
    """A gunicorn on 127.0.0.1:port, with its log in a temporary file."""

    def __init__(
        self,
        name: str,
        app: str,
        port: int,
        env: dict[str, str],
        options: list[str] | None = None,
    ):
        self.name, self.port = name, port
        self.base = f"http://127.0.0.1:{port}"
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in stop())
            prefix=f"bench-{name}-", suffix=".log"
        )
        self.process = subprocess.Popen(
            [
                str(PYTHON_BIN / "gunicorn"),
                app,
                "--bind",
                f"127.0.0.1:{port}",
                "--chdir",
                str(ROOT),
                *(GUNICORN if options is None else options),
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait(self, path: str) -> None:
        import requests

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"{self.name} server exited:\n{Path(self.log.name).read_text()}")
            try:
                if requests.get(self.base + path, headers=PROXY_HEADERS, timeout=5).ok:
                    return
            except (requests.ConnectionError, requests.Timeout):  # a worker still starting
                pass
            time.sleep(0.3)
        sys.exit(f"{self.name} server did not answer {path}:\n{Path(self.log.name).read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def sign_in(base: str, email: str, password: str, totp_secret: str | None = None) -> str:
    """Sign in through the login page (and the TOTP page for staff) as a browser
    would; returns the session cookie's value."""
    import requests
    from django.conf import settings

    cookies: dict[str, str] = {}

    def call(method: str, path: str, data=None):
        headers = {
            **PROXY_HEADERS,
            "Origin": "https://127.0.0.1:" + base.rsplit(":", 1)[1],
            "Referer": "https://127.0.0.1:" + base.rsplit(":", 1)[1] + path,
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        }
        response = requests.request(
            method, base + path, data=data, headers=headers, allow_redirects=False, timeout=30
        )
        # The cookies are Secure (production); behind the proxy the browser sends them.
        cookies.update(response.cookies.get_dict())
        return response

    def post_form(path: str, data: dict):
        page = call("GET", path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if token is None:
            sys.exit(f"No form at {path} ({page.status_code})")
        return call("POST", path, {**data, "csrfmiddlewaretoken": token.group(1)})

    response = post_form("/accounts/login/", {"login": email, "password": password})
    if totp_secret and response.headers.get("Location", "").startswith("/accounts/2fa/"):
        from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

        for _attempt in range(2):  # a code is used once: the next one after a rerun
            code = format_hotp_value(hotp_value(totp_secret, int(time.time()) // 30))
            response = post_form("/accounts/2fa/authenticate/", {"code": code})
            if response.status_code == 302:
                break
            time.sleep(31 - time.time() % 30)
    if response.status_code != 302 or settings.SESSION_COOKIE_NAME not in cookies:
        sys.exit(f"Could not sign in as {email}: {response.status_code}")
    return cookies[settings.SESSION_COOKIE_NAME]


def run_wrk(url: str, cookie: str | None, args, duration: float, post: dict | None = None) -> dict:
    """`post`: a JSON body, sent as a POST with the CSRF header and Origin a browser sends."""
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{duration:.0f}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    for name, value in {**PROXY_HEADERS, **(post_headers(url) if post else {})}.items():
        command += ["-H", f"{name}: {value}"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if post:
            script.write(f'wrk.method = "POST"\nwrk.body = {lua_string(json.dumps(post))}\n')
            script.flush()
            command += ["-s", script.name]
        out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": ms("50%"),
        "p99": ms("99%"),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


# The CSRF secret the bench's POSTs carry, in the cookie and the header alike (the
# cookie holds the secret; the header may be the secret itself).
CSRF_SECRET = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(32))


def post_headers(url: str) -> dict[str, str]:
    origin = "https://" + url.split("://", 1)[1].split("/", 1)[0]
    return {
        "Content-Type": "application/json",
        "X-CSRFToken": CSRF_SECRET,
        "Origin": origin,
        "Referer": origin + "/",
    }


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def percentile(sorted_ms: list[float], p: float) -> float:
    # Nearest-rank: the smallest value with at least p% of the samples at or below it.
    rank = max(1, -(-len(sorted_ms) * p // 100))
    return sorted_ms[int(rank) - 1]


def page_getter(path: str, cookie: str | None, post: dict | None = None):
    """A function that requests `path` once through Django's test client in this
    process, as the session `cookie`, and checks the answer is a 200."""
    from django.conf import settings
    from django.test import Client

    client = Client(
        HTTP_HOST="127.0.0.1",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_FOR="127.0.0.1",
        enforce_csrf_checks=True,
    )
    if cookie:
        client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    client.cookies[settings.CSRF_COOKIE_NAME] = CSRF_SECRET
    body = json.dumps(post) if post else None
    headers = (
        {k: v for k, v in post_headers("https://127.0.0.1/").items() if k != "Content-Type"}
        if post
        else {}
    )

    def get() -> None:
        response = (
            client.post(path, body, content_type="application/json", headers=headers)
            if post
            else client.get(path)
        )
        assert response.status_code == 200, (path, response.status_code)

    return get


def time_in_process(
    path: str, cookie: str | None, n: int, warmup: int, post: dict | None = None
) -> dict:
    """Server time of `path` through Django's test client in this process: every
    middleware, the view, the queries and the template, no network or gunicorn.
    Then the queries of one request, and the share of SQL in a few more."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    get = page_getter(path, cookie, post)

    for _ in range(warmup):
        get()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        get()
        samples.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as captured:
        get()
    queries = [q["sql"] for q in captured]  # now: the log is a window on a shared buffer
    # The driver's own timings are rounded to the millisecond: time them here.
    runs: list[list[float]] = []

    def timed(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            runs[-1].append((time.perf_counter() - start) * 1000)

    total_ms = 0.0
    with connection.execute_wrapper(timed):
        for _ in range(20):
            runs.append([])
            start = time.perf_counter()
            get()
            total_ms += (time.perf_counter() - start) * 1000
    # Per query: the requests that ran the same queries (not the odd session write).
    same = [run for run in runs if len(run) == len(queries)] or [[math.nan] * len(queries)]
    per_query = [statistics.fmean(run[i] for run in same) for i in range(len(queries))]
    ms = sorted(samples)
    return {
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "p99": percentile(ms, 99),
        "mean": statistics.fmean(ms),
        "queries": list(zip(queries, per_query, strict=True)),
        "sql_ms": statistics.fmean(sum(run) for run in runs),
        "total_ms": total_ms / len(runs),
    }


def profile_pages(getters: dict, rounds: int, top: int = 12) -> None:
    """Where each page's server time goes, in this process, the pages interleaved
    (each round requests every page once, in a new random order): SQL (every query
    timed at the driver, and how much of it ran while a template rendered), template
    rendering by template (self time: a template's own nodes, its includes and
    inclusion tags counted apart, SQL run inside them taken out) and the rest,
    Python (middleware, view, forms, selectors' own code). Timed without a profiler;
    then the same rounds again under cProfile, whose heaviest functions (own time)
    are listed per page."""
    import cProfile
    import pstats
    import random
    from collections import defaultdict

    from django.db import connection
    from django.template import base as template_base

    state = {"sql": 0.0, "sql_in_templates": 0.0, "queries": 0}
    stack: list[list] = []  # [name, start, child time, sql inside, extends another]
    self_times: dict[str, float] = defaultdict(float)
    original_render = template_base.Template._render

    from django.template.loader_tags import ExtendsNode

    def timed_render(template, context):
        name = template.origin.template_name or "(string)"
        if stack and stack[-1][4]:
            # A page's {% extends %}: its blocks render inside the parent's nodes, so
            # the time is the page's and its base's together, named after both.
            name = f"{stack[-1][0]} in {name}"
        # {% extends %} is the first node but for text (Django requires it).
        extends = any(isinstance(node, ExtendsNode) for node in template.nodelist[:3])
        frame = [name, time.perf_counter(), 0.0, 0.0, extends]
        stack.append(frame)
        try:
            return original_render(template, context)
        finally:
            stack.pop()
            spent = (time.perf_counter() - frame[1]) * 1000
            self_times[frame[0]] += spent - frame[2] - frame[3]
            if stack:
                stack[-1][2] += spent

    def timed_sql(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = (time.perf_counter() - start) * 1000
            state["sql"] += spent
            state["queries"] += 1
            if stack:
                state["sql_in_templates"] += spent
                stack[-1][3] += spent

    totals = {name: defaultdict(float) for name in getters}
    by_template = {name: defaultdict(float) for name in getters}
    profiles = {name: cProfile.Profile() for name in getters}
    names = list(getters)
    rng = random.Random(23)
    template_base.Template._render = timed_render
    try:
        with connection.execute_wrapper(timed_sql):
            for _round in range(rounds):
                rng.shuffle(names)
                for name in names:
                    state.update(sql=0.0, sql_in_templates=0.0, queries=0)
                    self_times.clear()
                    start = time.perf_counter()
                    getters[name]()
                    total = (time.perf_counter() - start) * 1000
                    rendering = sum(self_times.values())
                    row = totals[name]
                    row["total"] += total
                    row["sql"] += state["sql"]
                    row["sql_in_templates"] += state["sql_in_templates"]
                    row["rendering"] += rendering
                    row["python"] += total - state["sql"] - rendering
                    row["queries"] += state["queries"]
                    for template, ms in self_times.items():
                        by_template[name][template] += ms
    finally:
        template_base.Template._render = original_render
    for _round in range(rounds):
        rng.shuffle(names)
        for name in names:
            profiles[name].enable()
            getters[name]()
            profiles[name].disable()

    print(
        f"\nProfile, in process, {rounds} interleaved requests per page (ms per request; "
        "rendering: templates' own time, SQL run in templates counted as SQL):\n"
    )
    print(
        "| page | total | SQL | of it in templates | rendering | Python | queries "
        "| heaviest templates (own ms) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for name in getters:
        row = {k: v / rounds for k, v in totals[name].items()}
        heavy = sorted(by_template[name].items(), key=lambda kv: -kv[1])[:4]
        heavy_text = ", ".join(f"{t} {ms / rounds:.1f}" for t, ms in heavy)
        print(
            f"| {name} | {row['total']:.1f} | {row['sql']:.1f} | {row['sql_in_templates']:.1f} "
            f"| {row['rendering']:.1f} | {row['python']:.1f} | {row['queries']:.0f} "
            f"| {heavy_text} |"
        )
    for name in getters:
        print(f"\ncProfile, {name}: the {top} heaviest functions by own time")
        stats = pstats.Stats(profiles[name])
        rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:top]  # type: ignore[attr-defined]
        for (filename, line, function), (_cc, calls, own, cumulative, _callers) in rows:
            where = filename.split("site-packages/")[-1].replace(str(ROOT) + "/", "")
            print(
                f"  {own / rounds * 1000:6.2f} ms own {cumulative / rounds * 1000:7.2f} ms cum "
                f"{calls // rounds:6d} calls  {where}:{line} {function}"
            )


def pick_subjects():
    """A patient with a delivered request and at least one more (their dashboard
    and that case's page), and a load coordinator."""
    from django.db.models import Count

    from requests_app.models import Case, CaseStatus
    from secondop.accounts.models import Role, User

    patient = (
        User.objects.filter(
            role=Role.PATIENT, email__endswith="@" + LOAD_DOMAIN, cases__status=CaseStatus.DELIVERED
        )
        .annotate(n=Count("cases", distinct=True))
        .filter(n__gte=2, n__lte=3)
        .order_by("pk")
        .first()
    )
    if patient is None:
        sys.exit("No load patient with a delivered request: run seed_load (drop --skip-seed).")
    case = patient.cases.filter(status=CaseStatus.DELIVERED).first()
    coordinators = list(
        User.objects.filter(role=Role.COORDINATOR, email__endswith="@" + LOAD_DOMAIN)
    )
    specialist = (
        User.objects.filter(
            role=Role.SPECIALIST, email__endswith="@" + LOAD_DOMAIN, offers__status="open"
        )
        .annotate(n=Count("assigned_cases"))
        .filter(n__gte=1)
        .order_by("pk")
        .first()
    )
    matching = Case.objects.filter(status=CaseStatus.MATCHING).order_by("pk").first()
    if specialist is None or matching is None:
        sys.exit("No load specialist with an offer, or no case to match: run seed_load again.")
    return (patient, case, secrets.choice(coordinators), specialist, matching, Case.objects.count())


def physician_link(case) -> str:
    """The link a patient sends their physician, for `case`'s report: a share made
    as the email's task makes it, with a token only this run knows."""
    from django.utils import timezone

    from requests_app.aftercare import consent
    from requests_app.aftercare.models import Share
    from requests_app.aftercare.selectors import token_hash

    token, now = secrets.token_urlsafe(32), timezone.now()
    Share.objects.create(
        report=case.report,
        created_by=case.owner,
        recipient_email=f"physician@{LOAD_DOMAIN}",
        expires_at=now + datetime.timedelta(days=14),
        consent_version=consent.VERSION,
        consented_at=now,
        token_hash=token_hash(token),
        sent_at=now,
    )
    return f"/shared/{token}/"


BENCH_RECORD_TITLE = "Bench record"  # the rows records_case() adds, and only those


def records_case(size: int):
    """An open case of a load patient, managed by a load coordinator, with `size`
    records or more: the case of the load data with the most records, topped up
    (once, kept for the next runs) with rows made as seed_load makes them: mostly
    checked PDFs, a few rejected or being checked, one imaging record in ten a study
    of 20-60 files. Returns the case, and a case of the same kind with the fewest
    records (the query count must not depend on how many there are). The load data
    has no case managers: a case without one gets the first load coordinator (kept)."""
    import hashlib
    import random
    import uuid

    from django.db.models import Count
    from django.utils import timezone

    from demo.data.load import RECORD_TITLES
    from records.models import Record, RecordFile, State
    from requests_app.models import Case, CaseStatus
    from secondop.accounts.models import Role, User

    open_cases = (
        Case.objects.filter(status=CaseStatus.IN_REVIEW, owner__email__endswith="@" + LOAD_DOMAIN)
        .annotate(n=Count("records"))
        .filter(n__gt=0)
    )
    case = open_cases.order_by("-n", "pk").first()
    fewest = open_cases.order_by("n", "pk").first()
    if case is None:
        sys.exit("No case in review with records: run seed_load --only records.")
    manager = (
        User.objects.filter(role=Role.COORDINATOR, email__endswith="@" + LOAD_DOMAIN)
        .order_by("pk")
        .first()
    )
    Case.objects.filter(pk__in=[case.pk, fewest.pk], case_manager__isnull=True).update(
        case_manager=manager
    )
    n_case, n_fewest = case.n, fewest.n
    case = Case.objects.select_related("owner", "case_manager").get(pk=case.pk)
    fewest = Case.objects.select_related("owner", "case_manager").get(pk=fewest.pk)
    case.n, fewest.n = n_case, n_fewest
    rng, now = random.Random(case.pk), timezone.now()
    categories = list(RECORD_TITLES)
    records, files = [], []
    for _ in range(max(size - case.n, 0)):
        category = rng.choices(categories, [5, 5, 4, 4, 1, 1, 1, 1])[0]
        roll = rng.random()
        state = State.REJECTED if roll < 0.03 else State.SCANNING if roll < 0.05 else State.VERIFIED
        when = now - datetime.timedelta(minutes=rng.randint(0, 5000))
        study = category == "imaging" and rng.random() < 0.1
        record_uuid = uuid.uuid4()
        record = Record(
            uuid=record_uuid,
            case=case,
            uploaded_by_id=case.owner_id,
            category=category,
            title=f"{BENCH_RECORD_TITLE}: {rng.choice(RECORD_TITLES[category])}",
            service_date=(when - datetime.timedelta(days=rng.randint(1, 200))).date(),
            is_study=study,
            state=state,
            reason="malware" if state == State.REJECTED else "",
            size=0 if state == State.REJECTED else rng.randint(40_000, 8_000_000),
            mime="" if study else "application/pdf",
            sha256=hashlib.sha256(record_uuid.bytes).hexdigest(),
            study={"modalities": ["CT"], "series_count": 3, "instance_count": 412, "studies": []}
            if study and state == State.VERIFIED
            else {},
            slot_expires_at=when,
            uploaded_at=when,
            checked_at=when if state != State.SCANNING else None,
        )
        records.append(record)
        for n in range(rng.randint(20, 60) if study else 1):
            file_uuid = uuid.uuid4()
            files.append(
                RecordFile(
                    uuid=file_uuid,
                    record=record,
                    key=f"{record.prefix}{file_uuid}",
                    name=f"DICOM/IM{n:04d}" if study else "report.pdf",
                    size=max(record.size // 40, 1),
                    stored_size=max(record.size // 40, 1),
                    received_at=when,
                    checked_at=record.checked_at,
                    kind="dicom" if study else "pdf",
                    mime=record.mime,
                )
            )
    if records:
        Record.objects.bulk_create(records)
        RecordFile.objects.bulk_create(files)
        print(f"records: added {len(records)} records ({len(files)} files) to case {case.uuid}")
    case.n = Record.objects.filter(case=case).count()
    fewest.n = Record.objects.filter(case=fewest).count()
    return case, fewest


def signing_slot(case):
    """A pending record slot of one file on `case`, opened by its owner as the upload
    page opens it (records.services.record_slots_create). main() deletes it after."""
    from records import services
    from records.models import Record, State

    Record.objects.filter(case=case, title="Bench signing slot", state=State.PENDING).delete()
    slots = services.record_slots_create(
        actor=case.owner,
        case_ref=case.uuid,
        category="labs",
        title="Bench signing slot",
        service_date=None,
        answers=None,
        files=[
            {
                "client_id": "bench",
                "name": "bench.pdf",
                "size": 1_000_000,
                "type": "application/pdf",
            }
        ],
    )
    return slots.record, slots.files[0].file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cases",
        type=int,
        default=100_000,
        help="cases the database must hold (seed_load adds the rest)",
    )
    parser.add_argument("--skip-seed", action="store_true", help="use the database as it is")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        help="after the timings, profile each page over this many interleaved requests",
    )
    parser.add_argument("--duration", type=int, default=15, help="wrk seconds per page")
    parser.add_argument("--warmup", type=int, default=3, help="wrk seconds per page, untimed")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--rounds", type=int, default=1, help="passes over every page; the median counts"
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--requests", type=int, default=300, help="in-process timed requests per page"
    )
    parser.add_argument(
        "--pages",
        default="",
        help="comma-separated words: only the pages whose name has one "
        "(the floor always runs), e.g. 'records,sign,report,physician'",
    )
    parser.add_argument(
        "--case-records",
        type=int,
        default=100,
        help="records the records page's case must have (added once if fewer)",
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed. On Debian or Ubuntu: sudo apt-get install -y wrk")

    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    s3_port = free_port()
    s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=s3_port, verbose=False)
    s3.start()
    env = production_environment(args, f"http://127.0.0.1:{s3_port}")
    os.environ.clear()
    os.environ.update(env, DJANGO_SETTINGS_MODULE="bench.settings")
    ensure_database(args.database_url)

    import boto3
    import django

    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic
    django.setup()
    import requests
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from requests_app.models import Case

    boto3.client(
        "s3",
        endpoint_url=env["AWS_S3_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench-secret",
    ).create_bucket(Bucket=env["AWS_STORAGE_BUCKET_NAME"])
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrate: {time.perf_counter() - started:.1f} s")
    have = Case.objects.count()
    if have < args.cases and not args.skip_seed:
        print(f"seed_load: the database has {have} cases, adding {args.cases - have}")
        call_command("seed_load", cases=args.cases - have, force=True)
    patient, case, coordinator, specialist, matching, total = pick_subjects()
    from requests_app.reports.models import Report

    if not Report.objects.filter(case=case).exists():  # loaded before seed_load made reports
        call_command("seed_load", cases=1, only="reports", force=True)
    physician_path = physician_link(case)
    records_of, few_records_of = records_case(args.case_records)
    slot_record, slot = signing_slot(records_of)
    with connection.cursor() as cur:
        cur.execute("SELECT version()")
        version = cur.fetchone()[0].split(" on ")[0]
    print(f"database: {version}, {total} cases")
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}; load average {os.getloadavg()[0]:.2f} "
        "(anything else running shares the CPUs with the servers and wrk)"
    )
    print(
        f"gunicorn {' '.join(GUNICORN)}; wrk -t{args.threads} -c{args.connections} "
        f"-d{args.duration:g}s (after {args.warmup:g} s warm-up) per page"
    )

    # SecondOp's own settings and URLs, plus the signed-in floor (bench/settings.py).
    app = Server(
        "secondop",
        "secondop.wsgi:application",
        free_port(),
        {**env, "DJANGO_SETTINGS_MODULE": "bench.settings"},
    )
    bare = Server(
        "bare",
        "bench.bare.wsgi:application",
        free_port(),
        {**env, "DJANGO_SETTINGS_MODULE": "bench.bare.settings"},
    )
    try:
        app.wait("/healthz")
        bare.wait("/")
        from demo.data.load import LOAD_PASSWORD, LOAD_TOTP_SECRET

        patient_session = sign_in(app.base, patient.email, LOAD_PASSWORD)
        staff_session = sign_in(app.base, coordinator.email, LOAD_PASSWORD, LOAD_TOTP_SECRET)
        specialist_session = sign_in(app.base, specialist.email, LOAD_PASSWORD, LOAD_TOTP_SECRET)
        owner_session = sign_in(app.base, records_of.owner.email, LOAD_PASSWORD)
        manager_session = sign_in(
            app.base, records_of.case_manager.email, LOAD_PASSWORD, LOAD_TOTP_SECRET
        )
        records_path = f"/records/case/{records_of.uuid}/"
        # The same page for a case with the fewest records, for its query count.
        few_owner_session = few_manager_session = None
        if not args.pages or "records" in args.pages:
            few_owner_session = sign_in(app.base, few_records_of.owner.email, LOAD_PASSWORD)
            few_manager_session = (
                manager_session
                if few_records_of.case_manager_id == records_of.case_manager_id
                else sign_in(
                    app.base, few_records_of.case_manager.email, LOAD_PASSWORD, LOAD_TOTP_SECRET
                )
            )
        pages = [
            # name, server, path, session[, JSON body: a POST]
            ("bare Django view (floor)", bare, "/", None),
            (SIGNED_IN_FLOOR, app, FLOOR_PATH, patient_session),
            ("home page /, anonymous", app, "/", None),
            ("patient dashboard /requests/", app, "/requests/", patient_session),
            (
                "patient case page /requests/<uuid>/",
                app,
                f"/requests/{case.uuid}/",
                patient_session,
            ),
            (
                "coordinator list /requests/coordinator/",
                app,
                "/requests/coordinator/",
                staff_session,
            ),
            (
                "matching /specialist/match/<uuid>/",
                app,
                f"/specialist/match/{matching.uuid}/",
                staff_session,
            ),
            ("specialist workspace /specialist/", app, "/specialist/", specialist_session),
            (
                "patient report page /reports/case/<uuid>/",
                app,
                f"/reports/case/{case.uuid}/",
                patient_session,
            ),
            # Every opening writes its row for the patient and an access-log row.
            ("physician's link /shared/<token>/, no account", app, physician_path, None),
            # Every view by staff writes an access-log row listing the records shown.
            (
                f"records page /records/case/<uuid>/, patient ({records_of.n} records)",
                app,
                records_path,
                owner_session,
            ),
            (
                f"records page /records/case/<uuid>/, case manager ({records_of.n} records)",
                app,
                records_path,
                manager_session,
            ),
            # The case manager's page of the records page's case (in review).
            (
                "staff case page /requests/care/<uuid>/, case manager",
                app,
                f"/requests/care/{records_of.uuid}/",
                manager_session,
            ),
            # S3 mode (the bench's moto bucket): a presigned PUT, computed, no request to S3.
            (
                "sign upload POST /records/files/<uuid>/sign/, S3 PUT",
                app,
                f"/records/files/{slot.uuid}/sign/",
                owner_session,
                {"method": "PUT", "key": slot.key},
            ),
        ]
        if args.pages:
            words = [w.strip().lower() for w in args.pages.split(",") if w.strip()]
            pages = [*pages[:2], *(p for p in pages[2:] if any(w in p[0].lower() for w in words))]
        cookies = {}
        for name, server, path, session, *post in pages:
            cookie = f"{settings.SESSION_COOKIE_NAME}={session}" if session else None
            if post:
                cookie = f"{cookie}; {settings.CSRF_COOKIE_NAME}={CSRF_SECRET}"
            check = requests.request(
                "POST" if post else "GET",
                server.base + path,
                allow_redirects=False,
                timeout=30,
                data=json.dumps(post[0]) if post else None,
                headers={
                    **PROXY_HEADERS,
                    **(post_headers(server.base + path) if post else {}),
                    **({"Cookie": cookie} if cookie else {}),
                },
            )
            if check.status_code != 200:
                sys.exit(
                    f"{name}: {check.status_code} {check.headers.get('Location', '')} "
                    f"{check.text[:200] if post else ''}"
                )
            if args.warmup:
                run_wrk(server.base + path, cookie, args, args.warmup, *post)
            cookies[name] = cookie
        # Rounds over every page in turn, so that anything else slowing the machine
        # for a while slows each page about as much; the median round counts.
        runs: dict[str, list[dict]] = {name: [] for name, *_ in pages}
        loads: dict[str, list[float]] = {name: [] for name, *_ in pages}
        for round_number in range(1, args.rounds + 1):
            print(f"round {round_number} of {args.rounds} (load average {os.getloadavg()[0]:.2f}):")
            for name, server, path, _session, *post in pages:
                loads[name].append(os.getloadavg()[0])
                r = run_wrk(server.base + path, cookies[name], args, args.duration, *post)
                loads[name].append(os.getloadavg()[0])
                runs[name].append(r)
                print(
                    f"  {name:<42} {r['rps']:8.1f} req/s  wrk p50 {r['p50']:6.1f} ms  "
                    f"p99 {r['p99']:6.1f} ms  ({r['requests']} requests, "
                    f"{r['non_2xx']} not 2xx/3xx)"
                )
        floor_name = pages[0][0]
        rps = {
            name: statistics.median(r["rps"] for r in rs or [{"rps": 0}])
            for name, rs in runs.items()
        }

        # Each round's page against the same round's floors, measured minutes apart at most.
        def ratios(floor: str) -> dict[str, float]:
            return {
                name: statistics.median(
                    [r["rps"] / f["rps"] for r, f in zip(rs, runs[floor], strict=True)] or [0]
                )
                for name, rs in runs.items()
            }

        ratio, signed_in_ratio = ratios(floor_name), ratios(SIGNED_IN_FLOOR)
        print(f"load average after wrk: {os.getloadavg()[0]:.2f}")
    finally:
        app.stop()
        bare.stop()
        s3.stop()

    print(
        f"\nIn process (Django test client, {args.requests} requests per page after "
        f"warm-up; load average {os.getloadavg()[0]:.2f}; times in ms):"
    )
    timings = {}
    try:
        for name, _server, path, session, *post in pages[1:]:
            timings[name] = time_in_process(
                path, session, args.requests, warmup=30, post=post[0] if post else None
            )
        for label, few_session in (
            ("patient", few_owner_session),
            ("case manager", few_manager_session),
        ):
            if few_session:
                few = time_in_process(
                    f"/records/case/{few_records_of.uuid}/", few_session, 20, warmup=3
                )
                print(
                    f"records page, {label}: {len(few['queries'])} queries for a case with "
                    f"{few_records_of.n} records (p50 {few['p50']:.1f} ms)"
                )
        if args.profile:
            profile_pages(
                {
                    name: page_getter(path, session, post[0] if post else None)
                    for name, _server, path, session, *post in pages[1:]
                    if not post  # the signing POST is not a page
                },
                args.profile,
            )
    finally:
        slot_record.delete()

    print(
        f"\nSecondOp pages at {total:,} cases: 2 gunicorn sync workers, wrk "
        f"{args.threads}x{args.connections} for {args.duration:g} s per page"
        + (
            f"; medians of {args.rounds} rounds (the ratio: of each round's own floor)"
            if args.rounds > 1
            else ""
        )
        + "\n"
    )
    print(
        "| page | req/s | of the bare floor | of the signed-in floor | server p50 | server p95 "
        "| server p99 | queries | load average |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")

    def load(name: str) -> str:  # the 1-minute load average before and after each wrk run
        return f"{min(loads[name], default=0):.1f}-{max(loads[name], default=0):.1f}"

    print(f"| {floor_name} | {rps[floor_name]:.0f} | 100% | | | | | 1 | {load(floor_name)} |")
    for name, *_rest in pages[1:]:
        t = timings[name]
        print(
            f"| {name} | {rps[name]:.1f} | {ratio[name]:.1%} | {signed_in_ratio[name]:.1%} | "
            f"{t['p50']:.1f} | {t['p95']:.1f} | {t['p99']:.1f} | {len(t['queries'])} | "
            f"{load(name)} |"
        )
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")

    print_matching(total)

    print("\nQueries per page (mean ms of 20 requests, round trip included):")
    for name, t in timings.items():
        print(
            f"\n{name}: {len(t['queries'])} queries, {t['sql_ms']:.1f} ms of "
            f"{t['total_ms']:.1f} ms in SQL ({t['sql_ms'] / t['total_ms']:.0%})"
        )
        for sql, ms in t["queries"]:
            sql = re.sub(r"\s+", " ", sql)
            print(f"  {ms:6.2f}  {sql[:160]}")


def print_matching(total: int, cases: int = 40, rounds: int = 5) -> None:
    """Server time of the ranking alone (specialists.matching.rank_specialists)
    over `cases` cases waiting for a specialist, every specialist considered."""
    from requests_app.models import Case, CaseStatus
    from specialists.matching import rank_specialists
    from specialists.models import SpecialistProfile

    waiting = list(
        Case.objects.filter(status=CaseStatus.MATCHING).select_related("specialty", "icd10")[:cases]
    )
    for case in waiting[:3]:
        rank_specialists(case=case)  # warm-up: connection, plans, caches
    times = []
    for _round in range(rounds):
        for case in waiting:
            started = time.perf_counter()
            rank_specialists(case=case)
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(
        f"\nMatching at {total:,} cases and {SpecialistProfile.objects.count():,} specialists "
        f"({len(times)} rankings of {len(waiting)} cases): p50 {percentile(times, 50):.1f} ms, "
        f"p95 {percentile(times, 95):.1f} ms, p99 {percentile(times, 99):.1f} ms"
    )


if __name__ == "__main__":
    main()
