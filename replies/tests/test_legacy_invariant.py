"""The reader never loses text (issue 20): every non-space character of the source is in a
field of the letter, or in a warning that names the dropped line.

The check here is independent of the reader's bookkeeping: it cuts each source line into
pieces (labels, brackets and the words 文件 and 印发 aside) and looks each piece up — as many
times as it occurs — in what the reader returned.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replies.legacy import ReadResult, read_published
from replies.legacy_lines import _normalize_doc_number, _parse_date, _prepare
from replies.legacy_patterns import _CN_DATE, _DOC_NUMBER, _LABEL, _META_LABEL, _META_LABEL_ONLY
from replies.letter import chinese_date
from replies.seeds import seed_text

CORPUS = Path(__file__).parent / "legacy_corpus"


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _outputs(result: ReadResult) -> str:
    letter = result.letter
    texts = [
        letter.title,
        letter.salutation,
        *(b.text for b in letter.body),
        *letter.organs,
        letter.signature_organ,
        letter.note,
        letter.doc_number,
        letter.signer,
        letter.result_label,
        letter.disclosure,
        letter.contact.person,
        letter.contact.phone,
        letter.contact.address,
        letter.contact.postcode,
        *letter.cc,
        letter.printed_by,
        letter.date_text,
        letter.printed_on_text,
        letter.index_number,
        letter.publisher,
        *(value for _, value in letter.page_metadata),
        *(label for _, label in letter.labels),  # 承办单位通讯地址: the label as printed
        *result.warnings,
    ]
    return "\n".join(_squeeze(t) for t in texts if t)


def _pieces(text: str) -> list[str]:
    """What of each source line must be found again: its words without labels and markup."""
    pieces = []
    for line in _prepare(text):
        base = _META_LABEL_ONLY.sub("", line.base)
        base = _META_LABEL.sub("  ", _LABEL.sub("  ", base))
        for piece in re.split(r"\s{2,}", base):
            piece = _squeeze(piece).strip("（）()")
            if _DOC_NUMBER.search(piece):
                piece = _normalize_doc_number(piece)
            piece = piece.removesuffix("印发").removesuffix("文件").rstrip("：")
            if piece:
                pieces.append(piece)
    return pieces


def _take(hay: str, piece: str) -> str | None:
    at = hay.find(piece)
    if at < 0:
        return None
    return hay[:at] + "\0" * len(piece) + hay[at + len(piece) :]


def _as_date(piece: str) -> str:
    """2024-05-20 or 二〇二四年五月二十日 as 2024年5月20日 ("" for no date)."""
    if m := re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", piece):
        try:
            return chinese_date(datetime.date(*map(int, m.groups())))
        except ValueError:
            return ""
    if _CN_DATE.fullmatch(piece) and (date := _parse_date(piece, [])):
        return chinese_date(date)
    return ""


def lost_pieces(text: str, result: ReadResult) -> list[str]:
    hay = _outputs(result)
    lost = []
    for piece in sorted(_pieces(text), key=len, reverse=True):
        if (taken := _take(hay, piece)) is not None:
            hay = taken
            continue
        # A date read into a field is printed back as 2024年5月20日.
        if (same := _as_date(piece)) and (taken := _take(hay, same)) is not None:
            hay = taken
            continue
        # A line the reader splits into several fields: 抄送 (one per unit), 印发 (organ, date).
        parts = re.split(r"[，,、；;。]|(?=\d{4}年\d{1,2}月\d{1,2}日$)", piece)
        for part in filter(None, parts):
            if (taken := _take(hay, part)) is None:
                lost.append(part)
            else:
                hay = taken
    return lost


# --- Variants ---------------------------------------------------------------------------------

_BASES = [
    (CORPUS / f"{name}.txt").read_text(encoding="utf-8")
    for name in (
        "01_document_full",
        "06_co_opinion_to_street",
        "09_follow_up_earlier_result",
        "14_many_members_etc",
        "22_joint_letter",
        "28_fields_below_other_labels",
    )
] + [seed_text("002"), seed_text("003")]

_NAVIGATION = [
    "首页 > 政务公开 > 建议提案办理 > 政协提案",
    "当前位置：首页 > 信息公开 > 提案办理",
    "打印本页 关闭窗口",
    "【打印】【关闭】",
    "分享到：",
    "浏览次数：37",
    "上一篇：关于对区政协第16001号提案的答复",
]


@st.composite
def _metadata(draw: st.DrawFn) -> str:
    year = draw(st.integers(2019, 2026))
    serial = draw(st.integers(1, 300))
    prefix = draw(st.sampled_from(["东建管", "西教", "北民", "南卫"]))
    organ = draw(st.sampled_from(["上海市东浦区建设和管理委员会", "上海市西塘区教育局"]))
    shape = draw(st.sampled_from(["lines", "pairs", "table", "split"]))
    number = f"{prefix}〔{year}〕{serial}号"
    if shape == "lines":
        return (
            f"索引号：SH-{year}-{serial:05d}\n主题分类：综合政务\n公开主体：{organ}\n"
            f"成文日期：{year}-05-08\n发文字号：{number}\n公开类型：主动公开\n"
        )
    if shape == "pairs":
        return (
            f"索引号：SH-{year}-{serial:05d}    主题分类：城乡建设\n"
            f"发布机构：{organ}    成文日期：{year}年5月8日\n公开属性：主动公开\n"
        )
    if shape == "table":
        return f"索引号\nSH-{year}-{serial:05d}\n发布机构\n{organ}\n发文字号\n{number}\n"
    return f"索引号：SH-{year}-{serial:05d}\n发文字号：{prefix}\n〔{year}〕\n{serial}号\n"


@st.composite
def variants(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(_BASES)).splitlines()
    body_at = next((i for i, ln in enumerate(lines) if "收悉" in ln), 2) + 1
    organ = next((ln for ln in reversed(lines) if ln.strip().endswith(("局", "委员会"))), "区政府")
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(body_at, max(body_at, len(lines) - 3)))
        lines.insert(
            at, draw(st.sampled_from([organ, organ.strip() + "文件", "上海市东浦区水务局"]))
        )
    if draw(st.booleans()):
        start = draw(st.integers(body_at, max(body_at, len(lines) - 4)))
        lines[start:start] = lines[start : start + draw(st.integers(1, 3))]  # a paragraph twice
    if draw(st.booleans()):
        lines[0:0] = draw(_metadata()).splitlines()
    for _ in range(draw(st.integers(0, 3))):
        nav = draw(st.sampled_from(_NAVIGATION))
        lines.insert(draw(st.sampled_from([0, len(lines)])), nav)
    text = "\n".join(lines) + "\n"
    if draw(st.booleans()):
        text += draw(st.sampled_from(["", "\n", "\n\n"])) + text  # the whole page pasted twice
    return text


def test_no_text_is_lost_over_generated_variants():
    seen: set[str] = set()

    @settings(
        max_examples=260, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(variants())
    def check(text: str) -> None:
        seen.add(text)
        result = read_published(text)
        assert lost_pieces(text, result) == [], result.warnings

    check()
    assert len(seen) >= 200


_PIECES = [
    "办理结果：采纳",
    "签发人:王五",
    "2023年2月30日",
    "二〇二三年五月四日",
    "（此件公开发布）",
    "文件",
    "普发改委〔2023〕号",
    "普发改委〔2023〕14号    签发人：张三",
    "第号提案的答复",
    "0000年1月1日印发",
    "联系人：张三  联系电话：123",
    "张三等委员：",
    "区发改委：",
    "上海市东浦区水务局",
    "对区政协十五届二次会议第061号提案的答复",
    "索引号：SH-1",
    "发文字号：东环",
    "〔2024〕",
    "9号",
    "一、加强管理",
    "（一）具体措施",
    "抄送：区政协提案委。",
    "附件：1.名单",
    "上海市东浦区水务局办公室 2024年6月12日印发",
]
_WORDS = st.text(
    alphabet=st.sampled_from(
        list("提案答复委员会区政府局街道办理意见我们收悉经研究：，。、（）；0123 ")
    ),
    max_size=30,
)


@st.composite
def letters_with_stray_lines(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(_BASES)).splitlines()
    stray = draw(st.lists(st.one_of(st.sampled_from(_PIECES), _WORDS), min_size=1, max_size=12))
    at = draw(st.integers(0, len(lines)))
    lines[at:at] = stray
    return "\n".join(lines)


def test_no_text_is_lost_when_stray_lines_stand_anywhere():
    seen: set[str] = set()

    @settings(
        max_examples=260, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(letters_with_stray_lines())
    def check(text: str) -> None:
        seen.add(text)
        result = read_published(text)
        assert lost_pieces(text, result) == [], result.warnings

    check()
    assert len(seen) >= 200


def test_a_body_line_equal_to_the_organ_no_longer_cuts_the_body():
    text = (
        "对区政协十五届三次会议第050号提案的答复\n张三委员：\n您的提案收悉。\n"
        "上海市长宁区发展和改革委员会\n此后的正文仍然保留。\n"
        "上海市长宁区发展和改革委员会\n2024年4月25日\n"
    )
    result = read_published(text)

    assert [b.text for b in result.letter.body] == [
        "您的提案收悉。",
        "上海市长宁区发展和改革委员会",
        "此后的正文仍然保留。",
    ]
    assert result.letter.signature_organ == "上海市长宁区发展和改革委员会"


def test_a_metadata_block_before_the_letter_keeps_the_letter_body():
    text = (
        "索引号：SH-2023-00014\n主题分类：综合政务\n公开主体：上海市普陀区发展和改革委员会\n"
        "成文日期：2023-05-08\n发文字号：普发改委\n〔2023〕\n14号\n公开类型：主动公开\n"
        + seed_text("001")
    )
    plain = read_published(seed_text("001"))
    result = read_published(text)

    assert result.letter.body == plain.letter.body
    assert result.letter.index_number == "SH-2023-00014"
    assert result.letter.publisher == "上海市普陀区发展和改革委员会"
    assert result.letter.doc_number == "普发改委〔2023〕14号"
    assert lost_pieces(text, result) == []


def test_an_unread_line_is_named_in_a_warning_with_its_text():
    # A line above the title that is neither a header nor a field.
    text = "某某某某某某说明文字\n" + seed_text("001")

    result = read_published(text)

    assert any("某某某某某某说明文字" in w and "已略去" in w for w in result.warnings)
    assert lost_pieces(text, result) == []


def test_the_checker_itself_finds_a_dropped_line():
    text = seed_text("001")
    result = read_published(text)
    body = result.letter.body
    shortened = ReadResult(
        letter=dataclasses.replace(result.letter, body=body[:-1]),
        warnings=result.warnings,
    )

    assert lost_pieces(text, shortened)
