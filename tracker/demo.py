"""Demo data for ``manage.py load_demo``: the four seed letters' proposals, and a session of
synthetic proposals in every state, with logins for every role.

The facts of the seed letters (titles, names, numbers, units, dates, contact blocks) are typed in
below from ``replies/seeds/00*.txt``; nothing parses the letters at run time.

Idempotent: every object is looked up by its natural key first (usernames, unit names,
(district, term, meeting) of sessions, (kind, name) of proposers, (session, number) of the seed
proposals and (session, title) of the synthetic ones) and an object that exists is left exactly as
it is, so a second run creates nothing and changes nothing.

Every status is reached through ``proposals.workflow`` — the demo is like an import of historical
records that replays their history through the verbs. Two things a live workflow would not do:

* the seed proposals keep their real numbers (061, 050, 152045, 145054): before filing one, the
  session's ``last_serial`` is set to the serial before it, so ``file_proposal`` hands out exactly
  the real serial, and afterwards ``last_serial`` goes back to the highest serial in use;
* the timestamps the verbs set to "now" (submitted, filed, accepted) are moved back to plausible
  dates of the record's history. The audit trail (``Transition``) is not touched: it truthfully
  says when the import ran.

Dates of the synthetic session are relative to ``DEMO_TODAY``, so that on that day some reply
deadlines are past, some a few days away, some far off.
"""

from __future__ import annotations

import datetime
import random
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from proposals import deadlines, events, workflow
from proposals import models as proposal_models
from proposals.models import (
    Assignment,
    ContactRecord,
    CoProposer,
    Membership,
    Proposal,
    Proposer,
    Session,
    Unit,
    User,
)
from proposals.workdays import WorkCalendar
from tracker import demo_replies

#: The demo's "today": the synthetic session's dates are counted back from it.
DEMO_TODAY = datetime.date(2026, 11, 22)
#: Seed of the one random generator that picks proposers, co-signers and small date shifts.
DEMO_SEED = 20241122

CHANGNING = "长宁"
PUTUO = "普陀"

ProposerKey = tuple[str, str]  # (kind, name)
SessionKey = tuple[str, int, int]  # (district, term, meeting)

MEMBER = Proposer.Kind.MEMBER
SECTOR_GROUP = Proposer.Kind.SECTOR_GROUP
PARTY = Proposer.Kind.PARTY
LEAD = Assignment.Role.LEAD
CO = Assignment.Role.CO
SEPARATE = Assignment.Role.SEPARATE


# --- Units ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitSpec:
    code: str  # the prefix of its staff's usernames
    name: str
    short_name: str
    organ_name: str
    docno_prefix: str = ""
    letter_format: str = Unit.LetterFormat.DOCUMENT
    address: str = ""
    postcode: str = ""
    phone: str = ""
    contact_name: str = ""
    contact_phone: str = ""


UNITS: tuple[UnitSpec, ...] = (
    # seed 000: a 答复函 without red header or 文号, signed "长宁区投资促进办公室"; its title calls
    # the unit 长宁区投促办. No contact block in the letter.
    UnitSpec(
        code="tcb",
        name="长宁区投资促进办公室",
        short_name="长宁区投促办",
        organ_name="上海市长宁区投资促进办公室",
        letter_format=Unit.LetterFormat.LETTER,
    ),
    # seed 002: header 上海市长宁区发展和改革委员会文件, 长发改〔2024〕19号, contact block.
    UnitSpec(
        code="cnfgw",
        name="长宁区发展和改革委员会",
        short_name="长宁区发改委",
        organ_name="上海市长宁区发展和改革委员会",
        docno_prefix="长发改",
        address="长宁路599号1120室",
        postcode="200050",
        phone="22051162",
        contact_name="汪骏杰",
        contact_phone="22051162",
    ),
    # seed 001 (2023, contact 开凡 52564588-2357) and seed 003 (2021, contact 钱婷婷
    # 52564588-2343): header 上海市普陀区发展和改革委员会文件, 普发改委〔2023〕14号. The newer
    # contact is the default.
    UnitSpec(
        code="ptfgw",
        name="普陀区发展和改革委员会",
        short_name="普陀区发改委",
        organ_name="上海市普陀区发展和改革委员会",
        docno_prefix="普发改委",
        address="大渡河路1668号1号楼B区313室",
        postcode="200333",
        phone="52564588",
        contact_name="开凡",
        contact_phone="52564588-2357",
    ),
    # seed 000's co-handling units (区商务委、区科委、区规资局; 区发改委 is cnfgw above) and
    # the other bureaus of seed 004's header. Only names: the seeds give no contact blocks.
    UnitSpec("swc", "长宁区商务委员会", "区商务委", "上海市长宁区商务委员会"),
    UnitSpec("kw", "长宁区科学技术委员会", "区科委", "上海市长宁区科学技术委员会"),
    UnitSpec("gzj", "长宁区规划和自然资源局", "区规资局", "上海市长宁区规划和自然资源局"),
    UnitSpec("rcj", "长宁区人才工作局", "区人才局", "上海市长宁区人才工作局"),
    UnitSpec("sfj", "长宁区司法局", "区司法局", "上海市长宁区司法局"),
    UnitSpec("czj", "长宁区财政局", "区财政局", "上海市长宁区财政局"),
    UnitSpec("rsj", "长宁区人力资源和社会保障局", "区人社局", "上海市长宁区人力资源和社会保障局"),
    UnitSpec("scjg", "长宁区市场监督管理局", "区市场监管局", "上海市长宁区市场监督管理局"),
    UnitSpec("sjj", "长宁区数据局", "区数据局", "上海市长宁区数据局"),
    # Not in the seeds: the bureaus that handle the synthetic proposals' everyday topics
    # (养老、加装电梯、垃圾分类).
    UnitSpec("mzj", "长宁区民政局", "区民政局", "上海市长宁区民政局"),
    UnitSpec("fgj", "长宁区住房保障和房屋管理局", "区房管局", "上海市长宁区住房保障和房屋管理局"),
    UnitSpec("lhsr", "长宁区绿化和市容管理局", "区绿化市容局", "上海市长宁区绿化和市容管理局"),
)


# --- Sessions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionSpec:
    district: str
    term: int
    meeting: int
    name: str
    year: int
    number_template: str

    @property
    def key(self) -> SessionKey:
        return (self.district, self.term, self.meeting)


