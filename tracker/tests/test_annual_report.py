"""The annual report 提案办理工作情况报告 (``tracker.reports``): on the demo session its tables read
back the figures ``tracker.statistics.compute`` gives the statistics page, its layout is the
official one, LibreOffice converts it, and the command and the button refuse what they should.

The page images under docs/annual-report/ come from this file: with
``ANNUAL_REPORT_PAGES_DIR=docs/annual-report``, the test that converts the report
(``-k libreoffice``) writes its pages there.
"""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pdfplumber
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from proposals.models import Assignment, Proposal, Session, User
from proposals.selectors import filter_due
from tracker import statistics
from tracker.demo import CURRENT_SESSION, DEMO_TODAY
from tracker.reports import annual
from tracker.reports.pdf import docx_to_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo_session() -> Session:
    call_command("load_demo", stdout=io.StringIO())
    district, term, meeting = CURRENT_SESSION
    return Session.objects.get(district=district, term=term, meeting=meeting)


def cells(table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


def east_asia(element) -> str | None:
    fonts = element.find(f"{qn('w:rPr')}/{qn('w:rFonts')}")
    return None if fonts is None else fonts.get(qn("w:eastAsia"))


def close(length, expected) -> bool:
    return abs(int(length) - int(expected)) <= int(Mm(0.1))


def test_the_tables_read_back_the_statistics_figures_in_the_official_layout(demo_session):
    doc = Document(io.BytesIO(annual.build(demo_session, DEMO_TODAY)))
    total = statistics.compute(session=demo_session, today=DEMO_TODAY).total
    by_unit = statistics.compute(session=demo_session, group_by="unit", today=DEMO_TODAY)
    figures, results, units, key, still_open = doc.tables

    # 主要指标: every proposal-level measure, counts as they are, rates with their parts.
    shown = {row[0]: row[1] for row in cells(figures)[1:]}
    expected = [
        m
        for m in statistics.MEASURES
        if m.applies(statistics.PROPOSAL) and not m.attribute.startswith("results.")
    ]
    assert list(shown) == [str(m.label) for m in expected]
    for m in expected:
        value = m.value(total)
        if m.kind == statistics.COUNT:
            assert shown[str(m.label)] == str(value), m.attribute
        else:
            assert shown[str(m.label)].startswith(statistics.percent(value)), m.attribute
    assert shown["立案数"] == str(total.filed) and total.filed > 0
    assert shown["逾期"] == str(total.overdue)

    # The A/B/C/D mix and its sum.
    rows = cells(results)[1:]
    assert [int(r[1]) for r in rows[:-1]] == [total.results[c] for c in "ABCD"]
    assert rows[-1][:2] == ["合计", str(total.result_total)]
    assert total.result_total > 0

    # Per unit (per assignment): one row a unit, and the sum of the rows.
    rows = cells(units)
    assert rows[0] == ["承办单位", "交办", "办复", "按期", "见面", "满意", "逾期"]
    attributes = [a for _h, a in annual.UNIT_COLUMNS]
    assert [r[0] for r in rows[1:-1]] == [f.label for f in by_unit.rows]
    for row, fig in zip(rows[1:-1], by_unit.rows, strict=True):
        assert [int(v) for v in row[1:]] == [getattr(fig, a) for a in attributes], fig.label
    summed = [sum(int(r[i]) for r in rows[1:-1]) for i in range(1, 7)]
    assert [int(v) for v in rows[-1][1:]] == summed
    assert summed == [getattr(by_unit.rows_total, a) for a in attributes]

    # Key proposals, in order of their numbers.
    keys = Proposal.objects.filter(session=demo_session, is_key=True, serial__isnull=False)
    assert [r[0] for r in cells(key)[1:]] == [p.number for p in keys.order_by("serial")]
    assert keys.exists()

    # Still open: every open assignment of the session, the overdue ones marked in days.
    in_session = Assignment.objects.filter(proposal__session=demo_session)
    open_rows = cells(still_open)[1:]
    assert len(open_rows) == filter_due(in_session, "open", DEMO_TODAY).count() > 0
    overdue = filter_due(filter_due(in_session, "open", DEMO_TODAY), "overdue", DEMO_TODAY)
    assert sum(1 for r in open_rows if r[5].startswith("逾期")) == overdue.count() > 0

    # Two charts, as pictures.
    assert len(doc.inline_shapes) == 2
    assert_official_layout(doc)


def assert_official_layout(doc) -> None:
    section = doc.sections[0]
    assert close(section.page_width, Mm(210)) and close(section.page_height, Mm(297))
    assert close(section.top_margin, Mm(37)) and close(section.bottom_margin, Mm(35))
    assert close(section.left_margin, Mm(28)) and close(section.right_margin, Mm(26))

    styles = doc.styles
    assert styles["Normal"].font.size == Pt(16)
    assert east_asia(styles["Normal"].element) == "仿宋_GB2312"
    assert styles["Normal"].paragraph_format.line_spacing == Pt(29)
    assert east_asia(styles["Heading 1"].element) == "黑体"
    assert east_asia(styles["Heading 2"].element) == "楷体_GB2312"
    assert styles["Heading 1"].font.bold is False

    title, date = doc.paragraphs[0], doc.paragraphs[1]
    assert title.text == "关于长宁区政协十五届五次会议提案办理工作情况的报告"
    assert title.style.font.size == Pt(22)
    assert east_asia(title.style.element) == "方正小标宋简体"
    assert date.text == "（2026年11月22日）"
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings == [
        "一、总体情况",
        "二、办理结果",
        "三、各承办单位办理情况",
        "四、重点提案办理情况",
        "五、尚未办结的提案",
    ]
    assert [p.text for p in doc.paragraphs if p.style.name == "Heading 2"] == [
        "（一）主要指标及统计口径"
    ]

    # Page numbers "— 1 —", at the outer edge: odd pages right, even pages left.
    assert doc.settings.odd_and_even_pages_header_footer
    for footer in (section.footer, section.even_page_footer):
        xml = footer._element.xml
        assert "PAGE" in xml and "— " in xml and " —" in xml
    # Every run's East Asian font is named by its style or itself, never the theme's.
    assert "eastAsiaTheme" not in doc.styles.element.xml.split('w:styleId="Normal"')[1][:2000]


@pytest.mark.slow
def test_the_command_writes_a_file_libreoffice_converts(demo_session, tmp_path):
    docx, out = tmp_path / "report.docx", io.StringIO()
    call_command(
        "annual_report",
        session=str(demo_session.pk),
        output=str(docx),
        as_of=DEMO_TODAY.isoformat(),
        stdout=out,
    )
    assert f"已写入 {docx}" in out.getvalue()
    assert Document(str(docx)).paragraphs[0].text == annual.title(demo_session)
    pdf = docx_to_pdf(docx, tmp_path)
    with pdfplumber.open(pdf) as document:
        pages = document.pages
        first = pages[0].extract_text()
        assert len(pages) >= 4
        assert "提案办理工作情况的报告" in first.replace("\n", "")
        assert "总体情况" in first
        assert pages[0].width == pytest.approx(595.3, abs=1)  # A4 in points
        assert "— 2 —" in pages[1].extract_text()
    pages_dir = os.environ.get("ANNUAL_REPORT_PAGES_DIR")
    if pages_dir:
        target = Path(pages_dir)
        target.mkdir(parents=True, exist_ok=True)
        for old in target.glob("page-*.png"):
            old.unlink()
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(target / "page")], check=True)


