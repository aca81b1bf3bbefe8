"""Synthetic paragraphs for the redaction scanner: planted personal data between ⟦ ⟧ (with its
kind), and look-alikes that must stay unflagged. Every number is made up; the 身份证号 and bank
card numbers are given valid check digits by ``valid_id`` and ``valid_card``."""

from __future__ import annotations

import re

from publication.redaction import _ID_CHECK, _ID_WEIGHTS, luhn_valid


def valid_id(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return first17 + _ID_CHECK[total % 11]


def valid_card(prefix: str) -> str:
    return next(prefix + str(d) for d in range(10) if luhn_valid(prefix + str(d)))


ID1 = valid_id("31010519860312002")
ID2 = valid_id("31011219751120451")
ID3 = valid_id("41072619920229003")
CARD1 = valid_card("622202100112345678")
CARD2 = valid_card("621700123456789012")
CARD3 = valid_card("436742001234567")

#: (kind, paragraph) — ⟦…⟧ marks what must be flagged; everything else must not be.
CORPUS: list[str] = [
    "经现场走访，居民王某（手机⟦mobile:13912345678⟧）反映小区停车位不足，我委已会同街道研究。",
    "张先生来电（⟦mobile:138-1234-5678⟧）询问加装电梯补贴标准，现答复如下。",
    "提案者留下的联系方式为⟦mobile:+86 139 0000 1234⟧，我们已电话沟通。",
    "根据长发改〔2024〕19号文件精神，2024年共安排资金1500万元，用于老旧小区改造。",
    "2023年12月31日前完成全部126台电梯的安装，惠及居民3200户。",
    "邮政编码：200050。联系地址：长宁区长宁路599号。",
    "联系人：王敏，联系电话：021-62345678。",
    "办公电话：62901234，传真：62901235。",
    "居民李某家庭电话⟦landline:021-52345678⟧，经核实其反映情况属实。",
    "申请人身份证号码⟦id_card:" + ID1 + "⟧，已按程序受理公租房申请。",
    "一位老人（身份证⟦id_card:" + ID2 + "⟧）希望优先安排长者食堂就餐。",
    "号码310105198603120021不是有效的身份证号（校验位错误），只是一个编号。",
    "补贴款已打入其银行卡⟦bank_card:" + CARD1 + "⟧，请注意查收。",
    "退款账户⟦bank_card:" + CARD2 + "⟧已登记，另有信用卡⟦bank_card:" + CARD3 + "⟧不予使用。",
    "项目编号6222021001123456780（校验不符）仅作内部登记，不是银行卡号。",
    "来信人电子邮箱⟦email:zhang.wei1988@163.com⟧，已回复邮件。",
    "如有疑问请发送邮件至⟦email:li_ming@qq.com⟧，或登录“一网通办”办理。",
    "联系邮箱：fgw@cn.gov.cn（办公邮箱）。",
    "王某家住延安西路⟦address:1200弄3号502室⟧，楼道堆物问题已清理。",
    "居民反映仙霞新村⟦address:12号楼304室⟧渗水，物业已维修。",
    "经查，天山路⟦address:580弄7号⟧的住户已签约，房屋征收工作正在推进。",
    "区政府位于长宁路599号，区发改委位于愚园路1320号。",
    "本市共有公租房12000套，2024年新增供应800套，租金约为市场价的九折。",
    "全区已建成充电桩5600个，新增停车泊位2100个。",
    "请于2024年5月20日前将材料报送区住房保障局（电话：021-12345）。",
    "咨询电话：12345，服务热线：962121。",
    "第一次会议于2024年1月8日召开，第152045号提案由我委主办。",
    "普发改委〔2023〕14号文明确，项目总投资2.35亿元，分三年实施。",
    "提案者陈先生（⟦mobile:13600001111⟧、⟦email:chen1977@126.com⟧）对答复表示满意。",
    "涉及的住户住址为古北路⟦address:1688弄21号1002室⟧，已安排上门核查。",
    "统计显示，2022年至2024年共处理群租投诉1234件，整改率达98.6%。",
    "居民赵某（⟦mobile:15800002222⟧，身份证⟦id_card:" + ID3 + "⟧）申请适老化改造。",
    "联系人：李强；联系电话：13512345678（工作手机）。",
]

_MARK = re.compile(r"⟦(\w+):(.*?)⟧")


def paragraph(raw: str) -> tuple[str, list[tuple[str, str]]]:
    """The paragraph as a clerk wrote it, and its planted items ``(kind, text)`` in order."""
    planted = [(m.group(1), m.group(2)) for m in _MARK.finditer(raw)]
    return _MARK.sub(lambda m: m.group(2), raw), planted