CN_TEMPLATE = "第{serial:03d}号"  # 长宁: 第061号
PT_TEMPLATE = "第{term}{meeting}{serial:03d}号"  # 普陀: 第152045号

SESSIONS: tuple[SessionSpec, ...] = (
    # seed 000 is undated, but speaks of 2022's figures and of what 长宁 did "2023年": 2023.
    # (长宁's 十五届 began in 2022, one meeting a year.)
    SessionSpec(CHANGNING, 15, 2, "十五届二次会议", 2023, CN_TEMPLATE),
    # seed 002: reply dated 2024年4月25日.
    SessionSpec(CHANGNING, 15, 3, "十五届三次会议", 2024, CN_TEMPLATE),
    # the synthetic proposals' current session.
    SessionSpec(CHANGNING, 15, 5, "十五届五次会议", 2026, CN_TEMPLATE),
    # seed 001: reply dated 2023年5月8日.
    SessionSpec(PUTUO, 15, 2, "十五届二次会议", 2023, PT_TEMPLATE),
    # seed 003: reply dated 2021年4月30日.
    SessionSpec(PUTUO, 14, 5, "十四届五次会议", 2021, PT_TEMPLATE),
)
CURRENT_SESSION: SessionKey = (CHANGNING, 15, 5)


# --- Proposers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProposerSpec:
    kind: str
    name: str
    login: str  # pinyin, for the example e-mail address
    sector: str = ""

    @property
    def key(self) -> ProposerKey:
        return (self.kind, self.name)


SEED_PROPOSERS: tuple[ProposerSpec, ...] = (
    # seed 000: 沈汕、施彧、陈铸等委员 (界别 not given)
    ProposerSpec(MEMBER, "沈汕", "shenshan"),
    ProposerSpec(MEMBER, "施彧", "shiyu"),
    ProposerSpec(MEMBER, "陈铸", "chenzhu"),
    ProposerSpec(MEMBER, "郑立新", "zhenglixin"),
    # seed 001: 张文浩委员
    ProposerSpec(MEMBER, "张文浩", "zhangwenhao"),
    # seed 002: 张晓钟、林静、瞿子涵委员
    ProposerSpec(MEMBER, "张晓钟", "zhangxiaozhong"),
    ProposerSpec(MEMBER, "林静", "linjing"),
    ProposerSpec(MEMBER, "瞿子涵", "quzihan"),
    # seed 003: 民建界别组
    ProposerSpec(SECTOR_GROUP, "民建界别组", "minjian", sector="民建"),
    # domain.md's salutation example of a party
    ProposerSpec(PARTY, "农工党区委", "nonggong", sector="农工党"),
)

#: Synthetic members of 长宁's session (fictitious people).
SYNTHETIC_MEMBERS: tuple[ProposerSpec, ...] = tuple(
    ProposerSpec(MEMBER, name, login, sector)
    for name, login, sector in (
        ("王建国", "wangjianguo", "经济界"),
        ("李秀英", "lixiuying", "医药卫生界"),
        ("张伟", "zhangwei", "科技界"),
        ("刘洋", "liuyang", "民盟"),
        ("陈静", "chenjing", "教育界"),
        ("杨帆", "yangfan", "共青团"),
        ("赵磊", "zhaolei", "工商联"),
        ("黄丽", "huangli", "妇联"),
        ("周杰", "zhoujie", "民进"),
        ("吴敏", "wumin", "社会福利和社会保障界"),
        ("徐燕", "xuyan", "九三学社"),
        ("孙浩", "sunhao", "致公党"),
        ("胡婷", "huting", "文化艺术界"),
        ("朱明", "zhuming", "中共"),
        ("高峰", "gaofeng", "民革"),
        ("林芳", "linfang", "无党派人士"),
        ("何勇", "heyong", "经济界"),
        ("郭琳", "guolin", "医药卫生界"),
        ("马骏", "majun", "科技界"),
        ("罗霞", "luoxia", "工会"),
        ("梁晨", "liangchen", "特邀"),
        ("宋佳", "songjia", "农工党"),
    )
)

ALL_PROPOSERS = SEED_PROPOSERS + SYNTHETIC_MEMBERS


def proposer_contact(index: int, spec: ProposerSpec) -> dict[str, str]:
    """Private contact fields: obviously fake (1390000xxxx, example.org), stable per proposer."""
    return {"mobile": f"1390000{index + 1:04d}", "email": f"{spec.login}@example.org"}


# --- Users ----------------------------------------------------------------------------------

COMMITTEE_GROUP = "提案委员会"
UNIT_STAFF_GROUP = "承办单位工作人员"
SUPERVISION_GROUP = "督查室"


@dataclass(frozen=True)
class UserSpec:
    username: str
    password: str
    full_name: str
    role: str  # what the printed table says
    unit: str = ""  # UnitSpec.code
    membership: str = ""  # Membership.Role
    office: str = ""
    is_staff: bool = True
    is_superuser: bool = False
    groups: tuple[str, ...] = ()
    proposer: ProposerKey | None = None
    phone: str = ""


def _staff(
    username: str,
    password: str,
    full_name: str,
    unit: str,
    role: str = Membership.Role.CLERK,
    phone: str = "",
) -> UserSpec:
    return UserSpec(
        username=username,
        password=password,
        full_name=full_name,
        role=Membership.Role(role).label,
        unit=unit,
        membership=role,
        groups=(UNIT_STAFF_GROUP,),
        phone=phone,
    )