def test_the_button_gives_the_committee_the_document_and_a_clerk_nothing(
    demo_session, client, tmp_path
):
    """And the command refuses what it cannot do, in Chinese (same demo, one load)."""
    url = reverse("tracker_admin:annual_report")
    client.force_login(User.objects.get(username="committee"))
    page = client.get(reverse("tracker_admin:statistics"), {"session": demo_session.pk})
    assert f'{url}?session={demo_session.pk}"' in page.content.decode()

    response = client.get(url, {"session": demo_session.pk})
    assert response.status_code == 200
    assert response["Content-Type"] == annual.DOCX_TYPE
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    doc = Document(io.BytesIO(response.content))
    assert doc.paragraphs[0].text == annual.title(demo_session)

    assert client.get(url, {"session": 999999}).status_code == 404
    assert client.get(url, {"session": "x"}).status_code == 404

    client.force_login(User.objects.get(username="cnfgw_clerk"))
    assert client.get(url, {"session": demo_session.pk}).status_code == 403
    page = client.get(reverse("tracker_admin:statistics"), {"session": demo_session.pk})
    assert url not in page.content.decode()

    tmp = tmp_path
    missing = Session.objects.order_by("-pk").first().pk + 1
    with pytest.raises(CommandError, match=f"找不到编号为 {missing} 的届次会议"):
        call_command("annual_report", session=str(missing), output=str(tmp / "x.docx"))
    with pytest.raises(CommandError, match="届次会议编号应为数字"):
        call_command("annual_report", session="十五届", output=str(tmp / "x.docx"))
    with pytest.raises(CommandError, match="日期“2026-13-01”无效"):
        call_command(
            "annual_report",
            session=str(demo_session.pk),
            output=str(tmp / "x.docx"),
            as_of="2026-13-01",
        )
    assert not (tmp / "x.docx").exists()
