"""Excel in and out: the committee's list of filed proposals, exported lists, statistics.

Reading: ``read_filed_list`` turns the committee's sheet into the rows
``tracker.importing.import_filed_proposals`` takes (English keys), remembering each row's line in
the sheet so that every error can say "第 5 行". The file's own problems (not an .xlsx, no
header, a missing column) are reported before any row is looked at.

An upload is bounded before openpyxl sees it (``check_archive``): an .xlsx is a ZIP, and a
600 KB file can inflate to gigabytes. Its directory is checked first, without inflating
anything (size of each part and of all together, number of parts, compression ratio); then each
part's XML is streamed once through expat in O(1) memory, refusing a DTD (entity expansion),
more XML elements than any list has, or more sheet rows than ``IMPORT_MAX_ROWS`` allows. Only
then does openpyxl open it, read-only, and the reader stops at the row limit.

Writing: every cell of every workbook the system writes goes through ``append_row``: text is
written as a string cell (never a formula, whatever it starts with), and text that a spreadsheet
would take for a formula when typed (``=``, ``+``, ``-``, ``@``, tab, CR and their full-width
forms) is also marked with Excel's text prefix (``quotePrefix``, the invisible leading
apostrophe), so the cell shows the text as it is and stays text when edited; a date is a real
date cell shown ``yyyy-mm-dd`` (``date_cell``), so that lists sort and compute by it.
``write_table`` makes one sheet of a list (headers bold, frozen, filterable);
``write_statistics`` the statistics table with native Excel charts (per-group rates, result
mix), so the report opens in Excel as it looks on the page. The system writes no CSV.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any
from xml.parsers import expat

from django.conf import settings
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.chart import BarChart, PieChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from tracker import statistics
from tracker.statistics import RESULT_CLASSES, Statistics

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
_HEADER_SCAN_ROWS = 10
#: An .xlsx holds some 10 parts (a few more with pictures); more is not a list of proposals.
MAX_ARCHIVE_MEMBERS = 300
#: A part of over 1 MB that inflates more than this many times is made to inflate, not written:
#: sheets and shared strings of real lists deflate 3 to 15 times.
MAX_COMPRESSION_RATIO = 100
_RATIO_FROM_BYTES = 1024 * 1024
#: XML elements of cell data (rows, cells, values, strings and their runs), all parts together:
#: openpyxl reads them at some 5-10 µs apiece. A list at the row limit with 30 columns has some
#: 200,000; shared strings (``si``) are further held to MAX_SHARED_STRINGS.
MAX_CELL_ELEMENTS = 300_000
MAX_SHARED_STRINGS = 50_000
_CELL_ELEMENTS = frozenset({"row", "c", "v", "f", "is", "t", "si", "r"})
#: Every other element (styles, relationships, defined names, column widths, fonts of rich
#: text …): openpyxl builds objects for each, 25-60 µs and up to 2 KB apiece. Lists have a few
#: hundred to a few thousand.
MAX_OTHER_ELEMENTS = 20_000
_SCAN_CHUNK = 64 * 1024
_SPACES = re.compile(r"[\s\u3000]+")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


def max_rows() -> int:
    """Proposals one import may hold: ``IMPORT_MAX_ROWS``, which the importer holds too."""
    return int(settings.IMPORT_MAX_ROWS)


def max_sheet_lines() -> int:
    """Lines a sheet may have, blank ones included: the list, its title and header, and as
    many blank or formatted-but-empty lines again."""
    return 2 * max_rows() + _HEADER_SCAN_ROWS


def _size(n: int) -> str:
    mb = 1024 * 1024
    return f"{round(n / mb)} MB" if n >= mb else f"{-(-n // 1024)} KB"


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def check_archive(data: bytes) -> str:
    """Why the .xlsx ``data`` may not be opened (an error in Chinese), or ``""``.

    First the ZIP directory alone, inflating nothing: number of parts, each part's and all
    parts' inflated size (``IMPORT_MAX_UNCOMPRESSED_BYTES``), each large part's compression
    ratio. Reading a part never yields more than the size its directory entry declares (Python's
    ``zipfile`` stops there and fails the CRC), so these sizes bound what openpyxl can inflate.
    Then each part is streamed once through expat, 64 KB at a time: no DTD (entity expansion),
    no more elements than ``MAX_CELL_ELEMENTS``, ``MAX_SHARED_STRINGS`` and
    ``MAX_OTHER_ELEMENTS`` allow, no sheet longer than ``max_sheet_lines()``.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        return _("无法读取该文件：不是有效的 Excel 文件（.xlsx）。")
    too_big = _(
        "文件解压后超过 %(size)s，不像是一份立案提案清单。请检查是否选错了文件，"
        "或删除多余的工作表、图片后另存再上传。"
    ) % {"size": _size(settings.IMPORT_MAX_UNCOMPRESSED_BYTES)}
    if len(infos) > MAX_ARCHIVE_MEMBERS:
        return _("文件内部结构异常（组成部分过多），不像是 Excel 保存的文件，已拒绝。")
    limit = int(settings.IMPORT_MAX_UNCOMPRESSED_BYTES)
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > limit or total > limit:
            return too_big
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _RATIO_FROM_BYTES and ratio > MAX_COMPRESSION_RATIO:
            return _("文件内部结构异常（压缩比过高），可能是恶意构造的文件，已拒绝。")
    scan = _Scan()
    try:
        for info in infos:
            scan.part(archive, info)
    except _Refused as exc:
        return exc.message
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, OSError, EOFError):
        return _("无法读取该文件：不是有效的 Excel 文件（.xlsx）。")
    return ""


