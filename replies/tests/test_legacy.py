"""Reading published reply letters (the seeds, and variants of other districts) into Letters.

No database: the reader is a pure function of text.
"""

from __future__ import annotations

import dataclasses
import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replies.legacy import ReadResult, read_letter, read_published, text_from_pdf
from replies.letter import Contact, Letter, LetterFormat, LetterKind
from replies.seeds import seed_text


def read_seed(number: str) -> ReadResult:
    return read_published(seed_text(number))


def without_body(letter: Letter) -> Letter:
    return dataclasses.replace(letter, body=())


# --- The four seed replies, field by field ---------------------------------------------------

EXPECTED = {
    "000": Letter(
        kind=LetterKind.REPLY_LETTER,
        format=LetterFormat.DOCUMENT,
        result_label="采纳",
        signer="游雁",
        organs=("长宁区投资促进办公室",),  # from the 落款: the text prints no header
        title="长宁区投促办关于对区政协十五届二次会议第061号提案的答复函",
        title_break=19,
        salutation="沈汕、施彧、陈铸等委员：",
        signature_organ="长宁区投资促进办公室",
    ),
    "001": Letter(
        kind=LetterKind.REPLY,
        format=LetterFormat.DOCUMENT,
        result_label="采纳解决",
        disclosure="主动公开 · 全文",
        organs=("上海市普陀区发展和改革委员会",),
        doc_number="普发改委〔2023〕14号",
        title="对区政协十五届二次会议第152045号提案的答复",
        salutation="张文浩委员：",
        signature_organ="上海市普陀区发展和改革委员会",
        date=datetime.date(2023, 5, 8),
        contact=Contact(
            person="开凡",
            phone="52564588-2357",
            address="大渡河路1668号1号楼B区313室",
            postcode="200333",
        ),
        printed_by="上海市普陀区发展和改革委员会",
        printed_on=datetime.date(2023, 5, 8),
    ),
    "002": Letter(
        kind=LetterKind.REPLY,
        format=LetterFormat.DOCUMENT,
        result_label="解决或采纳",
        organs=("上海市长宁区发展和改革委员会",),
        doc_number="长发改〔2024〕19号",
        signer="叶鹏举",
        title="对区政协十五届三次会议第050号提案的答复",
        salutation="张晓钟、林静、瞿子涵委员：",
        signature_organ="上海市长宁区发展和改革委员会",
        date=datetime.date(2024, 4, 25),
        note="此件公开发布",
        contact=Contact(
            person="汪骏杰", phone="22051162", address="长宁路599号1120室", postcode="200050"
        ),
        printed_by="上海市长宁区发展和改革委员会",
        printed_on=datetime.date(2024, 4, 25),
    ),
    "003": Letter(
        kind=LetterKind.REPLY,
        format=LetterFormat.DOCUMENT,
        result_label="采纳解决",
        disclosure="主动公开 · 全文",
        organs=("上海市普陀区发展和改革委员会",),  # from the 落款
        doc_number="普发改委〔2021〕11号",
        title="对区政协十四届五次会议第145054号提案的答复",
        salutation="民建界别组：",
        signature_organ="上海市普陀区发展和改革委员会",
        date=datetime.date(2021, 4, 30),
        contact=Contact(
            person="钱婷婷",
            phone="52564588-2343",
            address="大渡河路1668号1号楼B区313室",
            postcode="200333",
        ),
    ),
}

EXPECTED_EXTRAS = {
    "000": ("十五届二次会议", "061", "第061号", ["沈汕", "施彧", "陈铸"], True),
    "001": ("十五届二次会议", "152045", "第152045号", ["张文浩"], False),
    "002": ("十五届三次会议", "050", "第050号", ["张晓钟", "林静", "瞿子涵"], False),
    "003": ("十四届五次会议", "145054", "第145054号", ["民建界别组"], False),
}

