"""Writing workbooks: every cell of every workbook the system writes goes through here.

``append_row``: text is written as a string cell (never a formula, whatever it starts with), and
text that a spreadsheet would take for a formula when typed (``=``, ``+``, ``-``, ``@``, tab, CR
and their full-width forms) is also marked with Excel's text prefix (``quotePrefix``, the
invisible leading apostrophe), so the cell shows the text as it is and stays text when edited; a
date is a real date cell shown ``yyyy-mm-dd`` (``date_cell``), so that lists sort and compute by
it. ``write_table`` makes one sheet of a list (headers bold, frozen, filterable). The system
writes no CSV.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.utils import timezone
from django.utils.functional import Promise
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

HEAD_FONT = Font(bold=True, color="FFFFFF")
HEAD_FILL = PatternFill("solid", fgColor="1F4E6B")


def column_width(value: Any) -> int:
    text = str(value if value is not None else "")
    # CJK characters take two columns of width in Excel.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def format_sheet(ws, headers: Sequence[str], rows: int) -> None:
    for col in range(1, len(headers) + 1):
        cell = ws.cell(row=1, column=col)
        cell.font, cell.fill = HEAD_FONT, HEAD_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{rows + 1}"


def fit_columns(ws, widths: dict[int, int], *, cap: int = 60) -> None:
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
    widths = {i: column_width(h) for i, h in enumerate(headers, start=1)}
    count = 0
    for row in rows:
        append_row(ws, row)
        count += 1
        for i, value in enumerate(row, start=1):
            widths[i] = max(widths.get(i, 0), column_width(value))
    format_sheet(ws, headers, count)
    fit_columns(ws, widths)
    return save_book(book)


def save_book(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
