"""Time the ICD-10 typeahead search on a real database. See bench/README.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/secondop_bench \\
        .venv/bin/python bench/icd10_search.py [--rounds 3]

Creates the database if it does not exist and migrates it (which loads the
code table), warms up, then times `icd10_search` for every query of the mix
(server time: the selector call, ORM and database round trips included) and
the whole view through Django's test client (middleware, session, JSON).
"""

import argparse
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "secondop.settings")
# The settings refuse to start with DEBUG off unless every production service
# (SMTP, S3, ...) is configured, and this script needs none of them. DEBUG on
# is also how the earlier results were measured (it keeps a list of queries).
os.environ.setdefault("DJANGO_DEBUG", "true")

# Codes as people copy them from letters: categories, with and without dots,
# and the short prefixes typed on the way there.
CODE_QUERIES = [
    "e11",
    "e11.9",
    "e119",
    "e11.65",
    "c50.9",
    "c50.911",
    "c509",
    "s72",
    "s72.0",
    "s72.001a",
    "i10",
    "i50.9",
    "i509",
    "j45",
    "j45.909",
    "f32.9",
    "f41.1",
    "m54.5",
    "m17.11",
    "z00.00",
    "g43.909",
    "k21.9",
    "n18.3",
    "r51",
    "i25.10",
    "e78.5",
    "g35",
    "c34.90",
    "k50.90",
    "m06.9",
    "s7",
    "z9",
    "m1",
    "c3",
    "e1",
    "i2",
]
# Conditions as patients name them, including lay terms, several words and
# abbreviations.
WORD_QUERIES = [
    "diabetes",
    "type 2 diabetes",
    "diab type 2",
    "breast cancer",
    "lung cancer",
    "prostate cancer",
    "colon cancer",
    "fracture femur",
    "hip fracture",
    "heart failure",
    "heart attack",
    "migraine",
    "asthma",
    "copd",
    "depression",
    "anxiety",
    "hypertension",
    "high blood pressure",
    "stroke",
    "multiple sclerosis",
    "parkinson",
    "alzheimer",
    "crohn",
    "ulcerative colitis",
    "rheumatoid arthritis",
    "osteoarthritis knee",
    "low back pain",
    "chronic kidney disease",
    "hiv",
    "hepatitis c",
    "lymphoma",
    "leukemia",
    "melanoma",
    "thyroid",
    "epilepsy",
    "glaucoma",
    "cataract",
    "pneumonia",
    "appendicitis",
    "endometriosis",
    "infertility",
    "autism",
    "sleep apnea",
    "obesity",
    "anemia",
    "lupus",
    "psoriasis",
    "meniere",
    "scoliosis",
    "atrial fibrillation",
    "brain tumor",
    "kidney stones",
    "diab",
    "pneum",
    "fract",
    "canc",
    "arthr",
    "hyperten",
    "fibrom",
    "carcin",
]
# Everyday words, expanded through the synonyms table, and single organ names,
# which put the common cancer first. (A few more are among WORD_QUERIES above:
# "breast cancer", "heart attack", "high blood pressure", "stroke", "brain tumor".)
LAY_QUERIES = [
    "breast",
    "lung",
    "prostate",
    "colon",
    "skin",
    "kidney",
    "brain",
    "heart",
    "liver",
    "cancer",
    "tumour",
    "tumor",
    "brain tumour",
    "skin cancer",
    "womb cancer",
    "blood cancer",
    "blood clot",
    "mini stroke",
    "broken hip",
    "broken femur",
    "sugar diabetes",
    "underactive thyroid",
    "high cholesterol",
    "irregular heartbeat",
    "acid reflux",
    "stomach ulcer",
    "gallstones",
    "enlarged prostate",
    "slipped disc",
    "shingles",
    "depression",
    "adhd",
    "anaemia",
    "leukaemia",
    "oesophagus cancer",
]


KINDS = ("code", "words", "lay", "typing")