# Passwords satisfy Django's validators (checked when the user is created).
DEMO_USERS: tuple[UserSpec, ...] = (
    UserSpec(
        "committee",
        "Demo-2026-tian",
        "王敏",
        "提案委员会",
        office=User.Office.COMMITTEE,
        groups=(COMMITTEE_GROUP,),
    ),
    UserSpec(
        "supervisor",
        "Demo-2026-shan",
        "陈立",
        "督查室",
        office=User.Office.SUPERVISION,
        groups=(SUPERVISION_GROUP,),
    ),
    UserSpec("admin", "Demo-2026-hai", "系统管理员", "系统管理员", is_superuser=True),
    # seed 000: 签发人 游雁 (the clerk is fictitious)
    _staff("tcb_clerk", "Demo-2026-yun", "周晓雯", "tcb"),
    _staff("tcb_signer", "Demo-2026-feng", "游雁", "tcb", Membership.Role.SIGNER),
    # seed 002: 签发人 叶鹏举, 联系人 汪骏杰
    _staff("cnfgw_clerk", "Demo-2026-lin", "汪骏杰", "cnfgw", phone="22051162"),
    _staff("cnfgw_signer", "Demo-2026-song", "叶鹏举", "cnfgw", Membership.Role.SIGNER),
    # seed 001: 联系人 开凡; the letters name no 签发人, so the signer is fictitious
    _staff("ptfgw_clerk", "Demo-2026-xing", "开凡", "ptfgw", phone="52564588-2357"),
    _staff("ptfgw_signer", "Demo-2026-yue", "陆国华", "ptfgw", Membership.Role.SIGNER),
    # one fictitious clerk per other unit, so each unit can accept and log its own work
    _staff("swc_clerk", "Demo-2026-zhu", "钱雪梅", "swc"),
    _staff("kw_clerk", "Demo-2026-mei", "蒋文涛", "kw"),
    _staff("gzj_clerk", "Demo-2026-lan", "沈佳怡", "gzj"),
    # fictitious signers of seed 000's co-handling units, who sign their 会办意见
    _staff("swc_signer", "Demo-2026-ling", "陶建国", "swc", Membership.Role.SIGNER),
    _staff("kw_signer", "Demo-2026-yan", "吴志明", "kw", Membership.Role.SIGNER),
    _staff("gzj_signer", "Demo-2026-jing", "孙海燕", "gzj", Membership.Role.SIGNER),
    _staff("rcj_clerk", "Demo-2026-ju", "韩志强", "rcj"),
    _staff("sfj_clerk", "Demo-2026-hong", "冯丽华", "sfj"),
    _staff("czj_clerk", "Demo-2026-bo", "曹俊", "czj"),
    _staff("rsj_clerk", "Demo-2026-chuan", "彭晓燕", "rsj"),
    _staff("scjg_clerk", "Demo-2026-qiao", "董明辉", "scjg"),
    _staff("sjj_clerk", "Demo-2026-xue", "袁媛", "sjj"),
    _staff("mzj_clerk", "Demo-2026-quan", "潘红", "mzj"),
    _staff("fgj_clerk", "Demo-2026-sen", "任海波", "fgj"),
    _staff("lhsr_clerk", "Demo-2026-lu", "姚春燕", "lhsr"),
    # proposers with a login (the /my/ pages)
    UserSpec(
        "zhangwenhao",
        "Demo-2026-he",
        "张文浩",
        "提案者",
        is_staff=False,
        proposer=(MEMBER, "张文浩"),
    ),
    UserSpec(
        "shenshan",
        "Demo-2026-hu",
        "沈汕",
        "提案者",
        is_staff=False,
        proposer=(MEMBER, "沈汕"),
    ),
)


# --- The seed proposals ---------------------------------------------------------------------


@dataclass(frozen=True)
class SeedProposal:
    source: str  # the seed file
    session: SessionKey
    serial: int
    number: str  # as printed in the letter; checked against the session's template
    title: str
    proposers: tuple[ProposerKey, ...]  # the first is the lead proposer
    lead_unit: str
    co_units: tuple[str, ...]
    assigned_on: datetime.date  # about three months before the letter (the reply deadline)
    letter_date: datetime.date | None


SEED_PROPOSALS: tuple[SeedProposal, ...] = (
    SeedProposal(
        source="000_0c70261e90fe6926.txt",
        session=(CHANGNING, 15, 2),
        serial=61,
        number="第061号",
        title="关于新形势下开展科学招商、精准引资的建议",
        # The letter says 沈汕、施彧、陈铸等委员: more than three signed. The fourth co-signer
        # is a synthetic name, so the default salutation comes out as the letter prints it.
        proposers=((MEMBER, "沈汕"), (MEMBER, "施彧"), (MEMBER, "陈铸"), (MEMBER, "郑立新")),
        lead_unit="tcb",
        # "我办立即会同区发改委、区商务委、区科委、区规资局进行专题讨论"
        co_units=("cnfgw", "swc", "kw", "gzj"),
        assigned_on=datetime.date(2023, 3, 15),  # the letter is undated
        letter_date=None,
    ),
    SeedProposal(
        source="002_1374ff59fa2fbedd.txt",
        session=(CHANGNING, 15, 3),
        serial=50,
        number="第050号",
        title="关于推进长宁产业发展的建议",
        proposers=((MEMBER, "张晓钟"), (MEMBER, "林静"), (MEMBER, "瞿子涵")),
        lead_unit="cnfgw",
        co_units=(),
        assigned_on=datetime.date(2024, 2, 1),
        letter_date=datetime.date(2024, 4, 25),
    ),
    SeedProposal(
        source="001_9332f8a4cbbb0d88.txt",
        session=(PUTUO, 15, 2),
        serial=45,
        number="第152045号",
        title="关于推进产业内循环招商",  # as the letter quotes it
        proposers=((MEMBER, "张文浩"),),
        lead_unit="ptfgw",
        co_units=(),
        assigned_on=datetime.date(2023, 2, 10),
        letter_date=datetime.date(2023, 5, 8),
    ),
    SeedProposal(
        source="003_9524cd4df80fb0e1.txt",
        session=(PUTUO, 14, 5),
        serial=54,
        number="第145054号",
        title="抓住转型发展机遇，加快推动重点产业培育",  # 关于《…》的提案
        proposers=((SECTOR_GROUP, "民建界别组"),),
        lead_unit="ptfgw",
        co_units=(),
        assigned_on=datetime.date(2021, 2, 1),
        letter_date=datetime.date(2021, 4, 30),
    ),
)


# --- The synthetic session ------------------------------------------------------------------

# What happens to a synthetic proposal; each is one function in ``_Loader``.
DRAFT = "draft"
SUBMITTED = "submitted"
RETURNED = "returned"
RESUBMITTED = "resubmitted"
NOT_FILED = "not_filed"
MERGED = "merged"
FILED = "filed"
WITHDRAWN_ALL = "withdrawn_all"  # the only unit was let go: back to 已立案
PENDING = "pending"
RETURN_REQUESTED = "return_requested"
REASSIGNED = "reassigned"  # lead withdrawn, another unit leads
REFUSED = "refused"  # reassignment refused: back to 办理中
ACCEPTED = "accepted"
OVERDUE = "overdue"
DUE_SOON = "due_soon"
EXTENDED = "extended"
KEY = "key"
SEPARATES = "separates"

