"""The city measure: a district's ten years at a city's largest district's size, and the
committee's one-database variant — what the pages that read all of it cost.

    .venv/bin/python bench/city.py                      # what ``make bench`` runs (--scale 1)
    .venv/bin/python bench/city.py --scale 4            # the one-database variant, 4 districts

The data is the shared generator's (``bench.generate.ensure``): ``--scale 1`` is one district's
ten sessions (6,000 proposals; see the dataset's own counts in the output), the size of each of
the 16 district databases of the one-database-per-district deployment; ``--scale N`` puts N
districts' worth into one database (the committee's cross-session figures over all of them).
Over it, in this process with Django's test ``Client`` (full middleware, DEBUG off), after one
warm-up each, ``--repeats`` timed runs, wall and CPU time:

- the 工作台 dashboard (/admin/) as the committee and as a unit's clerk;
- the statistics page (by unit, all sessions) and its Excel export;
- the annual report (``tracker.reports.annual.build``) of the newest complete session;
- the public search (``/public/?q=``), when the publication app answers it;
- the reminder scan (``tracker.reminders.run_scan(dispatch=False)``) on a copy (it writes);
- ``manage.py backup`` of the copy (time, archive size) and ``manage.py restore`` of that
  archive into an empty database (time).

Targets (issue 24): dashboard ≤ 200 ms, statistics ≤ 1 s, scan ≤ 5 s, restore ≤ 5 min.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as ``python bench/city.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import ROOT, _admin_connection, drop_database, emit, figure, log
from bench.pdfqueue import DEFAULT_SERVER, copy_dataset

PREFIX = os.environ.get("BENCH_DB_PREFIX", "tracker_bench")
TARGETS = {"dashboard": 0.2, "statistics": 1.0, "scan": 5.0, "restore": 300.0}


def spread(values: list[float]) -> str:
    return f"{min(values):.3f}–{max(values):.3f}" if values else "—"


def timed(action, repeats: int) -> tuple[list[float], list[float]]:
    action()  # warm-up
    walls, cpus = [], []
    for _ in range(repeats):
        cpu, start = time.process_time(), time.perf_counter()
        action()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return walls, cpus


def page(client, url: str):
    def get() -> None:
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)

    return get


def pair(key: str, label: str, walls: list, cpus: list, target: float | None) -> list[dict]:
    return [
        figure(
            f"{key}_s",
            f"{label}, wall, median ({spread(walls)})",
            round(statistics.median(walls), 3),
            "s",
            target=("<=", target) if target else None,
            samples=walls,
        ),
        figure(
            f"{key}_cpu_s",
            f"… CPU time of this process ({spread(cpus)})",
            round(statistics.median(cpus), 3),
            "s",
            samples=cpus,
        ),
    ]


def pages(ds, repeats: int) -> list[dict]:
    from django.test import Client
    from django.urls import reverse

    from proposals.models import User

    figures = []
    clients = {}
    for role in ("committee", "clerk"):
        client = clients[role] = Client()
        client.force_login(User.objects.get(username=ds.logins[role]))
        walls, cpus = timed(page(client, "/admin/"), repeats)
        figures += pair(f"city_dashboard_{role}", f"工作台 (/admin/), {role}", walls, cpus, 0.2)
    stats = reverse("tracker_admin:statistics")
    for key, url, label, target in (
        ("statistics", f"{stats}?group_by=unit", "statistics page, by unit, all sessions", 1.0),
        ("statistics_xlsx", f"{stats}?group_by=unit&format=xlsx", "… its Excel export", None),
    ):
        walls, cpus = timed(page(clients["committee"], url), repeats)
        figures += pair(f"city_{key}", label, walls, cpus, target)
    search = Client()
    if search.get("/public/?q=%E6%8F%90%E6%A1%88").status_code == 200:
        walls, cpus = timed(page(search, "/public/?q=%E4%BA%A4%E9%80%9A"), repeats)
        figures += pair("city_public_search", "public search (/public/?q=交通)", walls, cpus, None)
    return figures


def annual(repeats: int) -> list[dict]:
    from proposals.models import Session
    from tracker.reports import annual as report

    session = Session.objects.order_by("-pk")[1]  # the newest is in progress
    walls, cpus = timed(lambda: report.build(session), max(3, repeats // 2))
    return pair("city_annual_report", f"annual report of {session}", walls, cpus, None)


def scan(repeats: int) -> list[dict]:
    import datetime

    from bench.generate import TODAY
    from tracker import reminders

    walls, cpus = [], []
    for day in range(max(3, repeats // 2)):  # each on a new day: a run of a day writes once
        when = TODAY + datetime.timedelta(days=day)
        cpu, start = time.process_time(), time.perf_counter()
        reminders.run_scan(today=when, dispatch=False)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return pair("city_scan", "reminder scan (one morning)", walls, cpus, TARGETS["scan"])


def manage(args: list[str], env: dict) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"manage.py {args[0]} failed:\n{result.stdout[-1500:]}{result.stderr[-1500:]}"
        )
    return time.perf_counter() - start


def backup_restore(copy_url: str, tmp: Path) -> list[dict]:
    env = {**os.environ, "DATABASE_URL": copy_url, "MEDIA_ROOT": str(tmp / "media")}
    (tmp / "media").mkdir(exist_ok=True)
    backup_s = manage(["backup", "--output-dir", str(tmp / "backups")], env)
    archive = next((tmp / "backups").glob("tracker-backup-*.tar.gz"))
    size_mb = archive.stat().st_size / 2**20
    target = f"{PREFIX}_restore"
    with _admin_connection(copy_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{target}"')
    restore_url = copy_url.rsplit("/", 1)[0] + f"/{target}"
    restore_env = {**env, "DATABASE_URL": restore_url, "MEDIA_ROOT": str(tmp / "restored")}
    try:
        restore_s = manage(["restore", str(archive), "--app-role", f"{target}_app"], restore_env)
    finally:
        drop_database(restore_url, target)
    with _admin_connection(copy_url) as conn:
        db_mb = (
            conn.execute("SELECT pg_database_size(%s)", (copy_url.rsplit("/", 1)[1],)).fetchone()[0]
            / 2**20
        )
    return [
        figure("city_db_mb", "database size (PostgreSQL)", round(db_mb), "MB"),
        figure(
            "city_backup_s",
            "manage.py backup (pg_dump -Fc + media + manifest)",
            round(backup_s, 1),
            "s",
        ),
        figure("city_backup_mb", "backup archive size", round(size_mb, 1), "MB"),
        figure(
            "city_restore_s",
            "manage.py restore into an empty database (pg_restore, checks)",
            round(restore_s, 1),
            "s",
            target=("<=", TARGETS["restore"]),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="districts in the database (1)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs (5)")
    parser.add_argument("--skip-backup", action="store_true")
    args = parser.parse_args()

    from bench import generate, setup_django

    server = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    started = time.perf_counter()
    ds = generate.ensure(server, open_assignments=0, scale=args.scale)
    log(f"city: dataset ready in {time.perf_counter() - started:.0f} s")
    copy_name = f"{PREFIX}_city"
    copy_url = copy_dataset(ds.url, copy_name)
    tmp = Path(tempfile.mkdtemp(prefix="bench-city-"))
    os.environ.update(
        {"DATABASE_URL": copy_url, "DEBUG": "false", "MEDIA_ROOT": str(tmp / "media")}
    )
    os.environ.pop("REDIS_URL", None)  # the cache in this process, as the admin measure
    figures: list[dict] = []
    try:
        setup_django()
        from django.db import connections

        log("city: pages")
        figures += pages(ds, args.repeats)
        log("city: annual report")
        figures += annual(args.repeats)
        log("city: reminder scan")
        figures += scan(args.repeats)
        connections.close_all()
        if not args.skip_backup:
            log("city: backup and restore")
            figures += backup_restore(copy_url, tmp)
    finally:
        drop_database(copy_url, copy_name)
        shutil.rmtree(tmp, ignore_errors=True)
    counts = ds.counts
    emit(
        "city",
        figures,
        {
            "scale": args.scale,
            "counts": {k: counts.get(k) for k in ("proposals", "assignments", "published")},
            "notes": [
                f"Dataset at scale {args.scale:g} ({counts.get('proposals')} proposals, "
                f"{counts.get('assignments')} assignments, {counts.get('published')} "
                "published replies); in-process test Client, DEBUG off, one warm-up then "
                f"{args.repeats} runs; the scan on a copy, a new morning each run.",
            ],
        },
    )


if __name__ == "__main__":
    main()
