"""Excel in the admin: the committee's import (preview, per-row errors, all or nothing, in
Celery with progress), the export of any list as it stands, the statistics workbook."""

from __future__ import annotations

import datetime
import io
import os
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from proposals.models import Assignment, Proposal, Transition
from proposals.tests import factories as f
from replies.models import Reply
from tracker import admin_tasks, excel, jobs, statistics
from tracker.tests import admin_data as d

pytestmark = pytest.mark.django_db

HEADERS = ["序号", "提案号", "案由", "第一提案人", "联名提案人", "类别", "重点提案"]


def workbook(rows: list[list], headers: list[str] = HEADERS, *, title_rows: int = 1) -> bytes:
    book = Workbook()
    ws = book.active
    for _ in range(title_rows):
        ws.append(["长宁区政协十五届二次会议立案提案一览表"])
    ws.append(headers)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(data: bytes, name: str = "立案提案.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=excel.XLSX_TYPE)


@pytest.fixture
def members(db):
    return [f.ProposerFactory(name=f"委员{c}") for c in "甲乙丙丁戊己"]


def session_rows(n: int, *, bad: dict[int, dict] | None = None) -> list[list]:
    rows = []
    for i in range(n):
        row = {"title": f"关于第{i + 1}件事的建议", "lead": "委员甲", "co": "委员乙、委员丙"}
        row.update((bad or {}).get(i, {}))
        rows.append([i + 1, "", row["title"], row["lead"], row["co"], "经济建设", "否"])
    return rows


# --- Reading the committee's list -----------------------------------------------------------


def test_the_list_is_read_with_its_sheet_lines_and_header_variants():
    data = workbook(
        [
            [1, "", "关于甲的建议", "委员甲", "委员乙，委员丙", "城市建设与管理", "是"],
            [None, None, None, None, None, None, None],
            [3, "", "关于乙的建议", "委员丁", "", "", ""],
        ],
        headers=["序号", "编号", " 案 由 ", "提案人", "联名人", "提案类别", "是否重点提案"],
        title_rows=2,
    )
    parsed = excel.read_filed_list(io.BytesIO(data), name="list.xlsx")
    assert parsed.ok, parsed.errors
    assert parsed.lines == [4, 6]  # two title rows, the header on line 3, a blank line 5
    assert parsed.rows[0]["title"] == "关于甲的建议"
    assert parsed.rows[0]["coproposers"] == "委员乙，委员丙"
    assert parsed.rows[0]["is_key"] == "是" and parsed.rows[1]["category"] == ""


@pytest.mark.parametrize(
    "content,name,message",
    [
        (b"not a workbook", "list.xlsx", "不是有效的 Excel 文件"),
        (b"whatever", "list.xls", "请上传 Excel 文件（.xlsx）"),
        (workbook([["a", "b"]], headers=["甲", "乙"]), "x.xlsx", "找不到表头"),
        (workbook([["关于", ""]], headers=["案由", "类别"]), "x.xlsx", "缺少必需的列：第一提案人"),
        (workbook([]), "x.xlsx", "表格中没有提案"),
    ],
)
def test_a_file_that_is_not_the_list_says_why_in_chinese(content, name, message):
    parsed = excel.read_filed_list(io.BytesIO(content), name=name)
    assert not parsed.ok and message in parsed.errors[0]


# --- The import in the admin ----------------------------------------------------------------


def run_job(client, django_capture_on_commit_callbacks, url: str, data: dict):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def test_bad_rows_are_listed_with_their_lines_and_nothing_is_imported_then_the_fixed_list_is(
    client, committee, session, members, eager_tasks, django_capture_on_commit_callbacks
):
    client.force_login(committee)
    import_url = reverse("tracker_admin:import")
    assert client.get(import_url).status_code == 200
    bad = {4: {"lead": "查无此人"}, 11: {"title": ""}}
    data = workbook(session_rows(20, bad=bad))
    job_url = run_job(
        client,
        django_capture_on_commit_callbacks,
        import_url,
        {"session": session.pk, "file": upload(data)},
    )
    page = client.get(job_url)
    html = page.content.decode()
    assert "有 2 处错误，未导入任何提案" in html
    errors = {r["line"]: r["errors"] for r in page.context["rows"] if r["errors"]}
    assert errors == {7: ["第一提案人“查无此人”不在提案者名单中。"], 14: ["请填写案由。"]}
    assert 'id="confirm-import"' not in html
    session.refresh_from_db()
    assert (Proposal.objects.count(), session.last_serial) == (0, 0)
    assert not Transition.objects.exists()

    fixed = workbook(session_rows(20))
    job_url = run_job(
        client,
        django_capture_on_commit_callbacks,
        import_url,
        {"session": session.pk, "file": upload(fixed)},
    )
    preview = client.get(job_url)
    assert 'id="confirm-import"' in preview.content.decode()
    assert [r["number"] for r in preview.context["rows"]][:2] == ["第001号", "第002号"]
    assert not Proposal.objects.exists()  # the preview rolled its dry run back
    run_job(client, django_capture_on_commit_callbacks, job_url, {})
    done = client.get(job_url)
    assert "已导入并立案 20 件提案" in done.content.decode()
    numbers = list(Proposal.objects.order_by("serial").values_list("number", flat=True))
    assert numbers == [f"第{i:03d}号" for i in range(1, 21)]
    first = Proposal.objects.get(serial=1)
    assert first.status == Proposal.Status.FILED and len(first.proposers()) == 3
    # Confirming again (a double click, a redelivered task) imports nothing twice.
    run_job(client, django_capture_on_commit_callbacks, job_url, {})
    assert Proposal.objects.count() == 20


def test_the_progress_endpoint_reports_the_job_and_only_to_its_owner(
    client, committee, session, members
):
    job_id = jobs.create(
        admin_tasks.IMPORT_CHECK,
        user_id=committee.pk,
        payload={"session_id": session.pk, "rows": [], "lines": []},
    )
    jobs.progress(job_id, 150, 600, "正在导入 600 件提案…")
    client.force_login(committee)
    status = client.get(reverse("tracker_admin:job_status", args=[job_id])).json()
    assert (status["percent"], status["state"], status["finished"]) == (25, "running", False)
    other = f.CommitteeFactory(username="committee2")
    client.force_login(other)
    assert client.get(reverse("tracker_admin:job_status", args=[job_id])).status_code == 404
    assert client.get(reverse("tracker_admin:import_job", args=[job_id])).status_code == 404


def test_a_unit_clerk_may_not_import_or_see_statistics(client, clerk_a):
    client.force_login(clerk_a)
    for name in ("import", "import_template", "statistics", "render_pdfs"):
        assert client.get(reverse(f"tracker_admin:{name}")).status_code == 403, name


def test_the_template_is_a_list_the_reader_accepts(client, committee):
    client.force_login(committee)
    response = client.get(reverse("tracker_admin:import_template"))
    parsed = excel.read_filed_list(io.BytesIO(response.content), name="t.xlsx")
    assert parsed.ok and parsed.rows[0]["lead_proposer"] == "张文浩"


# --- Exports --------------------------------------------------------------------------------


def sheet_rows(content: bytes) -> list[list]:
    ws = load_workbook(io.BytesIO(content)).active
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_a_list_exports_as_it_stands_and_only_what_the_user_sees(
    client, session, clerk_a, unit_a, unit_b
):
    mine = d.assign(d.filed_proposal(session, title="甲的提案"), unit_a)
    d.assign(d.filed_proposal(session, title="甲待签收"), unit_a, state=Assignment.State.PENDING)
    d.assign(d.filed_proposal(session, title="乙的提案"), unit_b)
    client.force_login(clerk_a)
    url = reverse("tracker_admin:export", args=["proposals", "assignment"])
    rows = sheet_rows(client.get(url).content)
    assert rows[0][:4] == ["提案号", "案由", "承办单位", "办理方式"]
    assert sorted(r[1] for r in rows[1:]) == ["甲待签收", "甲的提案"]
    filtered = sheet_rows(client.get(url, {"state__exact": "accepted"}).content)
    assert [r[1] for r in filtered[1:]] == [mine.proposal.title]
    page = client.get(reverse("admin:proposals_assignment_changelist"), {"state__exact": "pending"})
    assert f"{url}?state__exact=pending" in page.content.decode()


def test_the_statistics_page_draws_charts_and_exports_the_same_figures(
    client, committee, session, unit_a, unit_b
):
    replied = Assignment.State.REPLIED
    a = d.assign(
        d.filed_proposal(session), unit_a, state=replied, done_on=datetime.date(2024, 5, 1)
    )
    d.reply(a, state=Reply.State.SENT, result=d.RESULT_A)
    d.assign(d.filed_proposal(session), unit_b)
    client.force_login(committee)
    url = reverse("tracker_admin:statistics")
    page = client.get(url, {"session": session.pk, "group_by": "unit"})
    html = page.content.decode()
    assert page.status_code == 200 and html.count("<svg") >= 2 and "办复率" in html
    assert "/admin/jsi18n/" in html and "cdn" not in html.lower()
    export = client.get(url, {"session": session.pk, "group_by": "unit", "format": "xlsx"})
    book = load_workbook(io.BytesIO(export.content))
    ws = book["办理统计"]
    table = [list(r) for r in ws.iter_rows(min_row=3, values_only=True)]
    header = table[0]
    by_label = {r[0]: dict(zip(header, r, strict=False)) for r in table[1:]}
    figures = statistics.compute(session=session, group_by="unit")
    for row in figures.rows:
        assert by_label[row.label]["交办件数"] == row.assigned
        assert by_label[row.label]["办复率"] == pytest.approx(row.reply_rate)
    # The total is the ungrouped figures (per proposal); the units' sum is its own row.
    assert by_label["合计（按提案计）"]["已办复"] == 1
    assert by_label["各单位之和（按交办计）"]["交办件数"] == 2
    assert by_label["各单位之和（按交办计）"]["并案数"] is None  # not a unit's figure
    assert by_label["合计（按提案计）"]["待交办数"] == 0
    assert ws._charts and book["办理结果分类"]._charts
    definitions = [r for r in book["指标说明"].iter_rows(min_row=2, values_only=True)]
    assert [r[0] for r in definitions] == [str(m.label) for m in statistics.MEASURES]
    assert "指标说明" in html and "各单位之和（按交办计）" in html


def test_a_sessions_signed_letters_are_bundled_in_celery_with_progress(
    client,
    committee,
    session,
    unit_a,
    settings,
    tmp_path,
    eager_tasks,
    django_capture_on_commit_callbacks,
):
    settings.MEDIA_ROOT = tmp_path
    for i in range(3):
        a = d.assign(d.filed_proposal(session), unit_a)
        r = d.reply(a, state=Reply.State.SENT, result=d.RESULT_A)
        r.pdf.save(f"reply-{i}.pdf", ContentFile(b"%PDF-1.4 letter"), save=True)
    client.force_login(committee)
    job_url = run_job(
        client,
        django_capture_on_commit_callbacks,
        reverse("tracker_admin:render_pdfs"),
        {"session": session.pk},
    )
    page = client.get(job_url)
    assert "已打包 3 份答复函" in page.content.decode()
    download = client.get(page.context["download_url"])
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert len(archive.namelist()) == 3
    assert all(name.endswith(".pdf") for name in archive.namelist())
    # Each letter byte for byte, stored rather than deflated again.
    assert {archive.read(n) for n in archive.namelist()} == {b"%PDF-1.4 letter"}
    assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}


