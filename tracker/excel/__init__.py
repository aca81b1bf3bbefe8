"""Excel in and out: the committee's list of filed proposals, exported lists, statistics.

By subject:

- ``tracker.excel.archive``: an upload's bounds, checked before openpyxl opens it
  (``check_archive``: the ZIP directory, then one streaming expat pass in O(1) memory).
- ``tracker.excel.reading``: the committee's list read into the importer's rows
  (``read_filed_list``), and the blank template (``template_bytes``).
- ``tracker.excel.writing``: every written cell goes through ``append_row`` (text never a
  formula, dates real dates); ``write_table`` makes one sheet of a list. The system writes no
  CSV.
- ``tracker.excel.statistics_book``: the statistics workbook with native Excel charts
  (``write_statistics``), and the table's rows and note as the page shows them too.

This package is the only code that imports a spreadsheet writer; callers import what they use
from here (``from tracker import excel``; ``excel.read_filed_list`` …).
"""

from tracker.excel.archive import (
    MAX_ARCHIVE_MEMBERS,
    MAX_CELL_ELEMENTS,
    MAX_COMPRESSION_RATIO,
    MAX_OTHER_ELEMENTS,
    MAX_SHARED_STRINGS,
    check_archive,
    max_rows,
    max_sheet_lines,
)
from tracker.excel.reading import (
    COLUMNS,
    REQUIRED,
    TEMPLATE_HEADERS,
    FiledList,
    read_filed_list,
    template_bytes,
)
from tracker.excel.statistics_book import (
    STAT_COLUMNS,
    stat_value,
    statistics_note,
    statistics_rows,
    write_statistics,
)
from tracker.excel.writing import (
    DATE_FORMAT,
    DATETIME_FORMAT,
    FORMULA_PREFIXES,
    XLSX_TYPE,
    append_row,
    date_cell,
    date_value,
    text_cell,
    write_table,
)

__all__ = [
    "COLUMNS",
    "DATETIME_FORMAT",
    "DATE_FORMAT",
    "FORMULA_PREFIXES",
    "MAX_ARCHIVE_MEMBERS",
    "MAX_CELL_ELEMENTS",
    "MAX_COMPRESSION_RATIO",
    "MAX_OTHER_ELEMENTS",
    "MAX_SHARED_STRINGS",
    "REQUIRED",
    "STAT_COLUMNS",
    "TEMPLATE_HEADERS",
    "XLSX_TYPE",
    "FiledList",
    "append_row",
    "check_archive",
    "date_cell",
    "date_value",
    "max_rows",
    "max_sheet_lines",
    "read_filed_list",
    "stat_value",
    "statistics_note",
    "statistics_rows",
    "template_bytes",
    "text_cell",
    "write_statistics",
    "write_table",
]