class _Scan:
    """One pass of expat over each part of an archive, counting as it goes (O(1) memory)."""

    def __init__(self) -> None:
        self.cells = self.others = self.strings = 0
        self.max_lines = max_sheet_lines()

    def part(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        if info.is_dir():
            return
        parser = expat.ParserCreate(namespace_separator=" ")
        rows = 0
        complex_ = _("文件内部结构异常（内容过于复杂），不像是一份立案提案清单。")

        def start(name: str, attributes: dict[str, str]) -> None:
            nonlocal rows
            local = name.rpartition(" ")[2]
            if local not in _CELL_ELEMENTS:
                self.others += 1
                if self.others > MAX_OTHER_ELEMENTS:
                    raise _Refused(complex_)
                return
            self.cells += 1
            if self.cells > MAX_CELL_ELEMENTS:
                raise _Refused(complex_)
            if local == "si":
                self.strings += 1
                if self.strings > MAX_SHARED_STRINGS:
                    raise _Refused(complex_)
            elif local == "row":
                rows += 1
                line = attributes.get("r", "")
                if rows > self.max_lines or (line.isdigit() and int(line) > self.max_lines):
                    raise _Refused(
                        _(
                            "表格超过 %(n)d 行（含空行）。请删除表格末尾多余的行，"
                            "或检查是否选错了文件。"
                        )
                        % {"n": self.max_lines}
                    )

        def doctype(*_args: Any) -> None:
            raise _Refused(_("文件内部结构异常（含有 DTD 声明），Excel 不会这样保存，已拒绝。"))

        parser.StartElementHandler = start
        parser.StartDoctypeDeclHandler = doctype
        parser.EntityDeclHandler = doctype
        with archive.open(info) as stream:
            try:
                while chunk := stream.read(_SCAN_CHUNK):
                    parser.Parse(chunk, False)
                parser.Parse(b"", True)
            except expat.ExpatError:
                return  # not XML (a picture, printer settings): openpyxl would not parse it either


def read_filed_list(upload: IO[bytes], *, name: str = "") -> FiledList:
    """Read the committee's list of filed proposals (the first sheet of an .xlsx file)."""
    result = FiledList()
    if name and not name.lower().endswith((".xlsx", ".xlsm")):
        result.errors.append(
            _("请上传 Excel 文件（.xlsx）。旧版 .xls 请先在 Excel 中另存为 .xlsx。")
        )
        return result
    limit = int(settings.IMPORT_MAX_BYTES)
    data = upload.read(limit + 1)
    if len(data) > limit:
        result.errors.append(
            _("文件超过 %(size)s，请检查是否选错了文件。") % {"size": _size(limit)}
        )
        return result
    problem = check_archive(data)
    if problem:
        result.errors.append(problem)
        return result
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        result.errors.append(_("无法读取该文件：不是有效的 Excel 文件（.xlsx）。"))
        return result
    try:
        _read_sheet(book, result)
    except (zipfile.BadZipFile, EOFError, IndexError, KeyError, TypeError, ValueError):
        # A cell openpyxl cannot make sense of (a date that is not one, a shared string that
        # does not exist): the file was not written by a spreadsheet program.
        result.rows, result.lines = [], []
        result.errors.append(
            _("无法读取该文件：表格内容已损坏。请在 Excel 中打开，另存为 .xlsx 后重新上传。")
        )
    finally:
        book.close()
    if result.ok and not result.rows:
        result.errors.append(_("表格中没有提案（表头下面是空的）。"))
    return result


def _read_sheet(book: Any, result: FiledList) -> None:
    """The first sheet's header and rows into ``result`` (its errors too)."""
    sheet = book.worksheets[0]
    result.sheet = sheet.title
    # The dimension a file declares is not trusted: openpyxl would pad every row to it.
    sheet.reset_dimensions()
    rows = sheet.iter_rows(values_only=True)
    header_line, mapping = 0, {}
    for line, values in enumerate(rows, start=1):
        found = {
            i: _BY_HEADER[_normal(v)] for i, v in enumerate(values) if _normal(v) in _BY_HEADER
        }
        if "title" in found.values():
            header_line, mapping = line, found
            break
        if line >= _HEADER_SCAN_ROWS:
            break
    if not header_line:
        result.errors.append(
            _("找不到表头：表格前 %(n)d 行中应有“案由”“第一提案人”等列名。")
            % {"n": _HEADER_SCAN_ROWS}
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


# --- Writing --------------------------------------------------------------------------------

_HEAD_FONT = Font(bold=True, color="FFFFFF")
_HEAD_FILL = PatternFill("solid", fgColor="1F4E6B")
_TOTAL_FONT = Font(bold=True)
_TOTAL_FILL = PatternFill("solid", fgColor="EEF2F6")


def _width(value: Any) -> int:
    text = str(value if value is not None else "")
    # CJK characters take two columns of width in Excel.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _format_sheet(ws, headers: Sequence[str], rows: int) -> None:
    for col in range(1, len(headers) + 1):
        cell = ws.cell(row=1, column=col)
        cell.font, cell.fill = _HEAD_FONT, _HEAD_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{rows + 1}"


def _fit_columns(ws, widths: dict[int, int], *, cap: int = 60) -> None:
    for col, width in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = min(max(width + 2, 8), cap)


#: What makes a spreadsheet take typed or imported text for a formula (OWASP "CSV injection"):
#: ``=``, ``+``, ``-``, ``@``, and tab or CR before them. Excel and WPS in CJK locales take the
#: full-width ``＝＋－＠`` typed through an IME for the half-width ones, so they count too.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
#: Excel's limit on a cell's text.
_MAX_CELL_CHARS = 32767


def text_cell(ws, value: str) -> Cell:
    """``value`` as a string cell that is never evaluated.

    openpyxl writes a ``str`` starting with ``=`` as a formula (``<f>``) and one that looks like
    an error code as an error; this cell is an inline string whatever the text. Text starting
    with one of ``FORMULA_PREFIXES`` also gets Excel's text prefix (``quotePrefix``: the
    apostrophe Excel shows only in the formula bar), so it stays text when someone edits the
    cell, or copies it out. Characters XML cannot hold (control characters other than tab, LF
    and CR) are dropped rather than failing the whole export.
    """
    text = ILLEGAL_CHARACTERS_RE.sub("", value)[:_MAX_CELL_CHARS]
    cell = Cell(ws)
    cell._value = text
    cell.data_type = "s"
    if text.startswith(FORMULA_PREFIXES):
        cell.quotePrefix = True
    return cell


#: How exported dates show (a real date cell: it sorts, filters and computes as a date).
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


def date_cell(ws, value: datetime.date) -> Cell:
    """``value`` as a date cell shown ``yyyy-mm-dd`` (a moment: local time, to the minute).

    Excel has no time zones: an aware moment is written as the local time it was here.
    """
    fmt = DATE_FORMAT
    if isinstance(value, datetime.datetime):
        fmt = DATETIME_FORMAT
        if timezone.is_aware(value):
            value = timezone.localtime(value).replace(tzinfo=None)
        value = value.replace(microsecond=0)  # Excel keeps milliseconds at most
    cell = Cell(ws, value=value)
    cell.number_format = fmt
    return cell


def date_value(field: Any, attr: Any, value: Any, obj: Any) -> datetime.date | None:
    """The date a list column shows, if it shows one, for the list export to write as a date.

    A date field's value; or, for a computed column that sorts by a date of the row (答复期限
    sorts by ``reply_due_on``, 送达/公开 by ``sent_at``), that date, without the words the page
    adds to it (逾期 N 天): the spreadsheet computes those itself. ``None`` for anything else.
    """
    if isinstance(value, datetime.date):
        return value
    ordering = getattr(attr, "admin_order_field", None)
    if field is None and isinstance(ordering, str) and "__" not in ordering:
        ordered = getattr(obj, ordering.lstrip("-"), None)
        if isinstance(ordered, datetime.date):
            return ordered
    return None


def append_row(ws, values: Iterable[Any]) -> None:
    """Append a row to ``ws``: every written workbook goes through here. Text becomes a
    ``text_cell``, a date a ``date_cell``; numbers, booleans and empty cells stay what they
    are."""
    row: list[Any] = []
    for value in values:
        if isinstance(value, Promise):
            value = str(value)
        if isinstance(value, str):
            row.append(text_cell(ws, value))
        elif isinstance(value, datetime.date):
            row.append(date_cell(ws, value))
        else:
            row.append(value)
    ws.append(row)


def write_table(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """One sheet: headers, then rows (values as given: text, numbers, dates)."""
    book = Workbook()
    ws = book.active
    ws.title = title[:31] or "Sheet1"
    append_row(ws, headers)
    widths = {i: _width(h) for i, h in enumerate(headers, start=1)}
    count = 0
    for row in rows:
        append_row(ws, row)
        count += 1
        for i, value in enumerate(row, start=1):
            widths[i] = max(widths.get(i, 0), _width(value))
    _format_sheet(ws, headers, count)
    _fit_columns(ws, widths)
    return _save(book)


def template_bytes() -> bytes:
    """A blank list for the committee to fill in, with one example row."""
    headers = [h for _k, h in TEMPLATE_HEADERS]
    example = ["", "关于……的建议", "张文浩", "李明、王芳", "经济建设", "否", "", "", "", ""]
    return write_table(_("立案提案"), headers, [example])


#: The statistics' columns, from the one definitions module: (header, attribute, kind).
STAT_COLUMNS: tuple[tuple[Any, str, str], ...] = tuple(
    (m.label, m.attribute, m.kind) for m in statistics.MEASURES
)


def stat_value(figures: Any, attribute: str) -> Any:
    """A figure's cell: its value, or ``None`` (an empty cell) where the figure means nothing
    at the row's level (并案, 待交办 of a unit)."""
    measure = statistics.MEASURE_BY_ATTRIBUTE[attribute]
    if not measure.applies(getattr(figures, "level", statistics.PROPOSAL)):
        return None
    return measure.value(figures)


def statistics_rows(stats: Statistics) -> list[Any]:
    """The rows of a statistics table as the page and the workbook show them: one per group,
    then the sum of the rows when it is another level than the total, then the total."""
    if not stats.group_by:
        return [stats.total]
    return [*stats.rows, *([stats.rows_total] if stats.rows_total else []), stats.total]


def write_statistics(stats: Statistics, *, title: str, scope: str) -> bytes:
    """The statistics as on the page: the table (with its total rows), the result mix, charts,
    and the 指标说明 (each figure's definition at both levels)."""
    book = Workbook()
    ws = book.active
    ws.title = _("办理统计")
    group_header = _("分组") if stats.group_by else _("范围")
    headers = [group_header, *(h for h, _a, _k in STAT_COLUMNS)]
    append_row(ws, [title])
    append_row(ws, [scope])
    append_row(ws, headers)
    first = 4
    rows = stats.rows if stats.group_by else [stats.total]
    for figures in statistics_rows(stats):
        append_row(ws, [figures.label, *(stat_value(figures, a) for _h, a, _k in STAT_COLUMNS)])
    last = ws.max_row
    for col, (_h, _a, kind) in enumerate(STAT_COLUMNS, start=2):
        if kind == statistics.RATE:
            for r in range(first, last + 1):
                ws.cell(row=r, column=col).number_format = "0.0%"
    for col in range(1, len(headers) + 1):
        cell = ws.cell(row=3, column=col)
        cell.font, cell.fill = _HEAD_FONT, _HEAD_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    if stats.group_by:
        for r in range(first + len(rows), last + 1):
            for col in range(1, len(headers) + 1):
                cell = ws.cell(row=r, column=col)
                cell.font, cell.fill = _TOTAL_FONT, _TOTAL_FILL
    append_row(ws, [statistics_note(stats)])
    ws["A1"].font = Font(bold=True, size=14)
    ws.freeze_panes = "B4"
    widths = {1: max([_width(ws.cell(row=r, column=1).value) for r in range(3, last + 1)] + [8])}
    widths.update({c: max(_width(h), 8) for c, h in enumerate(headers[1:], start=2)})
    _fit_columns(ws, widths)

    data_rows = len(rows)
    if stats.group_by and data_rows:
        chart = BarChart()
        chart.type = "bar"
        chart.style = 10
        chart.title = _("办复率与按期办复率")
        chart.y_axis.number_format = "0%"
        chart.y_axis.scaling.min = 0
        chart.y_axis.scaling.max = 1
        labels = Reference(ws, min_col=1, min_row=first, max_row=first + data_rows - 1)
        for attribute in ("reply_rate", "on_time_rate"):
            col = 2 + [a for _h, a, _k in STAT_COLUMNS].index(attribute)
            ref = Reference(ws, min_col=col, min_row=3, max_row=first + data_rows - 1)
            chart.add_data(ref, titles_from_data=True)
        chart.set_categories(labels)
        chart.height = max(7.5, 0.6 * data_rows + 3)
        chart.width = 18
        ws.add_chart(chart, f"A{last + 3}")

    mix = book.create_sheet(_("办理结果分类"))
    append_row(mix, [_("类别"), _("件数"), _("占比")])
    total = stats.total.result_total
    for c in RESULT_CLASSES:
        n = stats.total.results[c]
        append_row(mix, [_result_label(c), n, (n / total) if total else None])
    for r in range(2, 2 + len(RESULT_CLASSES)):
        mix.cell(row=r, column=3).number_format = "0.0%"
    _format_sheet(mix, ["", "", ""], 0)
    mix.freeze_panes = None
    _fit_columns(mix, {1: 24, 2: 8, 3: 8})
    if total:
        pie = PieChart()
        pie.title = _("办理结果分类")
        pie.add_data(
            Reference(mix, min_col=2, min_row=1, max_row=1 + len(RESULT_CLASSES)),
            titles_from_data=True,
        )
        pie.set_categories(Reference(mix, min_col=1, min_row=2, max_row=1 + len(RESULT_CLASSES)))
        mix.add_chart(pie, "E2")
    _write_definitions(book.create_sheet(_("指标说明")))
    return _save(book)


def statistics_note(stats: Statistics) -> str:
    """What the table's rows and totals count, in words (under the table, on the page too)."""
    note = _("合计为不分组的统计（%(level)s）。") % {
        "level": statistics.LEVEL_LABELS[stats.total_level]
    }
    if stats.rows_total is not None:
        note += _(
            "各单位按本单位主办、分办的交办件计（会办另计），一件提案由几个单位分办时各计一次，"
            "会办意见逾期计入会办单位的逾期，故各单位之和可大于合计。"
        )
    total = stats.total
    if stats.total_level == statistics.PROPOSAL and total.filed:
        note += _("立案 %(f)d 件：已交办 %(a)d 件，并案 %(m)d 件，待交办 %(u)d 件。") % {
            "f": total.filed,
            "a": total.assigned,
            "m": total.merged,
            "u": total.unassigned,
        }
    return note


def _write_definitions(ws: Any) -> None:
    headers = [_("指标"), _("按提案计"), _("按承办单位的交办计")]
    append_row(ws, headers)
    for d in statistics.definitions():
        append_row(ws, [d["label"], d["proposal"], d["assignment"]])
    _format_sheet(ws, headers, len(statistics.MEASURES))
    _fit_columns(ws, {1: 16, 2: 60, 3: 50})
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def _result_label(c: str) -> str:
    from replies.models import ResultClass

    return str(ResultClass(c).label)


def _save(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