ASSIGNED_KINDS = frozenset(
    {
        WITHDRAWN_ALL,
        PENDING,
        RETURN_REQUESTED,
        REASSIGNED,
        REFUSED,
        ACCEPTED,
        OVERDUE,
        DUE_SOON,
        EXTENDED,
        KEY,
        SEPARATES,
    }
)

C = Proposal.Category
D = Proposal.Disposition


@dataclass(frozen=True)
class Topic:
    kind: str
    title: str
    category: str
    lead: str = ""  # unit code (for SEPARATES: the first separate unit)
    co: tuple[str, ...] = ()  # unit codes (for SEPARATES: the other separate units)
    days_ago: int = 0  # assigned (or, if never assigned, submitted) this many days before today
    reply_due_in: int | None = None  # instead of days_ago: the reply is due this many days on
    proposer: ProposerKey | None = None  # instead of a random synthetic member
    co_count: int | None = None  # instead of a random number of co-signers
    disposition: str = ""
    merge_into: str = ""  # title
    new_lead: str = ""  # REASSIGNED: the unit that leads after the withdrawal
    new_lead_accepts: bool = True
    reason: str = ""
    decision_note: str = ""
    co_pending: bool = False  # one co-handling unit has not signed for it yet


TOPICS: tuple[Topic, ...] = (
    Topic(
        DRAFT,
        "关于支持在线新经济企业拓展应用场景的建议",
        C.ECONOMY,
        proposer=(MEMBER, "沈汕"),
        co_count=0,
    ),
    Topic(DRAFT, "关于增加社区托育服务供给的建议", C.SOCIETY),
    Topic(DRAFT, "关于加强中小学校园周边交通安全管理的建议", C.URBAN),
    Topic(SUBMITTED, "关于推进口袋公园建设的建议", C.ECOLOGY, days_ago=3),
    Topic(SUBMITTED, "关于加大科技型中小企业培育力度的建议", C.ECONOMY, days_ago=6),
    Topic(SUBMITTED, "关于完善“15分钟就业服务圈”的建议", C.SOCIETY, days_ago=9),
    Topic(
        RETURNED,
        "关于优化人才公寓申请流程的建议",
        C.SOCIETY,
        days_ago=18,
        proposer=(MEMBER, "沈汕"),
        co_count=1,
        reason="请补充人才公寓申请中遇到的具体问题及数据，并明确建议的承办部门。",
    ),
    Topic(
        RETURNED,
        "关于提升城市治理水平的建议",
        C.URBAN,
        days_ago=25,
        reason="案由过于宽泛，建议聚焦一个具体问题，补充情况分析后重新提交。",
    ),
    Topic(
        RESUBMITTED,
        "关于推进既有建筑节能降碳改造的建议",
        C.ECOLOGY,
        days_ago=30,
        reason="请补充本区既有公共建筑能耗情况。",
    ),
    Topic(
        NOT_FILED,
        "关于解决某小区周边占道经营问题的建议",
        C.URBAN,
        days_ago=75,
        disposition=D.SOCIAL_INFO,
        decision_note="反映的是具体点位问题，转社情民意信息由街道处理。",
    ),
    Topic(
        NOT_FILED,
        "关于调整个别居民区停车收费标准的建议",
        C.URBAN,
        days_ago=68,
        disposition=D.MEMBER_LETTER,
        decision_note="属个案诉求，转委员来信办理。",
    ),
    Topic(
        NOT_FILED,
        "关于争取增开虹桥机场国际航线的建议",
        C.ECONOMY,
        days_ago=60,
        disposition=D.REFERENCE,
        decision_note="事项不属区级事权，转参阅件供有关部门参考。",
    ),
    Topic(
        NOT_FILED,
        "关于提高本市医保门诊报销比例的建议",
        C.SOCIETY,
        days_ago=55,
        disposition=D.OTHER,
        decision_note="属市级事权，转送市政协提案委员会。",
    ),
    Topic(
        MERGED,
        "关于完善长者食堂布局的建议",
        C.SOCIETY,
        days_ago=50,
        merge_into="关于加强老年人助餐服务的建议",
    ),
    Topic(
        MERGED,
        "关于加强沿街商铺垃圾分类管理的建议",
        C.ECOLOGY,
        days_ago=45,
        merge_into="关于提升垃圾分类实效的建议",
    ),
    Topic(
        FILED,
        "关于推进政务服务“高效办成一件事”的建议",
        C.POLITICS,
        "sjj",
        ("scjg",),
        days_ago=12,
    ),
    Topic(
        FILED,
        "关于加强新就业形态劳动者权益保障的建议",
        C.SOCIETY,
        "rsj",
        ("sfj",),
        days_ago=10,
    ),
    Topic(
        WITHDRAWN_ALL,
        "关于提升公租房运营管理水平的建议",
        C.SOCIETY,
        "rcj",
        days_ago=20,
        reason="公租房运营管理属区房管局职责，建议改由区房管局主办。",
        decision_note="同意退回，另行交办区房管局。",
    ),
    Topic(
        PENDING,
        "关于加快推进15分钟社区生活圈建设的建议",
        C.URBAN,
        "gzj",
        ("mzj", "swc"),
        days_ago=2,
    ),
    Topic(
        PENDING,
        "关于推动人工智能大模型产业集聚发展的建议",
        C.ECONOMY,
        "kw",
        ("sjj", "tcb"),
        days_ago=3,
    ),
    Topic(PENDING, "关于加强预付卡消费监管的建议", C.ECONOMY, "scjg", ("swc",), days_ago=4),
    Topic(
        RETURN_REQUESTED,
        "关于推进公共法律服务体系建设的建议",
        C.POLITICS,
        "czj",
        ("sfj",),
        days_ago=8,
        reason="本件主要涉及公共法律服务，建议改由区司法局主办，我局会办经费保障部分。",
    ),
    Topic(
        RETURN_REQUESTED,
        "关于打造虹桥国际中央商务区人才服务高地的建议",
        C.ECONOMY,
        "rsj",
        ("rcj",),
        days_ago=5,
        reason="人才服务体系建设由区人才工作局牵头，建议改由区人才局主办。",
    ),
    Topic(
        REASSIGNED,
        "关于进一步推进老旧小区加装电梯的建议",
        C.URBAN,
        "gzj",
        ("scjg",),
        days_ago=40,
        new_lead="fgj",
        reason="既有多层住宅加装电梯由区房管局牵头推进，建议改由区房管局主办。",
        decision_note="同意，改由区房管局主办。",
    ),
    Topic(
        REASSIGNED,
        "关于规范住宅小区物业管理的建议",
        C.URBAN,
        "mzj",
        ("sfj",),
        days_ago=16,
        new_lead="fgj",
        new_lead_accepts=False,
        reason="物业管理行业监管属区房管局职责。",
        decision_note="同意，改由区房管局主办。",
    ),
    Topic(
        REFUSED,
        "关于加强社区矛盾纠纷多元化解的建议",
        C.POLITICS,
        "sfj",
        ("mzj",),
        days_ago=35,
        reason="矛盾纠纷化解主要在街道层面，建议改由相关街道办理。",
        decision_note="人民调解工作的指导属贵局职责，请继续主办，街道意见可会同听取。",
    ),
    Topic(
        OVERDUE,
        "关于持续优化营商环境的建议",
        C.ECONOMY,
        "cnfgw",
        ("scjg", "sjj"),
        reply_due_in=-12,
    ),
    Topic(
        OVERDUE,
        "关于推进楼宇经济提质增效的建议",
        C.ECONOMY,
        "tcb",
        ("swc",),
        reply_due_in=-25,
    ),
    Topic(
        DUE_SOON,
        "关于发展首发经济、提升商圈能级的建议",
        C.ECONOMY,
        "swc",
        ("tcb",),
        reply_due_in=3,
    ),
    Topic(
        DUE_SOON,
        "关于加强老年人助餐服务的建议",
        C.SOCIETY,
        "mzj",
        ("scjg",),
        reply_due_in=6,
    ),
    Topic(
        DUE_SOON,
        "关于提升垃圾分类实效的建议",
        C.ECOLOGY,
        "lhsr",
        ("fgj",),
        reply_due_in=10,
    ),
    Topic(
        EXTENDED,
        "关于盘活低效产业用地的建议",
        C.ECONOMY,
        "gzj",
        ("cnfgw",),
        days_ago=125,
        reason="涉及多个地块的规划调整，需待区域控制性详细规划批复后答复。",
    ),
    Topic(
        EXTENDED,
        "关于推动历史风貌区保护与城市更新的建议",
        C.URBAN,
        "gzj",
        ("fgj",),
        days_ago=102,
        reason="需会同市规划资源局研究保护更新政策，申请延期答复。",
    ),
    Topic(
        KEY,
        "关于推进绿色低碳产业发展的建议",
        C.ECONOMY,
        "cnfgw",
        ("kw", "swc"),
        days_ago=160,
        co_count=4,
    ),
    Topic(
        SEPARATES,
        "关于加快发展数字贸易和跨境电商的建议",
        C.ECONOMY,
        "swc",
        ("sjj",),
        days_ago=55,
    ),
    Topic(
        ACCEPTED,
        "关于完善社区嵌入式养老服务的建议",
        C.SOCIETY,
        "mzj",
        ("fgj",),
        days_ago=30,
        co_pending=True,
    ),
    Topic(ACCEPTED, "关于加强公共数据开放共享的建议", C.ECONOMY, "sjj", ("kw",), days_ago=38),
    Topic(ACCEPTED, "关于促进高校毕业生就业创业的建议", C.SOCIETY, "rsj", ("rcj",), days_ago=47),
    Topic(
        ACCEPTED,
        "关于优化中小企业融资服务的建议",
        C.ECONOMY,
        "czj",
        ("swc", "tcb"),
        days_ago=60,
    ),
    Topic(
        ACCEPTED,
        "关于加强知识产权保护和运用的建议",
        C.ECONOMY,
        "scjg",
        ("sfj",),
        days_ago=72,
    ),
    Topic(
        ACCEPTED,
        "关于推进社区医养结合服务的建议",
        C.SOCIETY,
        "mzj",
        days_ago=66,
        proposer=(PARTY, "农工党区委"),
        co_count=0,
    ),
)
del C, D

