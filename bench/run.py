"""`make bench`: run each registered measure in its own process, print a table, write the results.

    .venv/bin/python bench/run.py             # every measure; writes bench/results.json and
                                              # docs/benchmarks.md
    .venv/bin/python bench/run.py letter      # only these; prints, writes nothing unless --write
    .venv/bin/python bench/run.py --list

A measure is a script in ``bench/`` listed in ``REGISTRY``. It runs as
``python bench/<script> [args]`` from the project root with ``DJANGO_SETTINGS_MODULE`` set,
under a timeout, in its own process group, and prints its figures as one JSON line (the last
line of its stdout; progress goes to stderr). The line's format is in ``bench/README.md``.
Anything a measure leaves running is killed afterwards (found by a token in its environment).

Exit status: 0 when every measure ran (missed targets are reported, not failures: this is a
benchmark, not a test), 1 when a measure failed or timed out.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

if __package__ in (None, ""):  # run as ``python bench/run.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import (
    BENCH_DIR,
    CHROMIUM,
    DJANGO_SETTINGS,
    ROOT,
    RUN_TOKEN,
    kill_group,
    kill_marked,
    run_timed,
)

RESULTS_JSON = BENCH_DIR / "results.json"
RESULTS_MD = ROOT / "docs" / "benchmarks.md"
METHOD_MD = BENCH_DIR / "method.md"  # appended to RESULTS_MD as it is


@dataclass(frozen=True)
class Measure:
    name: str
    script: str  # a file in bench/
    description: str
    timeout: float = 900  # seconds for the whole measure
    args: tuple[str, ...] = ()
    optional: bool = False  # registered only when the script exists
    #: Targets for figures whose module prints none: ``{"key": ("<=", 5.0)}``.
    targets: Mapping[str, tuple[str, float]] = field(default_factory=dict)


REGISTRY: tuple[Measure, ...] = (
    Measure(
        "letter",
        "letter.py",
        "Seed 001 as a PDF: WeasyPrint vs Chromium print-to-PDF of the same HTML, warm and cold",
        timeout=900,
    ),
    Measure(
        "scan",
        "scan.py",
        "The reminder scan over 100,000 open assignments",
        timeout=1800,
    ),
    Measure(
        "api",
        "api.py",
        "Public API list of 3,000+ published replies vs a plain view, in-process and over HTTP",
        timeout=1800,  # the first call may build the shared dataset (bench.generate)
    ),
    Measure(
        "pdfqueue",
        "pdfqueue.py",
        "A session's 600 signed letters rendered by the Celery pdf queue, 2 processes",
        timeout=2400,  # the first call may build the shared dataset (bench.generate)
    ),
    Measure(
        "admin",
        "admin.py",
        "Admin dashboard, every changelist and the statistics page, committee and a clerk",
        timeout=1800,  # the first call may build the shared dataset (bench.generate)
    ),
    Measure(
        "serve",
        "serve.py",
        "After a restart: first request vs warm (web), a fresh worker's first letter, memory",
        timeout=2400,
    ),
    Measure(
        "preview",
        "preview.py",
        "The editor's PDF preview in Chromium: click → the changed letter's first page, then "
        "the whole PDF, in the frame",
        timeout=1200,
    ),
    Measure(
        "search",
        "search.py",
        "The public full-text search over 100,000 published replies: 20 queries, p50 and p95",
        timeout=1200,
    ),
    Measure(
        "city",
        "city.py",
        "A district's ten years: dashboard, statistics, annual report, scan, backup, restore",
        timeout=3600,
    ),
)


def registered() -> list[Measure]:
    """The registry, less optional measures whose script does not exist (yet)."""
    return [m for m in REGISTRY if not m.optional or (BENCH_DIR / m.script).is_file()]


# --- Running one measure -------------------------------------------------------------------


@dataclass
class Outcome:
    measure: Measure
    status: str  # ok, failed, timeout
    seconds: float
    figures: list[dict] = field(default_factory=list)
    info: dict = field(default_factory=dict)
    error: str = ""


def run_measure(measure: Measure) -> Outcome:
    token = uuid.uuid4().hex
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", DJANGO_SETTINGS),
        "PYTHONUNBUFFERED": "1",
        RUN_TOKEN: token,
    }
    script = BENCH_DIR / measure.script
    cmd = [sys.executable, str(script), *measure.args]
    print(f"bench: {measure.name} — {measure.description}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    if not script.is_file():
        return Outcome(measure, "failed", 0.0, error=f"{script} does not exist")

    stdout: list[str] = []
    stderr_tail: deque[str] = deque(maxlen=40)
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )

    def pump_stderr() -> None:
        for line in proc.stderr:
            stderr_tail.append(line.rstrip("\n"))
            print(f"  {line.rstrip()}", file=sys.stderr, flush=True)

    readers = [
        threading.Thread(target=lambda: stdout.extend(proc.stdout), daemon=True),
        threading.Thread(target=pump_stderr, daemon=True),
    ]
    for reader in readers:
        reader.start()
    status, error = "ok", ""
    try:
        proc.wait(timeout=measure.timeout)
    except subprocess.TimeoutExpired:
        status, error = "timeout", f"ran longer than {measure.timeout:.0f} s and was killed"
    finally:
        if proc.poll() is None:  # still ours (not reaped): timeout or interrupt
            kill_group(proc.pid)
        proc.wait()
        for reader in readers:
            reader.join(timeout=5)
        leftovers = kill_marked(RUN_TOKEN, token)  # anything the measure left running
        if leftovers:
            print(f"  bench: killed leftover processes {leftovers}", file=sys.stderr)
    seconds = time.perf_counter() - start

    if status == "ok" and proc.returncode != 0:
        status, error = "failed", f"exit status {proc.returncode}"
    payload = last_json_line(stdout)
    if status == "ok" and payload is None:
        status, error = "failed", "printed no JSON line on stdout"
    if status != "ok":
        error += "\n" + "\n".join(stderr_tail)
        return Outcome(measure, status, seconds, error=error.strip())
    figures = normalize_figures(payload, measure)
    info = payload.get("info", {}) if isinstance(payload.get("info"), dict) else {}
    return Outcome(measure, status, seconds, figures, info)


def last_json_line(lines: list[str]) -> dict | None:
    for line in reversed(lines):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    return None


_UNITS = {"_s": "s", "_ms": "ms", "_mb": "MB", "_kb": "KB", "_queries": "queries"}


def normalize_figures(payload: dict, measure: Measure) -> list[dict]:
    """The module's figures, each with a target (its own or the registry's) and pass/fail.

    ``{"figures": [...]}`` is the documented format; a flat ``{"name": number, ...}`` line is
    accepted too, each number becoming a figure whose unit is guessed from its suffix.
    """
    figures = payload.get("figures")
    if not isinstance(figures, list):
        figures = [
            {"key": key, "label": key, "value": value, "unit": _unit_of(key)}
            for key, value in payload.items()
            if key not in ("measure", "info")
            and (value is None or (isinstance(value, int | float) and not isinstance(value, bool)))
        ]
    out = []
    for raw in figures:
        if not isinstance(raw, dict) or "key" not in raw:
            continue
        entry = {
            "measure": measure.name,
            "key": str(raw["key"]),
            "label": str(raw.get("label") or raw["key"]),
            "value": raw.get("value"),
            "unit": str(raw.get("unit", "")),
        }
        target = _target(raw.get("target")) or _target(measure.targets.get(entry["key"]))
        entry["target"] = target
        entry["pass"] = meets(entry["value"], target)
        for extra in ("samples", "note"):
            if extra in raw:
                entry[extra] = raw[extra]
        out.append(entry)
    return out


def _unit_of(key: str) -> str:
    for suffix, unit in _UNITS.items():
        if key.lower().endswith(suffix):
            return unit
    return ""


def _target(value) -> dict | None:
    if isinstance(value, dict) and "op" in value and "value" in value:
        op, limit = value["op"], value["value"]
    elif isinstance(value, list | tuple) and len(value) == 2:
        op, limit = value
    else:
        return None
    if op not in ("<=", ">=", "<", ">"):
        return None
    return {"op": op, "value": limit}


def meets(value, target: dict | None) -> bool | None:
    if target is None or not isinstance(value, int | float):
        return None
    limit = target["value"]
    return {
        "<=": value <= limit,
        ">=": value >= limit,
        "<": value < limit,
        ">": value > limit,
    }[target["op"]]


# --- The machine ---------------------------------------------------------------------------


def machine() -> dict:
    return {
        "arch": platform.machine(),
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": _version("django"),
        "weasyprint": _version("weasyprint"),
        "chromium": _chromium_version(),
        "playwright": _version("playwright"),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _chromium_version() -> str | None:
    try:
        result, _ = run_timed([CHROMIUM, "--version"], timeout=30)
    except (OSError, RuntimeError):
        return None
    text = result.stdout.strip()
    return text.removeprefix("Chromium ").split(" built on")[0] if text else None


# --- Output --------------------------------------------------------------------------------

_OPS = {"<=": "≤", ">=": "≥", "<": "<", ">": ">"}


def fmt_value(value, unit: str) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, int | float):
        text = str(value)
    elif isinstance(value, int):
        text = f"{value:,}"
    elif unit == "s":
        text = f"{value:.3f}"
    elif abs(value) >= 100:
        text = f"{value:,.1f}"
    else:
        text = f"{value:.2f}"
    if not unit:
        return text
    return f"{text}{unit}" if unit == "×" else f"{text} {unit}"


def fmt_target(figure: dict) -> str:
    target = figure["target"]
    if target is None:
        return ""
    return f"{_OPS[target['op']]} {fmt_value(target['value'], figure['unit'])}"


def fmt_range(figure: dict) -> str:
    samples = [x for x in figure.get("samples") or [] if isinstance(x, int | float)]
    if len(samples) < 2:
        return ""
    low, high = (fmt_value(x, figure["unit"]).split(" ")[0] for x in (min(samples), max(samples)))
    return f"{low}–{high}"


def fmt_result(figure: dict) -> str:
    return {True: "pass", False: "FAIL", None: ""}[figure["pass"]]


def table_rows(outcomes: list[Outcome]) -> list[tuple[str, ...]]:
    rows = []
    for outcome in outcomes:
        if outcome.status != "ok":
            first_line = outcome.error.splitlines()[0] if outcome.error else ""
            rows.append((outcome.measure.name, f"{outcome.status}: {first_line}", "", "", "", ""))
            continue
        for fig in outcome.figures:
            rows.append(
                (
                    outcome.measure.name,
                    fig["label"],
                    fmt_value(fig["value"], fig["unit"]),
                    fmt_range(fig),
                    fmt_target(fig),
                    fmt_result(fig),
                )
            )
    return rows


def print_table(outcomes: list[Outcome], machine_info: dict, date: str) -> None:
    header = ("measure", "figure", "value", "min–max", "target", "result")
    rows = table_rows(outcomes)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    right = {2, 3}  # numbers right-aligned

    def line(row: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        return "  ".join(cells).rstrip()

    print()
    print(f"{date} · {machine_summary(machine_info)}")
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))
    for outcome in outcomes:
        if outcome.status != "ok":
            print(f"\n{outcome.measure.name} {outcome.status}:\n{outcome.error}")


def machine_summary(info: dict) -> str:
    return (
        f"{info['arch']}, {info['cores']} cores ({info['cpu']}), Python {info['python']}, "
        f"WeasyPrint {info['weasyprint']}, Chromium {info['chromium']}, "
        f"load {' / '.join(str(x) for x in info['load_average_at_start'])}"
    )


def write_json(path: Path, outcomes: list[Outcome], machine_info: dict, date: str) -> None:
    data = {
        "date": date,
        "machine": machine_info,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "measures": [
            {
                "name": o.measure.name,
                "script": f"bench/{o.measure.script}",
                "description": o.measure.description,
                "status": o.status,
                "seconds": round(o.seconds, 1),
                "error": o.error or None,
                "info": o.info,
            }
            for o in outcomes
        ],
        "figures": [fig for o in outcomes for fig in o.figures],
    }
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_markdown(path: Path, outcomes: list[Outcome], machine_info: dict, date: str) -> None:
    m = machine_info
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`bench/run.py`): rerun it rather than editing this file.",
        "How each figure is measured, and how to add a measure: `bench/README.md`; raw samples:",
        "`bench/results.json`.",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        f"| architecture | {m['arch']} |",
        f"| cores | {m['cores']} ({_md(m['cpu'])}) |",
        f"| kernel | {m['kernel']} |",
        f"| Python | {m['python']} |",
        f"| Django | {m['django']} |",
        f"| WeasyPrint | {m['weasyprint']} |",
        f"| Chromium | {m['chromium']} |",
        f"| Playwright | {m['playwright'] or 'not installed'} |",
        f"| load average at start (1 / 5 / 15 min) | "
        f"{' / '.join(str(x) for x in m['load_average_at_start'])} |",
        f"| date | {date} |",
        "",
        "## Figures",
        "",
        "| measure | figure | value | min–max | target | result |",
        "| --- | --- | ---: | ---: | --- | --- |",
    ]
    for row in table_rows(outcomes):
        cells = list(row)
        if cells[5] == "FAIL":
            cells[5] = "**FAIL**"
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    notes = [
        (o.measure.name, note)
        for o in outcomes
        for note in (o.info.get("notes") or [])
        if isinstance(note, str)
    ]
    if notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {name}: {_md(note)}" for name, note in notes]
    if METHOD_MD.is_file():  # how each figure is measured, and what it does not show
        lines += ["", METHOD_MD.read_text(encoding="utf-8").rstrip()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# --- Main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    measures = registered()
    names = [m.name for m in measures]
    parser = argparse.ArgumentParser(description="Run the benchmarks (make bench).")
    parser.add_argument("measures", nargs="*", metavar="MEASURE", help=f"any of {names}")
    parser.add_argument("--list", action="store_true", help="list the registered measures")
    parser.add_argument("--write", action="store_true", help="write the results after a subset")
    parser.add_argument("--no-write", action="store_true", help="print only, write no files")
    args = parser.parse_args(argv)

    if args.list:
        for m in REGISTRY:
            state = "" if m in measures else f"  (not registered: bench/{m.script} missing)"
            print(f"{m.name:10} bench/{m.script:12} {m.description}{state}")
        return 0
    unknown = sorted(set(args.measures) - set(names))
    if unknown:
        parser.error(f"unknown measure(s) {unknown}; registered: {names}")
    selected = [m for m in measures if not args.measures or m.name in args.measures]
    for m in REGISTRY:
        if m not in measures:
            print(f"bench: {m.name} skipped, bench/{m.script} does not exist", file=sys.stderr)

    date = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    machine_info = machine()
    outcomes = [run_measure(m) for m in selected]

    print_table(outcomes, machine_info, date)
    write = (len(selected) == len(measures) or args.write) and not args.no_write
    if write:
        write_json(RESULTS_JSON, outcomes, machine_info, date)
        write_markdown(RESULTS_MD, outcomes, machine_info, date)
        print(f"\nwrote {RESULTS_JSON.relative_to(ROOT)} and {RESULTS_MD.relative_to(ROOT)}")
    return 0 if all(o.status == "ok" for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
