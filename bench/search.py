"""The public full-text search over 100,000 published replies (issue 22): p50 and p95 of 20
typical queries, each asked 3 times, on PostgreSQL.

    .venv/bin/python bench/search.py            # what ``make bench`` runs
    .venv/bin/python bench/search.py --rows 20000

A database of its own (``tracker_bench_search``, migrated on first use) holds a copy of
``publication_searchentry``'s table — same columns, generated ``tsvector`` and GIN index, no
foreign key — filled by COPY with ``--rows`` entries segmented by the app's own jieba
dictionary (``publication.segment``): 15 policy topics, the units' names, the replies' usual
sentences. The queries go through ``publication.search.search_ids``, the code path of
``/public/?q=`` and the API's ``?q=``, with the table name swapped for the copy.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import (
    ROOT,
    _admin_connection,
    bench_database_url,
    emit,
    figure,
    log,
    setup_django,
)
from bench.generate import DEFAULT_SERVER

NAME = "tracker_bench_search"
TABLE = "bench_public_search"
TOPICS = (
    "老旧小区加装电梯工作稳步推进，既有多层住宅加装电梯完成立项",
    "新增公租房供应，公共租赁住房申请条件放宽",
    "通过错峰停车、共享停车新增停车位，缓解居民区停车难",
    "优化营商环境，推进一网通办",
    "新建长者食堂，完善社区养老服务",
    "推进垃圾分类，湿垃圾干垃圾分类投放",
    "实施城市更新和旧区改造",
    "建设口袋公园，完善十五分钟社区生活圈",
    "加强物业管理，指导业委会规范运作",
    "推进适老化改造和家庭医生签约",
    "完善托育服务和义务教育资源布局",
    "整治黑臭河道，落实河长制",
    "新建充电桩，规范非机动车停放",
    "加强群租整治和网格化管理",
    "推进医养结合和日间照料中心建设",
)
FILLER = (
    "我单位高度重视，专题研究，并与提案者进行了沟通",
    "下一步将继续加强统筹协调，明确责任分工",
    "建立定期会商制度，及时研究解决推进中的问题",
    "结合年度工作计划，将提案建议纳入重点工作予以推进",
    "感谢对我们工作的关心和支持",
)
UNITS = (
    "长宁区住房保障和房屋管理局 区房管局",
    "长宁区建设和管理委员会 区建管委",
    "长宁区发展和改革委员会 区发改委",
    "长宁区民政局 区民政局",
    "长宁区教育局 区教育局",
    "长宁区卫生健康委员会 区卫健委",
    "长宁区生态环境局 区生态环境局",
    "长宁区绿化和市容管理局 区绿化市容局",
)
QUERIES = (
    "停车",
    "老旧小区加装电梯",
    "公租房",
    "加装电梯",
    "区房管局",
    "长宁区民政局",
    "营商环境",
    "垃圾分类",
    "养老服务",
    "长者食堂",
    "城市更新",
    "口袋公园",
    "物业管理",
    "适老化改造",
    "托育服务",
    "河长制",
    "充电桩",
    "群租",
    "医养结合",
    "一网通办",
)
REPEATS = 3


def migrate(url: str) -> None:
    """Create and migrate the database once (kept between runs, like the shared data sets)."""
    with _admin_connection(url) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (NAME,)).fetchone()
        if not found:
            conn.execute(f'CREATE DATABASE "{NAME}"')
    log(f"{NAME}: migrating")
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"],
        env=env,
        check=True,
        timeout=900,
    )


def fill(rows: int) -> float:
    """The copy of the search table with ``rows`` entries; seconds it took."""
    from django.db import connection

    from publication import segment

    rng = random.Random(7)
    topics = [segment.index_words(t) for t in TOPICS]
    filler = [segment.index_words(t) for t in FILLER]
    units = [segment.index_words(u) for u in UNITS]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cursor.execute(f"CREATE TABLE {TABLE} (LIKE publication_searchentry INCLUDING ALL)")
    raw = connection.connection
    with raw.cursor() as cursor:
        copy = f"COPY {TABLE} (reply_id, head, body, published_on) FROM STDIN"
        with cursor.copy(copy) as stream:
            for i in range(rows):
                t = rng.randrange(len(topics))
                head = f"{topics[t]} {units[rng.randrange(len(units))]}"
                other = topics[rng.randrange(len(topics))]
                body = " ".join([topics[t], *rng.sample(filler, 3), other])
                day = f"20{rng.randint(15, 26)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                stream.write_row((i + 1, head, body, day))
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {TABLE}")
    return time.perf_counter() - started


def measure() -> tuple[list[float], list[float], dict[str, int]]:
    """Wall and CPU milliseconds of every query (after one warm-up round), and hits per query."""
    from publication import search

    original = search._pg

    def on_the_copy(words: list[str], operator: str) -> tuple[str, list]:
        query, params = original(words, operator)
        return query.replace("publication_searchentry", TABLE), params

    search._pg = on_the_copy
    hits = {q: len(search.search_ids(q)[0]) for q in QUERIES}  # warm-up (jieba, plans)
    walls, cpus = [], []
    for _round in range(REPEATS):
        for q in QUERIES:
            wall, cpu = time.perf_counter(), time.process_time()
            search.search_ids(q)
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
    search._pg = original
    return walls, cpus, hits


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    server = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    url = bench_database_url(server, NAME, "bench/search.py")
    migrate(url)
    os.environ["DATABASE_URL"] = url
    setup_django()
    seconds = fill(args.rows)
    log(f"{args.rows} entries in {seconds:.1f} s")
    walls, cpus, hits = measure()
    label = f"{len(QUERIES)} queries × {REPEATS} over {args.rows:,} replies"
    figures = [
        figure(
            "search_p50_ms",
            f"public search p50 ({label})",
            round(statistics.median(walls), 1),
            "ms",
            target=("<=", 50),
            samples=[round(w, 1) for w in walls],
        ),
        figure(
            "search_p95_ms",
            f"public search p95 ({label})",
            round(percentile(walls, 0.95), 1),
            "ms",
            target=("<=", 150),
        ),
        figure(
            "search_cpu_p50_ms",
            "public search p50, CPU of this process (the database's is not in it)",
            round(statistics.median(cpus), 1),
            "ms",
        ),
        figure(
            "search_fill_s", "filling the copy (jieba + COPY + ANALYZE)", round(seconds, 1), "s"
        ),
    ]
    emit("search", figures, {"rows": args.rows, "hits": hits})


if __name__ == "__main__":
    main()