KEY_LEADER = "分管副区长"
KEY_REPLY_MONTHS = 6

CONTACT_NOTES = {
    ContactRecord.Method.MEETING: "上门走访提案者，介绍办理思路，听取意见，商定下一步安排。",
    ContactRecord.Method.PHONE: "电话沟通办理进展，提案者表示理解并提出补充意见。",
    ContactRecord.Method.WRITTEN: "书面征询提案者意见，寄送办理方案初稿。",
}


@dataclass(frozen=True)
class PlannedProposal:
    """A topic with everything the random generator decides about it."""

    topic: Topic
    lead: ProposerKey
    co: tuple[ProposerKey, ...]
    jitter: int  # 0–3 days, so dates do not all fall on the same weekday
    contact_after: tuple[int, int]  # days after assignment of the first and second contact
    contact_methods: tuple[str, str]


def plan_synthetic() -> list[PlannedProposal]:
    """Draw the random choices of every synthetic proposal, always in the same order.

    The plan is the same on every run (one ``random.Random(DEMO_SEED)``), whether or not the
    proposals already exist.
    """
    rng = random.Random(DEMO_SEED)
    pool = [p.key for p in SYNTHETIC_MEMBERS]
    methods = [m for m in ContactRecord.Method.values if m in CONTACT_NOTES]
    plan = []
    for topic in TOPICS:
        lead = topic.proposer or rng.choice(pool)
        count = topic.co_count
        if count is None:
            count = rng.choices([0, 1, 2, 3, 4], weights=[35, 25, 20, 15, 5])[0]
        co = tuple(rng.sample([k for k in pool if k != lead], count))
        plan.append(
            PlannedProposal(
                topic=topic,
                lead=lead,
                co=co,
                jitter=rng.randint(0, 3),
                contact_after=(rng.randint(3, 12), rng.randint(15, 25)),
                contact_methods=(rng.choice(methods), rng.choice(methods)),
            )
        )
    return plan


