"""Imports are bounded (SECURITY.md): an .xlsx is a ZIP, and a file of well under 1 MB can
inflate to hundreds of megabytes inside the web request. The upload is refused, with a reason
in Chinese and nothing imported, from the ZIP's directory before anything is inflated, or by
one streaming pass of expat in constant memory; only then does openpyxl open it (read-only),
and the reader stops at ``IMPORT_MAX_ROWS``. A list of ordinary size still goes through the
Celery job with its progress."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from proposals.models import Proposal, Transition
from proposals.tests import factories as f
from tracker import excel

pytestmark = pytest.mark.django_db

HEADERS = ["提案号", "案由", "第一提案人", "联名提案人", "类别", "重点提案"]
SHEET = "xl/worksheets/sheet1.xml"
SHARED = "xl/sharedStrings.xml"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHEET_HEAD = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{MAIN}">'
    '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>案由</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>第一提案人</t></is></c></row>'
).encode()
SHEET_TAIL = b"</sheetData></worksheet>"
MB = 1024 * 1024


def workbook(n: int) -> bytes:
    book = Workbook()
    ws = book.active
    ws.append(HEADERS)
    for i in range(n):
        ws.append(["", f"关于第{i + 1}件事的建议", "委员甲", "委员乙、委员丙", "经济建设", "否"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def repack(parts: dict[str, Callable[[], Iterator[bytes]]], *, rows: int = 1) -> bytes:
    """An .xlsx written by openpyxl with some parts replaced (or added), streamed into the ZIP
    so that a part of hundreds of megabytes never exists in memory."""
    source = zipfile.ZipFile(io.BytesIO(workbook(rows)))
    parts = dict(parts)
    if SHARED in parts:  # openpyxl finds the shared strings through the content types
        types = source.read("[Content_Types].xml").replace(
            b"</Types>",
            b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        )
        parts["[Content_Types].xml"] = lambda: iter([types])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        names = [i.filename for i in source.infolist()]
        for name in names + [n for n in parts if n not in names]:
            if name not in parts:
                archive.writestr(name, source.read(name))
                continue
            with archive.open(name, "w", force_zip64=True) as stream:
                for chunk in parts[name]():
                    stream.write(chunk)
    return out.getvalue()


def repeated(head: bytes, unit: bytes, size: int, tail: bytes) -> Callable[[], Iterator[bytes]]:
    def chunks() -> Iterator[bytes]:
        yield head
        block = unit * (MB // len(unit))
        for _ in range(size // len(block)):
            yield block
        yield tail

    return chunks


@pytest.fixture(scope="module")
def sheet_bomb() -> bytes:
    """256 MB of blank rows in the first sheet, under 1 MB on the wire (the probe's file)."""
    row = b'<row><c t="inlineStr"><is><t></t></is></c></row>'
    return repack({SHEET: repeated(SHEET_HEAD, row, 256 * MB, SHEET_TAIL)})


@pytest.fixture(scope="module")
def strings_bomb() -> bytes:
    """A 300 MB table of shared strings, which openpyxl loads whole before any row is read."""
    head = f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">'.encode()
    return repack({SHARED: repeated(head, b"<si><t>x</t></si>", 300 * MB, b"</sst>")})


def upload(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("立案提案.xlsx", data, content_type=excel.XLSX_TYPE)


def post(client, session, data: bytes):
    return client.post(
        reverse("tracker_admin:import"), {"session": session.pk, "file": upload(data)}
    )


def refused(response, message: str) -> None:
    """The form again (no job, no redirect) with ``message`` among its errors."""
    assert response.status_code == 200, response.get("Location")
    errors = response.context["file_errors"]
    assert any(message in e for e in errors), errors
    assert message in response.content.decode()


def measured(call: Callable[[], object]) -> tuple[object, float, int]:
    """``call()`` twice: the CPU time it took (not wall time, which a loaded machine stretches:
    the request runs in this process), then (traced, which slows it) the peak of the Python
    memory it allocated."""
    start = time.process_time()
    call()
    elapsed = time.process_time() - start
    tracemalloc.start()
    try:
        result = call()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, elapsed, peak


# --- Bombs: refused from the ZIP's directory, nothing inflated ------------------------------


@pytest.mark.parametrize("bomb", ["sheet_bomb", "strings_bomb"])
def test_a_decompression_bomb_is_refused_at_upload_without_being_inflated(
    client, committee, session, request, bomb
):
    data = request.getfixturevalue(bomb)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert len(data) < MB and sum(i.file_size for i in archive.infolist()) > 250 * MB
    client.force_login(committee)
    assert client.get(reverse("tracker_admin:import")).status_code == 200  # templates warm
    response, elapsed, peak = measured(lambda: post(client, session, data))
    refused(response, "文件解压后超过 50 MB")
    # Inflating it would take seconds of CPU and hundreds of MB (the probe: +300 MB, 3.3 s).
    assert elapsed < 1.0, elapsed
    assert peak < 24 * MB, peak  # the request itself, the upload and the page: no inflation
    assert not Proposal.objects.exists() and not Transition.objects.exists()


def test_a_part_that_inflates_too_many_times_is_refused_even_under_the_size_limit():
    """40 MB of identical rows is under IMPORT_MAX_UNCOMPRESSED_BYTES but deflates ~1000:1."""
    row = b'<row><c t="inlineStr"><is><t></t></is></c></row>'
    data = repack({SHEET: repeated(SHEET_HEAD, row, 40 * MB, SHEET_TAIL)})
    parsed, elapsed, peak = measured(lambda: excel.read_filed_list(io.BytesIO(data), name="x.xlsx"))
    assert parsed.errors == ["文件内部结构异常（压缩比过高），可能是恶意构造的文件，已拒绝。"]
    assert elapsed < 0.5 and peak < 4 * MB, (elapsed, peak)


def test_the_limits_on_size_are_the_settings(settings):
    data = workbook(20)
    assert excel.read_filed_list(io.BytesIO(data), name="x.xlsx").ok
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES = 20_000  # the 20 rows inflate to ~30 KB
    assert (
        "文件解压后超过 20 KB" in excel.read_filed_list(io.BytesIO(data), name="x.xlsx").errors[0]
    )
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES = 50 * MB
    settings.IMPORT_MAX_BYTES = 2 * MB
    parsed = excel.read_filed_list(io.BytesIO(data + b"\0" * 2 * MB), name="x.xlsx")
    assert parsed.errors == ["文件超过 2 MB，请检查是否选错了文件。"]


# --- Absurd XML: refused by the streaming scan ----------------------------------------------


def test_a_row_number_far_down_the_sheet_is_refused_before_openpyxl_pads_up_to_it():
    # openpyxl yields an empty row for every missing line before r="999999999".
    far = b'<row r="999999999"><c r="A999999999" t="inlineStr"><is><t>x</t></is></c></row>'
    data = repack({SHEET: lambda: iter([SHEET_HEAD, far, SHEET_TAIL])})
    parsed, elapsed, _peak = measured(
        lambda: excel.read_filed_list(io.BytesIO(data), name="x.xlsx")
    )
    assert parsed.errors == [
        "表格超过 4010 行（含空行）。请删除表格末尾多余的行，或检查是否选错了文件。"
    ]
    assert elapsed < 0.5, elapsed


def test_a_dtd_is_refused_so_no_entity_is_ever_expanded():
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
        b'<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
        b'<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">]>'
        + f'<sst xmlns="{MAIN}">'.encode()
        + b"<si><t>&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;</t></si></sst>"
    )
    data = repack({SHARED: lambda: iter([laughs])})
    parsed = excel.read_filed_list(io.BytesIO(data), name="x.xlsx")
    assert parsed.errors == ["文件内部结构异常（含有 DTD 声明），Excel 不会这样保存，已拒绝。"]


def test_more_shared_strings_or_styles_than_any_list_has_are_refused():
    # Varied enough to pass the ratio check; openpyxl would build an object for each.
    head = f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">'.encode()
    strings = b"".join(b"<si><t>%d</t></si>" % (i * 7919 % 1000003) for i in range(60_000))
    data = repack({SHARED: lambda: iter([head, strings, b"</sst>"])})
    parsed, elapsed, peak = measured(lambda: excel.read_filed_list(io.BytesIO(data), name="x.xlsx"))
    assert parsed.errors == ["文件内部结构异常（内容过于复杂），不像是一份立案提案清单。"]
    assert elapsed < 1.0 and peak < 8 * MB, (elapsed, peak)
    source = zipfile.ZipFile(io.BytesIO(workbook(1))).read("xl/styles.xml")
    xfs = b"".join(b'<xf numFmtId="%d" xfId="0"/>' % (i * 7919 % 1009) for i in range(30_000))
    styles = source.replace(b"</cellXfs>", xfs + b"</cellXfs>", 1)
    data = repack({"xl/styles.xml": lambda: iter([styles])})
    parsed = excel.read_filed_list(io.BytesIO(data), name="x.xlsx")
    assert parsed.errors == ["文件内部结构异常（内容过于复杂），不像是一份立案提案清单。"]


@pytest.mark.parametrize(
    "cell",
    [
        b'<c r="A2" t="n"><v>abc</v></c>',  # a number that is not one
        b'<c r="A2" t="d"><v>notadate</v></c>',  # a date that is not one
        b'<c r="A2" t="s"><v>99</v></c>',  # a shared string that does not exist
    ],
)
def test_a_cell_openpyxl_cannot_read_is_an_error_in_chinese_not_a_crash(cell):
    sheet = SHEET_HEAD + b'<row r="2">' + cell + b"</row>" + SHEET_TAIL
    data = repack({SHEET: lambda: iter([sheet])})
    parsed = excel.read_filed_list(io.BytesIO(data), name="x.xlsx")
    assert parsed.errors == [
        "无法读取该文件：表格内容已损坏。请在 Excel 中打开，另存为 .xlsx 后重新上传。"
    ]
    assert not parsed.rows


# --- Rows ------------------------------------------------------------------------------------


def test_too_many_proposals_are_refused_at_upload(client, committee, session, settings):
    settings.IMPORT_MAX_ROWS = 30
    client.force_login(committee)
    refused(post(client, session, workbook(31)), "一次最多导入 30 件提案")
    assert not Proposal.objects.exists()


def test_a_sheet_longer_than_the_rows_allow_is_refused_even_if_its_lines_are_blank(
    client, committee, session, settings
):
    settings.IMPORT_MAX_ROWS = 30  # lines: 2 × 30 + 10 = 70
    data = repack({SHEET: lambda: iter([SHEET_HEAD, b'<row r="71"/>', SHEET_TAIL])})
    client.force_login(committee)
    refused(post(client, session, data), "表格超过 70 行（含空行）")
    trailing = repack({SHEET: lambda: iter([SHEET_HEAD, b'<row r="70"/>', SHEET_TAIL])})
    parsed = excel.read_filed_list(io.BytesIO(trailing), name="x.xlsx")
    assert parsed.errors == ["表格中没有提案（表头下面是空的）。"]  # read, not refused


def test_the_domain_importer_holds_the_same_limit(committee, session, settings):
    from tracker.importing import import_filed_proposals

    settings.IMPORT_MAX_ROWS = 3
    rows = [{"title": f"题{i}", "lead_proposer": "委员甲"} for i in range(4)]
    result = import_filed_proposals(rows, actor=committee, session=session)
    assert [e.message for e in result.errors] == ["一次最多导入 3 件提案。"]


# --- An ordinary list still goes through the job --------------------------------------------


def test_an_ordinary_list_is_read_in_the_request_then_checked_and_imported_by_the_job(
    client, committee, session, eager_tasks, django_capture_on_commit_callbacks
):
    for name in ("委员甲", "委员乙", "委员丙"):
        f.ProposerFactory(name=name)
    client.force_login(committee)
    data = workbook(20)
    with django_capture_on_commit_callbacks(execute=True):
        start = time.perf_counter()
        response = post(client, session, data)
        elapsed = time.perf_counter() - start
    assert response.status_code == 302 and elapsed < 2.0, elapsed
    job_url = response["Location"]
    preview = client.get(job_url)
    assert "校验通过：20 件提案可以导入" in preview.content.decode()
    assert not Proposal.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(job_url)
    assert "已导入并立案 20 件提案" in client.get(job_url).content.decode()
    assert Proposal.objects.filter(session=session, status=Proposal.Status.FILED).count() == 20
