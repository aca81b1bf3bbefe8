"""Bounds on an uploaded .xlsx, checked before openpyxl sees it.

An .xlsx is a ZIP, and a 600 KB file can inflate to gigabytes. ``check_archive`` checks its
directory first, without inflating anything (size of each part and of all together, number of
parts, compression ratio); then each part's XML is streamed once through expat in O(1) memory,
refusing a DTD (entity expansion), more XML elements than any list has, or more sheet rows than
``IMPORT_MAX_ROWS`` allows. Only then does ``tracker.excel.reading`` let openpyxl open it.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any
from xml.parsers import expat

from django.conf import settings
from django.utils.translation import gettext as _

#: Lines above the header that may hold a title (the reader looks for the header in these).
HEADER_SCAN_ROWS = 10
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


def max_rows() -> int:
    """Proposals one import may hold: ``IMPORT_MAX_ROWS``, which the importer holds too."""
    return int(settings.IMPORT_MAX_ROWS)


def max_sheet_lines() -> int:
    """Lines a sheet may have, blank ones included: the list, its title and header, and as
    many blank or formatted-but-empty lines again."""
    return 2 * max_rows() + HEADER_SCAN_ROWS


def size_text(n: int) -> str:
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
    ) % {"size": size_text(settings.IMPORT_MAX_UNCOMPRESSED_BYTES)}
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
