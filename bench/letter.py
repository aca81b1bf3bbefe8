"""The letter measure: seed 001 rendered by WeasyPrint and by Chromium print-to-PDF, warm and cold.

Run by ``bench/run.py``; alone, ``.venv/bin/python bench/letter.py`` prints progress on stderr and
the figures as one JSON line on stdout. ``--profile`` instead profiles warm WeasyPrint renders
with cProfile and prints where the time goes.

- WeasyPrint warm: in this process, after one warm-up render, ``render_letter_pdf(letter)`` timed
  ``--warm`` times (wall and CPU time; the CPU time is steadier on a shared machine); then
  ``--warm`` times more with the kept font subsets dropped first ("unseen": a letter whose
  glyphs the process has not subset before, see ``replies.pdf_speed``).
- WeasyPrint new process: ``--new`` fresh ``python -c`` children, each setting Django up, reading
  the seed, then timing ``import weasyprint`` → PDF bytes inside the child; the parent also times
  the child's whole life (interpreter start to exit).
- Chromium: the HTML from the same template and context (``letter_context``), the stylesheet
  inlined (the template links it relatively, and WeasyPrint's fetcher serves it from the asset
  dir), written to a temp dir. New process: ``chromium --headless … --print-to-pdf`` wall time,
  fresh profile each run. Warm: one long-lived Chromium driven by Playwright over the DevTools
  protocol, ``page.set_content`` + ``page.pdf``. Chromium uses the system fonts (Fandol is
  installed system-wide, as are the Noto and AR PL fallbacks).

Every child runs under a timeout in its own process group; every process started here carries a
token in its environment, and any still running at the end is killed by pid.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import logging
import os
import pstats
import re
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

if __package__ in (None, ""):  # run as ``python bench/letter.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import (
    CHILD_TOKEN,
    CHROMIUM,
    ROOT,
    SEEDS_DIR,
    become_subreaper,
    children_cpu,
    cpu_seconds,
    emit,
    figure,
    kill_marked,
    log,
    marked_pids,
    median,
    reap_orphans,
    run_timed,
    setup_django,
)

SEED = SEEDS_DIR / "001_9332f8a4cbbb0d88.txt"

# Targets: issue 3 / issue 10 (wall, size); issue 24 (CPU time, the headline figures).
TARGET_WARM_S = 0.20
TARGET_WARM_CPU_S = 0.10
TARGET_RATIO_CPU = 2.0
TARGET_PDF_KB = 450

#: What Chromium is given on top of the letter's own stylesheet, so that both print the same
#: document as far as Chromium can: no ``float: footnote`` (Chromium ignores it and would print
#: the 版记 as a float in the text), so the 版记 is a block after the text, kept in one piece,
#: with the rules and type sizes of letter.css. ``device-cmyk()`` colours (if letter.css has
#: any) are turned into their sRGB equivalents by ``srgb_colours``.
CHROMIUM_CSS = """
.imprint { float: none; break-inside: avoid; margin-top: 28.95pt; }
"""
_DEVICE_CMYK = re.compile(r"device-cmyk\(\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\)")

MIN_WARM = 7
MIN_NEW = 5
CHILD_TIMEOUT = 120  # s, one cold WeasyPrint child
CHROMIUM_TIMEOUT = 60  # s, one chromium --print-to-pdf run
PLAYWRIGHT_TIMEOUT_MS = 60_000

CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

# One cold render in a fresh interpreter. The timer starts before ``import weasyprint``, after
# Django is set up and the seed is read; the parent times the whole child as well.
CHILD_CODE = """\
import json, logging, sys, time
import django
django.setup()
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
from replies.legacy import read_letter
with open(sys.argv[1], encoding="utf-8") as seed:
    letter, _ = read_letter(seed.read())
if "weasyprint" in sys.modules:
    sys.exit("weasyprint was imported before the timer started")
start = time.perf_counter()
import weasyprint
from replies.pdf import render_letter_pdf
pdf = render_letter_pdf(letter)
elapsed = time.perf_counter() - start
print(json.dumps({"render_s": elapsed, "bytes": len(pdf), "weasyprint": weasyprint.__version__}))
"""

_STYLESHEET = re.compile(r"<link\b[^>]*\brel=[\"']?stylesheet[\"']?[^>]*>", re.IGNORECASE)
_HREF = re.compile(r"\bhref=[\"']?([^\"'\s>]+)", re.IGNORECASE)
_EXTERNAL_REF = re.compile(r"""(?:\bsrc=|\bhref=|url\()\s*["']?(?!data:|#)([^"')\s>]+)""")


def kb(size: int) -> float:
    return round(size / 1024, 1)


def page_count(pdf: bytes) -> int:
    try:
        import pypdfium2
    except ImportError:  # pdfplumber (dev) brings pypdfium2; count page objects otherwise
        return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))
    document = pypdfium2.PdfDocument(pdf)
    try:
        return len(document)
    finally:
        document.close()