def typed_prefixes(query: str) -> list[str]:
    """What the widget may send while the query is typed (every prefix >= 2 chars)."""
    return [query[:n] for n in range(2, len(query))]


def query_mix() -> list[tuple[str, str]]:
    mix = [("code", q) for q in CODE_QUERIES] + [("words", q) for q in WORD_QUERIES]
    mix += [("lay", q) for q in LAY_QUERIES]
    mix += [
        ("typing", p)
        for q in WORD_QUERIES + LAY_QUERIES
        if " " in q or len(q) > 6
        for p in typed_prefixes(q)
    ]
    random.Random(42).shuffle(mix)
    return mix


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
            print(f"Creating database {db['NAME']}")
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
    conn.close()


def percentile(sorted_ms: list[float], p: float) -> float:
    # Nearest-rank: the smallest value with at least p% of the samples at or below it.
    rank = max(1, -(-len(sorted_ms) * p // 100))
    return sorted_ms[int(rank) - 1]


def summary(label: str, samples: list[float]) -> str:
    ms = sorted(samples)
    return (
        f"{label:<28} n={len(ms):>5}  p50={percentile(ms, 50):6.2f}  "
        f"p95={percentile(ms, 95):6.2f}  p99={percentile(ms, 99):6.2f}  "
        f"max={ms[-1]:6.2f}  mean={statistics.fmean(ms):6.2f}  (ms)"
    )


def time_calls(mix, rounds: int, call) -> tuple[dict[str, list[float]], list[tuple[float, str]]]:
    by_kind: dict[str, list[float]] = {}
    slowest: list[tuple[float, str]] = []
    for _ in range(rounds):
        for kind, query in mix:
            start = time.perf_counter()
            call(query)
            elapsed = (time.perf_counter() - start) * 1000
            by_kind.setdefault(kind, []).append(elapsed)
            slowest.append((elapsed, query))
    slowest.sort(reverse=True)
    return by_kind, slowest[:5]


def report(title: str, by_kind: dict[str, list[float]], slowest) -> None:
    print(f"\n{title}")
    print(summary("all", [t for samples in by_kind.values() for t in samples]))
    for kind in KINDS:
        print(summary(f"  {kind}", by_kind[kind]))
    print("  slowest: " + ", ".join(f"{q!r} {t:.1f}" for t, q in slowest))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the mix")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL (this script migrates that database; it never uses db.sqlite3).")

    import django

    django.setup()
    ensure_database()

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from requests_app.icd10.models import Icd10Code
    from requests_app.icd10.search import icd10_search
    from secondop.accounts.models import User

    start = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrate: {time.perf_counter() - start:.1f} s")

    with connection.cursor() as cur:
        is_postgres = connection.vendor == "postgresql"
        cur.execute("SELECT version()" if is_postgres else "SELECT 'SQLite ' || sqlite_version()")
        version = cur.fetchone()[0].split(" on ")[0]
    print(f"database: {version}, {Icd10Code.objects.count()} codes")
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}"
    )

    mix = query_mix()
    counts = {kind: sum(1 for k, _ in mix if k == kind) for kind in KINDS}
    print(f"mix: {len(mix)} queries {counts}, {args.rounds} timed rounds after a warm-up")

    def search(query: str) -> None:
        icd10_search(query=query)

    for _, query in mix:  # warm-up: connection, plan and buffer caches
        search(query)
    report("icd10_search() server time", *time_calls(mix, args.rounds, search))

    setup_test_environment()  # lets the test client's "testserver" host through
    user, _ = User.objects.get_or_create(
        email="icd10-bench@example.invalid", defaults={"full_name": "ICD-10 bench"}
    )
    client = Client()
    client.force_login(user)
    url = reverse("requests_app:icd10_search")

    def view(query: str) -> None:
        response = client.post(url, {"q": query})
        assert response.status_code == 200, response.status_code
        response.json()

    for _, query in mix:
        view(query)
    report(f"POST {url} via the test client", *time_calls(mix, args.rounds, view))


if __name__ == "__main__":
    main()