#: Exactly what each seed lacks, and nothing more.
EXPECTED_WARNINGS = {
    "000": [
        "原文没有发文机关标志，已按落款补上：长宁区投资促进办公室",
        "未找到公开属性",
        "未找到文号",
        "未找到成文日期",
        "未找到联系人信息",
        "未找到印发机关和印发日期",
    ],
    "001": ["未找到签发人"],
    "002": ["未找到公开属性"],
    "003": [
        "原文没有发文机关标志，已按落款补上：上海市普陀区发展和改革委员会",
        "未找到签发人",
        "未找到印发机关和印发日期",
    ],
}

#: Heading levels of the body blocks, in order (0 = paragraph).
EXPECTED_LEVELS = {
    "000": [0, 0, 0, 0, 0, 1, 3, 3, 1, 3, 3, 3, 1, 3, 3],
    "001": [0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0],
    "002": [0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0],
    "003": [0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0],
}


@pytest.mark.parametrize("number", ["000", "001", "002", "003"])
def test_every_field_of_a_seed_reply_is_read_as_printed(number):
    result = read_seed(number)

    assert without_body(result.letter) == EXPECTED[number]
    assert result.is_reply


@pytest.mark.parametrize("number", ["000", "001", "002", "003"])
def test_session_number_and_proposers_come_from_title_and_salutation(number):
    result = read_seed(number)

    session, proposal_number, label, proposers, more = EXPECTED_EXTRAS[number]
    assert result.session_name == session
    assert result.proposal_number == proposal_number
    assert result.proposal_label == label
    assert result.proposers == proposers
    assert result.more_proposers is more
    assert result.addressee == EXPECTED[number].salutation.removesuffix("：")


@pytest.mark.parametrize("number", ["000", "001", "002", "003"])
def test_what_a_seed_lacks_is_warned_about_and_nothing_else(number):
    assert read_seed(number).warnings == EXPECTED_WARNINGS[number]


@pytest.mark.parametrize("number", ["000", "001", "002", "003"])
def test_body_blocks_follow_the_numbering_of_headings(number):
    body = read_seed(number).letter.body

    assert [block.level for block in body] == EXPECTED_LEVELS[number]


@pytest.mark.parametrize("number", ["000", "001", "002", "003"])
def test_opening_and_closing_thanks_stay_in_the_body(number):
    body = read_seed(number).letter.body

    assert "收悉" in body[0].text
    last = body[-1].text
    assert "感谢" in last or number == "000"  # 000 ends on its last measure, without thanks
    assert all(block.text for block in body)


def test_seed_000_keeps_its_title_break_and_reads_the_padded_signer():
    letter = read_seed("000").letter

    assert letter.title_lines == ("长宁区投促办关于对区政协十五届二次会议", "第061号提案的答复函")
    assert letter.signer == "游雁"
    assert letter.body[0].text.startswith("沈汕、施彧、陈铸等委员提出的《关于新形势下")
    assert letter.body[5].text == "一、腾笼换鸟，优化空间资源配置"
    assert letter.body[8].text == "二、产业集聚，完善科学布局"  # the trailing space is gone


def test_seed_001_paragraphs_split_by_page_breaks_are_joined_again():
    body = read_seed("001").letter.body

    assert "产出达到4937元，重点楼宇企业面积落地率达到55.26%，完成全年目标。" in body[1].text
    assert body[1].text.endswith("环亚新（上海）电线贸易有限公司）。")
    assert "组建产业联盟，构建了“盟主-板主-联络员-联盟单位”" in body[5].text
    assert "行业洞察，通过创新资本招商形式" in body[7].text
    assert "在区内打造出“看得见、叫得响、走得远”的高端产业集群" in body[11].text
    assert "实时掌握区内招商引资工作情况" in body[13].text
    assert body[-1].text == (
        "非常感谢您的提案，希望您在今后的工作中，继续给我们提出更多意见和建议。谢谢！"
    )