# --- WeasyPrint ----------------------------------------------------------------------------


def weasyprint_warm(letter, repeats: int) -> tuple[bytes, list[float], list[float], float, list]:
    """``repeats`` renders of the letter after one warm-up, then ``repeats`` more with the kept
    font subsets dropped before each (``replies.pdf_speed.forget_subsets``): the CPU time of a
    letter whose fonts this process has not subset before, as most letters a worker signs."""
    from replies.pdf import render_letter_pdf
    from replies.pdf_speed import forget_subsets

    start = time.perf_counter()
    pdf = render_letter_pdf(letter)
    first = time.perf_counter() - start
    gc.collect()
    gc.freeze()  # as the worker does after its warm-up (tracker/celery.py)
    walls, cpus, unseen = [], [], []
    for _ in range(repeats):
        cpu, start = time.process_time(), time.perf_counter()
        pdf = render_letter_pdf(letter)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    for _ in range(repeats):
        forget_subsets()
        cpu = time.process_time()
        render_letter_pdf(letter)
        unseen.append(time.process_time() - cpu)
    return pdf, walls, cpus, first, unseen


def weasyprint_new(seed: Path, repeats: int, env: dict) -> tuple[list, list, list]:
    """``repeats`` cold children after one untimed one (which fills the OS file cache): the
    render inside each, the whole child's wall time and its CPU time (user + system)."""
    inner, outer, cpus = [], [], []
    for run in range(repeats + 1):
        cmd = [sys.executable, "-c", CHILD_CODE, str(seed)]
        cpu = children_cpu()
        result, wall = run_timed(cmd, timeout=CHILD_TIMEOUT, cwd=ROOT, env=env)
        cpu = children_cpu() - cpu
        if result.returncode != 0:
            raise RuntimeError(f"WeasyPrint child failed:\n{result.stderr[-2000:]}")
        data = json.loads(result.stdout.strip().splitlines()[-1])
        if run:
            inner.append(data["render_s"])
            outer.append(wall)
            cpus.append(cpu)
    return inner, outer, cpus


# --- Chromium ------------------------------------------------------------------------------


def srgb_colours(css: str) -> str:
    """``device-cmyk(c m y k)`` as the sRGB colour Chromium would need (it drops the former)."""

    def rgb(match: re.Match) -> str:
        c, m, y, k = (float(value) for value in match.groups())
        r, g, b = (round(255 * (1 - min(1.0, v + k))) for v in (c, m, y))
        return f"rgb({r}, {g}, {b})"

    return _DEVICE_CMYK.sub(rgb, css)


def chromium_html(letter) -> str:
    """The letter's HTML from the renderer's template and context, its stylesheets inlined,
    with what Chromium cannot print replaced (``CHROMIUM_CSS``, ``srgb_colours``)."""
    from django.template.loader import render_to_string

    from replies.pdf import ALLOWED_ASSETS, ASSETS_DIR, letter_context

    html = render_to_string("replies/letter.html", letter_context(letter))

    def inline(match: re.Match) -> str:
        href = _HREF.search(match.group(0))
        name = href.group(1) if href else ""
        if name not in ALLOWED_ASSETS:
            raise RuntimeError(f"cannot inline stylesheet {match.group(0)!r} for Chromium")
        css = srgb_colours((ASSETS_DIR / name).read_text(encoding="utf-8"))
        return f"<style>\n{css}\n{CHROMIUM_CSS}</style>"

    html = _STYLESHEET.sub(inline, html)
    if "<style>" not in html:
        # The renderer applies letter.css itself (parsed once), so the template links none.
        css = srgb_colours((ASSETS_DIR / "letter.css").read_text(encoding="utf-8"))
        html = html.replace("</head>", f"<style>\n{css}\n{CHROMIUM_CSS}</style>\n</head>", 1)
    external = sorted(set(_EXTERNAL_REF.findall(html)))
    if external:
        # Chromium would load these from the temp dir or not at all: the comparison would be off.
        raise RuntimeError(
            f"the letter HTML references assets bench/letter.py cannot inline: {external}"
        )
    return html


