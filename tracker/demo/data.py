"""The demo's reference data (``tracker.demo``): its "today", the handling units, the sessions,
the proposers, the logins (with the demo's published passwords: written here and nowhere else,
``settings.PUBLISHED_PASSWORDS`` names ``published_passwords``) and the four seed proposals.

The facts of the seed letters (titles, names, numbers, units, dates, contact blocks) are typed in
below from ``replies/seeds/00*.txt``; nothing parses the letters at run time. A data module: long
by nature, hence allowed over the 500 lines of code (``tracker/tests/test_module_structure.py``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth.password_validation import (
    get_default_password_validators,
)

from proposals.models import (
    Assignment,
    Membership,
    Proposer,
    Unit,
    User,
)

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


# Passwords satisfy Django's validators (checked when the user is created). They are published
# (load_demo prints them): without DEBUG they sign nobody in (``published_passwords`` below).
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


def published_passwords() -> frozenset[str]:
    """The demo accounts' passwords, which anyone can read: ``settings.PUBLISHED_PASSWORDS``
    names this function, and without ``DEBUG`` a sign-in with one of them is refused and none
    of them can be set (``proposals.passwords``)."""
    return frozenset(spec.password for spec in DEMO_USERS)


def _strength_validators() -> list:
    """The password validators but the one refusing the published passwords: the demo sets
    exactly those, and loads without ``DEBUG`` too (``make run``, CI's fresh copy)."""
    from proposals.passwords import PublishedPasswordValidator

    return [
        v
        for v in get_default_password_validators()
        if not isinstance(v, PublishedPasswordValidator)
    ]


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