def test_seed_001_spaces_between_chinese_and_digits_are_removed():
    body = read_seed("001").letter.body

    assert "新增跨国公司地区总部3家（施耐德电气" in body[1].text
    assert "占比近37%" in body[2].text


def test_seed_002_markdown_is_dropped_from_headings_and_bold_runs():
    letter = read_seed("002").letter

    assert all("#" not in b.text and "*" not in b.text for b in letter.body)
    assert letter.body[2].text == "一、持续聚焦数字经济，培育壮大新兴产业"
    assert letter.body[7].text == "二、不断推动城市更新，助力提升城区功能"
    assert letter.body[11].text == "三、积极探索发展模式，努力激发产业活力"
    assert letter.body[4].text.startswith("四是培育壮大生产性互联网服务平台企业。为更好推动")
    assert "二是努力盘活低效用地。以城市更新推进长宁产业发展" in letter.body[8].text
    assert "新领域。充分对接上海数交所等行业平台机构，依托“数字长宁”深厚积淀" in (
        letter.body[6].text
    )


def test_seed_003_is_addressed_to_a_sector_group():
    result = read_seed("003")

    assert result.proposers == ["民建界别组"]
    assert result.more_proposers is False
    assert "全区21家科技企业孵化器中，国家级、市级分别达到2家、12家。" in (
        result.letter.body[12].text
    )


def test_read_letter_returns_the_letter_and_the_warnings():
    letter, warnings = read_letter(seed_text("001"))

    assert letter == read_seed("001").letter
    assert warnings == ["未找到签发人"]


# --- Not a reply ------------------------------------------------------------------------------


def test_seed_004_a_policy_notice_is_said_not_to_be_a_reply():
    result = read_seed("004")

    assert result.is_reply is False
    assert result.warnings[0].startswith("这不是提案答复：")
    assert "标题中没有“提案”" in result.warnings[0]
    assert result.proposers == []
    assert result.letter.date == datetime.date(2024, 11, 15)


def test_a_text_without_anything_of_a_reply_is_not_a_reply():
    result = read_published("今天天气很好。\n我们去公园散步。\n")

    assert result.is_reply is False
    assert result.warnings[0].startswith("这不是提案答复：")


# --- Variants of other districts and other hands ----------------------------------------------

HALF_WIDTH = """办理结果:采纳解决
公开属性:主动公开·全文
上海市普陀区发展和改革委员会文件
普发改委[2023]14号
对区政协十五届二次会议 第152045号提案的答复
张文浩委员:
您提出的"关于推进产业内循环招商"的提案收悉,经研究,现将办理情况答复如下:
一、进一步细化产业颗粒度
(一)调研开局
1.五大领域.今年研发服务产业已经跨前一步, 调研确定了 5 个领域.
(1)新材料
非常感谢您的提案!
上海市普陀区发展和改革委员会
2023年5月8日
(此件公开发布)
联系人:张三  联系电话:52564588-2357
通讯地址:大渡河路1668号  邮编:200333
抄送:区政协提案委,区政府督查室.
上海市普陀区发展和改革委员会办公室    2023年5月8日印发
"""


def test_half_width_colons_brackets_and_stops_are_read_and_made_full_width():
    result = read_published(HALF_WIDTH)
    letter = result.letter

    assert letter.result_label == "采纳解决"
    assert letter.disclosure == "主动公开 · 全文"
    assert letter.doc_number == "普发改委〔2023〕14号"
    assert letter.title == "对区政协十五届二次会议第152045号提案的答复"
    assert letter.salutation == "张文浩委员："
    assert [(b.level, b.text) for b in letter.body] == [
        (0, "您提出的“关于推进产业内循环招商”的提案收悉，经研究，现将办理情况答复如下："),
        (1, "一、进一步细化产业颗粒度"),
        (2, "（一）调研开局"),
        (3, "1.五大领域。今年研发服务产业已经跨前一步，调研确定了5个领域。"),
        (4, "（1）新材料"),
        (0, "非常感谢您的提案！"),
    ]
    assert letter.note == "此件公开发布"
    assert letter.contact == Contact(
        person="张三", phone="52564588-2357", address="大渡河路1668号", postcode="200333"
    )
    assert letter.cc == ("区政协提案委", "区政府督查室")
    assert letter.printed_by == "上海市普陀区发展和改革委员会办公室"
    assert letter.printed_on == datetime.date(2023, 5, 8)
    assert result.warnings == ["未找到签发人"]