def chromium_new(
    html_file: Path, workdir: Path, repeats: int, env: dict
) -> tuple[bytes, list, list]:
    """``repeats`` ``chromium --print-to-pdf`` runs after one untimed one, fresh profile each:
    wall times, and CPU times of the browser with every process it started and reaped."""
    samples, cpus, pdf = [], [], b""
    for run in range(repeats + 1):
        run_dir = Path(tempfile.mkdtemp(prefix="chromium-", dir=workdir))
        out = run_dir / "out.pdf"
        cmd = [
            CHROMIUM,
            "--headless",
            *CHROMIUM_FLAGS,
            f"--user-data-dir={run_dir / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            html_file.as_uri(),
        ]
        try:
            cpu = children_cpu()
            result, wall = run_timed(cmd, timeout=CHROMIUM_TIMEOUT, cwd=workdir, env=env)
            reap_orphans()  # the zygote and renderers the browser left (become_subreaper)
            cpu = children_cpu() - cpu
            if result.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
                raise RuntimeError(
                    f"chromium --print-to-pdf failed (exit {result.returncode}):\n"
                    f"{result.stderr[-2000:]}"
                )
            pdf = out.read_bytes()
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)
        if run:
            samples.append(wall)
            cpus.append(cpu)
    return pdf, samples, cpus


def chromium_warm(html: str, repeats: int, env: dict) -> tuple[bytes, list, list, str]:
    """One long-lived Chromium over CDP (Playwright): one warm-up, then ``repeats`` timed.

    Returns the PDF, the wall times, the CPU times of all Chromium processes together (browser,
    renderer, GPU and utility processes, found by the token in ``env``), and the version.
    """
    token = env[CHILD_TOKEN]

    def chromium_cpu() -> float:
        return cpu_seconds(marked_pids(CHILD_TOKEN, token))

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=list(CHROMIUM_FLAGS),
            env=env,
            timeout=PLAYWRIGHT_TIMEOUT_MS,
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(PLAYWRIGHT_TIMEOUT_MS)

            def render() -> bytes:
                page.set_content(html, wait_until="load")
                # Tagged, as WeasyPrint's (pdf_tags=True): the same work on both sides.
                return page.pdf(format="A4", prefer_css_page_size=True, tagged=True)

            pdf = render()
            walls, cpus = [], []
            for _ in range(repeats):
                cpu, start = chromium_cpu(), time.perf_counter()
                pdf = render()
                walls.append(time.perf_counter() - start)
                cpus.append(chromium_cpu() - cpu)
            return pdf, walls, cpus, browser.version
        finally:
            browser.close()


# --- The measure ---------------------------------------------------------------------------


def measure_chromium(letter, args: argparse.Namespace, env: dict, notes: list, info: dict) -> dict:
    """Both Chromium figures; a failure becomes a note, and no Chromium process outlives this."""
    result: dict = {"new": [], "new_cpu": [], "warm": [], "warm_cpu": [], "pdf": b""}
    token = env[CHILD_TOKEN]
    with tempfile.TemporaryDirectory(prefix="bench-letter-", ignore_cleanup_errors=True) as tmp:
        workdir = Path(tmp)
        try:
            html = chromium_html(letter)
            html_file = workdir / "letter.html"
            html_file.write_text(html, encoding="utf-8")
            info["chromium_html_bytes"] = len(html.encode())

            log(f"letter: Chromium new process, 1 + {args.new} `chromium --print-to-pdf` runs")
            try:
                result["pdf"], result["new"], result["new_cpu"] = chromium_new(
                    html_file, workdir, args.new, env
                )
            except (OSError, RuntimeError) as error:
                notes.append(f"Chromium new process not measured: {error}")
                log(f"letter: {notes[-1]}")

            log(f"letter: Chromium warm, Playwright, 1 warm-up + {args.warm} prints")
            try:
                pdf, result["warm"], result["warm_cpu"], version = chromium_warm(
                    html, args.warm, env
                )
                info["chromium_warm_pdf_kb"] = kb(len(pdf))
                info["chromium_warm_pages"] = page_count(pdf)
                info["chromium_playwright_version"] = version
                result["pdf"] = result["pdf"] or pdf
            except ImportError:
                notes.append(
                    "Chromium warm not measured: playwright is not installed "
                    "(scripts/bootstrap installs it from the lock; never `playwright install`)"
                )
                log(f"letter: {notes[-1]}")
            except Exception as error:  # Playwright's errors: launch, timeout, protocol
                notes.append(f"Chromium warm not measured: {type(error).__name__}: {error}")
                log(f"letter: {notes[-1]}")
        except RuntimeError as error:  # the HTML could not be made self-contained
            notes.append(f"Chromium not measured: {error}")
            log(f"letter: {notes[-1]}")
        finally:
            leftovers = kill_marked(CHILD_TOKEN, token)
            if leftovers:
                log(f"letter: killed leftover processes {leftovers}")
            info["leftover_processes_killed"] = leftovers
    return result


