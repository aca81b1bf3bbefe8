"""Published replies with known texts: the same fixtures for PostgreSQL and SQLite."""

from __future__ import annotations

import datetime

import pytest

from proposals.tests import factories as f
from replies.models import Reply
from replies.tests.factories import AcceptedAssignmentFactory, ReplyFactory

HOUSING = ("长宁区住房保障和房屋管理局", "区房管局", "长房管")
BUILDING = ("长宁区建设和管理委员会", "区建管委", "长建管")
REFORM = ("长宁区发展和改革委员会", "区发改委", "长发改")
CIVIL = ("长宁区民政局", "区民政局", "长民政")

#: key: (unit, proposal title, reply title, body, result, published day)
TEXTS = {
    "lift": (
        HOUSING,
        "关于加快老旧小区加装电梯的建议",
        "关于对区政协十五届二次会议第001号提案的答复",
        "一、总体情况\n我局高度重视老旧小区加装电梯工作，既有多层住宅加装电梯已完成立项126台。"
        "\n二、下一步工作\n继续简化加装电梯审批流程，对老旧小区加装电梯给予补贴。",
        "解决或采纳",
        datetime.date(2024, 5, 6),
    ),
    "rental": (
        HOUSING,
        "关于扩大公租房供应的建议",
        "关于对区政协十五届二次会议第002号提案的答复",
        "一、公租房供应\n今年新增公租房800套，公共租赁住房申请条件进一步放宽。",
        "列入计划拟解决",
        datetime.date(2024, 5, 7),
    ),
    "parking": (
        BUILDING,
        "关于缓解居民区停车难的建议",
        "关于对区政协十五届二次会议第003号提案的答复",
        "一、停车资源挖潜\n通过错峰停车、共享停车新增停车位2100个。\n二、停车管理\n完善停车收费。",
        "解决或采纳",
        datetime.date(2024, 5, 8),
    ),
    "business": (
        REFORM,
        "关于优化营商环境的建议",
        "关于对区政协十五届二次会议第004号提案的答复",
        "一、营商环境\n推进一网通办，企业开办时间压缩。园区电梯等设施由业主负责维护。",
        "留作参考",
        datetime.date(2023, 6, 9),
    ),
    "elderly": (
        CIVIL,
        "关于完善社区养老服务的建议",
        "关于对区政协十五届二次会议第005号提案的答复",
        "一、养老服务\n新建长者食堂12家，并在日间照料中心周边设置临时停车点。",
        "因条件限制暂不能解决",
        datetime.date(2023, 6, 10),
    ),
}


def make_unit(names):
    name, short, prefix = names
    return f.UnitFactory(name=name, short_name=short, docno_prefix=prefix)


def publish(key: str, session) -> Reply:
    names, proposal_title, title, body, result, day = TEXTS[key]
    assignment = AcceptedAssignmentFactory(
        unit=make_unit(names), proposal__title=proposal_title, proposal__session=session
    )
    return ReplyFactory(
        assignment=assignment,
        title=title,
        body=body,
        result_label=result,
        published=True,
        on=datetime.datetime.combine(day, datetime.time(10), tzinfo=datetime.UTC),
    )


@pytest.fixture
def library(db, session) -> dict[str, Reply]:
    """The five published replies of ``TEXTS``."""
    return {key: publish(key, session) for key in TEXTS}
