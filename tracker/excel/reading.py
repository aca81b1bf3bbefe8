"""Reading the committee's list of filed proposals, and its blank template.

``read_filed_list`` turns the committee's sheet into the rows
``tracker.importing.import_filed_proposals`` takes (English keys), remembering each row's line in
the sheet so that every error can say "第 5 行". The file's own problems (not an .xlsx, no
header, a missing column) are reported before any row is looked at; the file's size and
structure are bounded first (``tracker.excel.archive``), and openpyxl then opens it read-only,
the reader stopping at the row limit.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from tracker.excel.archive import HEADER_SCAN_ROWS, check_archive, max_rows, size_text
from tracker.excel.writing import write_table

#: The committee's column headers (and the variants seen in districts' lists) → row keys.
COLUMNS: dict[str, tuple[str, ...]] = {
    "number": ("提案号", "编号", "提案编号", "案号"),
    "title": ("案由", "提案案由", "标题", "题目", "提案标题"),
    "lead_proposer": ("第一提案人", "提案人", "领衔人", "领衔提案人", "提案者"),
    "coproposers": ("联名提案人", "联名人", "附议人", "联名委员"),
    "category": ("类别", "提案类别", "分类"),
    "reason": ("案由说明", "理由"),
    "analysis": ("情况分析", "现状分析"),
    "suggestions": ("具体建议", "建议"),
    "is_key": ("重点提案", "是否重点提案", "重点"),
    "supervising_leader": ("领衔督办领导", "督办领导"),
}
REQUIRED = ("title", "lead_proposer")
#: The header of each key in a blank template, in the committee's order.
TEMPLATE_HEADERS = (
    ("number", "提案号"),
    ("title", "案由"),
    ("lead_proposer", "第一提案人"),
    ("coproposers", "联名提案人"),
    ("category", "类别"),
    ("is_key", "重点提案"),
    ("supervising_leader", "领衔督办领导"),
    ("reason", "案由说明"),
    ("analysis", "情况分析"),
    ("suggestions", "具体建议"),
)
_SPACES = re.compile(r"[\s\u3000]+")


class UnreadableWorkbook(ValueError):
    """The upload is no workbook this reader will open, with the reason in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@contextmanager
def first_sheet_rows(upload: IO[bytes]) -> Iterator[tuple[Any, Any]]:
    """The first sheet of an uploaded .xlsx and its rows (values only), for every list the
    committee uploads: the size and the archive's structure bounded first
    (``tracker.excel.archive``), then openpyxl read-only, the sheet's declared dimension not
    trusted. Raises ``UnreadableWorkbook`` for a file that is none, or whose cells are broken."""
    limit = int(settings.IMPORT_MAX_BYTES)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise UnreadableWorkbook(
            _("文件超过 %(size)s，请检查是否选错了文件。") % {"size": size_text(limit)}
        )
    problem = check_archive(data)
    if problem:
        raise UnreadableWorkbook(problem)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UnreadableWorkbook(_("无法读取该文件：不是有效的 Excel 文件（.xlsx）。")) from exc
    try:
        sheet = book.worksheets[0]
        # The dimension a file declares is not trusted: openpyxl would pad every row to it.
        sheet.reset_dimensions()
        yield sheet, sheet.iter_rows(values_only=True)
    except UnreadableWorkbook:
        raise
    except (zipfile.BadZipFile, EOFError, IndexError, KeyError, TypeError, ValueError) as exc:
        # A cell openpyxl cannot make sense of (a date that is not one, a shared string that
        # does not exist): the file was not written by a spreadsheet program.
        raise UnreadableWorkbook(
            _("无法读取该文件：表格内容已损坏。请在 Excel 中打开，另存为 .xlsx 后重新上传。")
        ) from exc
    finally:
        book.close()


@dataclass
class FiledList:
    """What was read from the sheet: rows with their sheet lines, or why nothing was."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the sheet's line of each row
    columns: list[str] = field(default_factory=list)  # the keys found, in sheet order
    errors: list[str] = field(default_factory=list)
    sheet: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors

    def line_of(self, row_index: int) -> int:
        """The sheet line of row ``row_index`` (1-based, as the importer counts)."""
        if 1 <= row_index <= len(self.lines):
            return self.lines[row_index - 1]
        return row_index


def _normal(header: Any) -> str:
    return _SPACES.sub("", str(header or "")).strip("*：:（）()")


_BY_HEADER = {_normal(h): key for key, headers in COLUMNS.items() for h in headers}


def _cell_text(value: Any) -> Any:
    """Cell values as the importer expects them: text, with whole numbers without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime | datetime.date):
        return value.strftime("%Y-%m-%d")
    return str(value).strip()


def read_filed_list(upload: IO[bytes], *, name: str = "") -> FiledList:
    """Read the committee's list of filed proposals (the first sheet of an .xlsx file)."""
    result = FiledList()
    if name and not name.lower().endswith((".xlsx", ".xlsm")):
        result.errors.append(
            _("请上传 Excel 文件（.xlsx）。旧版 .xls 请先在 Excel 中另存为 .xlsx。")
        )
        return result
    try:
        with first_sheet_rows(upload) as (sheet, _rows):
            result.sheet = sheet.title
            _read_sheet(sheet, result)
    except UnreadableWorkbook as exc:
        result.rows, result.lines = [], []
        result.errors.append(exc.message)
        return result
    if result.ok and not result.rows:
        result.errors.append(_("表格中没有提案（表头下面是空的）。"))
    return result


def _read_sheet(sheet: Any, result: FiledList) -> None:
    """The first sheet's header and rows into ``result`` (its errors too)."""
    rows = sheet.iter_rows(values_only=True)
    header_line, mapping = 0, {}
    for line, values in enumerate(rows, start=1):
        found = {
            i: _BY_HEADER[_normal(v)] for i, v in enumerate(values) if _normal(v) in _BY_HEADER
        }
        if "title" in found.values():
            header_line, mapping = line, found
            break
        if line >= HEADER_SCAN_ROWS:
            break
    if not header_line:
        result.errors.append(
            _("找不到表头：表格前 %(n)d 行中应有“案由”“第一提案人”等列名。")
            % {"n": HEADER_SCAN_ROWS}
        )
        return
    keys = list(dict.fromkeys(mapping.values()))
    missing = [k for k in REQUIRED if k not in keys]
    if missing:
        labels = "、".join(COLUMNS[k][0] for k in missing)
        result.errors.append(_("缺少必需的列：%(cols)s。") % {"cols": labels})
        return
    result.columns = keys
    limit = max_rows()
    for line, values in enumerate(rows, start=header_line + 1):
        row = {key: "" for key in keys}
        for i, key in mapping.items():
            if i < len(values) and values[i] not in (None, ""):
                row[key] = _cell_text(values[i])
        if not any(v not in ("", None) for v in row.values()):
            continue  # blank lines (a spacer, the sheet's trailing rows) are not proposals
        result.rows.append(row)
        result.lines.append(line)
        if len(result.rows) > limit:
            result.errors.append(
                _(
                    "一次最多导入 %(n)d 件提案，表格中超过了这个数。"
                    "请分批导入，或检查是否选错了文件。"
                )
                % {"n": limit}
            )
            return


def template_bytes() -> bytes:
    """A blank list for the committee to fill in, with one example row."""
    headers = [h for _k, h in TEMPLATE_HEADERS]
    example = ["", "关于……的建议", "张文浩", "李明、王芳", "经济建设", "否", "", "", "", ""]
    return write_table(_("立案提案"), headers, [example])