# --- Permissions ----------------------------------------------------------------------------

#: Unit staff: view and handle their assignments, log contacts, read the proposal.
UNIT_STAFF_PERMISSIONS = (
    "view_assignment",
    "change_assignment",
    "view_contactrecord",
    "add_contactrecord",
    "change_contactrecord",
    "view_proposal",
    "view_duedate",
    "view_extension",
)


def _group_permissions(name: str) -> list[Permission]:
    proposals = Permission.objects.filter(content_type__app_label="proposals")
    if name == COMMITTEE_GROUP:
        # Everything in the proposals app except editing accounts: change_user would let the
        # committee make anyone a superuser through the admin.
        user_ct = ContentType.objects.get_for_model(User)
        return list(
            proposals.exclude(
                content_type=user_ct, codename__in=["add_user", "change_user", "delete_user"]
            )
        )
    if name == SUPERVISION_GROUP:
        return list(proposals.filter(codename__startswith="view_"))
    return list(proposals.filter(codename__in=UNIT_STAFF_PERMISSIONS))


# --- The loader -----------------------------------------------------------------------------


@dataclass
class DemoReport:
    created: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    users: list[tuple[UserSpec, bool]] = field(default_factory=list)  # (spec, password is set)


def _at(d: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(d, datetime.time(hour, 0)))