@pytest.mark.parametrize(
    "bracketed",
    [
        "普发改委【2023】14号",
        "普发改委(2023)14号",
        "普发改委（2023）014号",
        "普发改委 〔2023〕 14 号",
        "普发改委〔2023〕第014号",
        "普发改委[2023]第14号",
        "普发改委（2023）第014号",
        "普发改委 (2023) 14号",
    ],
)
def test_any_bracket_of_a_doc_number_becomes_the_hexagonal_one(bracketed):
    text = HALF_WIDTH.replace("普发改委[2023]14号", bracketed)

    result = read_published(text)

    assert result.letter.doc_number == "普发改委〔2023〕14号"
    assert "未找到文号" not in result.warnings


def test_field_labels_are_kept_as_the_source_prints_them():
    labels = dict(read_seed("001").letter.labels)

    assert labels["address"] == "通讯地址"  # not 联系地址
    assert labels["person"] == "联系人姓名"
    assert dict(read_seed("003").letter.labels)["address"] == "承办单位通讯地址"
    assert dict(read_seed("002").letter.labels)["address"] == "联系地址"


def test_an_empty_body_is_a_clear_warning():
    result = read_published("对区政协十五届三次会议第050号提案的答复\n张三委员：\n")

    assert result.empty_body
    assert "正文为空：这份答复不能排版，也不能导入" in result.warnings


CO_OPINION_OTHER_ORDER = """上海市长宁区商务委员会关于对区政协十五届二次会议
第061号提案的会办意见

区发改委：

你单位主办的区政协十五届二次会议第061号提案收悉。我委意见如下：

一、加强招商
我委将继续

配合做好招商工作。
以上意见供你单位统一答复提案者时参考。
联系人：李四
联系电话：22050000
长宁区商务委员会
二〇二四年五月二十日
签发人：王  五
办理结果：采纳
"""


def test_a_co_handling_opinion_with_fields_in_another_order():
    result = read_published(CO_OPINION_OTHER_ORDER)
    letter = result.letter

    assert letter.kind == LetterKind.CO_OPINION
    assert letter.title == "上海市长宁区商务委员会关于对区政协十五届二次会议第061号提案的会办意见"
    assert letter.title_lines[1] == "第061号提案的会办意见"
    assert letter.salutation == "区发改委："
    assert result.addressee == "区发改委"
    assert result.proposers == []
    assert result.is_reply
    assert [b.text for b in letter.body] == [
        "你单位主办的区政协十五届二次会议第061号提案收悉。我委意见如下：",
        "一、加强招商",
        "我委将继续配合做好招商工作。",
        "以上意见供你单位统一答复提案者时参考。",
    ]
    assert letter.signature_organ == "长宁区商务委员会"
    assert letter.date == datetime.date(2024, 5, 20)  # Chinese numerals
    assert letter.signer == "王五"
    assert letter.result_label == "采纳"
    assert letter.contact == Contact(person="李四", phone="22050000")
    assert "联系人信息不全：缺少联系地址、邮政编码" in result.warnings
    assert "未找到文号" in result.warnings


def test_a_salutation_above_the_title_is_still_found():
    text = "区发改委：\n" + CO_OPINION_OTHER_ORDER.replace("区发改委：\n", "")

    assert read_published(text).letter.salutation == "区发改委："


FOLLOW_UP_BAOSHAN = """上海市宝山区发展和改革委员会
关于对区政协九届二次会议第9B111号提案的再次答复（跟踪办理情况）
钱建峰、施美芳委员：
您们提出的提案，我委已于去年答复。现将跟踪办理情况答复如下：
该项目已列入计划，今年开工。
上海市宝山区发展和改革委员会
2024年9月2日
"""


