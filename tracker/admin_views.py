"""The committee's tools in the admin: statistics with charts, the Excel import of a session's
filed proposals, Excel exports of any list, and the ZIP of a session's reply letters.

Mounted under ``/admin/tools/`` (``tracker.admin_urls``), each view wrapped by the admin site's
``admin_view`` (signed-in staff only) and drawn in the admin's look with its JS catalogue, so
date pickers speak Chinese. Long work goes to Celery (``tracker.admin_tasks``) on commit; the
page shows its progress from the job record (``tracker.jobs``) and no request waits on it.
"""

from __future__ import annotations

import functools
from html import unescape
from typing import Any

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import (
    display_for_field,
    display_for_value,
    label_for_field,
    lookup_field,
)
from django.contrib.admin.widgets import AdminDateWidget
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from proposals.admin import content_disposition
from proposals.models import Proposal, Session, Unit
from replies.models import ResultClass
from tracker import admin_tasks, charts, excel, jobs, statistics
from tracker.statistics import RESULT_CLASSES, GroupBy, percent

site = admin.site


def _context(request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
    # The tools need the page's width more than the model list of the navigation sidebar.
    return {**site.each_context(request), "title": title, "is_nav_sidebar_enabled": False, **extra}


def _require(request: HttpRequest, *, committee: bool = False) -> None:
    user = request.user
    allowed = user.is_committee if committee else user.sees_everything
    if not allowed:
        raise PermissionDenied


def jobs_unavailable_answer(view):
    """A job view whose job store (Redis) is unreachable answers 503 with the reason, in
    Chinese, instead of a 500 (``jobs.Unavailable``): the progress endpoint as the JSON its
    page polls, a page otherwise."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except jobs.Unavailable as exc:
            if view.__name__ == "job_status_view":
                answer = {"state": "unavailable", "state_label": _("暂时无法读取")}
                response = JsonResponse(
                    {**answer, "message": exc.message, "percent": None, "finished": False},
                    status=503,
                )
                patch_cache_control(response, no_store=True)
                return response
            context = _context(request, _("后台任务暂不可用"), message=exc.message)
            return TemplateResponse(
                request, "admin/tracker/jobs_unavailable.html", context, status=503
            )

    return wrapped


def _xlsx(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=excel.XLSX_TYPE)
    response["Content-Disposition"] = content_disposition("attachment", filename, "export.xlsx")
    patch_cache_control(response, private=True, no_store=True)
    return response


# --- Statistics -----------------------------------------------------------------------------


class StatisticsForm(forms.Form):
    session = forms.ModelChoiceField(
        label=gettext_lazy("届次会议"),
        queryset=Session.objects.all(),
        required=False,
        empty_label=gettext_lazy("全部届次"),
    )
    unit = forms.ModelChoiceField(
        label=gettext_lazy("承办单位"),
        queryset=Unit.objects.all(),
        required=False,
        empty_label=gettext_lazy("全部单位"),
    )
    category = forms.ChoiceField(
        label=gettext_lazy("类别"),
        choices=[("", gettext_lazy("全部类别")), *Proposal.Category.choices],
        required=False,
    )
    date_from = forms.DateField(
        label=gettext_lazy("交办日期自"), required=False, widget=AdminDateWidget
    )
    date_to = forms.DateField(label=gettext_lazy("至"), required=False, widget=AdminDateWidget)
    group_by = forms.ChoiceField(
        label=gettext_lazy("分组"), choices=GroupBy.choices, required=False, initial=GroupBy.UNIT
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("开始日期不能晚于结束日期。"))
        return data

    def scope(self) -> str:
        """The filters in words, for the page and the exported sheet."""
        data = self.cleaned_data
        parts = [
            str(data["session"]) if data.get("session") else _("全部届次"),
            str(data["unit"]) if data.get("unit") else _("全部单位"),
            str(dict(Proposal.Category.choices)[data["category"]])
            if data.get("category")
            else _("全部类别"),
        ]
        if data.get("date_from") or data.get("date_to"):
            start = f"{data['date_from']:%Y-%m-%d}" if data.get("date_from") else "…"
            end = f"{data['date_to']:%Y-%m-%d}" if data.get("date_to") else "…"
            parts.append(_("交办日期 %(a)s 至 %(b)s") % {"a": start, "b": end})
        return " · ".join(parts)


def statistics_view(request: HttpRequest) -> HttpResponse:
    _require(request)
    params = request.GET.copy()
    if "group_by" not in params:
        params["group_by"] = GroupBy.UNIT
    form = StatisticsForm(params)
    stats = None
    if form.is_valid():
        data = form.cleaned_data
        stats = statistics.compute(
            session=data.get("session"),
            unit=data.get("unit"),
            category=data.get("category") or None,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            group_by=data.get("group_by") or GroupBy.TOTAL,
        )
        if request.GET.get("format") == "xlsx":
            title = _("提案办理统计")
            today = timezone.localdate()
            return _xlsx(
                excel.write_statistics(stats, title=title, scope=form.scope()),
                f"{title}-{today:%Y%m%d}.xlsx",
            )
    labels = {c: str(ResultClass(c).label) for c in RESULT_CLASSES}
    query = params.copy()
    query["format"] = "xlsx"
    context = _context(
        request,
        _("办理统计"),
        form=form,
        media=form.media,
        stats=stats,
        scope=form.scope() if stats else "",
        table=_stat_table(stats) if stats else None,
        bars=charts.rate_bars(stats.rows if stats.group_by else [stats.total]) if stats else None,
        donut=charts.result_donut(stats.total, labels) if stats else None,
        export_url=f"{request.path}?{query.urlencode()}",
    )
    return TemplateResponse(request, "admin/tracker/statistics.html", context)


def _stat_table(stats: statistics.Statistics) -> dict[str, Any]:
    """Headers and formatted cells of the statistics table (rates as percentages; ``—`` where
    a figure means nothing at the row's level), the same rows as the workbook's."""
    columns = excel.STAT_COLUMNS

    def cells(figures: statistics.Figures) -> list[str]:
        out = []
        for _h, attribute, kind in columns:
            value = excel.stat_value(figures, attribute)
            if value is None or kind == statistics.RATE:
                out.append(percent(value))
            else:
                out.append(str(value))
        return out

    body = excel.statistics_rows(stats)
    groups = len(stats.rows) if stats.group_by else 0
    return {
        "headers": [h for h, _a, _k in columns],
        "rows": [(r.label, cells(r)) for r in body[:groups]],
        "totals": [(r.label, cells(r)) for r in body[groups:]],
        "note": excel.statistics_note(stats),
        "definitions": statistics.definitions(),
    }


# --- Excel import of a session's filed proposals --------------------------------------------


class ImportForm(forms.Form):
    session = forms.ModelChoiceField(
        label=gettext_lazy("届次会议"),
        queryset=Session.objects.all(),
        empty_label=gettext_lazy("请选择"),
    )
    file = forms.FileField(
        label=gettext_lazy("Excel 文件"),
        help_text=gettext_lazy(
            "第一个工作表；表头包括“案由”“第一提案人”，可选“联名提案人”“类别”等。"
        ),
    )


@jobs_unavailable_answer
def import_view(request: HttpRequest) -> HttpResponse:
    _require(request, committee=True)
    form = ImportForm(request.POST or None, request.FILES or None)
    file_errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        parsed = excel.read_filed_list(upload, name=upload.name)
        if parsed.ok:
            session = form.cleaned_data["session"]
            job_id = jobs.create(
                admin_tasks.IMPORT_CHECK,
                user_id=request.user.pk,
                payload={
                    "session_id": session.pk,
                    "session": str(session),
                    "file_name": upload.name,
                    "rows": parsed.rows,
                    "lines": parsed.lines,
                    "columns": parsed.columns,
                },
                message=_("已上传 %(n)d 行，等待校验…") % {"n": len(parsed.rows)},
            )
            transaction.on_commit(lambda: admin_tasks.check_import.delay(job_id))
            return HttpResponseRedirect(reverse("tracker_admin:import_job", args=[job_id]))
        file_errors = parsed.errors
    context = _context(
        request,
        _("从 Excel 导入立案提案"),
        form=form,
        file_errors=file_errors,
        template_url=reverse("tracker_admin:import_template"),
        columns=excel.TEMPLATE_HEADERS,
    )
    return TemplateResponse(request, "admin/tracker/import.html", context)


def import_template_view(request: HttpRequest) -> HttpResponse:
    _require(request, committee=True)
    return _xlsx(excel.template_bytes(), _("立案提案导入模板.xlsx"))


@jobs_unavailable_answer
def import_job_view(request: HttpRequest, job_id: str) -> HttpResponse:
    """The import's progress, then its preview (rows, numbers, errors), then its outcome."""
    _require(request, committee=True)
    job = jobs.get_for(job_id, user_id=request.user.pk, kind=admin_tasks.IMPORT_CHECK)
    if job is None:
        raise Http404
    result = job.get("result") or {}
    if request.method == "POST":
        ready = job["state"] == jobs.DONE and not result.get("errors")
        if ready and not result.get("imported") and cache.add(f"{job_id}:run", 1, jobs.JOB_TTL):
            jobs.update(
                job_id, state=jobs.QUEUED, done=0, message=_("已确认，等待导入…"), result=None
            )
            transaction.on_commit(lambda: admin_tasks.run_import.delay(job_id))
        return HttpResponseRedirect(request.path)
    data = job["input"]
    errors_by_row: dict[int, list[str]] = {}
    for e in result.get("errors") or []:
        errors_by_row.setdefault(e["row"], []).append(e["message"])
    numbers = result.get("numbers") or []
    rows = [
        {
            "line": data["lines"][i],
            "number": numbers[i] if i < len(numbers) else row.get("number", ""),
            "row": row,
            "errors": errors_by_row.get(i + 1, []),
        }
        for i, row in enumerate(data["rows"])
    ]
    general = errors_by_row.get(0, [])
    context = _context(
        request,
        _("导入立案提案"),
        job=jobs.public(job),
        job_input={k: data[k] for k in ("session", "file_name")},
        result=result,
        rows=rows,
        general_errors=general,
        error_rows=sum(1 for r in rows if r["errors"]),
        status_url=reverse("tracker_admin:job_status", args=[job_id]),
        import_url=reverse("tracker_admin:import"),
        proposals_url=reverse("admin:proposals_proposal_changelist")
        + f"?session__id__exact={data['session_id']}",
    )
    return TemplateResponse(request, "admin/tracker/import_job.html", context)


# --- Jobs: progress and downloads -----------------------------------------------------------


@jobs_unavailable_answer
def job_status_view(request: HttpRequest, job_id: str) -> JsonResponse:
    job = jobs.get_for(job_id, user_id=request.user.pk)
    if job is None:
        raise Http404
    response = JsonResponse(jobs.public(job))
    patch_cache_control(response, no_store=True)
    return response


class SessionForm(forms.Form):
    session = forms.ModelChoiceField(
        label=gettext_lazy("届次会议"),
        queryset=Session.objects.all(),
        empty_label=gettext_lazy("请选择"),
    )


@jobs_unavailable_answer
def render_pdfs_view(request: HttpRequest) -> HttpResponse:
    """A session's signed replies as one ZIP, rendered by Celery."""
    _require(request)
    form = SessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        session = form.cleaned_data["session"]
        job_id = jobs.create(
            admin_tasks.SESSION_PDFS,
            user_id=request.user.pk,
            payload={"session_id": session.pk, "session": str(session)},
        )
        transaction.on_commit(lambda: admin_tasks.enqueue_session_pdfs(job_id))
        return HttpResponseRedirect(reverse("tracker_admin:job", args=[job_id]))
    context = _context(request, _("打包届次答复函PDF"), form=form)
    return TemplateResponse(request, "admin/tracker/render_pdfs.html", context)


@jobs_unavailable_answer
def job_view(request: HttpRequest, job_id: str) -> HttpResponse:
    job = jobs.get_for(job_id, user_id=request.user.pk, kind=admin_tasks.SESSION_PDFS)
    if job is None:
        raise Http404
    result = job.get("result") or {}
    context = _context(
        request,
        _("打包届次答复函PDF"),
        job=jobs.public(job),
        job_input=job["input"],
        result=result,
        status_url=reverse("tracker_admin:job_status", args=[job_id]),
        download_url=reverse("tracker_admin:job_download", args=[job_id])
        if result.get("path")
        else "",
    )
    return TemplateResponse(request, "admin/tracker/job.html", context)


@jobs_unavailable_answer
def job_download_view(request: HttpRequest, job_id: str) -> FileResponse:
    job = jobs.get_for(job_id, user_id=request.user.pk, kind=admin_tasks.SESSION_PDFS)
    path = ((job or {}).get("result") or {}).get("path")
    if not path or not default_storage.exists(path):
        raise Http404
    name = f"{job['input']['session']}-答复函.zip"
    response = FileResponse(default_storage.open(path, "rb"), content_type="application/zip")
    response["Content-Disposition"] = content_disposition("attachment", name, "letters.zip")
    patch_cache_control(response, private=True, no_store=True)
    return response


# --- Excel export of any changelist ---------------------------------------------------------


def _cell(model_admin: admin.ModelAdmin, name: str, obj: models.Model) -> Any:
    empty = model_admin.get_empty_value_display()
    try:
        field, attr, value = lookup_field(name, obj, model_admin)
    except (AttributeError, models.ObjectDoesNotExist):
        return empty
    when = excel.date_value(field, attr, value, obj)
    if when is not None:
        return when  # a date cell, not the page's text
    if field is not None and isinstance(field, models.BooleanField):
        return _("是") if value else _("否")
    if getattr(attr, "boolean", False):
        return _("是") if value else _("否")
    if field is None:
        text = display_for_value(value, empty)
    elif isinstance(field, models.ForeignKey):
        text = str(value) if value is not None else empty
    else:
        text = display_for_field(value, field, empty)
    return unescape(strip_tags(str(text))).strip()


def export_view(request: HttpRequest, app_label: str, model_name: str) -> HttpResponse:
    """The changelist as it stands (filters, search, ordering — and visibility) in Excel."""
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError as exc:
        raise Http404 from exc
    model_admin = site._registry.get(model)
    if model_admin is None or not model_admin.has_view_or_change_permission(request):
        raise PermissionDenied
    request.GET = request.GET.copy()
    request.GET.pop("format", None)
    try:
        # Lookups on private fields raise DisallowedModelAdminLookup here: a 400, as the list.
        changelist = model_admin.get_changelist_instance(request)
    except IncorrectLookupParameters:
        messages.error(request, _("筛选条件无效，请在列表页重新选择。"))
        return HttpResponseRedirect(reverse(f"admin:{app_label}_{model_name}_changelist"))
    names = [n for n in changelist.list_display if n != "action_checkbox"]
    headers = [str(label_for_field(n, model, model_admin)) for n in names]
    rows = ([_cell(model_admin, n, obj) for n in names] for obj in changelist.queryset)
    title = str(model._meta.verbose_name_plural)
    today = timezone.localdate()
    return _xlsx(excel.write_table(title, headers, rows), f"{title}-{today:%Y%m%d}.xlsx")
