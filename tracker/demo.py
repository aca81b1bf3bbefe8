"""Demo data for ``manage.py load_demo``: the four seed letters' proposals, and a session of
synthetic proposals in every state, with logins for every role.

The facts of the seed letters (titles, names, numbers, units, dates, contact blocks) are typed in
below from ``replies/seeds/00*.txt``; nothing parses the letters at run time.

Idempotent: every object is looked up by its natural key first (usernames, unit names,
(district, term, meeting) of sessions, (kind, name) of proposers, (session, number) of the seed
proposals and (session, title) of the synthetic ones) and an object that exists is left exactly as
it is, so a second run creates nothing and changes nothing.

Every status is reached through ``proposals.workflow`` — the demo replays each record's history
through the verbs, each by the person who took the step: a proposal is drafted and submitted by
its lead proposer (every proposer has an account; a group or party has a collective one), its
co-signers confirm it themselves, the committee files, returns, merges and assigns it, a unit's
clerk signs for it and logs the contacts. Two things a live workflow would not do:

* the seed proposals keep their real numbers (061, 050, 152045, 145054): before filing one, the
  session's ``last_serial`` is set to the serial before it, so ``file_proposal`` hands out exactly
  the real serial, and afterwards ``last_serial`` goes back to the highest serial in use;
* every step runs under the story's clock (``demo_replies.story_clock``), so that what the verbs
  stamp "now" — the audit trail (``Transition``), submitted/filed/accepted times, contacts,
  completed due dates, letters and feedback — is the day of the record's history it happened on,
  in order, and never after the story's "today", not the moment the demo was loaded.

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
from proposals.models import (
    Assignment,
    ContactRecord,
    DueDate,
    Membership,
    Proposal,
    Proposer,
    Session,
    Unit,
    User,
)
from proposals.workdays import WorkCalendar
from tracker import demo_replies
from tracker.demo_replies import at, story_clock

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


@dataclass(frozen=True)
class StoryDates:
    """The days a synthetic proposal was drafted, submitted, filed and assigned (as far as its
    story goes)."""

    drafted: datetime.date
    submitted: datetime.date | None = None
    filed: datetime.date | None = None
    assigned: datetime.date | None = None

    @property
    def first_day(self) -> datetime.date:
        """The day it took its number, or else the last day it got to."""
        return self.filed or self.submitted or self.drafted


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


# --- What the proposals say -----------------------------------------------------------------


@dataclass(frozen=True)
class ProposalText:
    """情况分析 and 具体建议 of a proposal, as its proposers wrote them (the demo's own words;
    the seed letters give only the titles). A draft may not have its suggestions yet.
    ``revision`` is what a proposal the committee returned gained before it was resubmitted.
    """

    analysis: str
    suggestions: str = ""
    revision: str = ""


def _points(*points: str) -> str:
    numerals = "一二三四五六七八九"
    return "\n".join(f"{numerals[i]}、{point}" for i, point in enumerate(points))


PROPOSAL_TEXTS: dict[str, ProposalText] = {
    # --- the seed proposals: what the letters answer, in the proposers' terms
    "关于新形势下开展科学招商、精准引资的建议": ProposalText(
        "招商引资是稳增长、增税源的重要抓手。当前各区招商竞争日趋激烈，本区土地资源基本饱和，"
        "商务楼宇的租金和品质与周边区域相比优势不明显，部分龙头企业、规模企业存在外迁压力。"
        "同时，招商工作仍存在信息分散、部门各自为战、对产业链研究不深等问题，"
        "“广撒网”式招商成本高、成效不稳定。",
        _points(
            "绘制重点产业链图谱，找准本区产业链上下游的缺失环节，按图索骥开展精准招商。",
            "建立全区招商信息共享平台，汇集楼宇空间、政策条款和企业走访信息，"
            "实现企业需求与载体资源的智能匹配。",
            "完善投促、发改、商务、科技、规划资源等部门的协同机制，"
            "对重大项目实行专班服务、全程跟踪。",
            "加强存量企业服务，建立重点企业迁出预警机制，稳住税源基本盘。",
        ),
    ),
    "关于推进长宁产业发展的建议": ProposalText(
        "数字经济已成为本区经济增长的主引擎，但产业空间受限，部分老旧商务楼宇和厂房利用效率不高，"
        "新兴赛道企业“引得来、留不住”的情况时有发生。与周边区相比，"
        "本区产业发展模式仍偏重存量服务，对新技术、新业态的培育力度有待加强。",
        _points(
            "聚焦在线新经济、人工智能、元宇宙等新赛道，出台有针对性的扶持政策，"
            "培育一批成长性好的数字企业。",
            "以城市更新带动产业更新，推动低效楼宇、老旧厂房改造为产业园区，提升单位面积产出。",
            "探索“楼宇+园区+街区”的发展模式，完善产业配套和人才安居服务，增强企业扎根长宁的意愿。",
        ),
    ),
    "关于推进产业内循环招商": ProposalText(
        "本区四大重点产业体量逐年增长，但产业链条仍不够完整，部分关键配套依赖区外企业，"
        "区内企业之间的业务往来和协作不多。随着外部招商竞争加剧，单纯依靠引进新企业做大总量"
        "越来越难，挖掘存量企业上下游资源、以商引商的潜力尚未充分释放。",
        _points(
            "梳理重点产业龙头企业的供应商和客户名录，引导其上下游配套企业在区内落户。",
            "搭建区内企业供需对接平台，定期举办产业链对接活动，促进区内企业相互采购、协同创新。",
            "对产业链招商成效明显的企业和街镇给予激励，形成以商引商的良性循环。",
        ),
    ),
    "抓住转型发展机遇，加快推动重点产业培育": ProposalText(
        "普陀作为传统老工业区，已基本完成从工业向现代服务业的转型，但经济发展基础还不够坚实，"
        "区域产业支撑尚未形成，新的增长点和竞争优势不够明显，经济密度与中心城区平均水平仍有差距。"
        "“十四五”开局之年，是加快培育重点产业、重塑区域竞争力的关键窗口期。",
        _points(
            "在“十四五”规划中明确重点培育产业及其发展目标，分产业制定专项规划和扶持政策。",
            "建立重点产业推进专班，由区领导牵头，统筹招商、载体、人才、金融等资源。",
            "加快建设特色产业园区和公共服务平台，提升产业集聚度和显示度。",
            "加大对科技金融、研发服务等领域优质企业的引进和培育力度。",
        ),
    ),
    # --- drafts: still being written
    "关于支持在线新经济企业拓展应用场景的建议": ProposalText(
        "本区集聚了一批在线新经济企业，不少企业反映，新产品、新服务缺少在真实场景中试用的机会，"
        "政府部门和公共机构开放应用场景的渠道不畅，企业只能“自找门路”。",
        _points(
            "定期发布政务服务、城市管理、社区服务等领域的应用场景清单。",
            "设立场景对接专窗，为企业与需求单位牵线搭桥。",
        ),
    ),
    "关于增加社区托育服务供给的建议": ProposalText(
        "随着生育支持政策的实施，双职工家庭对3岁以下婴幼儿托育服务的需求明显增加。"
        "目前本区普惠性托育点数量有限，部分街道托位“一位难求”，"
        "收费较高的民办机构又让不少家庭望而却步。"
    ),
    "关于加强中小学校园周边交通安全管理的建议": ProposalText(
        "上下学高峰时段，部分中小学校门口接送车辆临时停靠、行人与车辆混行的现象突出，"
        "校园周边道路拥堵，学生通行存在安全隐患。"
    ),
    # --- submitted, returned, not filed, merged
    "关于推进口袋公园建设的建议": ProposalText(
        "本区建成区密度高，大型公园绿地分布不均，部分老旧居住区的居民步行15分钟内"
        "难以到达成规模的绿地。街角、边角地和闲置地块经过改造，可以成为居民家门口的休憩空间，"
        "但目前口袋公园建设缺乏统筹规划，建成后的管养责任也不够明确。",
        _points(
            "开展全区边角地、闲置地块摸底，形成口袋公园建设储备清单。",
            "在设计阶段征求周边居民意见，兼顾休憩、健身和儿童游戏功能。",
            "明确建成后的管养主体和经费来源，鼓励周边单位和居民参与认养。",
        ),
    ),
    "关于加大科技型中小企业培育力度的建议": ProposalText(
        "科技型中小企业是创新最活跃的群体。调研中了解到，本区不少初创科技企业面临融资难、"
        "研发投入不足、专业人才招聘难等问题；现有扶持政策分散在多个部门，"
        "申报门槛和流程对小微企业不够友好。",
        _points(
            "建立科技型中小企业梯度培育库，对入库企业提供“一企一策”跟踪服务。",
            "扩大科技创新券的使用范围，降低企业购买检测、研发设计等服务的成本。",
            "整合各部门扶持政策，推行惠企政策“免申即享”。",
        ),
    ),
    "关于完善“15分钟就业服务圈”的建议": ProposalText(
        "本区已在各街道设立社区就业服务站点，但部分站点服务内容单一，主要停留在发布岗位信息，"
        "对大龄失业人员、就业困难人员的个性化指导不足，灵活就业人员对站点的知晓率也不高。",
        _points(
            "推动就业服务站点与党群服务中心、社区事务受理中心融合设置，延长服务时间。",
            "配备专职职业指导员，为就业困难人员提供一对一帮扶。",
            "利用社区公众号、楼宇电子屏等渠道及时推送岗位和培训信息。",
        ),
    ),
    # returned: "请补充人才公寓申请中遇到的具体问题及数据" — so it has neither yet
    "关于优化人才公寓申请流程的建议": ProposalText(
        "人才公寓是吸引和留住青年人才的重要举措。一些青年人才反映，人才公寓申请材料多、"
        "审核时间长，房源信息不够透明，不少人因此放弃申请。",
        _points(
            "精简人才公寓申请材料，能通过数据共享获取的不再要求提交。",
            "压缩审核时限，公开办理进度。",
            "定期公开各项目房源和轮候情况。",
        ),
    ),
    # returned: "案由过于宽泛" — and so it is
    "关于提升城市治理水平的建议": ProposalText(
        "城市治理涉及方方面面，与群众生活息息相关。近年来本区城市治理水平不断提升，"
        "但与超大城市精细化管理的要求相比，仍有不小差距。",
        _points(
            "加强城市治理的顶层设计和统筹协调。",
            "推进城市管理数字化转型。",
            "广泛发动群众参与城市治理。",
        ),
    ),
    "关于推进既有建筑节能降碳改造的建议": ProposalText(
        "建筑运行是城市碳排放的重要来源。本区既有建筑中，建成时间较早的公共建筑和商务楼宇占比较高，"
        "围护结构保温性能差，空调、照明设备老化，能耗水平明显高于新建建筑。",
        _points(
            "对公共建筑开展能耗对标，分批次推进节能改造。",
            "推广合同能源管理模式，引导社会资本参与改造。",
            "将改造后的能效提升情况作为绿色建筑评价和财政补贴的依据。",
        ),
        # the committee asked for "本区既有公共建筑能耗情况"
        revision=(
            "据区建筑能耗监测平台统计，纳入监测的大型公共建筑中，建成超过二十年的楼宇"
            "单位面积能耗普遍高于近年新建的同类楼宇，其中空调系统能耗占比最高，"
            "节能改造潜力较大。"
        ),
    ),
    "关于解决某小区周边占道经营问题的建议": ProposalText(
        "某小区南门外人行道长期有流动摊贩占道经营，早晚高峰时段行人只能绕行机动车道，"
        "油烟和垃圾也影响周边居民生活。居民多次通过热线反映，问题时有反复。",
        _points(
            "加强该路段巡查，特别是早晚高峰时段的管控。",
            "在附近设置便民疏导点，引导摊贩规范经营。",
        ),
    ),
    "关于调整个别居民区停车收费标准的建议": ProposalText(
        "某居民区的地面停车位由物业公司管理，今年起月租车位收费上调幅度较大，"
        "部分老年居民和低收入家庭负担加重，业主与物业公司多次协商未果。",
        _points(
            "核查该小区停车收费调整是否履行了规定程序。",
            "督促物业公司与业主委员会重新协商收费标准。",
        ),
    ),
    "关于争取增开虹桥机场国际航线的建议": ProposalText(
        "虹桥国际开放枢纽建设对提升本区国际化水平意义重大。目前虹桥机场国际及地区航线较少，"
        "商务旅客往返日韩以外的国际城市大多需要前往浦东机场，不利于吸引跨国公司总部"
        "和国际组织落户。",
        _points(
            "积极向上级部门反映，争取在虹桥机场增开面向东南亚、欧洲主要商务城市的国际航线。",
            "完善机场与本区商务区之间的交通接驳。",
        ),
    ),
    "关于提高本市医保门诊报销比例的建议": ProposalText(
        "慢性病患者需要长期门诊治疗，部分老年患者反映门诊自付费用负担较重，"
        "退休后收入下降的人群尤其明显，对调整门诊报销比例和年度起付标准的呼声较高。",
        _points(
            "建议市有关部门研究适当提高职工医保门诊报销比例。",
            "扩大门诊慢特病病种范围，减轻长期用药患者的负担。",
        ),
    ),
    "关于完善长者食堂布局的建议": ProposalText(
        "本区老年人口占比高，长者食堂和助餐点是老年人普遍欢迎的为老服务项目。"
        "但现有长者食堂多集中在部分街道，个别老旧小区集中的区域步行范围内没有助餐点，"
        "独居和高龄老人就餐不便。",
        _points(
            "根据各街道老年人口分布，科学规划长者食堂和社区助餐点的布点。",
            "利用社区综合体、闲置公建配套用房增设助餐点。",
            "为行动不便的老人提供送餐上门服务。",
        ),
    ),
    "关于加强沿街商铺垃圾分类管理的建议": ProposalText(
        "居住区垃圾分类已基本形成习惯，但沿街商铺特别是小餐饮店的分类质量参差不齐，"
        "湿垃圾混投、定时定点收运衔接不畅等问题较为普遍，部分路段垃圾桶长时间占用人行道。",
        _points(
            "推行沿街商铺垃圾“定时定点、上门收运”模式。",
            "将分类情况纳入“门前责任区”管理，加强检查和劝导。",
            "对分类做得好的商铺予以公示表扬。",
        ),
    ),
    # --- filed and assigned
    "关于推进政务服务“高效办成一件事”的建议": ProposalText(
        "企业和群众办事涉及多个部门时，仍存在重复提交材料、多头跑腿的情况。"
        "“一网通办”平台上部分事项虽可网上申请，但后台审批仍需线下流转，办理时限压缩空间有限。",
        _points(
            "梳理企业开办、项目建设、员工招聘等高频“一件事”，推动跨部门流程再造。",
            "推进电子证照应用和数据共享，实现申请材料免提交。",
            "设立“办不成事”反映窗口，及时解决群众反映的堵点问题。",
        ),
    ),
    "关于加强新就业形态劳动者权益保障的建议": ProposalText(
        "外卖骑手、网约车司机、快递员等新就业形态劳动者数量快速增长，普遍存在劳动关系认定难、"
        "社会保险参保率低、职业伤害保障不足等问题，遇到劳动纠纷时维权渠道也不够畅通。",
        _points(
            "推动平台企业落实职业伤害保障，扩大参保覆盖面。",
            "在商圈和社区建设“骑手驿站”等户外劳动者服务站点。",
            "完善劳动争议调解机制，为新就业形态劳动者提供法律援助。",
        ),
    ),
    "关于提升公租房运营管理水平的建议": ProposalText(
        "本区公租房主要面向新就业职工和青年人才，但部分项目存在配租周期长、空置率偏高、"
        "维修响应慢等问题，租户对社区配套和物业服务的满意度不高。",
        _points(
            "优化公租房配租流程，缩短从申请到入住的时间。",
            "引入专业化运营机构，提升物业和维修服务水平。",
            "完善公租房小区的商业、托育等生活配套。",
        ),
    ),
    "关于加快推进15分钟社区生活圈建设的建议": ProposalText(
        "“15分钟社区生活圈”是提升居民生活品质的重要抓手。目前本区部分社区的养老、托育、"
        "体育健身设施仍有缺口，已有设施布局零散、开放时间有限，居民获得感不强。",
        _points(
            "以街道为单元开展设施评估，编制补短板项目清单。",
            "推动公共服务设施复合利用、错时开放。",
            "在规划编制和项目建设中引入社区规划师，广泛听取居民意见。",
        ),
    ),
    "关于推动人工智能大模型产业集聚发展的建议": ProposalText(
        "人工智能大模型是新一轮科技革命的关键领域。本区已有一批人工智能企业，"
        "但算力资源紧张、高质量数据获取难、应用场景开放不足等问题制约着企业发展，"
        "产业集聚效应尚未显现。",
        _points(
            "建设公共算力服务平台，为中小企业提供普惠算力。",
            "在依法合规的前提下推动公共数据有序开放，支持行业语料库建设。",
            "打造人工智能产业集聚区，落实房租补贴、人才落户等配套政策。",
        ),
    ),
    "关于加强预付卡消费监管的建议": ProposalText(
        "健身、美容美发、教育培训等行业预付卡消费普遍，近年来经营者“跑路”、服务缩水、"
        "退费难等投诉较多，消费者维权成本高，部分经营者未按规定履行备案和资金存管义务。",
        _points(
            "落实单用途预付卡备案和预收资金存管制度，加强对重点行业的抽查。",
            "推广预付卡消费“冷静期”和按次、分期支付等做法。",
            "建立预付卡消费纠纷快速调处机制。",
        ),
    ),
    "关于推进公共法律服务体系建设的建议": ProposalText(
        "群众对法律咨询、人民调解、法律援助等服务的需求日益增长。目前社区公共法律服务工作室"
        "律师值班时间有限，服务以咨询为主，老年人、残疾人等群体获取法律服务仍不够便捷。",
        _points(
            "完善区、街道、居村三级公共法律服务平台，增加律师驻点时间。",
            "推广远程视频法律咨询，方便行动不便的群众。",
            "保障公共法律服务经费，完善政府购买服务机制。",
        ),
    ),
    "关于打造虹桥国际中央商务区人才服务高地的建议": ProposalText(
        "虹桥国际中央商务区集聚了大量总部企业和外籍人才，但人才服务事项分散在多个部门和窗口，"
        "外籍人才工作许可、居留、子女入学等事项办理仍较繁琐，国际化人才社区的配套还不完善。",
        _points(
            "设立一站式国际人才服务中心，集中办理人才相关事项。",
            "建设国际化人才社区，完善国际学校、国际医疗等配套。",
            "为商务区重点企业配备人才服务专员。",
        ),
    ),
    "关于进一步推进老旧小区加装电梯的建议": ProposalText(
        "本区多层老旧住宅比例高，老年人“上下楼难”问题突出。加装电梯工作推进以来成效明显，"
        "但仍面临低层住户意见难统一、管线迁移费用高、施工周期长、后期维保责任不清等难题。",
        _points(
            "发挥街道和居委会的协调作用，建立加装电梯议事协商机制。",
            "简化审批流程，对管线迁移给予费用支持。",
            "明确电梯投入使用后的维保责任和资金筹集方式。",
        ),
    ),
    "关于规范住宅小区物业管理的建议": ProposalText(
        "物业服务与居民生活密切相关。部分小区存在物业服务质量与收费不匹配、公共收益公开不透明、"
        "业主委员会运作不规范等问题，物业矛盾已成为居民投诉的热点之一。",
        _points(
            "建立物业服务企业信用评价制度，将评价结果与项目招投标挂钩。",
            "推行小区公共收益定期公示。",
            "加强对业主委员会的指导和监督。",
        ),
    ),
    "关于加强社区矛盾纠纷多元化解的建议": ProposalText(
        "随着城市更新和人口结构变化，邻里纠纷、物业纠纷、家庭矛盾等呈多发态势。"
        "现有人民调解组织力量较为薄弱，专职调解员数量不足，与司法、信访等渠道的衔接也有待加强。",
        _points(
            "充实街道、居委人民调解员队伍，加强业务培训。",
            "建立诉调、访调对接机制，推动矛盾纠纷就地化解。",
            "引入律师、心理咨询师等专业力量参与调解。",
        ),
    ),
    "关于持续优化营商环境的建议": ProposalText(
        "营商环境是区域竞争力的重要体现。企业反映，部分涉企审批事项办理时限仍然偏长，"
        "政策兑现流程复杂，跨部门问题协调效率不高，中小企业对政策的知晓度和获得感有待提升。",
        _points(
            "推行涉企审批“容缺受理”和“告知承诺”，压缩办理时限。",
            "建立惠企政策兑现“一口受理”平台。",
            "完善企业服务专员制度，及时协调解决企业诉求。",
        ),
    ),
    "关于推进楼宇经济提质增效的建议": ProposalText(
        "楼宇经济是本区经济的重要支撑。近年来部分商务楼宇空置率上升，楼宇之间同质化竞争明显，"
        "一些老旧楼宇设施落后，难以吸引优质企业入驻，单位面积税收产出增长放缓。",
        _points(
            "建立重点楼宇运营监测体系，动态掌握空置和企业进出情况。",
            "推动老旧楼宇更新改造，提升硬件品质和智慧化水平。",
            "引导楼宇错位发展，打造一批特色产业楼宇。",
        ),
    ),
    "关于发展首发经济、提升商圈能级的建议": ProposalText(
        "首发经济对提升消费能级、增强城市商业吸引力作用明显。本区商圈基础较好，"
        "但品牌首店、旗舰店的引进数量与核心商圈相比仍有差距，商圈业态更新偏慢，"
        "首发活动的影响力有待提高。",
        _points(
            "制定首店、首发、首秀支持政策，吸引国内外品牌在本区首发新品。",
            "推动重点商圈业态调整和消费场景改造。",
            "打造区域性首发活动品牌，加强宣传推广。",
        ),
    ),
    "关于加强老年人助餐服务的建议": ProposalText(
        "老年助餐是老年人最关心的民生实事之一。目前本区助餐服务点供餐能力有限、菜品单一，"
        "价格对部分低收入老人仍有压力，高龄、失能老人的送餐服务覆盖面不足。",
        _points(
            "增设社区助餐点，鼓励餐饮企业参与老年助餐。",
            "完善分层分类的助餐补贴政策。",
            "扩大送餐上门服务覆盖面，加强助餐食品安全监管。",
        ),
    ),
    "关于提升垃圾分类实效的建议": ProposalText(
        "本区生活垃圾分类已进入常态化阶段，但部分小区出现分类质量回落、居民参与热情下降的情况，"
        "分类收运与末端处置的衔接以及大件垃圾、装修垃圾的处置也存在短板。",
        _points(
            "建立小区分类实效常态化检查和通报机制。",
            "完善大件垃圾和装修垃圾预约收运服务。",
            "加强宣传引导，发挥志愿者和楼组长的作用。",
        ),
    ),
    "关于盘活低效产业用地的建议": ProposalText(
        "本区产业用地总量有限，部分工业用地和老旧厂房容积率低、产出效益不高，"
        "有的长期闲置或被用于仓储等低端业态，与区域高质量发展要求不相适应。",
        _points(
            "开展低效产业用地全面调查，建立分类处置清单。",
            "通过收储、转型、合作开发等方式推动存量用地二次开发。",
            "完善用地绩效评价，对低效用地实施差别化政策。",
        ),
    ),
    "关于推动历史风貌区保护与城市更新的建议": ProposalText(
        "本区拥有多处历史风貌区和优秀历史建筑，是城市文脉的重要载体。但部分风貌区内房屋老化、"
        "居住条件较差，保护与更新之间的矛盾较为突出，社会资本参与的积极性不高。",
        _points(
            "坚持“留改拆”并举、以保留保护为主，分类制定风貌区更新方案。",
            "探索历史建筑活化利用的多种模式，植入文化、商业等功能。",
            "研究支持社会资本参与保护更新的政策措施。",
        ),
    ),
    "关于推进绿色低碳产业发展的建议": ProposalText(
        "实现碳达峰碳中和目标为绿色低碳产业带来了广阔空间。本区在绿色金融、节能环保服务等领域"
        "已有一定基础，但缺少有引领作用的龙头企业，相关扶持政策和产业载体还不够完善。",
        _points(
            "制定绿色低碳产业发展行动方案，明确重点领域和发展目标。",
            "大力发展绿色金融，支持绿色债券、碳金融产品创新。",
            "建设绿色低碳产业园区，引进和培育一批节能环保服务企业。",
        ),
    ),
    "关于加快发展数字贸易和跨境电商的建议": ProposalText(
        "数字贸易和跨境电商是外贸发展的新动能。本区电商平台企业集聚，但在跨境数据流动、"
        "跨境支付结算、海外仓布局等方面仍有堵点，中小企业开拓海外市场缺少专业服务支持。",
        _points(
            "搭建跨境电商公共服务平台，为中小企业提供通关、物流、结算等一站式服务。",
            "探索数据跨境流动便利化试点。",
            "支持企业建设海外仓和海外营销网络。",
        ),
    ),
    "关于完善社区嵌入式养老服务的建议": ProposalText(
        "大多数老年人希望在熟悉的社区环境中养老。本区社区嵌入式养老服务设施已有一定规模，"
        "但部分设施服务功能单一，专业护理人员短缺，日间照料与居家上门服务衔接不够紧密。",
        _points(
            "按照每个街道一个综合为老服务中心的要求，完善嵌入式养老服务网络。",
            "加强养老护理人员培训，提高薪酬待遇。",
            "推动日间照料、短期托养与居家上门服务一体化。",
        ),
    ),
    "关于加强公共数据开放共享的建议": ProposalText(
        "公共数据是重要的生产要素。目前本区各部门之间的数据共享仍存在标准不统一、更新不及时等问题，"
        "向社会开放的数据集数量少、可用性不高，企业利用公共数据开发应用的渠道有限。",
        _points(
            "完善公共数据目录和共享标准，提高数据质量。",
            "扩大公共数据开放范围，优先开放交通、商业、医疗等领域数据。",
            "探索公共数据授权运营，支持企业开发数据产品。",
        ),
    ),
    "关于促进高校毕业生就业创业的建议": ProposalText(
        "高校毕业生人数逐年增加，就业压力持续存在。部分毕业生对本区岗位信息了解不多，"
        "企业招聘需求与毕业生专业结构不够匹配，创业扶持政策的申请门槛也偏高。",
        _points(
            "举办面向高校毕业生的专场招聘会，开发更多就业见习岗位。",
            "加强校企合作，开展订单式职业技能培训。",
            "优化创业担保贷款和创业场地补贴政策。",
        ),
    ),
    "关于优化中小企业融资服务的建议": ProposalText(
        "融资难、融资贵仍是中小企业反映最集中的问题之一。中小企业普遍缺乏抵押物，"
        "银行授信审批谨慎，政策性担保覆盖面有限，企业对各类融资支持政策了解也不够。",
        _points(
            "扩大政策性融资担保规模，降低担保费率。",
            "建立银企对接常态化机制，推广信用贷款和知识产权质押融资。",
            "设立中小企业应急转贷资金，缓解企业资金周转压力。",
        ),
    ),
    "关于加强知识产权保护和运用的建议": ProposalText(
        "知识产权是创新型企业的核心资产。本区中小企业知识产权意识逐步增强，但维权周期长、"
        "成本高、赔偿低的问题依然存在，专利转化运用率不高，知识产权服务机构的专业能力参差不齐。",
        _points(
            "建立知识产权快速维权机制，加强行政执法与司法保护的衔接。",
            "支持知识产权质押融资和专利转化运用。",
            "培育一批高水平的知识产权服务机构。",
        ),
    ),
    "关于推进社区医养结合服务的建议": ProposalText(
        "老龄化程度不断加深，失能、半失能老人对医疗和照护的需求叠加。目前社区卫生服务中心"
        "与养老机构的合作多停留在签约层面，上门医疗服务供给不足，医保政策对医养结合服务的支持"
        "也有待完善。",
        _points(
            "推动社区卫生服务中心与养老机构深度合作，开展巡诊和家庭病床服务。",
            "支持有条件的养老机构内设医务室或护理站。",
            "研究将符合条件的医养结合服务纳入医保支付范围。",
        ),
    ),
}


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
            session=self.sessions[CURRENT_SESSION],
            committee=self.committee,
            count=self._count,
            today=DEMO_TODAY,
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
        """Every proposer has an account: it drafts and submits its proposals and confirms its
        co-signatures itself. The proposers among ``DEMO_USERS`` have theirs; every other one
        gets an account without a password (nobody signs in to it in the demo) — a member's
        own, or the collective account of a group or party."""
        for spec in DEMO_USERS:
            if spec.proposer is None:
                continue
            proposer = self.proposers[spec.proposer]
            user = self.users[spec.username]
            if proposer.user_id is None and not Proposer.objects.filter(user=user).exists():
                proposer.user = user
                proposer.save(update_fields=["user"])
        for spec in ALL_PROPOSERS:
            proposer = self.proposers[spec.key]
            if proposer.user_id is not None:
                continue
            user, created = User.objects.get_or_create(
                username=spec.login,
                defaults={
                    "full_name": spec.name,
                    "email": f"{spec.login}@example.org",
                    "is_staff": False,
                },
            )
            self._count("user", created)
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            elif user.is_staff or user.office or Proposer.objects.filter(user=user).exists():
                raise RuntimeError(f"提案者 {spec.name} 的用户名 {spec.login} 已被其他账号使用")
            proposer.user = user
            proposer.save(update_fields=["user"])

    # --- proposals: shared steps ---------------------------------------------------------------
    #
    # Each step runs under the story's clock (``demo_replies.story_clock``), on its day in the
    # record's history and at the hour people do it: drafting at 10:00, co-signers confirming
    # the afternoon before the submission at 09:00, the committee's decisions at 15:00, a unit
    # signing for an assignment at 10:00 and logging a contact at 17:00 the day it happened.

    def _proposer_user(self, proposer: Proposer) -> User:
        return User.objects.get(pk=proposer.user_id)

    def _new_proposal(
        self,
        session: Session,
        title: str,
        category: str,
        lead: ProposerKey,
        co: tuple[ProposerKey, ...],
        *,
        drafted_on: datetime.date,
        **extra,
    ) -> Proposal:
        """The lead proposer drafts the proposal on ``drafted_on``, inviting the co-signers."""
        text = PROPOSAL_TEXTS[title]
        with story_clock(at(drafted_on, 10)):
            proposal = workflow.draft_proposal(
                actor=self._proposer_user(self.proposers[lead]),
                session=session,
                title=title,
                category=category,
                analysis=text.analysis,
                suggestions=text.suggestions,
                coproposers=[self.proposers[key] for key in co],
            )
        if extra:
            # The committee's designation (重点提案), in place before the proposal is assigned.
            Proposal.objects.filter(pk=proposal.pk).update(**extra)
            proposal.refresh_from_db()
        self._count("proposal", True)
        return proposal

    def _submit(self, proposal: Proposal, on: datetime.date, *, again: bool = False) -> None:
        """The co-signers confirm the afternoon before; the lead proposer (re)submits at 09:00."""
        links = proposal.coproposer_links.filter(confirmed_at__isnull=True).select_related(
            "proposer"
        )
        for i, link in enumerate(links):
            with story_clock(at(on - datetime.timedelta(days=1), 16, 5 * i)):
                workflow.confirm_coproposal(proposal, actor=self._proposer_user(link.proposer))
        verb = workflow.resubmit_proposal if again else workflow.submit_proposal
        with story_clock(at(on, 9)):
            verb(proposal, actor=self._proposer_user(proposal.lead_proposer))

    def _file(self, proposal: Proposal, on: datetime.date, note: str = "") -> None:
        with story_clock(at(on, 15)):
            workflow.file_proposal(proposal, actor=self.committee, note=note)

    def _file_as(self, proposal: Proposal, serial: int, on: datetime.date) -> None:
        """File a historical proposal under its real serial (see the module docstring)."""
        session = Session.objects.select_for_update().get(pk=proposal.session_id)
        previous = session.last_serial
        Session.objects.filter(pk=session.pk).update(last_serial=serial - 1)
        self._file(proposal, on, note="历史数据导入")
        Session.objects.filter(pk=session.pk).update(last_serial=max(previous, serial))

    def _decision_day(self, asked_on: datetime.date) -> datetime.date:
        """The committee answers a request on the next working day."""
        return self.calendar.next_workday(asked_on + datetime.timedelta(days=1))

    def _assign(
        self, proposal: Proposal, units: list[tuple[str, str]], on: datetime.date
    ) -> list[Assignment]:
        with story_clock(at(on, 10)):
            return workflow.assign_proposal(
                proposal,
                actor=self.committee,
                units=[(self.units[code], role) for code, role in units],
                assigned_on=on,
            )

    def _accept(self, assignment: Assignment) -> datetime.date:
        """The unit signs for it the working day after it was assigned."""
        on = self.calendar.next_workday(assignment.assigned_on + datetime.timedelta(days=1))
        with story_clock(at(on, 10)):
            workflow.accept_assignment(assignment, actor=self.clerks[self._code(assignment)])
        return on

    def _code(self, assignment: Assignment) -> str:
        return next(code for code, unit in self.units.items() if unit.pk == assignment.unit_id)

    def _contact(
        self,
        assignment: Assignment,
        on: datetime.date,
        method: str,
        *,
        latest: datetime.date = DEMO_TODAY - datetime.timedelta(days=1),
    ) -> ContactRecord:
        """A contact on ``on`` — not after ``latest``, not before the unit signed for the
        proposal, on a working day if there is one in between — logged at the end of that day."""
        accepted_at = Assignment.objects.values_list("accepted_at", flat=True).get(pk=assignment.pk)
        accepted_on = timezone.localdate(accepted_at)
        on = max(min(on, latest), accepted_on)
        if self.calendar.next_workday(on) <= latest:
            on = self.calendar.next_workday(on)
        elif self._workday_on_or_before(on) >= accepted_on:
            on = self._workday_on_or_before(on)
        clerk = self.clerks[self._code(assignment)]
        proposers = assignment.proposal.proposers()
        with story_clock(at(on, 17)):
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
            # Submitted three weeks and filed one week before it was assigned.
            submitted_on = spec.assigned_on - datetime.timedelta(days=21)
            lead, *co = spec.proposers
            proposal = self._new_proposal(
                session,
                spec.title,
                Proposal.Category.ECONOMY,
                lead,
                tuple(co),
                drafted_on=submitted_on - datetime.timedelta(days=3),
            )
            self._submit(proposal, submitted_on)
            self._file_as(proposal, spec.serial, spec.assigned_on - datetime.timedelta(days=7))
            units = [(spec.lead_unit, LEAD)] + [(code, CO) for code in spec.co_units]
            lead_assignment, *others = self._assign(proposal, units, spec.assigned_on)
            for assignment in (lead_assignment, *others):
                self._accept(assignment)
            # The lead unit met the proposers two weeks in (synthetic: the letters do not say).
            met_on = self.calendar.next_workday(spec.assigned_on + datetime.timedelta(days=14))
            self._contact(lead_assignment, met_on, ContactRecord.Method.MEETING, latest=met_on)

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

    def _dates(self, item: PlannedProposal) -> StoryDates:
        """When the proposal was drafted, submitted, filed and assigned (as far as it got)."""
        start = self._start(item)
        kind = item.topic.kind
        if kind == DRAFT:
            return StoryDates(drafted=start - datetime.timedelta(days=2 + item.jitter))
        if kind in ASSIGNED_KINDS:
            submitted = start - datetime.timedelta(days=21 + item.jitter)
            return StoryDates(
                drafted=submitted - datetime.timedelta(days=3),
                submitted=submitted,
                filed=self._workday_on_or_before(start - datetime.timedelta(days=6)),
                assigned=start,
            )
        filed = None
        if kind == FILED:
            filed = self.calendar.next_workday(start + datetime.timedelta(days=5))
        return StoryDates(drafted=start - datetime.timedelta(days=3), submitted=start, filed=filed)

    def load_synthetic_proposals(self) -> None:
        session = self.sessions[CURRENT_SESSION]
        plan = [(item, self._dates(item)) for item in plan_synthetic()]
        # Numbers go by filing date; merges come last, when their target is filed.
        plan.sort(key=lambda pair: (pair[0].topic.kind == MERGED, pair[1].first_day))
        for item, dates in plan:
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
                session,
                topic.title,
                topic.category,
                item.lead,
                item.co,
                drafted_on=dates.drafted,
                **extra,
            )
            getattr(self, f"_story_{topic.kind}")(proposal, item, dates)

    def _story_draft(self, proposal, item, dates) -> None:
        pass

    def _story_submitted(self, proposal, item, dates) -> None:
        self._submit(proposal, dates.submitted)

    def _story_returned(self, proposal, item, dates) -> datetime.date:
        self._submit(proposal, dates.submitted)
        returned_on = self.calendar.next_workday(dates.submitted + datetime.timedelta(days=3))
        with story_clock(at(returned_on, 15)):
            workflow.return_proposal(proposal, actor=self.committee, reason=item.topic.reason)
        return returned_on

    def _story_resubmitted(self, proposal, item, dates) -> None:
        """Returned for want of figures; a week later the lead adds them, the co-signers confirm
        the new text, and the lead resubmits."""
        returned_on = self._story_returned(proposal, item, dates)
        revised_on = returned_on + datetime.timedelta(days=7)
        text = PROPOSAL_TEXTS[proposal.title]
        with story_clock(at(revised_on, 10)):
            workflow.revise_proposal(
                proposal,
                actor=self._proposer_user(proposal.lead_proposer),
                title=proposal.title,
                category=proposal.category,
                analysis=f"{text.analysis}\n{text.revision}",
                suggestions=text.suggestions,
                coproposers=list(
                    proposal.coproposer_links.order_by("position").values_list(
                        "proposer_id", flat=True
                    )
                ),
            )
        self._submit(proposal, revised_on + datetime.timedelta(days=2), again=True)

    def _story_not_filed(self, proposal, item, dates) -> None:
        self._submit(proposal, dates.submitted)
        decided_on = self.calendar.next_workday(dates.submitted + datetime.timedelta(days=5))
        with story_clock(at(decided_on, 15)):
            workflow.not_file_proposal(
                proposal,
                actor=self.committee,
                disposition=item.topic.disposition,
                note=item.topic.decision_note,
            )

    def _story_merged(self, proposal, item, dates) -> None:
        self._submit(proposal, dates.submitted)
        target = Proposal.objects.get(session=proposal.session, title=item.topic.merge_into)
        merged_on = self.calendar.next_workday(dates.submitted + datetime.timedelta(days=6))
        if target.filed_at is None or timezone.localdate(target.filed_at) > merged_on:
            raise RuntimeError(f"{proposal.title} 并入的提案在 {merged_on} 尚未立案")
        with story_clock(at(merged_on, 15)):
            workflow.merge_proposal(proposal, into=target, actor=self.committee)

    def _story_filed(self, proposal, item, dates) -> None:
        self._submit(proposal, dates.submitted)
        self._file(proposal, dates.filed)

    def _assigned(
        self, proposal: Proposal, item: PlannedProposal, dates: StoryDates, *, role: str = LEAD
    ) -> tuple[Assignment, list[Assignment]]:
        """Submit, file and assign; return the lead (or first separate) and the others."""
        self._submit(proposal, dates.submitted)
        self._file(proposal, dates.filed)
        other_role = SEPARATE if role == SEPARATE else CO
        units = [(item.topic.lead, role)] + [(code, other_role) for code in item.topic.co]
        first, *others = self._assign(proposal, units, dates.assigned)
        return first, others

    def _handle(self, item: PlannedProposal, assignment: Assignment, *, contacts: int = 2) -> None:
        """The unit signs for it and talks with the proposers."""
        self._accept(assignment)
        for n in range(contacts):
            on = assignment.assigned_on + datetime.timedelta(days=item.contact_after[n])
            self._contact(assignment, on, item.contact_methods[n])

    def _story_pending(self, proposal, item, dates) -> None:
        self._assigned(proposal, item, dates)

    def _story_accepted(self, proposal, item, dates) -> None:
        lead, cos = self._assigned(proposal, item, dates)
        self._handle(item, lead)
        for i, co in enumerate(cos):
            if item.topic.co_pending and i == len(cos) - 1:
                continue
            self._handle(item, co, contacts=0)

    def _story_overdue(self, proposal, item, dates) -> None:
        lead, cos = self._assigned(proposal, item, dates)
        # the later of the two has not even met its proposers yet
        self._handle(item, lead, contacts=1 if item.topic.reply_due_in > -20 else 0)
        for co in cos:
            self._handle(item, co, contacts=0)

    _story_due_soon = _story_accepted
    _story_key = _story_accepted

    def _story_separates(self, proposal, item, dates) -> None:
        first, others = self._assigned(proposal, item, dates, role=SEPARATE)
        for assignment in (first, *others):
            self._handle(item, assignment, contacts=1)

    def _story_extended(self, proposal, item, dates) -> None:
        """The committee extends the reply date a few days before it falls."""
        lead, cos = self._assigned(proposal, item, dates)
        self._handle(item, lead)
        for co in cos:
            self._handle(item, co, contacts=0)
        wanted = DEMO_TODAY + datetime.timedelta(days=26 + 14 * item.jitter)
        new_due = min(self.calendar.next_workday(wanted), deadlines.max_reply_due(dates.assigned))
        due_on = lead.due_dates.get(clock=DueDate.Clock.REPLY).due_on
        extended_on = self._workday_on_or_before(due_on - datetime.timedelta(days=5))
        with story_clock(at(extended_on, 15)):
            workflow.extend_assignment(
                lead, actor=self.committee, new_due_on=new_due, reason=item.topic.reason
            )
        self._count("extension", True)

    def _request(self, assignment: Assignment, item: PlannedProposal, days: int) -> datetime.date:
        """The unit asks to hand the proposal back ``days`` after it was assigned (and not
        before it signed for it, if it did)."""
        on = assignment.assigned_on + datetime.timedelta(days=days)
        accepted_at = Assignment.objects.values_list("accepted_at", flat=True).get(pk=assignment.pk)
        if accepted_at is not None:
            on = max(on, timezone.localdate(accepted_at))
        with story_clock(at(on, 11)):
            workflow.request_reassignment(
                assignment,
                actor=self.clerks[self._code(assignment)],
                reason=item.topic.reason,
                on=on,
            )
        return on

    def _story_return_requested(self, proposal, item, dates) -> None:
        lead, cos = self._assigned(proposal, item, dates)
        for co in cos:
            self._accept(co)
        self._request(lead, item, 3)

    def _story_withdrawn_all(self, proposal, item, dates) -> None:
        lead, _cos = self._assigned(proposal, item, dates)
        asked_on = self._request(lead, item, 4)
        with story_clock(at(self._decision_day(asked_on), 15)):
            workflow.approve_reassignment(lead, actor=self.committee, note=item.topic.decision_note)

    def _story_reassigned(self, proposal, item, dates) -> None:
        lead, cos = self._assigned(proposal, item, dates)
        for co in cos:
            self._handle(item, co, contacts=0)
        approved_on = self._decision_day(self._request(lead, item, 3))
        with story_clock(at(approved_on, 15)):
            workflow.approve_reassignment(lead, actor=self.committee, note=item.topic.decision_note)
        again = max(
            self._workday_on_or_before(dates.assigned + datetime.timedelta(days=8)),
            self._decision_day(approved_on),
        )
        (new_lead,) = self._assign(proposal, [(item.topic.new_lead, LEAD)], again)
        if item.topic.new_lead_accepts:
            self._accept(new_lead)
            self._contact(new_lead, again + datetime.timedelta(days=6), item.contact_methods[0])

    def _story_refused(self, proposal, item, dates) -> None:
        lead, cos = self._assigned(proposal, item, dates)
        self._accept(lead)
        for co in cos:
            self._accept(co)
        refused_on = self._decision_day(self._request(lead, item, 5))
        with story_clock(at(refused_on, 15)):
            workflow.refuse_reassignment(lead, actor=self.committee, note=item.topic.decision_note)
        contact_on = max(dates.assigned + datetime.timedelta(days=12), refused_on)
        self._contact(lead, contact_on, item.contact_methods[0])


def load_demo(*, reset_passwords: bool = False) -> DemoReport:
    """Create whatever of the demo data is missing, in one transaction."""
    # The demo's history happened "long ago": nobody is to be notified of it.
    with events.silenced(), transaction.atomic():
        return _Loader(reset_passwords=reset_passwords).load()