def test_a_follow_up_in_letter_format_with_a_baoshan_number():
    result = read_published(FOLLOW_UP_BAOSHAN)
    letter = result.letter

    assert letter.kind == LetterKind.FOLLOW_UP
    assert letter.format == LetterFormat.LETTER  # an organ header without 文件
    assert letter.organs == ("上海市宝山区发展和改革委员会",)
    assert result.session_name == "九届二次会议"
    assert result.proposal_number == "9B111"
    assert result.proposal_label == "第9B111号"
    assert result.proposers == ["钱建峰", "施美芳"]
    assert "未找到印发机关和印发日期" not in result.warnings  # a letter has no 印发 row


@pytest.mark.parametrize(
    ("title", "session", "number", "label", "kind"),
    [
        (
            "关于对区政协第24-105号提案的答复",
            "",
            "24-105",
            "第24-105号",
            LetterKind.REPLY,
        ),
        (
            "杨浦区商务委员会关于区政协十五届三次会议B131号提案的答复",
            "十五届三次会议",
            "B131",
            "B131号",
            LetterKind.REPLY,
        ),
        (
            "关于对区政协十五届二次会议第152045号提案的再次答复",
            "十五届二次会议",
            "152045",
            "第152045号",
            LetterKind.FOLLOW_UP,
        ),
        (
            "关于对区政协十五届二次会议第152045号提案的第二次答复",
            "十五届二次会议",
            "152045",
            "第152045号",
            LetterKind.FOLLOW_UP,
        ),
        (
            "关于区政协十五届二次会议第061号提案的答复函",
            "十五届二次会议",
            "061",
            "第061号",
            LetterKind.REPLY_LETTER,
        ),
    ],
)
def test_numbers_and_kinds_of_other_districts_come_from_the_title(
    title, session, number, label, kind
):
    result = read_published(f"{title}\n农工党区委：\n你们提出的提案收悉。现答复如下。\n")

    assert result.letter.title == title
    assert result.letter.kind == kind
    assert result.session_name == session
    assert result.proposal_number == number
    assert result.proposal_label == label
    assert result.proposers == ["农工党区委"]
    assert ("未找到届次" in result.warnings) == (not session)


def test_a_joint_header_gives_several_organs():
    text = (
        "上海市长宁区发展和改革委员会\n上海市长宁区财政局\n文件\n长发改〔2024〕3号\n"
        "对区政协十五届三次会议第050号提案的答复\n张三委员：\n您的提案收悉。\n"
    )
    letter = read_published(text).letter

    assert letter.organs == ("上海市长宁区发展和改革委员会", "上海市长宁区财政局")
    assert letter.format == LetterFormat.DOCUMENT


def test_more_than_three_members_keep_every_name_printed():
    result = read_published(
        "对区政协十五届三次会议第050号提案的答复\n张晓钟、林静、瞿子涵、王五委员：\n提案收悉。\n"
    )

    assert result.proposers == ["张晓钟", "林静", "瞿子涵", "王五"]
    assert result.more_proposers is False


def test_a_letter_with_only_a_body_gives_warnings_not_inventions():
    result = read_published(
        "您提出的关于加强招商的提案收悉，经研究，现答复如下：\n"
        "我区将继续推进招商工作。\n\n感谢您的关心！\n"
    )
    letter = result.letter

    assert result.is_reply  # the body answers a proposal
    assert without_body(letter) == Letter()
    assert [b.text for b in letter.body] == [
        "您提出的关于加强招商的提案收悉，经研究，现答复如下：",
        "我区将继续推进招商工作。",
        "感谢您的关心！",
    ]
    assert result.warnings == [
        "未找到办理结果",
        "未找到公开属性",
        "未找到发文机关标志",
        "未找到文号",
        "未找到签发人",
        "未找到标题",
        "未找到称呼",
        "未找到落款机关",
        "未找到成文日期",
        "未找到联系人信息",
        "未找到印发机关和印发日期",
    ]