def weasyprint_figures(args, walls, cpus, unseen, inner, outer, new_cpus) -> list[dict]:
    return [
        figure(
            "weasyprint_warm_cpu_s",
            f"WeasyPrint warm, CPU time, median of {args.warm}",
            round(median(cpus), 3),
            "s",
            target=("<=", TARGET_WARM_CPU_S),
            samples=cpus,
        ),
        figure(
            "weasyprint_warm_unseen_cpu_s",
            "WeasyPrint warm, a letter whose fonts the process has not subset before (kept "
            f"subsets dropped first), CPU time, median of {args.warm}",
            round(median(unseen), 3),
            "s",
            samples=unseen,
        ),
        figure(
            "weasyprint_warm_s",
            f"WeasyPrint warm, wall time, median of {args.warm}",
            round(median(walls), 3),
            "s",
            target=("<=", TARGET_WARM_S),
            samples=walls,
        ),
        figure(
            "weasyprint_new_cpu_s",
            f"WeasyPrint new process: whole `python -c` child, CPU time, median of {args.new}",
            round(median(new_cpus), 3),
            "s",
            samples=new_cpus,
        ),
        figure(
            "weasyprint_new_wall_s",
            f"WeasyPrint new process: whole `python -c` child, wall time, median of {args.new}",
            round(median(outer), 3),
            "s",
            samples=outer,
        ),
        figure(
            "weasyprint_new_render_s",
            f"WeasyPrint new process: import weasyprint → PDF bytes, wall, median of {args.new}",
            round(median(inner), 3),
            "s",
            samples=inner,
        ),
    ]


def chromium_figures(args, chrome: dict) -> list[dict]:
    def med(key: str, digits: int = 3) -> float | None:
        return round(median(chrome[key]), digits) if chrome[key] else None

    return [
        figure(
            "chromium_warm_cpu_s",
            f"Chromium warm, CPU time of all its processes, median of {args.warm}",
            med("warm_cpu"),
            "s",
            samples=chrome["warm_cpu"],
        ),
        figure(
            "chromium_warm_s",
            f"Chromium warm (Playwright set_content + pdf), wall time, median of {args.warm}",
            med("warm"),
            "s",
            samples=chrome["warm"],
        ),
        figure(
            "chromium_new_cpu_s",
            f"Chromium new process: `chromium --print-to-pdf`, CPU time, median of {args.new}",
            med("new_cpu"),
            "s",
            samples=chrome["new_cpu"],
        ),
        figure(
            "chromium_new_wall_s",
            f"Chromium new process: `chromium --print-to-pdf`, wall time, median of {args.new}",
            med("new"),
            "s",
            samples=chrome["new"],
        ),
    ]


def ratio_figures(cpus, unseen, walls, new_cpus, outer, chrome: dict) -> list[dict]:
    def ratio(slow: list, fast: list) -> float | None:
        return round(median(slow) / median(fast), 2) if slow and fast else None

    return [
        figure(
            "ratio_warm_cpu",
            "Chromium / WeasyPrint, warm, CPU time (the headline ratio)",
            ratio(chrome["warm_cpu"], cpus),
            "×",
            target=(">=", TARGET_RATIO_CPU),
        ),
        figure(
            "ratio_warm_unseen_cpu",
            "Chromium / WeasyPrint, warm, CPU time, a letter whose fonts were not subset before",
            ratio(chrome["warm_cpu"], unseen),
            "×",
        ),
        figure(
            "ratio_warm",
            "Chromium / WeasyPrint, warm, wall time",
            ratio(chrome["warm"], walls),
            "×",
        ),
        figure(
            "ratio_new_cpu",
            "Chromium / WeasyPrint, new process, CPU time",
            ratio(chrome["new_cpu"], new_cpus),
            "×",
        ),
        figure(
            "ratio_new",
            "Chromium / WeasyPrint, new process, wall time",
            ratio(chrome["new"], outer),
            "×",
        ),
    ]


#: What still differs between the two PDFs of the same HTML (checked by eye on seed 001).
DIFFERENCES = (
    "Same document on both sides: the letter's HTML and letter.css, sRGB red (letter.css's "
    "colours; any device-cmyk() is converted for Chromium), both tagged. What still differs: "
    "Chromium places the 版记 after the text as a block kept in one piece (it has no float: "
    "footnote), not at the foot of the last page; Chromium's PDF is not PDF/A (no output "
    "intent, no XMP identification) and embeds its fonts as Type 3; WeasyPrint's has the "
    "GB/T page numbers in margin boxes, which Chromium prints too (it supports @page margin "
    "boxes since 131) — compare the page counts and sizes below."
)


