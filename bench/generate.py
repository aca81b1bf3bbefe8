"""The benchmark data set: ten sessions of a district's proposals and replies, in PostgreSQL.

    .venv/bin/python bench/generate.py                          # build (or reuse) the full set
    .venv/bin/python bench/generate.py --scale 0.05             # 30 proposals a session, fast
    .venv/bin/python bench/generate.py --open-assignments 100000   # plus the reminder scan's load
    .venv/bin/python bench/generate.py --rebuild | --drop

From a measure::

    from bench import generate
    ds = generate.ensure(server_url, open_assignments=0, scale=1.0)
    os.environ["DATABASE_URL"] = ds.url      # then django.setup()

``ensure`` builds the database ``tracker_bench_data`` (``_s0p05`` for ``scale=0.05``,
``_open100000`` for 100,000 open assignments) on the server of ``server_url`` unless it exists
with the same fingerprint (``GENERATOR_VERSION``, the parameters and a digest of the migrations,
stored as JSON in ``COMMENT ON DATABASE`` once a build has finished and passed its checks). While
building it holds a PostgreSQL advisory lock, so concurrent callers wait and then reuse it. The
build runs in a child process (``--build``) with ``DATABASE_URL`` set to the data set, so the
caller need not have Django set up, nor set up against another database.

What is in it (长宁, today = 2026-11-23):

- 10 sessions, 十四届一次 (2017) … 十五届五次 (2026), ``600 × scale`` proposals each; the nine
  older ones are complete (every proposal filed is replied and closed), the newest is in
  progress: drafts, submitted, returned, filed, and assignments in every stage around today;
- 40 handling units (委办局, 街道, 镇) with a 文号 prefix, two clerks and a signer each; committee,
  supervision and admin accounts; 360 proposers (members, 界别组, 党派, 人民团体, 专委会) with
  co-proposers and conveners, 150 members with a login; every user has ``PASSWORD``;
- 1–5 assignments per proposal (主办 + 会办, or several 分办; a few reassigned), due dates as
  ``proposals.deadlines.compute_due`` gives them, completed when the work was done, a few
  extended; contact records; co-handling opinions in every state;
- replies in every state (draft … published; 依申请公开 and 不予公开 ones; follow-ups,
  re-handling replies after 不满意, a few corrections), 文号 contiguous per unit and year
  with ``DocNumberCounter`` set to the last one; bodies are the four seed letters' texts in
  turn, so rendering them costs what a real letter costs. Signed letters carry **no PDF**
  (``pdf`` is blank, which the model allows: the PDF is rendered after signing, by a task);
- feedback in every rating and channel; audit rows (``Transition``) for each step taken.

``--open-assignments N`` adds N open assignments (and N // 100 replies awaiting publication) in
the current session as the reminder scan needs them, spread over the 75 working days before
today with due dates around it; at 200 per unit, so extra units are added above 8,000.

Ids are computed, not read back (the database is new), and rows go in with ``bulk_create``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import hashlib
import json
import os
import random
import subprocess
import sys
import time
import zlib
from collections import Counter, defaultdict
from pathlib import Path

if __package__ in (None, ""):  # run as ``python bench/generate.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import ROOT, SEEDS_DIR, _admin_connection, bench_database_url, kill_group, log
from bench import drop_database as shared_drop

GENERATOR_VERSION = 2
#: The data sets' database names start with this (``BENCH_DB_PREFIX`` to keep two runs apart).
BASE_NAME = os.environ.get("BENCH_DB_PREFIX", "tracker_bench") + "_data"
DEFAULT_SERVER = "postgres://postgres:postgres@127.0.0.1:5432/tracker"
TODAY = datetime.date(2026, 11, 23)  # a Monday, the reminder scan's day
PASSWORD = "Bench-2026-shuju"
PER_SESSION = 600
SESSION_COUNT = 10
BUILD_TIMEOUT = 1800
SEED_FILES = (
    "000_0c70261e90fe6926.txt",
    "001_9332f8a4cbbb0d88.txt",
    "002_1374ff59fa2fbedd.txt",
    "003_9524cd4df80fb0e1.txt",
)


@dataclasses.dataclass
class Dataset:
    url: str
    sessions: list[int]
    units: list[int]
    logins: dict[str, str]
    password: str
    counts: dict[str, int]
    name: str = ""
    today: str = TODAY.isoformat()

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


# --- The database: name, fingerprint, lock ---------------------------------------------------


def database_name(scale: float = 1.0, open_assignments: int = 0) -> str:
    name = BASE_NAME
    if scale != 1.0:
        name += "_s" + f"{scale:g}".replace(".", "p").replace("-", "m")
    if open_assignments:
        name += f"_open{open_assignments}"
    return name


def _migrations_digest() -> str:
    digest = hashlib.sha1()
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def fingerprint(scale: float, open_assignments: int) -> dict:
    return {
        "generator": GENERATOR_VERSION,
        "scale": scale,
        "open_assignments": open_assignments,
        "migrations": _migrations_digest(),
    }


def _stored(conn, name: str) -> dict | None:
    row = conn.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        (name,),
    ).fetchone()
    if row is None or not row[0]:
        return None
    with contextlib.suppress(ValueError):
        return json.loads(row[0])
    return None


def ensure(
    server_url: str, open_assignments: int = 0, scale: float = 1.0, *, rebuild: bool = False
) -> Dataset:
    """The data set for these parameters: reused when its fingerprint matches, else built."""
    from psycopg import sql

    scale = float(scale)
    open_assignments = int(open_assignments)
    name = database_name(scale, open_assignments)
    url = bench_database_url(server_url, name, "bench/generate.py")
    wanted = fingerprint(scale, open_assignments)
    with _admin_connection(url) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (zlib.crc32(name.encode()),))
        try:
            stored = _stored(conn, name)
            if not rebuild and stored and stored.get("fingerprint") == wanted:
                log(f"{name}: reusing the data set (fingerprint matches)")
                return Dataset(url=url, **stored["dataset"])
            log(f"{name}: building (scale {scale:g}, {open_assignments} open assignments)")
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            started = time.perf_counter()
            dataset = _build_in_child(url, scale, open_assignments)
            dataset["name"] = name
            log(f"{name}: built and checked in {time.perf_counter() - started:.0f} s")
            comment = json.dumps({"fingerprint": wanted, "dataset": dataset}, ensure_ascii=False)
            conn.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    sql.Identifier(name), sql.Literal(comment)
                )
            )
            return Dataset(url=url, **dataset)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (zlib.crc32(name.encode()),))


def drop(server_url: str, open_assignments: int = 0, scale: float = 1.0) -> str:
    name = database_name(float(scale), int(open_assignments))
    shared_drop(bench_database_url(server_url, name, "bench/generate.py"), name)
    return name


def _build_in_child(url: str, scale: float, open_assignments: int) -> dict:
    """``--build`` in a new interpreter with DATABASE_URL set; its JSON from stdout's last line.
    Its progress goes straight to our stderr."""
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("REDIS_URL", None)  # nothing is enqueued
    env.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--build",
        "--scale",
        repr(scale),
        "--open-assignments",
        str(open_assignments),
    ]
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, _ = proc.communicate(timeout=BUILD_TIMEOUT)
    except BaseException:
        kill_group(proc.pid)
        proc.communicate()
        raise
    if proc.returncode != 0:
        raise RuntimeError(f"building the data set failed (exit {proc.returncode}); see above")
    return json.loads(stdout.strip().splitlines()[-1])


# --- Reference data: the district ------------------------------------------------------------

# (code, name, short name, 文号 prefix): 长宁's bureaus, streets and town, busiest first.
UNITS: tuple[tuple[str, str, str, str], ...] = (
    ("fgw", "长宁区发展和改革委员会", "区发改委", "长发改"),
    ("jgw", "长宁区建设和管理委员会", "区建管委", "长建管"),
    ("mzj", "长宁区民政局", "区民政局", "长民"),
    ("jyj", "长宁区教育局", "区教育局", "长教"),
    ("wjw", "长宁区卫生健康委员会", "区卫健委", "长卫健"),
    ("fgj", "长宁区住房保障和房屋管理局", "区房管局", "长房管"),
    ("lhsr", "长宁区绿化和市容管理局", "区绿化市容局", "长绿容"),
    ("swc", "长宁区商务委员会", "区商务委", "长商务"),
    ("rsj", "长宁区人力资源和社会保障局", "区人社局", "长人社"),
    ("gzj", "长宁区规划和自然资源局", "区规资局", "长规划资源"),
    ("kw", "长宁区科学技术委员会", "区科委", "长科委"),
    ("sthj", "长宁区生态环境局", "区生态环境局", "长环"),
    ("scjg", "长宁区市场监督管理局", "区市场监管局", "长市监"),
    ("wlj", "长宁区文化和旅游局", "区文旅局", "长文旅"),
    ("czj", "长宁区财政局", "区财政局", "长财"),
    ("tcb", "长宁区投资促进办公室", "区投促办", "长投促"),
    ("sjj", "长宁区数据局", "区数据局", "长数据"),
    ("gaj", "上海市公安局长宁分局", "长宁公安分局", "长公"),
    ("cgj", "长宁区城市管理行政执法局", "区城管执法局", "长城管"),
    ("swj", "长宁区水务局", "区水务局", "长水务"),
    ("ylbz", "长宁区医疗保障局", "区医保局", "长医保"),
    ("tyj", "长宁区体育局", "区体育局", "长体"),
    ("sfj", "长宁区司法局", "区司法局", "长司"),
    ("rcj", "长宁区人才工作局", "区人才局", "长人才"),
    ("gzw", "长宁区国有资产监督管理委员会", "区国资委", "长国资"),
    ("yjj", "长宁区应急管理局", "区应急局", "长应急"),
    ("tyjr", "长宁区退役军人事务局", "区退役军人局", "长退役军人"),
    ("dqb", "长宁区地区工作办公室", "区地区办", "长地区办"),
    ("mzb", "长宁区民族和宗教事务办公室", "区民宗办", "长民宗"),
    ("xfb", "长宁区信访办公室", "区信访办", "长信访"),
    ("tjj", "长宁区统计局", "区统计局", "长统"),
    ("sjju", "长宁区审计局", "区审计局", "长审"),
    ("jgsw", "长宁区机关事务管理局", "区机管局", "长机管"),
    ("hyl", "长宁区华阳路街道办事处", "华阳路街道", "长华阳"),
    ("jsl", "长宁区江苏路街道办事处", "江苏路街道", "长江苏"),
    ("xhl", "长宁区新华路街道办事处", "新华路街道", "长新华"),
    ("tsl", "长宁区天山路街道办事处", "天山路街道", "长天山"),
    ("xxxc", "长宁区仙霞新村街道办事处", "仙霞新村街道", "长仙霞"),
    ("hq", "长宁区虹桥街道办事处", "虹桥街道", "长虹桥"),
    ("xjz", "长宁区新泾镇人民政府", "新泾镇", "长新泾"),
)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严戴莫孔汤瞿施"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红玲芬燕彬鹏辉斌宇浩凯健俊帆旭宁琳晨"
    "欣怡雪梅建国志文海波立新晓东春雨佳瑶涵嘉诚远峰岚婷蕾颖慧清云松柏子"
)
SECTORS = (
    "中共",
    "民革",
    "民盟",
    "民建",
    "民进",
    "农工党",
    "致公党",
    "九三学社",
    "无党派人士",
    "共青团",
    "工会",
    "妇联",
    "工商联",
    "科协",
    "台联",
    "侨联",
    "文化艺术界",
    "科技界",
    "社会科学界",
    "经济界",
    "教育界",
    "医药卫生界",
    "体育界",
    "新闻出版界",
    "社会福利和社会保障界",
    "少数民族界",
    "宗教界",
    "特邀",
)
GROUP_SECTORS = (
    "经济界",
    "教育界",
    "科技界",
    "医药卫生界",
    "文化艺术界",
    "社会福利和社会保障界",
    "工商联",
    "妇联",
    "新闻出版界",
    "特邀",
    "民建",
    "民盟",
    "九三学社",
    "农工党",
)
PARTIES = (
    "民革区委",
    "民盟区委",
    "民建区委",
    "民进区委",
    "农工党区委",
    "致公党区委",
    "九三学社区委",
)
ORGANISATIONS = ("区总工会", "共青团长宁区委", "区妇联", "区工商联", "区科协", "区侨联")
COMMITTEES = (
    "区政协经济委员会",
    "区政协社会和法制委员会",
    "区政协科教卫体委员会",
    "区政协城建和生态环境委员会",
    "区政协文化文史和学习委员会",
)

#: (subject, category) of proposal titles; combined with an action for variety.
SUBJECTS = (
    ("老旧小区加装电梯", "urban"),
    ("社区嵌入式养老服务", "society"),
    ("长者食堂布局", "society"),
    ("垃圾分类实效", "ecology"),
    ("口袋公园和绿道建设", "ecology"),
    ("苏州河岸线贯通开放", "urban"),
    ("中小学课后服务", "education"),
    ("托育服务供给", "society"),
    ("校园周边交通安全", "urban"),
    ("数字经济企业集聚", "economy"),
    ("虹桥国际商务区能级", "economy"),
    ("楼宇经济提质增效", "economy"),
    ("科技型中小企业培育", "economy"),
    ("营商环境优化", "economy"),
    ("首店经济和消费升级", "economy"),
    ("社区卫生服务能力", "education"),
    ("家庭医生签约服务", "education"),
    ("心理健康服务体系", "education"),
    ("停车难问题治理", "urban"),
    ("非机动车停放管理", "urban"),
    ("架空线入地和合杆整治", "urban"),
    ("城市更新和历史风貌保护", "urban"),
    ("15分钟社区生活圈", "urban"),
    ("无障碍环境建设", "society"),
    ("新就业形态劳动者权益", "society"),
    ("高校毕业生就业服务", "society"),
    ("人才公寓供给", "society"),
    ("基层社会治理", "politics"),
    ("居民区协商议事", "politics"),
    ("法治政府建设", "politics"),
    ("政务服务一网通办", "politics"),
    ("公共文化服务供给", "education"),
    ("全民健身设施", "education"),
    ("雨污混接改造", "ecology"),
    ("河道水环境治理", "ecology"),
    ("建筑节能降碳", "ecology"),
    ("应急避难场所建设", "urban"),
    ("燃气安全管理", "urban"),
    ("食品安全监管", "society"),
    ("社区商业网点布局", "economy"),
    ("夜间经济发展", "economy"),
    ("文旅融合发展", "economy"),
)
ACTIONS = ("推进", "加强", "完善", "优化", "加快", "提升", "进一步做好", "统筹推进")
LABELS = {
    "A": ("解决或采纳", "采纳"),
    "B": ("列入计划拟解决", "部分采纳"),
    "C": ("因条件限制暂不能解决",),
    "D": ("留作参考",),
}
CLOSING = "感谢对我们工作的关心和支持，欢迎继续提出宝贵意见和建议。"
CO_CLOSING = "以上意见供你单位统一答复提案者时参考。"
CO_BODY = (
    "一、关于工作机制\n"
    "我单位将加强与主办单位的协同，按照职责分工做好相关工作。\n"
    "二、关于政策支持\n"
    "我单位将结合职能，研究完善配套支持措施，并在年度计划中予以统筹。"
)
CC = "区政协提案委员会、区政府督查室"
ROADS = ("长宁路", "愚园路", "仙霞路", "延安西路", "天山路", "江苏路")
RETURN_REASON = "该事项不属于我单位职能，建议改由相关单位主办。"


# --- The builder (in the child, Django set up against the data set) -----------------------


def _sh(d: datetime.date, hour: int = 10, minute: int = 0) -> datetime.datetime:
    from zoneinfo import ZoneInfo

    return datetime.datetime.combine(d, datetime.time(hour, minute), ZoneInfo("Asia/Shanghai"))


def _chinese_session(term: int, meeting: int) -> str:
    digits = "零一二三四五六七八九十"
    t = "十" + digits[term - 10] if term > 10 else digits[term]
    return f"{t}届{digits[meeting]}次会议"


class Builder:
    """Plans every row in Python with computed ids, then writes them table by table."""

    def __init__(self, scale: float) -> None:
        from django.contrib.contenttypes.models import ContentType

        from proposals import models as pm
        from proposals.workdays import WorkCalendar
        from replies import models as rm

        self.pm, self.rm = pm, rm
        self.scale = scale
        self.cal = WorkCalendar()
        self.ids: Counter = Counter()
        self.rows: dict[type, list] = defaultdict(list)
        self.links: dict[str, list] = defaultdict(list)  # m2m through rows
        self.transitions: list[tuple] = []
        self.letters: list = []  # signed replies and opinions, for the 文号
        self.due_cache: dict = {}
        self.ct = {
            key: ContentType.objects.get_for_model(model).pk
            for key, model in (
                ("proposal", pm.Proposal),
                ("assignment", pm.Assignment),
                ("reply", rm.Reply),
                ("opinion", rm.CoOpinion),
                ("feedback", rm.Feedback),
            )
        }
        self.seed_bodies = self._seed_bodies()
        self.unit_assignments: Counter = Counter()
        self._last_sent: dict[int, datetime.date] = {}
        self.led: Counter = Counter()

    # --- helpers ---------------------------------------------------------------------------

    def nid(self, model: type) -> int:
        self.ids[model] += 1
        return self.ids[model]

    def add(self, obj):
        self.rows[type(obj)].append(obj)
        return obj

    def t(self, ct, obj_id, proposal_id, verb, before, after, at, actor=None, note=""):
        self.transitions.append(
            (self.ct[ct], obj_id, proposal_id, verb, before, after, at, actor, note)
        )

    def workday(self, d: datetime.date) -> datetime.date:
        return self.cal.next_workday(d)

    def workdays_before(self, d: datetime.date, n: int) -> datetime.date:
        while n > 0:
            d -= datetime.timedelta(days=1)
            if self.cal.is_workday(d):
                n -= 1
        return d

    def due(self, start: datetime.date, clock: str, label: str = "交办"):
        from proposals import deadlines

        key = (start, clock, label)
        if key not in self.due_cache:
            rule = deadlines.rule_for(clock)
            self.due_cache[key] = (
                f"{rule[0]},{rule[1]}",
                deadlines.compute_due(start, rule, label=label, calendar=self.cal),
            )
        return self.due_cache[key]

    def _seed_bodies(self) -> list[str]:
        """The seed letters' bodies without their opening paragraph (ours replaces it)."""
        from replies.legacy import read_letter

        bodies = []
        for name in SEED_FILES:
            letter, _ = read_letter((SEEDS_DIR / name).read_text(encoding="utf-8"))
            blocks = [b.text for b in letter.body]
            if blocks and "收悉" in blocks[0]:
                blocks = blocks[1:]
            bodies.append("\n".join(blocks))
        return bodies

    # --- people and units ------------------------------------------------------------------

    def reference(self) -> None:
        from django.contrib.auth.hashers import make_password
        from django.contrib.auth.models import Group

        from tracker import demo

        pm = self.pm
        rng = random.Random("reference")
        password = make_password(PASSWORD)  # once: PBKDF2 is slow on purpose
        groups = {}
        for name in (demo.COMMITTEE_GROUP, demo.SUPERVISION_GROUP, demo.UNIT_STAFF_GROUP):
            group = Group.objects.create(name=name)
            group.permissions.set(demo._group_permissions(name))
            groups[name] = group.pk

        used_names: set[str] = set()

        def person() -> str:
            while True:
                given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
                name = rng.choice(SURNAMES) + given
                if name not in used_names:
                    used_names.add(name)
                    return name

        def user(username, full_name, *, office="", staff=True, superuser=False, group=None):
            u = self.add(
                pm.User(
                    id=self.nid(pm.User),
                    username=username,
                    password=password,
                    full_name=full_name,
                    email=f"{username}@bench.example.org",
                    office=office,
                    is_staff=staff or superuser,
                    is_superuser=superuser,
                    phone=f"2190{self.ids[pm.User]:04d}",
                )
            )
            if group:
                self.links["user_groups"].append(
                    pm.User.groups.through(user_id=u.pk, group_id=groups[group])
                )
            return u

        user("admin", "系统管理员", superuser=True)
        self.committee = [
            user(n, person(), office="committee", group=demo.COMMITTEE_GROUP)
            for n in ("committee", "committee2", "committee3")
        ]
        self.supervisors = [
            user(n, person(), office="supervision", group=demo.SUPERVISION_GROUP)
            for n in ("supervisor", "supervisor2")
        ]
        self.units, self.clerks, self.signers = [], {}, {}
        for i, (code, name, short, prefix) in enumerate(UNITS):
            self._unit(code, name, short, prefix, i, user, person, demo.UNIT_STAFF_GROUP)

        # Proposers: members (150 of them sign in), groups, parties, organisations, committees.
        self.members, self.groups = [], []
        for i in range(320):
            p = self.add(
                pm.Proposer(
                    id=self.nid(pm.Proposer),
                    kind="member",
                    name=person(),
                    sector=SECTORS[i % len(SECTORS)],
                    mobile=f"1390000{i + 1:04d}",
                    email=f"m{i + 1:04d}@bench.example.org",
                    address=f"长宁区{rng.choice(ROADS)}{rng.randint(1, 999)}号",
                    postcode="200050",
                )
            )
            if i < 150:
                p.user_id = user(f"wy{i + 1:04d}", p.name, staff=False).pk
            self.members.append(p)
        for kind, names in (
            ("sector_group", [f"{s}界别组" for s in GROUP_SECTORS]),
            ("party", PARTIES),
            ("organisation", ORGANISATIONS),
            ("special_committee", COMMITTEES),
        ):
            for name in names:
                g = self.add(pm.Proposer(id=self.nid(pm.Proposer), kind=kind, name=name))
                self.groups.append(g)
                for m in rng.sample(self.members[:150], 2):
                    self.links["conveners"].append(
                        pm.Proposer.conveners.through(from_proposer_id=g.pk, to_proposer_id=m.pk)
                    )
        # A few members lead many proposals, most a handful.
        self.member_weights = [1 / (r + 8) for r in range(len(self.members))]
        self.unit_weights = [1 / (r + 4) for r in range(len(self.units))]

    def _unit(self, code, name, short, prefix, i, user, person, group) -> None:
        pm = self.pm
        clerk = user(f"{code}_clerk", person(), group=group)
        clerk2 = user(f"{code}_clerk2", person(), group=group)
        signer = user(f"{code}_signer", person(), group=group)
        unit = self.add(
            pm.Unit(
                id=self.nid(pm.Unit),
                name=name,
                short_name=short,
                organ_name=f"上海市{name}" if not name.startswith("上海市") else name,
                docno_prefix=prefix,
                letter_format="letter" if i % 7 == 3 else "document",
                address=f"长宁区{ROADS[i % 4]}{100 + i * 17}号",
                postcode=f"2000{50 + i % 40:02d}",
                phone=f"2205{1000 + i:04d}",
                contact_name=clerk.full_name,
                contact_phone=f"2205{1000 + i:04d}",
            )
        )
        for u, role in ((clerk, "clerk"), (clerk2, "clerk"), (signer, "signer")):
            self.add(
                pm.Membership(id=self.nid(pm.Membership), user_id=u.pk, unit_id=unit.pk, role=role)
            )
        self.units.append(unit)
        self.clerks[unit.pk] = clerk
        self.signers[unit.pk] = signer

    # --- sessions and proposals ------------------------------------------------------------

    def sessions(self) -> None:
        pm = self.pm
        self.session_rows = []
        for i in range(SESSION_COUNT):
            year = 2017 + i
            term, meeting = (14, i + 1) if i < 5 else (15, i - 4)
            opens = self.workday(datetime.date(year, 1, 6 + (i * 3) % 10))
            s = self.add(
                pm.Session(
                    id=self.nid(pm.Session),
                    district="长宁",
                    term=term,
                    meeting=meeting,
                    name=_chinese_session(term, meeting),
                    year=year,
                    opens_on=opens,
                    closes_on=opens + datetime.timedelta(days=3),
                    number_template="第{serial:03d}号",
                )
            )
            self.session_rows.append(s)

    def proposals(self) -> None:
        count = max(1, round(PER_SESSION * self.scale))
        for index, session in enumerate(self.session_rows):
            current = index == len(self.session_rows) - 1
            self._session(session, index, count, current)

    def _kinds(self, count: int, current: bool, rng: random.Random) -> list[str]:
        """What happens to each proposal of a session, shuffled."""
        if current:
            minor = {
                "draft": 0.02,
                "submitted": 0.02,
                "returned": 0.01,
                "not_filed": 0.04,
                "merged": 0.02,
                "filed": 0.01,
            }
            recent = max(len(STAGES) + 2, round(count * 0.16))
        else:
            minor = {"not_filed": 0.05, "merged": 0.02}
            recent = 0
        kinds = []
        for kind, share in minor.items():
            kinds += [kind] * max(1, round(count * share))
        kinds += [f"stage:{STAGES[i % len(STAGES)]}" for i in range(recent)]
        kinds += ["handled"] * max(0, count - len(kinds))
        kinds = kinds[:count]
        rng.shuffle(kinds)
        return kinds

    def _session(self, session, index: int, count: int, current: bool) -> None:
        pm = self.pm
        rng = random.Random(f"session-{index}")
        kinds = self._kinds(count, current, rng)
        closes = session.closes_on
        filing_day = self.workday(closes + datetime.timedelta(days=14))
        assign_day = self.workday(closes + datetime.timedelta(days=24))
        serial = 0
        merge_targets = []
        merged = []
        for kind in kinds:
            subject, category = rng.choice(SUBJECTS)
            title = f"关于{rng.choice(ACTIONS)}{subject}的建议"
            # Who proposes: mostly members (with co-proposers), some groups and parties.
            if rng.random() < 0.82:
                lead = rng.choices(self.members, self.member_weights)[0]
                k = rng.choices((0, 1, 2, 3, 4, 5, 7, 10), (40, 15, 15, 10, 8, 6, 4, 2))[0]
                co = []
                while len(co) < k:
                    m = rng.choice(self.members)
                    if m is not lead and m not in co:
                        co.append(m)
            else:
                lead, co = rng.choice(self.groups), []
            late = rng.random() < 0.1  # 平时提案: after the session
            if kind.startswith("stage:"):
                submitted_on = None  # set from the stage below
            elif late and not current:
                submitted_on = closes + datetime.timedelta(days=rng.randint(30, 240))
            else:
                submitted_on = closes - datetime.timedelta(days=rng.randint(0, 25))
            stage = kind.removeprefix("stage:") if kind.startswith("stage:") else ""
            assigned_on = None
            if stage:
                assigned_on = self._stage_assigned_on(stage, rng)
                submitted_on = assigned_on - datetime.timedelta(days=rng.randint(12, 30))
            elif kind == "handled":
                assigned_on = (
                    assign_day
                    if submitted_on <= closes and rng.random() < 0.85
                    else self.workday(
                        max(submitted_on, closes) + datetime.timedelta(days=rng.randint(20, 45))
                    )
                )
            elif kind in ("draft", "submitted", "returned"):
                submitted_on = TODAY - datetime.timedelta(days=rng.randint(2, 20))
            elif kind == "filed":
                submitted_on = TODAY - datetime.timedelta(days=rng.randint(15, 30))
            p = pm.Proposal(
                id=self.nid(pm.Proposal),
                session_id=session.pk,
                title=title[:200],
                category=category,
                reason=f"{subject}是群众关心的民生问题，近年来虽有推进，但仍存在短板。",
                analysis=f"经调研，本区{subject}方面仍存在统筹不够、投入不足、机制不全等问题。",
                suggestions="一是加强统筹协调；二是加大投入力度；三是完善长效机制。",
                lead_proposer_id=lead.pk,
                is_key=rng.random() < 0.03,
                created_at=_sh(submitted_on - datetime.timedelta(days=2), 15),
                updated_at=_sh(
                    min(TODAY, (assigned_on or submitted_on) + datetime.timedelta(days=90)), 16
                ),
            )
            if p.is_key:
                p.supervising_leader = "区政府副区长"
            self.led[lead.pk] += 1
            self.add(p)
            proposer_user = lead.user_id
            for pos, m in enumerate(co, start=1):
                self.add(
                    pm.CoProposer(
                        id=self.nid(pm.CoProposer),
                        proposal_id=p.pk,
                        proposer_id=m.pk,
                        position=pos,
                        confirmed_at=None if kind == "draft" else _sh(submitted_on, 9),
                    )
                )
            committee = rng.choice(self.committee).pk
            p.status = "draft"
            self.t("proposal", p.pk, p.pk, "draft", "", "draft", p.created_at, proposer_user)
            if kind == "draft":
                continue
            p.submitted_at = _sh(submitted_on, 11)
            p.status = self._move(p, "submit", "submitted", p.submitted_at, proposer_user)
            if kind == "submitted":
                continue
            review = _sh(submitted_on + datetime.timedelta(days=rng.randint(1, 5)), 15)
            if kind == "returned":
                p.review_note = "请补充情况分析和具体建议后重新提交。"
                p.status = self._move(p, "return", "returned", review, committee, p.review_note)
                continue
            if kind == "not_filed":
                p.disposition = rng.choice(["social_info", "member_letter", "reference", "other"])
                p.review_note = "经审查，不予立案，按规定转有关方面处理。"
                p.status = self._move(p, "not_file", "not_filed", review, committee, p.review_note)
                continue
            if kind == "merged":
                merged.append((p, review, committee))
                continue
            serial += 1
            p.serial = serial
            p.number = session.format_number(serial)
            filed_on = filing_day if assigned_on and assigned_on == assign_day else None
            if filed_on is None:
                filed_on = (assigned_on or TODAY) - datetime.timedelta(days=rng.randint(3, 8))
            p.filed_at = _sh(min(filed_on, TODAY), 14)
            p.status = self._move(p, "file", "filed", p.filed_at, committee, p.number)
            merge_targets.append(p)
            if kind == "filed":
                continue
            self._handle(p, session, [lead, *co], assigned_on, stage, rng, committee)
        for p, review, committee in merged:
            if not merge_targets:
                break
            target = rng.choice(merge_targets)
            p.merged_into_id = target.pk
            p.status = self._move(p, "merge", "merged", review, committee, f"并入{target.number}")
        session.last_serial = serial

    def _move(self, p, verb, status, at, actor, note=""):
        self.t("proposal", p.pk, p.pk, verb, p.status, status, at, actor, note)
        return status

    def _stage_assigned_on(self, stage: str, rng: random.Random) -> datetime.date:
        from proposals.deadlines import add_months

        days = {
            "pending": (1, 4),
            "return_requested": (3, 8),
            "accepted": (10, 70),
            "accepted_overdue": (95, 110),
            "extended": (100, 118),
            "draft": (40, 85),
            "due_soon": (0, 0),
            "pending_signature": (50, 88),
            "signed": (50, 88),
            "sent": (60, 88),
            "published": (70, 90),
            "rehandling": (230, 260),
            "co_missing": (45, 70),
        }[stage]
        if stage == "due_soon":
            return self.workday(add_months(TODAY, -3) + datetime.timedelta(days=rng.randint(1, 6)))
        if stage in ("pending", "return_requested"):
            return self.workdays_before(TODAY, rng.randint(*days))
        return self.workday(TODAY - datetime.timedelta(days=rng.randint(*days)))

    # --- assignments -------------------------------------------------------------------------

    def _handle(self, p, session, proposers, assigned_on, stage, rng, committee) -> None:
        k = rng.choices((1, 2, 3, 4, 5), (45, 25, 15, 10, 5))[0]
        if stage == "co_missing":
            k = max(k, 2)
        units: list = []
        while len(units) < k:
            u = rng.choices(self.units, self.unit_weights)[0]
            if u not in units:
                units.append(u)
        separate = k >= 2 and rng.random() < 0.12 and stage not in ("co_missing",)
        roles = ["separate"] * k if separate else ["lead"] + ["co"] * (k - 1)
        assign_at = _sh(assigned_on, 9, 30)
        # A reassigned lead (2 %): the first lead unit asks to be let go, the committee agrees.
        if not stage and not separate and rng.random() < 0.02:
            first = rng.choice([u for u in self.units if u not in units])
            a0 = self._assignment(p, first, "lead", assigned_on, committee, assign_at)
            asked = assigned_on + datetime.timedelta(days=rng.randint(2, 6))
            approved = assigned_on + datetime.timedelta(days=rng.randint(7, 9))
            a0.accepted_at = None
            a0.return_reason = RETURN_REASON
            self.t(
                "assignment",
                a0.pk,
                p.pk,
                "request_reassignment",
                "pending",
                "return_requested",
                _sh(asked, 10),
                self.clerks[first.pk].pk,
                RETURN_REASON,
            )
            self.t(
                "assignment",
                a0.pk,
                p.pk,
                "approve_reassignment",
                "return_requested",
                "withdrawn",
                _sh(approved, 15),
                committee,
                "同意退回",
            )
            a0.state = "withdrawn"
            for d in a0.dues.values():
                d.completed_on = approved
            p.status = self._move(p, "assign", "assigned", assign_at, committee)
            p.status = self._move(p, "unassign", "filed", _sh(approved, 15), committee)
            assigned_on = self.workday(approved + datetime.timedelta(days=1))
            assign_at = _sh(assigned_on, 9, 30)
        assignments = [
            self._assignment(p, u, role, assigned_on, committee, assign_at)
            for u, role in zip(units, roles, strict=True)
        ]
        p.status = self._move(
            p,
            "assign",
            "assigned",
            assign_at,
            committee,
            "；".join(
                f"{u.short_name}（{dict(lead='主办', co='会办', separate='分办')[r]}）"
                for u, r in zip(units, roles, strict=True)
            ),
        )
        lead_unit = units[0]
        replying = [a for a in assignments if a.role != "co"]
        # Co-handling opinions come first: the lead unit drafts once they are in.
        for a in assignments:
            if a.role == "co":
                self._co(a, p, session, lead_unit, stage, rng)
        open_after = False
        any_feedback = False
        for a in replying:
            outcome = self._reply_path(a, p, session, proposers, stage, rng, committee)
            open_after |= outcome["open"]
            any_feedback |= outcome["feedback"]
        if open_after:
            return
        last = max(self._last_sent.get(a.pk, assigned_on) for a in replying)
        p.status = self._move(p, "mark_replied", "replied", _sh(last, 16), None)
        complete_session = session is not self.session_rows[-1]
        if any_feedback or complete_session:
            close_on = min(TODAY, last + datetime.timedelta(days=rng.randint(40, 90)))
            if complete_session or close_on < TODAY:
                note = "提案者已反馈意见" if any_feedback else "按期办结"
                p.status = self._move(p, "close", "closed", _sh(close_on, 17), committee, note)

    def _assignment(self, p, unit, role, assigned_on, committee, assign_at):
        pm = self.pm
        a = self.add(
            pm.Assignment(
                id=self.nid(pm.Assignment),
                proposal_id=p.pk,
                unit_id=unit.pk,
                role=role,
                state="pending",
                assigned_on=assigned_on,
                assigned_by_id=committee,
                created_at=assign_at,
            )
        )
        self.unit_assignments[unit.pk] += 1
        clocks = ["reassignment", "first_contact", "co_opinion" if role == "co" else "reply"]
        a.dues = {}
        for clock in clocks:
            rule, d = self.due(assigned_on, clock)
            a.dues[clock] = self.add(
                pm.DueDate(
                    id=self.nid(pm.DueDate),
                    assignment_id=a.pk,
                    clock=clock,
                    round=1,
                    start_on=assigned_on,
                    rule=rule,
                    due_on=d.due_on,
                    explanation=d.explanation,
                )
            )
        name = dict(lead="主办", co="会办", separate="分办")[role]
        self.t(
            "assignment",
            a.pk,
            p.pk,
            "assign",
            "",
            "pending",
            assign_at,
            committee,
            f"{unit.short_name} {name}",
        )
        return a

    def _accept(self, a, p, on: datetime.date) -> None:
        a.accepted_at = _sh(on, 9, 45)
        self.t(
            "assignment",
            a.pk,
            p.pk,
            "accept",
            a.state,
            "accepted",
            a.accepted_at,
            self.clerks[a.unit_id].pk,
        )
        a.state = "accepted"

    def _contact(self, a, p, proposers, on: datetime.date, rng) -> None:
        pm = self.pm
        if on > TODAY - datetime.timedelta(days=1):
            return
        method = rng.choices(("meeting", "phone", "written", "other"), (60, 28, 9, 3))[0]
        clerk = self.clerks[a.unit_id]
        c = self.add(
            pm.ContactRecord(
                id=self.nid(pm.ContactRecord),
                assignment_id=a.pk,
                contacted_on=on,
                method=method,
                participants=f"{clerk.full_name}、{self.signers[a.unit_id].full_name}",
                notes="就提案建议进行了沟通，提案者对办理思路表示认可。",
                recorded_by_id=clerk.pk,
                created_at=_sh(on, 17),
            )
        )
        for pr in proposers[:3]:
            self.links["contact_proposers"].append(
                pm.ContactRecord.proposers.through(contactrecord_id=c.pk, proposer_id=pr.pk)
            )
        if a.dues["first_contact"].completed_on is None:
            a.dues["first_contact"].completed_on = on
        label = dict(meeting="见面", phone="电话", written="书面", other="其他")[method]
        self.t(
            "assignment",
            a.pk,
            p.pk,
            "log_contact",
            a.state,
            a.state,
            _sh(on, 17),
            clerk.pk,
            f"{on:%Y-%m-%d} {label}",
        )

    # --- co-handling opinions ----------------------------------------------------------------

    def _co(self, a, p, session, lead_unit, stage, rng) -> None:
        rm = self.rm
        start = a.assigned_on
        accept_on = start + datetime.timedelta(days=rng.randint(1, 3))
        draft_on = start + datetime.timedelta(days=rng.randint(5, 10))
        submit_on = draft_on + datetime.timedelta(days=rng.randint(2, 4))
        sign_on = self.workday(submit_on + datetime.timedelta(days=rng.randint(1, 3)))
        deliver_on = sign_on + datetime.timedelta(days=rng.randint(0, 2))
        if stage == "co_missing":  # accepted, opinion still a draft, its due date passed
            draft_on = TODAY - datetime.timedelta(days=3)
            submit_on = sign_on = deliver_on = TODAY + datetime.timedelta(days=30)
        if accept_on > TODAY or stage in ("pending", "return_requested"):
            return  # still 待签收
        self._accept(a, p, accept_on)
        if draft_on > TODAY:
            return
        clerk = self.clerks[a.unit_id]
        number = p.number if p.number.startswith("第") else f"第{p.number}号"
        op = self.add(
            rm.CoOpinion(
                id=self.nid(rm.CoOpinion),
                assignment_id=a.pk,
                proposal_id=p.pk,
                unit_id=a.unit_id,
                title=f"关于对区政协{session.name}{number}提案的会办意见",
                salutation=f"{lead_unit.short_name}：",
                body=f"《{p.title}》的提案收悉，经研究，现提出会办意见如下：\n{CO_BODY}",
                closing=CO_CLOSING,
                state="draft",
                last_edited_by_id=clerk.pk,
                created_at=_sh(draft_on, 10),
                updated_at=_sh(draft_on, 11),
            )
        )
        self.t("opinion", op.pk, p.pk, "start", "", "draft", _sh(draft_on, 10), clerk.pk)
        if submit_on > TODAY:
            return
        self.t(
            "opinion",
            op.pk,
            p.pk,
            "submit",
            "draft",
            "pending_signature",
            _sh(submit_on, 11),
            clerk.pk,
        )
        op.state = "pending_signature"
        if sign_on > TODAY:
            return
        self._sign(op, sign_on, "opinion", p)
        if deliver_on > TODAY:
            return
        op.delivered_at = _sh(deliver_on, 15)
        op.updated_at = op.delivered_at
        self.t("opinion", op.pk, p.pk, "deliver", "signed", "delivered", op.delivered_at, clerk.pk)
        op.state = "delivered"
        self.t(
            "assignment",
            a.pk,
            p.pk,
            "mark_opinion_sent",
            "accepted",
            "opinion_sent",
            op.delivered_at,
            clerk.pk,
        )
        a.state = "opinion_sent"
        a.dues["co_opinion"].completed_on = deliver_on

    def _sign(self, letter, on: datetime.date, kind: str, p) -> None:
        signer = self.signers[letter.unit_id]
        letter.signer_id = signer.pk
        letter.signer_name = signer.full_name
        letter.signed_on = on
        letter.signed_at = _sh(on, 16, 30)
        letter.updated_at = letter.signed_at
        letter.state = "signed"
        self.letters.append(letter)
        letter.sign_event = len(self.transitions)  # its note gets the 文号 later
        self.t(
            kind,
            letter.pk,
            p.pk,
            "sign",
            "pending_signature",
            "signed",
            letter.signed_at,
            signer.pk,
        )

    # --- replies -----------------------------------------------------------------------------

    def _reply_path(self, a, p, session, proposers, stage, rng, committee) -> dict:
        """Accept, contact, draft … send, publish, feedback, re-handling: as far as today."""
        pm = self.pm
        start = a.assigned_on
        reply_due = a.dues["reply"]
        result = {"open": True, "feedback": False}
        if stage == "pending":
            return result
        if stage == "return_requested":
            a.return_reason = RETURN_REASON
            self.t(
                "assignment",
                a.pk,
                p.pk,
                "request_reassignment",
                "pending",
                "return_requested",
                _sh(TODAY - datetime.timedelta(days=1), 10),
                self.clerks[a.unit_id].pk,
                RETURN_REASON,
            )
            a.state = "return_requested"
            return result
        self._accept(a, p, start + datetime.timedelta(days=rng.randint(1, 3)))
        if rng.random() < 0.94 or stage:
            self._contact(a, p, proposers, start + datetime.timedelta(days=rng.randint(3, 24)), rng)
        # When is it signed? On time mostly; a few late, some of those with an extension.
        r = rng.random()
        span = (reply_due.due_on - start).days
        if stage == "extended" or (not stage and r < 0.03):
            from proposals.deadlines import max_reply_due

            limit = max_reply_due(start)
            new_due = min(limit, reply_due.due_on + datetime.timedelta(days=rng.randint(30, 60)))
            if stage == "extended":
                new_due = min(limit, TODAY + datetime.timedelta(days=rng.randint(10, 40)))
            approved = reply_due.due_on - datetime.timedelta(days=rng.randint(5, 15))
            self.add(
                pm.Extension(
                    id=self.nid(pm.Extension),
                    assignment_id=a.pk,
                    old_due_on=reply_due.due_on,
                    new_due_on=new_due,
                    reason="涉及多部门协调，需进一步调研论证。",
                    approved_by_id=committee,
                    approved_at=_sh(approved, 15),
                )
            )
            self.t(
                "assignment",
                a.pk,
                p.pk,
                "extend",
                "accepted",
                "accepted",
                _sh(approved, 15),
                committee,
                f"{reply_due.due_on:%Y-%m-%d} → {new_due:%Y-%m-%d}：涉及多部门协调",
            )
            reply_due.explanation = f"{reply_due.due_on:%Y-%m-%d} 经批准延期至 {new_due:%Y-%m-%d}"
            sign_on = reply_due.due_on + datetime.timedelta(
                days=rng.randint(5, max(6, (new_due - reply_due.due_on).days - 2))
            )
            reply_due.due_on, reply_due.is_fixed = new_due, True
        elif not stage and r < 0.06:
            sign_on = reply_due.due_on + datetime.timedelta(days=rng.randint(3, 25))
        else:
            sign_on = start + datetime.timedelta(days=rng.randint(min(30, span - 5), span - 3))
        sign_on = self.workday(sign_on)
        draft_on = sign_on - datetime.timedelta(days=rng.randint(8, 25))
        submit_on = sign_on - datetime.timedelta(days=rng.randint(1, 4))
        send_on = self.workday(sign_on + datetime.timedelta(days=rng.randint(0, 2)))
        # The stages of the current session: the dates that put it where it should be today.
        if stage in ("accepted", "accepted_overdue", "extended"):
            return result
        if stage == "due_soon":
            draft_on, submit_on = (
                TODAY - datetime.timedelta(days=4),
                TODAY + datetime.timedelta(days=9),
            )
        elif stage == "draft":
            draft_on, submit_on = (
                TODAY - datetime.timedelta(days=rng.randint(1, 10)),
                TODAY + datetime.timedelta(days=5),
            )
        elif stage in ("pending_signature", "co_missing"):
            draft_on = TODAY - datetime.timedelta(days=rng.randint(8, 15))
            submit_on, sign_on = (
                TODAY - datetime.timedelta(days=rng.randint(0, 3)),
                TODAY + datetime.timedelta(days=3),
            )
        elif stage == "signed":
            sign_on = self.workdays_before(TODAY, rng.randint(0, 1))
            submit_on, draft_on = (
                sign_on - datetime.timedelta(days=2),
                sign_on - datetime.timedelta(days=12),
            )
            send_on = TODAY + datetime.timedelta(days=2)
        elif stage == "sent":
            send_on = self.workdays_before(TODAY, rng.randint(1, 12))
            sign_on = send_on
            submit_on, draft_on = (
                sign_on - datetime.timedelta(days=2),
                sign_on - datetime.timedelta(days=12),
            )
        elif stage == "published":
            send_on = self.workdays_before(TODAY, rng.randint(21, 28))
            sign_on = send_on
            submit_on, draft_on = (
                sign_on - datetime.timedelta(days=2),
                sign_on - datetime.timedelta(days=12),
            )
        draft_on = max(draft_on, start + datetime.timedelta(days=4))
        reply = self._new_reply(a, p, session, proposers, rng, "reply", 1, draft_on)
        forced_public = stage in ("sent", "published")
        if forced_public:
            reply.disclosure = "public"
        if not self._reply_through(reply, p, rng, submit_on, sign_on, send_on, stage):
            return result
        a.state = self._assignment_replied(a, p, send_on)
        reply_due.completed_on = send_on
        self._last_sent[a.pk] = send_on
        result["open"] = False
        # Feedback from the lead proposer (and sometimes a co-proposer).
        fb_on = send_on + datetime.timedelta(days=rng.randint(7, 40))
        not_satisfied = stage == "rehandling" or (not stage and rng.random() < 0.035)
        if (
            stage in ("sent", "published")
            or fb_on >= TODAY
            or (rng.random() > 0.85 and not not_satisfied)
        ):
            self._extras(reply, a, p, session, proposers, rng)
            return result
        rating = (
            "not_satisfied"
            if not_satisfied
            else rng.choices(("satisfied", "basically_satisfied", "not_satisfied"), (74, 23, 0))[0]
        )
        self._feedback(reply, p, proposers[0], rating, fb_on, rng)
        result["feedback"] = True
        if len(proposers) > 1 and rng.random() < 0.3:
            self._feedback(
                reply,
                p,
                rng.choice(proposers[1:]),
                rng.choice(("satisfied", "basically_satisfied")),
                fb_on + datetime.timedelta(days=rng.randint(0, 5)),
                rng,
            )
        if rating != "not_satisfied":
            self._extras(reply, a, p, session, proposers, rng)
            return result
        # 不满意: a second round with a new reply date.
        self.t(
            "assignment",
            a.pk,
            p.pk,
            "reopen",
            "replied",
            "accepted",
            _sh(fb_on, 16),
            None,
            f"{proposers[0].name} 对答复不满意",
        )
        a.state, a.round = "accepted", 2
        self.t("proposal", p.pk, p.pk, "mark_replied", "assigned", "replied", _sh(send_on, 16))
        self.t(
            "proposal",
            p.pk,
            p.pk,
            "reopen",
            "replied",
            "assigned",
            _sh(fb_on, 16),
            None,
            "提案者对答复不满意",
        )
        rule, d = self.due(fb_on, "rehandling_reply", "不满意反馈")
        due2 = self.add(
            pm.DueDate(
                id=self.nid(pm.DueDate),
                assignment_id=a.pk,
                clock="rehandling_reply",
                round=2,
                start_on=fb_on,
                rule=rule,
                due_on=d.due_on,
                explanation=d.explanation,
            )
        )
        sign2 = self.workday(fb_on + datetime.timedelta(days=rng.randint(30, 80)))
        if stage == "rehandling":
            sign2 = TODAY + datetime.timedelta(days=20)  # still being handled again
        draft2 = fb_on + datetime.timedelta(days=rng.randint(5, 15))
        if draft2 > TODAY:
            return {"open": True, "feedback": True}
        reply2 = self._new_reply(a, p, session, proposers, rng, "rehandling", 2, draft2)
        reply2.result_label, reply2.result_class = "列入计划拟解决", "B"
        send2 = self.workday(sign2 + datetime.timedelta(days=1))
        if not self._reply_through(
            reply2, p, rng, sign2 - datetime.timedelta(days=2), sign2, send2, ""
        ):
            return {"open": True, "feedback": True}
        a.state = self._assignment_replied(a, p, send2)
        due2.completed_on = send2
        self._last_sent[a.pk] = send2
        fb2 = send2 + datetime.timedelta(days=rng.randint(7, 30))
        if fb2 < TODAY:
            self._feedback(reply2, p, proposers[0], "basically_satisfied", fb2, rng)
        return {"open": False, "feedback": True}

    def _assignment_replied(self, a, p, on) -> str:
        self.t(
            "assignment",
            a.pk,
            p.pk,
            "mark_replied",
            "accepted",
            "replied",
            _sh(on, 15, 30),
            self.clerks[a.unit_id].pk,
        )
        return "replied"

    def _new_reply(self, a, p, session, proposers, rng, kind, round_, draft_on):
        rm = self.rm
        unit = self.unit_by_id[a.unit_id]
        number = p.number if p.number.startswith("第") else f"第{p.number}号"
        who = _addressee(proposers)
        about = f"区政协{session.name}{number}提案"
        if unit.pk % 3 == 0:
            title = f"{unit.short_name}关于对{about}的答复函"
        else:
            title = f"对{about}的答复"
        if kind == "follow_up":
            title = title.replace("的答复", "的再次答复")
        cls = rng.choices("ABCD", (52, 33, 10, 5))[0]
        label = rng.choice(LABELS[cls])
        self.seed_turn = getattr(self, "seed_turn", -1) + 1
        body = self.seed_bodies[self.seed_turn % len(self.seed_bodies)]
        opening = f"{who}提出的《{p.title}》的提案收悉，经研究，现将办理情况答复如下："
        clerk = self.clerks[a.unit_id]
        disclosure = rng.choices(("public", "on_request", "not_public"), (82, 12, 6))[0]
        reply = self.add(
            rm.Reply(
                id=self.nid(rm.Reply),
                assignment_id=a.pk,
                proposal_id=p.pk,
                unit_id=a.unit_id,
                round=round_,
                kind=kind,
                title=title[:200],
                salutation=f"{who}："[:100],
                body=f"{opening}\n{body}",
                closing=CLOSING,
                contact_person=unit.contact_name,
                contact_phone=unit.contact_phone,
                contact_address=unit.address,
                contact_postcode=unit.postcode,
                cc=CC,
                result_label=label,
                result_class=cls,
                disclosure=disclosure,
                state="draft",
                last_edited_by_id=clerk.pk,
                version=rng.randint(2, 6),
                created_at=_sh(draft_on, 10),
                updated_at=_sh(draft_on, 11),
            )
        )
        self.t(
            "reply",
            reply.pk,
            p.pk,
            "start",
            "",
            "draft",
            reply.created_at,
            clerk.pk,
            reply.get_kind_display(),
        )
        return reply

    def _reply_through(self, reply, p, rng, submit_on, sign_on, send_on, stage) -> bool:
        """Submit, sign, send and publish as far as today; True once sent."""
        clerk = self.clerks[reply.unit_id]
        if stage == "draft" and rng.random() < 0.5:  # sent back once by the signer
            back = reply.created_at + datetime.timedelta(days=1)
            self.t("reply", reply.pk, p.pk, "submit", "draft", "pending_signature", back, clerk.pk)
            reply.return_comment = "请补充下一步工作的时间节点。"
            self.t(
                "reply",
                reply.pk,
                p.pk,
                "return",
                "pending_signature",
                "draft",
                back + datetime.timedelta(hours=3),
                self.signers[reply.unit_id].pk,
                reply.return_comment,
            )
        if submit_on > TODAY:
            return False
        self.t(
            "reply",
            reply.pk,
            p.pk,
            "submit",
            "draft",
            "pending_signature",
            _sh(submit_on, 11),
            clerk.pk,
        )
        reply.state = "pending_signature"
        reply.updated_at = _sh(submit_on, 11)
        if stage == "co_missing":
            reply.opinion_override_reason = "会办意见已电话沟通，书面意见随后补送。"
        if sign_on > TODAY:
            return False
        self._sign(reply, sign_on, "reply", p)
        if send_on > TODAY:
            return False
        reply.sent_at = _sh(send_on, 10, 30)
        reply.updated_at = reply.sent_at
        self.t("reply", reply.pk, p.pk, "send", "signed", "sent", reply.sent_at, clerk.pk)
        reply.state = "sent"
        if reply.disclosure == "public":
            pub = self.cal.add_workdays(send_on, rng.randint(3, 18))
            if stage == "sent":
                pub = TODAY + datetime.timedelta(days=30)
            elif stage == "published":
                pub = self.workdays_before(TODAY, rng.randint(1, 4))
            if pub <= TODAY:
                reply.published_on = pub
                reply.updated_at = _sh(pub, 10)
                self.t(
                    "reply", reply.pk, p.pk, "publish", "sent", "published", _sh(pub, 10), clerk.pk
                )
                reply.state = "published"
        return True

    def _feedback(self, reply, p, proposer, rating, on, rng) -> None:
        rm = self.rm
        channel = rng.choices(("online", "paper", "phone"), (50, 35, 15))[0]
        recorder = (
            proposer.user_id
            if channel == "online" and proposer.user_id
            else self.clerks[reply.unit_id].pk
        )
        detail = rng.random() < 0.6
        comments = {
            "satisfied": "",
            "basically_satisfied": "希望进一步加大推进力度。",
            "not_satisfied": "答复内容较为原则，希望明确时间表和具体措施。",
        }
        fb = self.add(
            rm.Feedback(
                id=self.nid(rm.Feedback),
                reply_id=reply.pk,
                proposal_id=p.pk,
                proposer_id=proposer.pk,
                rating=rating,
                on_work=rating if detail else "",
                on_result=(
                    rating if rating != "satisfied" or rng.random() < 0.8 else "basically_satisfied"
                )
                if detail
                else "",
                comment=comments[rating],
                channel=channel,
                received_at=_sh(on, 14),
                recorded_by_id=recorder,
            )
        )
        label = dict(satisfied="满意", basically_satisfied="基本满意", not_satisfied="不满意")[
            rating
        ]
        self.t(
            "feedback",
            fb.pk,
            p.pk,
            "feedback",
            "",
            rating,
            fb.received_at,
            recorder,
            f"{proposer.name} {label}",
        )

    def _extras(self, reply, a, p, session, proposers, rng) -> None:
        """Now and then a follow-up 再次答复 (B upgraded to A) or a correction 更正."""
        rm = self.rm
        sent = reply.sent_at.date()
        if reply.result_class == "B" and rng.random() < 0.03:
            on = self.workday(sent + datetime.timedelta(days=rng.randint(120, 200)))
            if on + datetime.timedelta(days=30) < TODAY:
                f = self._new_reply(
                    a,
                    p,
                    session,
                    proposers,
                    rng,
                    "follow_up",
                    a.round,
                    on - datetime.timedelta(days=10),
                )
                f.result_label, f.result_class, f.disclosure = "解决或采纳", "A", reply.disclosure
                self._reply_through(f, p, rng, on - datetime.timedelta(days=2), on, on, "")
        elif reply.state in ("sent", "published") and rng.random() < 0.004:
            on = self.workday(sent + datetime.timedelta(days=rng.randint(5, 15)))
            if on + datetime.timedelta(days=30) < TODAY:
                c = self.add(
                    rm.Reply(
                        **{
                            **{
                                f.attname: getattr(reply, f.attname)
                                for f in rm.Reply._meta.concrete_fields
                            },
                            "id": self.nid(rm.Reply),
                            "supersedes_id": reply.pk,
                            "state": "draft",
                            "signer_id": None,
                            "signer_name": "",
                            "signed_on": None,
                            "signed_at": None,
                            "sent_at": None,
                            "published_on": None,
                            "docno_prefix": "",
                            "docno_year": None,
                            "docno_number": None,
                            "created_at": _sh(on - datetime.timedelta(days=3), 9),
                            "return_comment": "",
                        }
                    )
                )
                c.body = c.body.replace("现将办理情况答复如下", "现将办理情况（更正）答复如下")
                self.t(
                    "reply",
                    c.pk,
                    p.pk,
                    "supersede",
                    "",
                    "draft",
                    c.created_at,
                    self.clerks[c.unit_id].pk,
                    "更正：原答复中数据有误",
                )
                self._reply_through(c, p, rng, on - datetime.timedelta(days=1), on, on, "")

    # --- 文号, counters, writing -------------------------------------------------------------

    def numbers(self) -> None:
        """文号 per unit and year, in signing order, without gaps; counters at the last one."""
        rm = self.rm
        prefix = {u.pk: u.docno_prefix for u in self.units}
        last: dict[tuple[int, int], int] = {}
        for letter in sorted(self.letters, key=lambda x: (x.signed_at, type(x).__name__, x.pk)):
            key = (letter.unit_id, letter.signed_on.year)
            last[key] = last.get(key, 0) + 1
            letter.docno_prefix, letter.docno_year, letter.docno_number = (
                prefix[letter.unit_id],
                key[1],
                last[key],
            )
            event = list(self.transitions[letter.sign_event])
            event[8] = letter.doc_number
            self.transitions[letter.sign_event] = tuple(event)
        self.counters = last
        for (unit_id, year), n in sorted(last.items()):
            self.add(
                rm.DocNumberCounter(
                    id=self.nid(rm.DocNumberCounter), unit_id=unit_id, year=year, last_number=n
                )
            )

    def write(self, models_in_order) -> None:
        from django.db import transaction

        with transaction.atomic():
            for model in models_in_order:
                rows = self.rows.pop(model, [])
                if rows:
                    model.objects.bulk_create(rows, batch_size=2000)
                    log(f"  {model._meta.label}: {len(rows)}")

    def write_links(self) -> None:
        from django.db import transaction

        with transaction.atomic():
            for name, rows in self.links.items():
                if rows:
                    type(rows[0]).objects.bulk_create(rows, batch_size=5000)
                    log(f"  {name}: {len(rows)}")
        self.links.clear()

    def write_transitions(self) -> None:
        from django.db import transaction

        Transition = self.pm.Transition
        rows = [
            Transition(
                id=i,
                content_type_id=ct,
                object_id=oid,
                proposal_id=pid,
                verb=verb,
                from_state=before,
                to_state=after,
                at=at,
                actor_id=actor,
                note=note,
            )
            for i, (ct, oid, pid, verb, before, after, at, actor, note) in enumerate(
                sorted(self.transitions, key=lambda t: t[6]), start=1
            )
        ]
        with transaction.atomic():
            Transition.objects.bulk_create(rows, batch_size=5000)
        log(f"  proposals.Transition: {len(rows)}")
        self.transitions.clear()


