"""The matching page and the ranking, an earlier specialists/matching.py against
the working tree's, in one process, in turn. See bench/README.md (Matching).

    .venv/bin/python bench/matching_ab.py --before COMMIT [--requests 150]

On a shared machine whatever else runs slows both versions alike: each page
request and each ranking runs under both versions in a random order, with
production settings, on the bench database that bench/pages.py loads (run it
first). Prints server time (p50/p95/p99, ms) and this process's CPU time per
request, which other load changes less. Reads only; writes one access-log
row per page view, as the page does.
"""

import argparse
import importlib.util
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import (  # noqa: E402
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    LOAD_DOMAIN,
    PROXY_HEADERS,
    percentile,
    production_environment,
)


def load_before(commit: str):
    """specialists/matching.py as it was at `commit`, as a module of its own."""
    source = subprocess.run(
        ["git", "show", f"{commit}:specialists/matching.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp(prefix="matching-before-")) / "matching_before.py"
    path.write_text(source)
    # A name inside the package, so that its relative imports (.models) resolve.
    spec = importlib.util.spec_from_file_location("specialists.matching_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="the commit to compare with")
    parser.add_argument("--requests", type=int, default=150, help="page requests per version")
    parser.add_argument("--cases", type=int, default=40, help="cases ranked in turn")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    args = parser.parse_args()

    env = production_environment(args, "http://127.0.0.1:9")  # the page reads no file
    os.environ.clear()
    os.environ.update(env, DJANGO_SETTINGS_MODULE="secondop.settings")
    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic
    import django

    django.setup()
    from django.test import Client

    from requests_app.models import Case, CaseStatus
    from secondop.accounts.models import Role, User
    from specialists import matching, views

    versions = {"before": load_before(args.before), "after": matching}
    # The page bench/pages.py drives, as a load coordinator.
    case = Case.objects.filter(status=CaseStatus.MATCHING).order_by("pk").first()
    coordinator = (
        User.objects.filter(role=Role.COORDINATOR, email__endswith="@" + LOAD_DOMAIN)
        .order_by("pk")
        .first()
    )
    if case is None or coordinator is None:
        sys.exit("No load data: run bench/pages.py first (it runs seed_load).")
    client = Client(
        HTTP_HOST="127.0.0.1",
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in PROXY_HEADERS.items()},
    )
    client.force_login(coordinator)
    path = f"/specialist/match/{case.uuid}/"
    waiting = list(
        Case.objects.filter(status=CaseStatus.MATCHING)
        .select_related("specialty", "icd10")
        .order_by("pk")[: args.cases]
    )

    def page() -> None:
        assert client.get(path).status_code == 200

    wall = {name: {"page": [], "ranking": []} for name in versions}
    cpu = {name: {"page": [], "ranking": []} for name in versions}

    def timed(name: str, kind: str, call) -> None:
        started, cpu_started = time.perf_counter(), time.process_time()
        call()
        wall[name][kind].append((time.perf_counter() - started) * 1000)
        cpu[name][kind].append((time.process_time() - cpu_started) * 1000)

    for module in versions.values():  # warm-up: connection, plans, caches
        views.rank_specialists = module.rank_specialists
        for _ in range(5):
            page()
        module.rank_specialists(case=waiting[0])
    load = [os.getloadavg()[0]]
    try:
        for i in range(args.requests):
            order = list(versions)
            random.shuffle(order)
            for name in order:
                views.rank_specialists = versions[name].rank_specialists
                timed(name, "page", page)
            random.shuffle(order)
            subject = waiting[i % len(waiting)]
            for name in order:
                timed(
                    name, "ranking", lambda m=versions[name], c=subject: m.rank_specialists(case=c)
                )
            if i % 50 == 49:
                load.append(os.getloadavg()[0])
    finally:
        views.rank_specialists = matching.rank_specialists
    load.append(os.getloadavg()[0])

    print(
        f"Matching page {path} and rank_specialists over {len(waiting)} cases, "
        f"{args.requests} of each per version, in turn (load average "
        f"{' '.join(f'{x:.1f}' for x in load)}); ms:\n"
    )
    print("| | version | p50 | p95 | p99 | CPU of this process, mean |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for kind in ("page", "ranking"):
        for name in versions:
            times = sorted(wall[name][kind])
            label = f"{args.before[:8]}" if name == "before" else "working tree"
            print(
                f"| {kind} | {label} | {percentile(times, 50):.1f} | {percentile(times, 95):.1f} "
                f"| {percentile(times, 99):.1f} | {statistics.fmean(cpu[name][kind]):.1f} |"
            )


if __name__ == "__main__":
    main()