def test_an_empty_text_is_all_warnings():
    result = read_published("")

    assert result.letter == Letter()
    assert "未找到正文" in result.warnings
    assert result.is_reply is False


def test_an_impossible_date_is_a_warning():
    result = read_published(FOLLOW_UP_BAOSHAN.replace("2024年9月2日", "2024年2月30日"))

    assert result.letter.date is None
    assert "日期无效：2024年2月30日" in result.warnings


def test_a_paragraph_split_by_a_page_break_is_joined_but_a_sentence_end_is_kept():
    result = read_published(
        "对区政协十五届三次会议第050号提案的答复\n张三委员：\n"
        "您的提案收悉。全区税收达到\n\n12亿元，增长5%。\n\n"
        "一是加快发展。我们将继续推进\n\n二是优化环境。\n"
    )

    assert [b.text for b in result.letter.body] == [
        "您的提案收悉。全区税收达到12亿元，增长5%。",
        "一是加快发展。我们将继续推进",  # 一是/二是 open a paragraph of their own
        "二是优化环境。",
    ]


# --- Round trip: our PDF of a seed reads back as the same letter -----------------------------


def render(letter: Letter) -> bytes:
    pdf = pytest.importorskip("replies.pdf", reason="the renderer is not there yet")
    return pdf.render_letter_pdf(letter)


@pytest.mark.parametrize("number", ["000", "001", "002", "003"])
def test_a_rendered_seed_reads_back_as_the_same_letter(number):
    original = read_seed(number)

    again = read_published(text_from_pdf(render(original.letter)))

    # The renderer breaks a long title itself: only a break the letter carries comes back.
    assert dataclasses.replace(without_body(again.letter), title_break=None) == (
        dataclasses.replace(without_body(original.letter), title_break=None)
    )
    if original.letter.title_break is not None:
        assert again.letter.title_break == original.letter.title_break
    assert "".join(b.text for b in again.letter.body) == "".join(
        b.text for b in original.letter.body
    )
    assert again.letter.body == original.letter.body
    # The organ taken from the 落款 is printed as a header, and read back as one.
    assert again.warnings == [w for w in original.warnings if not w.startswith("原文没有发文机关")]
    assert (again.session_name, again.proposal_number, again.proposers) == (
        original.session_name,
        original.proposal_number,
        original.proposers,
    )


def test_a_draft_reads_back_without_its_watermark_and_page_numbers():
    original = read_seed("002").letter

    text = text_from_pdf(render(dataclasses.replace(original, draft=True)))

    assert "草稿" not in text
    assert "— 1 —" not in text and "—1—" not in text
    # The renderer breaks a long title in two balanced lines; where it breaks is layout.
    again = read_published(text).letter
    assert dataclasses.replace(again, title_break=None) == original


# --- Never an exception ----------------------------------------------------------------------

_FRAGMENTS = [
    "办理结果：",
    "签发人:",
    "二〇二三年十三月四十日",
    "2023年2月30日",
    "（",
    "(此件",
    "文件",
    "〔2023〕号",
    "第号提案的答复",
    "：",
    "0000年1月1日印发",
    "---",
    "# ",
    "**",
    "联系人：  联系电话：",
    "对区政协十五届二次会议",
    "张三等委员：",
]


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.text())
def test_reading_never_raises_on_arbitrary_text(text):
    letter, warnings = read_letter(text)

    assert isinstance(letter, Letter)
    assert all(isinstance(w, str) for w in warnings)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=20)),
        max_size=30,
    ),
    st.sampled_from(["\n", "\n\n", "\r\n"]),
)
def test_reading_never_raises_on_letter_like_fragments(lines, separator):
    letter, _ = read_letter(separator.join(lines))

    assert isinstance(letter, Letter)