def _addressee(proposers) -> str:
    lead = proposers[0]
    if lead.kind != "member":
        return lead.name
    members = [p.name for p in proposers if p.kind == "member"]
    if len(members) <= 3:
        return f"{'、'.join(members)}委员"
    return f"{'、'.join(members[:3])}等委员"


#: The stages of the current session's recent proposals, in turn (each at least once).
STAGES = (
    "pending",
    "return_requested",
    "accepted",
    "draft",
    "pending_signature",
    "signed",
    "sent",
    "published",
    "accepted_overdue",
    "extended",
    "due_soon",
    "rehandling",
    "co_missing",
    "accepted",
    "sent",
    "draft",
    "published",
    "accepted_overdue",
)


def _timestamps_as_given() -> None:
    """Let bulk_create keep the created_at/updated_at we computed (this process only)."""
    from django.apps import apps

    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                f.auto_now = f.auto_now_add = False


# --- Open assignments for the reminder scan (what bench/scan.py generated) ------------------


UNITS_PER = 200  # open assignments per unit


def add_open_assignments(b: Builder, total: int) -> None:
    """``total`` open assignments in the current session, and ``total // 100`` replied ones whose
    主动公开 reply was sent in the last 30 working days and awaits publication.

    As bench/scan.py had it: at least 200 open assignments per unit (units are added when the
    40 are not enough); assigned over the 75 working days before today; 80 % lead, 5 % separate,
    15 % co-handling (only in the last month); a new assignment is pending for its first days,
    then 2 % stay pending, 2 % ask for reassignment, the rest are accepted. First contact done for
    85 % once due; 30 % of the replies that would be overdue are extended by 30 days; 1 % are in
    a second round with a new reply date. About a tenth of the replies and first contacts are
    overdue. No audit rows for these.
    """
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    pm, rm = b.pm, b.rm
    session = b.session_rows[-1]
    password = make_password(PASSWORD)
    units_needed = max(len(b.units), total // UNITS_PER)
    extra = []
    for n in range(len(b.units), units_needed):
        unit = pm.Unit(
            id=b.nid(pm.Unit),
            name=f"长宁区第{n + 1}承办单位",
            short_name=f"第{n + 1}承办单位",
            organ_name=f"上海市长宁区第{n + 1}承办单位",
            docno_prefix=f"长承{n + 1}",
        )
        extra.append(unit)
        users = []
        for role in ("clerk", "clerk2", "signer"):
            u = pm.User(
                id=b.nid(pm.User),
                username=f"u{unit.pk}_{role}",
                password=password,
                email=f"u{unit.pk}_{role}@bench.example.org",
                full_name=f"{unit.short_name}{role}",
                is_staff=True,
            )
            users.append(u)
            b.add(u)
            b.add(
                pm.Membership(
                    id=b.nid(pm.Membership),
                    unit_id=unit.pk,
                    user_id=u.pk,
                    role="signer" if role == "signer" else "clerk",
                )
            )
        b.clerks[unit.pk], b.signers[unit.pk] = users[0], users[2]
    with transaction.atomic():
        pm.Unit.objects.bulk_create(extra, batch_size=2000)
        pm.User.objects.bulk_create(b.rows.pop(pm.User, []), batch_size=2000)
        pm.Membership.objects.bulk_create(b.rows.pop(pm.Membership, []), batch_size=2000)
    b.units += extra
    b.unit_by_id.update({u.pk: u for u in extra})
    unit_ids = [u.pk for u in b.units][:units_needed]
    proposer_ids = [m.pk for m in b.members]

    days: list[datetime.date] = []
    d = TODAY
    while len(days) < 75:
        d -= datetime.timedelta(days=1)
        if b.cal.is_workday(d):
            days.append(d)
    days.reverse()
    day_index = {day: i for i, day in enumerate(days)}
    serial = session.last_serial
    counters = dict(b.counters)

    def chunk(first: int, last: int, *, replied: bool) -> None:
        nonlocal serial
        proposals, assignments, dues, replies = [], [], [], []
        for n in range(first, last):
            serial += 1
            assigned_on = days[(n * 7919) % len(days)]  # evenly, not in order
            age = len(days) - day_index[assigned_on]  # working days since assignment
            r = (n * 2654435761) % 1000 / 1000  # a fixed pseudo-random number per row
            p = pm.Proposal(
                id=b.nid(pm.Proposal),
                session_id=session.pk,
                serial=serial,
                number=session.format_number(serial),
                title=f"关于第{n + 1}项民生工作的建议",
                lead_proposer_id=proposer_ids[n % len(proposer_ids)],
                status="replied" if replied else "assigned",
                submitted_at=_sh(assigned_on - datetime.timedelta(days=20), 10),
                filed_at=_sh(assigned_on - datetime.timedelta(days=5), 14),
                created_at=_sh(assigned_on - datetime.timedelta(days=21), 10),
                updated_at=_sh(assigned_on, 10),
            )
            proposals.append(p)
            if replied:
                role, state = "lead", "replied"
            else:
                role = "co" if age <= 22 and r < 0.15 else ("separate" if r > 0.95 else "lead")
                if age <= 3:
                    state = "pending" if r < 0.5 else "accepted"
                elif r < 0.02:
                    state = "pending"
                elif r > 0.98:
                    state = "return_requested"
                else:
                    state = "accepted"
            rehandling = not replied and 0.50 <= r < 0.51 and age > 40
            unit_id = unit_ids[n % len(unit_ids)]
            a = pm.Assignment(
                id=b.nid(pm.Assignment),
                proposal_id=p.pk,
                unit_id=unit_id,
                role=role,
                state=state,
                round=2 if rehandling else 1,
                assigned_on=assigned_on,
                accepted_at=_sh(assigned_on, 15) if state in ("accepted", "replied") else None,
                return_reason=RETURN_REASON if state == "return_requested" else "",
                created_at=_sh(assigned_on, 9),
            )
            assignments.append(a)
            clocks = ["reassignment", "first_contact", "co_opinion" if role == "co" else "reply"]
            for clock in clocks:
                rule, due = b.due(assigned_on, clock)
                row = pm.DueDate(
                    id=b.nid(pm.DueDate),
                    assignment_id=a.pk,
                    clock=clock,
                    start_on=assigned_on,
                    rule=rule,
                    due_on=due.due_on,
                    explanation=due.explanation,
                )
                if clock == "first_contact" and due.due_on < TODAY and r < 0.85:
                    row.completed_on = due.due_on - datetime.timedelta(days=3)
                if clock == "reply" and due.due_on < TODAY and r < 0.30:
                    new = due.due_on + datetime.timedelta(days=30)
                    row.explanation = f"{due.due_on:%Y-%m-%d} 经批准延期至 {new:%Y-%m-%d}"
                    row.due_on, row.is_fixed = new, True
                if state == "replied" and clock == "reply":
                    row.completed_on = min(due.due_on, TODAY)
                dues.append(row)
            if rehandling:
                start = TODAY - datetime.timedelta(days=int(r * 1000) % 30 + 1)
                rule, due = b.due(start, "rehandling_reply", "不满意反馈")
                dues.append(
                    pm.DueDate(
                        id=b.nid(pm.DueDate),
                        assignment_id=a.pk,
                        clock="rehandling_reply",
                        round=2,
                        start_on=start,
                        rule=rule,
                        due_on=due.due_on,
                        explanation=due.explanation,
                    )
                )
            if replied:
                sent_on = days[-1 - int(r * 1000) % 30]
                key = (unit_id, sent_on.year)
                counters[key] = counters.get(key, 0) + 1
                unit = b.unit_by_id[unit_id]
                signer = b.signers[unit_id]
                body = b.seed_bodies[n % len(b.seed_bodies)]
                replies.append(
                    rm.Reply(
                        id=b.nid(rm.Reply),
                        assignment_id=a.pk,
                        proposal_id=p.pk,
                        unit_id=unit_id,
                        title=f"对区政协{session.name}{p.number}提案的答复",
                        salutation=f"{b.members[n % len(b.members)].name}委员：",
                        body=f"《{p.title}》的提案收悉，经研究，现将办理情况答复如下：\n{body}",
                        closing=CLOSING,
                        result_label="采纳",
                        result_class="A",
                        state="sent",
                        disclosure="public",
                        signer_id=signer.pk,
                        signer_name=signer.full_name,
                        docno_prefix=unit.docno_prefix,
                        docno_year=key[1],
                        docno_number=counters[key],
                        signed_on=sent_on,
                        signed_at=_sh(sent_on, 9),
                        sent_at=_sh(sent_on, 10),
                        created_at=_sh(sent_on - datetime.timedelta(days=10), 10),
                        updated_at=_sh(sent_on, 10),
                    )
                )
        pm.Proposal.objects.bulk_create(proposals, batch_size=2000)
        pm.Assignment.objects.bulk_create(assignments, batch_size=2000)
        pm.DueDate.objects.bulk_create(dues, batch_size=5000)
        rm.Reply.objects.bulk_create(replies, batch_size=1000)

    step = 5000
    for first in range(0, total, step):
        with transaction.atomic():
            chunk(first, min(first + step, total), replied=False)
        log(f"  {min(first + step, total):>7} open assignments")
    with transaction.atomic():
        chunk(10_000_000, 10_000_000 + total // 100, replied=True)
        pm.Session.objects.filter(pk=session.pk).update(last_serial=serial)
        for (unit_id, year), n in counters.items():
            if b.counters.get((unit_id, year)) != n:
                rm.DocNumberCounter.objects.update_or_create(
                    unit_id=unit_id, year=year, defaults={"last_number": n}
                )
    b.counters = counters
    b.reset_sequences()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# --- The build (child process) ----------------------------------------------------------------


def _reset_sequences(self) -> None:
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import connection

    models = [m for m in apps.get_models() if m._meta.app_label in ("proposals", "replies", "auth")]
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)


Builder.reset_sequences = _reset_sequences


def build(scale: float, open_assignments: int) -> dict:
    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    log(f"  migrated in {time.perf_counter() - started:.1f} s")
    _timestamps_as_given()
    b = Builder(scale)
    pm, rm = b.pm, b.rm
    phase = time.perf_counter()
    with transaction.atomic():
        b.reference()
    b.unit_by_id = {u.pk: u for u in b.units}
    b.sessions()
    b.proposals()
    b.numbers()
    log(f"  planned in {time.perf_counter() - phase:.1f} s")
    phase = time.perf_counter()
    b.write(
        [
            pm.Unit,
            pm.User,
            pm.Membership,
            pm.Proposer,
            pm.Session,
            pm.Proposal,
            pm.CoProposer,
            pm.Assignment,
            pm.DueDate,
            pm.Extension,
            pm.ContactRecord,
            rm.CoOpinion,
            rm.Reply,
            rm.Feedback,
            rm.DocNumberCounter,
        ]
    )
    b.write_links()
    b.write_transitions()
    b.reset_sequences()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(f"  written in {time.perf_counter() - phase:.1f} s")
    if open_assignments:
        phase = time.perf_counter()
        log(f"adding {open_assignments} open assignments")
        add_open_assignments(b, open_assignments)
        log(f"  added in {time.perf_counter() - phase:.1f} s")
    dataset = describe(b, scale)
    check(dataset, scale)
    log(f"  built in {time.perf_counter() - started:.1f} s")
    return dataset


def describe(b: Builder, scale: float) -> dict:
    from django.db.models import Count

    from proposals import models as pm
    from replies import models as rm

    busiest = (
        pm.Assignment.objects.active()
        .filter(unit_id__in=[u.pk for u in b.units[: len(UNITS)]])
        .values("unit_id")
        .annotate(n=Count("id"))
        .order_by("-n", "unit_id")
        .first()["unit_id"]
    )
    clerk = b.clerks[busiest].username
    signer = b.signers[busiest].username
    proposer = (
        pm.Proposer.objects.filter(kind="member", user__isnull=False)
        .annotate(n=Count("led_proposals"))
        .order_by("-n", "id")
        .select_related("user")
        .first()
        .user.username
    )
    states = dict(rm.Reply.objects.values_list("state").annotate(n=Count("id")))
    counts = {
        "sessions": pm.Session.objects.count(),
        "units": pm.Unit.objects.count(),
        "users": pm.User.objects.count(),
        "proposers": pm.Proposer.objects.count(),
        "proposals": pm.Proposal.objects.count(),
        "coproposers": pm.CoProposer.objects.count(),
        "assignments": pm.Assignment.objects.count(),
        "open_assignments": pm.Assignment.objects.open().count(),
        "due_dates": pm.DueDate.objects.count(),
        "extensions": pm.Extension.objects.count(),
        "contacts": pm.ContactRecord.objects.count(),
        "replies": rm.Reply.objects.count(),
        "published": rm.Reply.objects.published().count(),
        "superseded": rm.Reply.objects.filter(supersedes__isnull=False).count(),
        "opinions": rm.CoOpinion.objects.count(),
        "feedback": rm.Feedback.objects.count(),
        "transitions": pm.Transition.objects.count(),
        "doc_counters": rm.DocNumberCounter.objects.count(),
        **{f"replies_{state}": n for state, n in sorted(states.items())},
    }
    return {
        "sessions": [s.pk for s in b.session_rows],
        "units": [u.pk for u in b.units],
        "logins": {
            "committee": "committee",
            "supervision": "supervisor",
            "clerk": clerk,
            "signer": signer,
            "proposer": proposer,
        },
        "password": PASSWORD,
        "counts": counts,
        "name": "",
        "today": TODAY.isoformat(),
    }


def check(dataset: dict, scale: float) -> None:
    """The data passes the model's rules and the pages that read it answer 200."""
    import warnings

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from proposals.models import User
    from replies.models import DocNumberCounter, Reply, ReplyState

    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    counts = dataset["counts"]
    problems = []
    minimum = 3000 if scale >= 1 else int(3000 * scale * 0.8)
    if counts["published"] < minimum:
        problems.append(f"only {counts['published']} published replies (want ≥ {minimum})")
    missing = [s for s in ReplyState.values if not counts.get(f"replies_{s}")]
    if missing:
        problems.append(f"no reply in state {', '.join(missing)}")
    with connection.cursor() as cursor:  # 文号 contiguous from 1 per unit and year
        cursor.execute(
            """SELECT unit_id, docno_year, count(*), max(docno_number) FROM (
                 SELECT unit_id, docno_year, docno_number FROM replies_reply
                   WHERE docno_number IS NOT NULL
                 UNION ALL SELECT unit_id, docno_year, docno_number FROM replies_coopinion
                   WHERE docno_number IS NOT NULL) x GROUP BY 1, 2"""
        )
        used = {(u, y): (n, m) for u, y, n, m in cursor.fetchall()}
    counters = {(c.unit_id, c.year): c.last_number for c in DocNumberCounter.objects.all()}
    gaps = [k for k, (n, m) in used.items() if n != m or counters.get(k) != m]
    if gaps:
        problems.append(f"文号 not contiguous or counter off for {gaps[:5]}")
    if Reply.objects.filter(
        state__in=["signed", "sent", "published"], signed_on__isnull=True
    ).exists():
        problems.append("a signed reply without 成文日期")
    call_command("check", verbosity=0)
    client = Client()
    committee = User.objects.get(username=dataset["logins"]["committee"])
    response = client.get("/api/v1/replies/")
    if response.status_code != 200:
        problems.append(f"GET /api/v1/replies/ answered {response.status_code}")
    else:
        detail = response.json()["results"][0]["url"].removeprefix("http://testserver")
        if (status := client.get(detail).status_code) != 200:
            problems.append(f"GET {detail} answered {status}")
    client.force_login(committee)
    for url in ("/admin/proposals/proposal/", "/admin/replies/reply/", "/admin/tools/statistics/"):
        response = client.get(url)
        if response.status_code != 200:
            problems.append(f"GET {url} as committee answered {response.status_code}")
    if problems:
        raise SystemExit("the data set failed its checks:\n- " + "\n- ".join(problems))
    log("  checks passed: published, every state, 文号, manage.py check, API, admin, statistics")


# --- Command line ----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="proposals per session × this")
    parser.add_argument("--open-assignments", type=int, default=0, metavar="N")
    parser.add_argument("--rebuild", action="store_true", help="build even if it exists")
    parser.add_argument("--drop", action="store_true", help="drop the data set's database")
    parser.add_argument("--build", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:  # the child: DATABASE_URL is the data set
        dataset = build(args.scale, args.open_assignments)
        print(json.dumps(dataset, ensure_ascii=False), flush=True)
        return
    server = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    if args.drop:
        print(json.dumps({"dropped": drop(server, args.open_assignments, args.scale)}))
        return
    ds = ensure(server, args.open_assignments, args.scale, rebuild=args.rebuild)
    print(json.dumps(ds.as_dict(), ensure_ascii=False, indent=1), flush=True)


if __name__ == "__main__":
    main()