def _export(job_id: str, age_hours: float, now: datetime.datetime) -> Path:
    path = Path(settings.MEDIA_ROOT) / admin_tasks.EXPORTS_DIR / job_id / "第一次会议-答复函.zip"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK")
    stamp = (now - datetime.timedelta(hours=age_hours)).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def test_session_zips_are_purged_once_their_job_has_expired(committee, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    now = datetime.datetime.now(datetime.UTC)
    live_id = jobs.create(admin_tasks.SESSION_PDFS, user_id=committee.pk, payload={})
    live_old = _export(live_id, 30, now)  # its job is still there: it can be downloaded
    expired = _export("0" * 32, 25, now)  # no job, older than JOB_TTL
    recent = _export("1" * 32, 2, now)  # no job (a cache flush), but young: left alone
    assert admin_tasks.purge_exports(now=now) == 1
    assert not expired.exists()
    assert live_old.exists() and recent.exists()
    assert admin_tasks.purge_exports(now=now) == 0


def test_purging_without_any_export_is_a_no_op(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    assert admin_tasks.purge_exports() == 0


def test_the_purge_runs_daily_in_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["daily-purge-exports"]
    assert entry["task"] == admin_tasks.purge_expired_exports.name


def test_the_import_reports_its_progress_row_by_row(committee, session, members, monkeypatch):
    parsed = excel.read_filed_list(io.BytesIO(workbook(session_rows(5))), name="x.xlsx")
    job_id = jobs.create(
        admin_tasks.IMPORT_CHECK,
        user_id=committee.pk,
        payload={"session_id": session.pk, "rows": parsed.rows, "lines": parsed.lines},
    )
    seen = []
    real = jobs.progress
    monkeypatch.setattr(
        jobs,
        "progress",
        lambda job, done, total, msg="": seen.append(done) or real(job, done, total, msg),
    )
    admin_tasks.check_filed_list(job_id)
    assert seen[0] == 0 and seen[-1] == 5 and len(seen) >= 3
    job = jobs.get(job_id)
    assert job["state"] == jobs.DONE and job["result"]["numbers"][-1] == "第005号"
    assert not Proposal.objects.exists()  # a preview keeps nothing