def measure(args: argparse.Namespace) -> None:
    from replies.legacy import read_published

    seed = Path(args.seed)
    letter = read_published(seed.read_text(encoding="utf-8")).letter
    token = uuid.uuid4().hex
    env = {**os.environ, CHILD_TOKEN: token}
    become_subreaper()
    notes: list[str] = []
    info: dict = {"seed": seed.name}

    log(f"letter: WeasyPrint warm, 1 warm-up + {args.warm} renders in this process")
    pdf_w, walls, cpus, first, unseen = weasyprint_warm(letter, args.warm)
    info["weasyprint_first_render_s"] = round(first, 3)

    log(f"letter: WeasyPrint new process, 1 + {args.new} `python -c` children")
    inner, outer, new_cpus = weasyprint_new(seed, args.new, env)

    log("letter: Chromium print-to-PDF of the same HTML")
    chrome = measure_chromium(letter, args, env, notes, info)
    pdf_c = chrome["pdf"]

    figures = [
        *weasyprint_figures(args, walls, cpus, unseen, inner, outer, new_cpus),
        *chromium_figures(args, chrome),
        *ratio_figures(cpus, unseen, walls, new_cpus, outer, chrome),
        figure(
            "weasyprint_pdf_kb",
            "WeasyPrint PDF size",
            kb(len(pdf_w)),
            "KB",
            target=("<=", TARGET_PDF_KB),
        ),
        figure("chromium_pdf_kb", "Chromium PDF size", kb(len(pdf_c)) if pdf_c else None, "KB"),
        figure("weasyprint_pages", "WeasyPrint pages", page_count(pdf_w), "pages"),
        figure("chromium_pages", "Chromium pages", page_count(pdf_c) if pdf_c else None, "pages"),
    ]
    notes += [
        "Seed 001 read with replies.legacy.read_published; WeasyPrint = "
        "replies.pdf.render_letter_pdf (PDF/A-2b, tagged, subset fonts).",
        DIFFERENCES,
        "CPU time is the headline: user + system of every process doing the work — this "
        "process for WeasyPrint warm (after the worker's warm-up: one render, then gc.freeze()), "
        "every Chromium process (browser, renderer, GPU, utility; not Playwright's driver) for "
        "Chromium warm, and RUSAGE_CHILDREN of the whole child (interpreter start to exit, or "
        "chromium and every process it reaped) for new processes.",
        "Every new-process figure is a median after one untimed run that warms the OS file "
        "cache; Chromium gets a fresh --user-data-dir per run. KB = 1024 bytes.",
    ]
    if median(cpus) > TARGET_WARM_CPU_S:
        notes.append(
            f"WeasyPrint warm misses {TARGET_WARM_CPU_S} s of CPU: `.venv/bin/python "
            "bench/letter.py --profile` shows where the time goes (docs/benchmarks.md, "
            "'The letter's floor')."
        )
    info["notes"] = notes
    emit("letter", figures, info)


def profile(args: argparse.Namespace) -> None:
    """Where a warm render's time goes: cProfile over ``--warm`` renders after a warm-up."""
    from replies.legacy import read_letter
    from replies.pdf import render_letter_pdf

    letter, _ = read_letter(Path(args.seed).read_text(encoding="utf-8"))
    render_letter_pdf(letter)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.warm):
        render_letter_pdf(letter)
    profiler.disable()
    for order, limit in (("cumulative", 45), ("tottime", 25)):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order)
        stats.print_stats(limit)
        print(f"== {args.warm} warm renders, sorted by {order} ==")
        print(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seed", default=str(SEED), help="seed text file (default: seed 001)")
    parser.add_argument("--warm", type=int, default=9, help=f"warm repeats (≥ {MIN_WARM})")
    parser.add_argument("--new", type=int, default=7, help=f"new-process repeats (≥ {MIN_NEW})")
    parser.add_argument("--profile", action="store_true", help="profile warm renders instead")
    args = parser.parse_args(argv)
    if not args.profile and (args.warm < MIN_WARM or args.new < MIN_NEW):
        parser.error(f"--warm must be ≥ {MIN_WARM} and --new ≥ {MIN_NEW}")

    setup_django()
    # Django's root logger is at INFO: WeasyPrint would log 14 progress lines per render.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    if args.profile:
        profile(args)
    else:
        measure(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
