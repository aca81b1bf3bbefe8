"""The synthetic session of the demo (``tracker.demo``): the kinds of story a proposal can have
(one per state the workflow reaches), the topics that play each, and the plan that deals the
proposers, co-signers and small date shifts out of one seeded random generator.

Dates are relative to ``DEMO_TODAY``, so that on that day some reply deadlines are past, some a
few days away, some far off. The stories themselves are played by ``tracker.demo.stories``.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from proposals.models import (
    ContactRecord,
    Proposal,
)
from tracker.demo.data import (
    DEMO_SEED,
    MEMBER,
    PARTY,
    SYNTHETIC_MEMBERS,
    ProposerKey,
)

# --- The synthetic session ------------------------------------------------------------------

# What happens to a synthetic proposal; each is one ``_story_<kind>`` method of
# ``tracker.demo.stories``.
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