class _Loader:
    def __init__(self, *, reset_passwords: bool = False) -> None:
        self.reset_passwords = reset_passwords
        self.report = DemoReport()
        self.calendar = WorkCalendar()
        self.units: dict[str, Unit] = {}
        self.sessions: dict[SessionKey, Session] = {}
        self.proposers: dict[ProposerKey, Proposer] = {}
        self.users: dict[str, User] = {}
        self.clerks: dict[str, User] = {}

    # --- reference data ----------------------------------------------------------------------

    def load(self) -> DemoReport:
        self.load_groups()
        self.load_units()
        self.load_users()
        self.load_sessions()
        self.load_proposers()
        self.link_proposer_users()
        self.load_seed_proposals()
        self.load_synthetic_proposals()
        demo_replies.load_seed_replies(committee=self.committee, count=self._count)
        demo_replies.load_synthetic_replies(
            session=self.sessions[CURRENT_SESSION], committee=self.committee, count=self._count
        )
        return self.report

    def _count(self, what: str, created: bool) -> None:
        (self.report.created if created else self.report.skipped)[what] += 1

    def load_groups(self) -> None:
        for name in (COMMITTEE_GROUP, SUPERVISION_GROUP, UNIT_STAFF_GROUP):
            group, created = Group.objects.get_or_create(name=name)
            self._count("group", created)
            if created:
                group.permissions.set(_group_permissions(name))

    def load_units(self) -> None:
        for spec in UNITS:
            unit, created = Unit.objects.get_or_create(
                name=spec.name,
                defaults={
                    "short_name": spec.short_name,
                    "organ_name": spec.organ_name,
                    "docno_prefix": spec.docno_prefix,
                    "letter_format": spec.letter_format,
                    "address": spec.address,
                    "postcode": spec.postcode,
                    "phone": spec.phone,
                    "contact_name": spec.contact_name,
                    "contact_phone": spec.contact_phone,
                },
            )
            self._count("unit", created)
            self.units[spec.code] = unit

    def load_users(self) -> None:
        groups = {g.name: g for g in Group.objects.filter(name__in=self._group_names())}
        for spec in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=spec.username,
                defaults={
                    "full_name": spec.full_name,
                    "email": f"{spec.username}@example.org",
                    "office": spec.office,
                    "phone": spec.phone,
                    "is_staff": spec.is_staff or spec.is_superuser,
                    "is_superuser": spec.is_superuser,
                },
            )
            self._count("user", created)
            if created or self.reset_passwords:
                validate_password(spec.password, user)
                user.set_password(spec.password)
                user.save(update_fields=["password"])
            self.report.users.append((spec, created or self.reset_passwords))
            if created:
                user.groups.add(*(groups[name] for name in spec.groups))
            if spec.membership:
                _m, m_created = Membership.objects.get_or_create(
                    user=user, unit=self.units[spec.unit], role=spec.membership
                )
                self._count("membership", m_created)
                if spec.membership == Membership.Role.CLERK:
                    self.clerks.setdefault(spec.unit, user)
            self.users[spec.username] = user
        missing = {u.code for u in UNITS} - set(self.clerks)
        if missing:
            raise RuntimeError(f"units without a demo clerk: {sorted(missing)}")

    @staticmethod
    def _group_names() -> set[str]:
        return {name for spec in DEMO_USERS for name in spec.groups}

    @property
    def committee(self) -> User:
        return self.users["committee"]

    def load_sessions(self) -> None:
        for spec in SESSIONS:
            session, created = Session.objects.get_or_create(
                district=spec.district,
                term=spec.term,
                meeting=spec.meeting,
                defaults={
                    "name": spec.name,
                    "year": spec.year,
                    "number_template": spec.number_template,
                },
            )
            self._count("session", created)
            self.sessions[spec.key] = session

    def load_proposers(self) -> None:
        for index, spec in enumerate(ALL_PROPOSERS):
            # (kind, name) is not unique in the database: take the oldest if there are several.
            proposer = (
                Proposer.objects.filter(kind=spec.kind, name=spec.name).order_by("pk").first()
            )
            created = proposer is None
            if created:
                proposer = Proposer.objects.create(
                    kind=spec.kind,
                    name=spec.name,
                    sector=spec.sector,
                    **proposer_contact(index, spec),
                )
            self._count("proposer", created)
            self.proposers[spec.key] = proposer

    def link_proposer_users(self) -> None:
        for spec in DEMO_USERS:
            if spec.proposer is None:
                continue
            proposer = self.proposers[spec.proposer]
            user = self.users[spec.username]
            if proposer.user_id is None and not Proposer.objects.filter(user=user).exists():
                proposer.user = user
                proposer.save(update_fields=["user"])

    # --- proposals: shared steps ---------------------------------------------------------------

    def _new_proposal(
        self,
        session: Session,
        title: str,
        category: str,
        lead: ProposerKey,
        co: tuple[ProposerKey, ...],
        **extra,
    ) -> Proposal:
        proposal = Proposal.objects.create(
            session=session,
            title=title,
            category=category,
            lead_proposer=self.proposers[lead],
            **extra,
        )
        CoProposer.objects.bulk_create(
            CoProposer(proposal=proposal, proposer=self.proposers[key], position=i)
            for i, key in enumerate(co, start=1)
        )
        self._count("proposal", True)
        return proposal

    def _file_as(self, proposal: Proposal, serial: int) -> Proposal:
        """File a historical proposal under its real serial (see the module docstring)."""
        session = Session.objects.select_for_update().get(pk=proposal.session_id)
        previous = session.last_serial
        Session.objects.filter(pk=session.pk).update(last_serial=serial - 1)
        proposal = workflow.file_proposal(proposal, actor=self.committee, note="历史数据导入")
        Session.objects.filter(pk=session.pk).update(last_serial=max(previous, serial))
        return proposal

    def _assign(
        self, proposal: Proposal, units: list[tuple[str, str]], on: datetime.date
    ) -> list[Assignment]:
        return workflow.assign_proposal(
            proposal,
            actor=self.committee,
            units=[(self.units[code], role) for code, role in units],
            assigned_on=on,
        )

    def _accept(self, assignment: Assignment) -> Assignment:
        return workflow.accept_assignment(assignment, actor=self.clerks[self._code(assignment)])

    def _code(self, assignment: Assignment) -> str:
        return next(code for code, unit in self.units.items() if unit.pk == assignment.unit_id)

    def _contact(
        self, assignment: Assignment, on: datetime.date, method: str
    ) -> ContactRecord | None:
        on = min(on, DEMO_TODAY - datetime.timedelta(days=1), proposal_models.today())
        if on < assignment.assigned_on:
            return None
        clerk = self.clerks[self._code(assignment)]
        proposers = assignment.proposal.proposers()
        record = workflow.log_contact(
            assignment,
            actor=clerk,
            contacted_on=on,
            method=method,
            proposers=proposers,
            participants="、".join([clerk.full_name, *(p.name for p in proposers)]),
            notes=CONTACT_NOTES[method],
        )
        self._count("contact", True)
        return record

    def _backdate_submission(
        self, proposal: Proposal, submitted_on: datetime.date, filed_on: datetime.date | None
    ) -> None:
        """Move the "now" timestamps of submitting and filing back into the record's history."""
        Proposal.objects.filter(pk=proposal.pk, submitted_at__isnull=False).update(
            submitted_at=_at(submitted_on, 9)
        )
        CoProposer.objects.filter(proposal=proposal).update(
            confirmed_at=_at(submitted_on - datetime.timedelta(days=1), 16)
        )
        if filed_on is not None:
            Proposal.objects.filter(pk=proposal.pk, filed_at__isnull=False).update(
                filed_at=_at(filed_on, 15)
            )

    def _backdate_acceptance(self, proposal: Proposal) -> None:
        """Each unit signed for its assignment the working day after it was assigned."""
        for a in proposal.assignments.filter(accepted_at__isnull=False):
            accepted_on = self.calendar.next_workday(a.assigned_on + datetime.timedelta(days=1))
            Assignment.objects.filter(pk=a.pk).update(accepted_at=_at(accepted_on))

    def _workday_on_or_before(self, d: datetime.date) -> datetime.date:
        while not self.calendar.is_workday(d):
            d -= datetime.timedelta(days=1)
        return d

    # --- the seed proposals ------------------------------------------------------------------

    def load_seed_proposals(self) -> None:
        for spec in SEED_PROPOSALS:
            session = self.sessions[spec.session]
            if session.format_number(spec.serial) != spec.number:
                raise ValueError(
                    f"{spec.source}: {session} 的编号格式给出 {session.format_number(spec.serial)}"
                    f"，信中是 {spec.number}"
                )
            if Proposal.objects.filter(session=session, number=spec.number).exists():
                self._count("proposal", False)
                continue
            lead, *co = spec.proposers
            proposal = self._new_proposal(session, spec.title, Proposal.Category.ECONOMY, lead, co)
            workflow.submit_proposal(proposal, actor=self.committee)
            self._file_as(proposal, spec.serial)
            units = [(spec.lead_unit, LEAD)] + [(code, CO) for code in spec.co_units]
            for assignment in self._assign(proposal, units, spec.assigned_on):
                self._accept(assignment)
            self._backdate_submission(
                proposal,
                submitted_on=spec.assigned_on - datetime.timedelta(days=21),
                filed_on=spec.assigned_on - datetime.timedelta(days=7),
            )
            self._backdate_acceptance(proposal)

    # --- the synthetic session ---------------------------------------------------------------

    def _start(self, item: PlannedProposal) -> datetime.date:
        """The day the story of the proposal starts: its assignment, or else its submission."""
        topic = item.topic
        if topic.reply_due_in is not None:
            due = DEMO_TODAY + datetime.timedelta(days=topic.reply_due_in)
            return self._workday_on_or_before(deadlines.add_months(due, -3))
        days = topic.days_ago + (item.jitter if topic.days_ago > 10 else 0)
        start = DEMO_TODAY - datetime.timedelta(days=days)
        return self._workday_on_or_before(start) if topic.kind in ASSIGNED_KINDS else start

    def load_synthetic_proposals(self) -> None:
        session = self.sessions[CURRENT_SESSION]
        plan = plan_synthetic()
        # Numbers go by filing date; merges come last, when their target is filed.
        plan.sort(key=lambda item: (item.topic.kind == MERGED, self._start(item)))
        for item in plan:
            if Proposal.objects.filter(session=session, title=item.topic.title).exists():
                self._count("proposal", False)
                continue
            topic = item.topic
            extra = {}
            if topic.kind == KEY:
                extra = {
                    "is_key": True,
                    "supervising_leader": KEY_LEADER,
                    "key_reply_months": KEY_REPLY_MONTHS,
                }
            proposal = self._new_proposal(
                session, topic.title, topic.category, item.lead, item.co, **extra
            )
            start = self._start(item)
            getattr(self, f"_story_{topic.kind}")(proposal, item, start)

    def _submit(self, proposal: Proposal, on: datetime.date, filed_on=None) -> Proposal:
        proposal = workflow.submit_proposal(proposal, actor=self.committee)
        if filed_on is not None:
            proposal = workflow.file_proposal(proposal, actor=self.committee)
        self._backdate_submission(proposal, on, filed_on)
        return proposal

    def _story_draft(self, proposal, item, start) -> None:
        pass

    def _story_submitted(self, proposal, item, start) -> None:
        self._submit(proposal, start)

    def _story_returned(self, proposal, item, start) -> None:
        self._submit(proposal, start)
        workflow.return_proposal(proposal, actor=self.committee, reason=item.topic.reason)

    def _story_resubmitted(self, proposal, item, start) -> None:
        self._story_returned(proposal, item, start)
        workflow.resubmit_proposal(proposal, actor=self.committee)
        self._backdate_submission(proposal, start + datetime.timedelta(days=12), None)

    def _story_not_filed(self, proposal, item, start) -> None:
        self._submit(proposal, start)
        workflow.not_file_proposal(
            proposal,
            actor=self.committee,
            disposition=item.topic.disposition,
            note=item.topic.decision_note,
        )

    def _story_merged(self, proposal, item, start) -> None:
        self._submit(proposal, start)
        target = Proposal.objects.get(session=proposal.session, title=item.topic.merge_into)
        workflow.merge_proposal(proposal, into=target, actor=self.committee)

    def _story_filed(self, proposal, item, start) -> None:
        self._submit(proposal, start, filed_on=start + datetime.timedelta(days=5))

    def _assigned(
        self, proposal: Proposal, item: PlannedProposal, on: datetime.date, *, role: str = LEAD
    ) -> tuple[Assignment, list[Assignment]]:
        """Submit, file and assign; return the lead (or first separate) and the others."""
        self._submit(
            proposal,
            on - datetime.timedelta(days=21 + item.jitter),
            filed_on=on - datetime.timedelta(days=6),
        )
        other_role = SEPARATE if role == SEPARATE else CO
        units = [(item.topic.lead, role)] + [(code, other_role) for code in item.topic.co]
        first, *others = self._assign(proposal, units, on)
        return first, others

    def _handle(self, item: PlannedProposal, assignment: Assignment, *, contacts: int = 2) -> None:
        """The unit signs for it and talks with the proposers."""
        self._accept(assignment)
        for n in range(contacts):
            on = assignment.assigned_on + datetime.timedelta(days=item.contact_after[n])
            self._contact(assignment, on, item.contact_methods[n])

    def _story_pending(self, proposal, item, start) -> None:
        self._assigned(proposal, item, start)

    def _story_accepted(self, proposal, item, start) -> None:
        lead, cos = self._assigned(proposal, item, start)
        self._handle(item, lead)
        for i, co in enumerate(cos):
            if item.topic.co_pending and i == len(cos) - 1:
                continue
            self._handle(item, co, contacts=0)
        self._backdate_acceptance(proposal)

    def _story_overdue(self, proposal, item, start) -> None:
        lead, cos = self._assigned(proposal, item, start)
        # the later of the two has not even met its proposers yet
        self._handle(item, lead, contacts=1 if item.topic.reply_due_in > -20 else 0)
        for co in cos:
            self._handle(item, co, contacts=0)
        self._backdate_acceptance(proposal)

    _story_due_soon = _story_accepted
    _story_key = _story_accepted

    def _story_separates(self, proposal, item, start) -> None:
        first, others = self._assigned(proposal, item, start, role=SEPARATE)
        for assignment in (first, *others):
            self._handle(item, assignment, contacts=1)
        self._backdate_acceptance(proposal)

    def _story_extended(self, proposal, item, start) -> None:
        lead, cos = self._assigned(proposal, item, start)
        self._handle(item, lead)
        for co in cos:
            self._handle(item, co, contacts=0)
        wanted = DEMO_TODAY + datetime.timedelta(days=26 + 14 * item.jitter)
        new_due = min(self.calendar.next_workday(wanted), deadlines.max_reply_due(start))
        workflow.extend_assignment(
            lead, actor=self.committee, new_due_on=new_due, reason=item.topic.reason
        )
        self._count("extension", True)
        self._backdate_acceptance(proposal)

    def _request(self, assignment: Assignment, item: PlannedProposal, days: int) -> None:
        workflow.request_reassignment(
            assignment,
            actor=self.clerks[self._code(assignment)],
            reason=item.topic.reason,
            on=assignment.assigned_on + datetime.timedelta(days=days),
        )

    def _story_return_requested(self, proposal, item, start) -> None:
        lead, cos = self._assigned(proposal, item, start)
        for co in cos:
            self._accept(co)
        self._request(lead, item, 3)
        self._backdate_acceptance(proposal)

    def _story_withdrawn_all(self, proposal, item, start) -> None:
        lead, _cos = self._assigned(proposal, item, start)
        self._request(lead, item, 4)
        workflow.approve_reassignment(lead, actor=self.committee, note=item.topic.decision_note)
        self._backdate_acceptance(proposal)

    def _story_reassigned(self, proposal, item, start) -> None:
        lead, cos = self._assigned(proposal, item, start)
        for co in cos:
            self._handle(item, co, contacts=0)
        self._request(lead, item, 3)
        workflow.approve_reassignment(lead, actor=self.committee, note=item.topic.decision_note)
        again = self._workday_on_or_before(start + datetime.timedelta(days=8))
        (new_lead,) = self._assign(proposal, [(item.topic.new_lead, LEAD)], again)
        if item.topic.new_lead_accepts:
            self._accept(new_lead)
            self._contact(new_lead, again + datetime.timedelta(days=6), item.contact_methods[0])
        self._backdate_acceptance(proposal)

    def _story_refused(self, proposal, item, start) -> None:
        lead, cos = self._assigned(proposal, item, start)
        self._accept(lead)
        for co in cos:
            self._accept(co)
        self._request(lead, item, 5)
        workflow.refuse_reassignment(lead, actor=self.committee, note=item.topic.decision_note)
        self._contact(lead, start + datetime.timedelta(days=12), item.contact_methods[0])
        self._backdate_acceptance(proposal)


def load_demo(*, reset_passwords: bool = False) -> DemoReport:
    """Create whatever of the demo data is missing, in one transaction."""
    # The demo's history happened "long ago": nobody is to be notified of it.
    with events.silenced(), transaction.atomic():
        return _Loader(reset_passwords=reset_passwords).load()
