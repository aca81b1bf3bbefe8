"""The years whose official holiday notice the committee has entered, and the recomputations a
calendar or reply-period change offers.

Entering a year (the add page) and withdrawing it (delete) go through
``proposals.workflow.calendar``; both recompute the open due dates and list those that moved.
The list page also says which years still lack their notice and which proposals' open reply
due dates were computed under a key-proposal period that has changed since (or lie past the
6-month cap), each with a link to recompute it (``reply_period_view``: a confirmation page,
then ``recompute_reply_due``). ``offer_reply_recompute`` is the same offer for the proposal
admin to show right after an edit of the period.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from types import SimpleNamespace

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from proposals.admin.access import OfficeAdmin, _is_committee, admin_user
from proposals.models import CalendarYear, Proposal, today
from proposals.workdays import WorkCalendar
from proposals.workflow.calendar import (
    MovedDue,
    NoticeDay,
    check_calendar_year,
    enter_calendar_year,
    proposals_with_stale_reply_dues,
    recompute_reply_due,
    reply_due_preview,
    stale_reply_dues,
    withdraw_calendar_year,
)
from proposals.workflow.errors import WorkflowError

#: How many moved due dates a message lists before it says "等共 N 个".
LISTED = 20


_LINE = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})(?:\s*(?:至|~|～)\s*(\d{4}-\d{1,2}-\d{1,2}))?\s*(.*)$")


def parse_day_lines(text: str, *, is_workday: bool) -> list[NoticeDay]:
    """Days typed one per line, as in the notice: "2027-02-05至2027-02-11 春节" (a range, both
    ends included, with a note) or "2027-02-14 春节调休" (one day)."""
    days: list[NoticeDay] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        match = _LINE.match(line)
        try:
            first = datetime.date.fromisoformat(_padded(match.group(1))) if match else None
            last = (
                datetime.date.fromisoformat(_padded(match.group(2)))
                if match and match.group(2)
                else first
            )
        except ValueError:
            first = last = None
        if (
            match is None
            or first is None
            or last is None
            or last < first
            or (last - first).days > 31
        ):
            raise forms.ValidationError(
                _("第 %(n)d 行无法识别：“%(line)s”。请写成 2027-02-05至2027-02-11 春节。")
                % {"n": number, "line": line}
            )
        note = match.group(3).strip()
        d = first
        while d <= last:
            days.append((d, is_workday, note))
            d += datetime.timedelta(days=1)
    return days


def _padded(text: str) -> str:
    year, month, day = text.split("-")
    return f"{year}-{int(month):02d}-{int(day):02d}"


class CalendarYearForm(forms.ModelForm):
    """The notice as it reads: its days off and its 调休 working days, one line each; checks
    what the workflow will check, so a refusal shows on the form, not after it."""

    days_off = forms.CharField(
        label=gettext_lazy("放假日期"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy(
            "每行一段，例如“2027-01-01 元旦”“2027-02-05至2027-02-11 春节”。"
            "已在“工作日调整”中录入的日期可不再填写。"
        ),
    )
    makeup_days = forms.CharField(
        label=gettext_lazy("调休上班日期"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("每行一天，例如“2027-02-14 春节调休”。"),
    )

    class Meta:
        model = CalendarYear
        fields = ("year", "source")

    def clean(self):
        super().clean()
        data = self.cleaned_data
        try:
            days = parse_day_lines(data.get("days_off", ""), is_workday=False)
            days += parse_day_lines(data.get("makeup_days", ""), is_workday=True)
        except forms.ValidationError as exc:
            self.add_error(None, exc)
            return data
        if "year" in data and "source" in data:
            try:
                data["year"], data["source"], data["days"] = check_calendar_year(
                    data["year"], data["source"], days
                )
            except WorkflowError as exc:
                self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return data


def moved_message(moved: Sequence[MovedDue], *, action: str):
    """The message after a recomputation: the action, then the moved due dates (the first
    ``LISTED``) as an HTML list."""
    if not moved:
        return _("%(action)s；在办到期日均未变动。") % {"action": action}
    head = _("%(action)s；%(count)d 个在办到期日变动：") % {"action": action, "count": len(moved)}
    items = format_html_join("", "<li>{}</li>", ((str(m),) for m in moved[:LISTED]))
    more = _("等共 %(count)d 个") % {"count": len(moved)} if len(moved) > LISTED else ""
    return format_html("{}<ul>{}</ul>{}", head, items, more)


def reply_period_url(proposal: Proposal) -> str:
    """The page that recomputes ``proposal``'s reply due dates (the id as a query parameter:
    the page is the committee's, which sees every proposal)."""
    url = reverse("admin:proposals_calendaryear_reply_period")
    return f"{url}?{urlencode({'proposal': proposal.pk})}"


def offer_reply_recompute(request: HttpRequest, proposal: Proposal) -> None:
    """After an edit of a proposal's key-proposal months: a message with the link that
    recomputes its open reply due dates, when some were computed under the old period (for
    the proposal admin to call; nothing moves until the committee follows the link)."""
    if not stale_reply_dues(proposal):
        return
    url = reply_period_url(proposal)
    messages.warning(
        request,
        format_html(
            "{} <a href='{}'>{}</a>",
            _("答复期限已修改，在办交办的到期日仍按原期限计算。"),
            url,
            _("重算答复期限"),
        ),
    )


@admin.register(CalendarYear)
class CalendarYearAdmin(OfficeAdmin):
    """The committee marks a year entered (add) or takes it back (delete); nothing is edited."""

    form = CalendarYearForm
    list_display = ("year", "source", "entered_by_display", "entered_at")
    list_select_related = ("entered_by",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("year", "source", "days_off", "makeup_days")
        return ("year", "source", "entered_by_display", "entered_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.get_fields(request, obj)

    def has_change_permission(self, request, obj=None):
        return False  # an entry is a fact with its trail: withdraw it and enter it again

    def get_urls(self):
        view = self.admin_site.admin_view(self.reply_period_view)
        return [
            path("reply-period/", view, name="proposals_calendaryear_reply_period"),
            *super().get_urls(),
        ]

    # --- the list: what is missing, what is stale -----------------------------------------

    def changelist_view(self, request, extra_context=None):
        self._warn_missing_years(request)
        if _is_committee(request):
            self._offer_stale_reply_dues(request)
        return super().changelist_view(request, extra_context)

    def _warn_missing_years(self, request: HttpRequest) -> None:
        this_year = today().year
        missing = WorkCalendar().missing_years([this_year, this_year + 1])
        if missing:
            self.message_user(
                request,
                _(
                    "%(years)s 年的节假日安排尚未录入：到期日暂按周末计算，元旦、劳动节、国庆节"
                    "不发提醒。请先在“工作日调整”中逐日录入国务院办公厅通知的放假和调休上班"
                    "日期，再在此登记该年已录入。"
                )
                % {"years": "、".join(str(y) for y in missing)},
                messages.WARNING,
            )

    def _offer_stale_reply_dues(self, request: HttpRequest) -> None:
        proposals = proposals_with_stale_reply_dues()
        if not proposals:
            return
        links = format_html_join(
            "、",
            "<a href='{}'>{}</a>",
            ((reply_period_url(p), p.number or p.title) for p in proposals),
        )
        self.message_user(
            request,
            format_html(
                "{}{}", _("以下提案的在办答复到期日与现行答复期限或6个月上限不符，可重算："), links
            ),
            messages.WARNING,
        )

    # --- enter, withdraw ------------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        entry, moved = enter_calendar_year(
            actor=request.user,
            year=obj.year,
            source=form.cleaned_data["source"],
            days=form.cleaned_data.get("days", ()),
        )
        obj.pk, obj.entered_by, obj.entered_at = entry.pk, entry.entered_by, entry.entered_at
        action = _("已登记 %(year)d 年节假日安排") % {"year": entry.year}
        self.message_user(request, moved_message(moved, action=action))

    def delete_model(self, request, obj):
        moved = withdraw_calendar_year(actor=request.user, year=obj.year)
        action = _("已撤销 %(year)d 年节假日录入") % {"year": obj.year}
        self.message_user(request, moved_message(moved, action=action))

    def delete_queryset(self, request, queryset):
        for obj in list(queryset):
            self.delete_model(request, obj)

    @admin.display(description=gettext_lazy("录入人"))
    def entered_by_display(self, obj: CalendarYear) -> str:
        return str(obj.entered_by) if obj.entered_by else "-"

    # --- recomputing a proposal's reply due dates -----------------------------------------

    def reply_period_view(self, request: HttpRequest):
        """GET: what recomputing would change; POST: recompute (``recompute_reply_due``).

        The committee only (it sees every proposal): anyone else is refused whatever the id.
        """
        if not _is_committee(request):
            raise PermissionDenied
        proposal_id = request.GET.get("proposal", "")
        proposal = (
            Proposal.objects.filter(pk=int(proposal_id)).first() if proposal_id.isdigit() else None
        )
        if proposal is None:
            raise Http404
        done_url = reverse("admin:proposals_proposal_change", args=[proposal.pk])
        if request.method == "POST":
            try:
                moved = recompute_reply_due(proposal.pk, actor=admin_user(request))
            except WorkflowError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, moved_message(moved, action=_("已重算答复期限")))
            return HttpResponseRedirect(done_url)
        preview = reply_due_preview(proposal)
        if not preview:
            self.message_user(
                request, _("此件在办的答复期限已按现行期限计算，无需重算。"), messages.INFO
            )
            return HttpResponseRedirect(done_url)
        lines = "；".join(
            f"{due.assignment.unit} {due.due_on:%Y-%m-%d} → {result.due_on:%Y-%m-%d}"
            f"（{result.explanation}）"
            for due, result in preview
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("重算答复期限"),
            "opts": Proposal._meta,
            "verb": SimpleNamespace(label=_("重算答复期限")),
            "objects": [(proposal, f"{proposal.number or proposal.title}：{lines}")],
            "form": None,
            "adminform": None,
            "media": self.media,
            "action_name": None,
            "selected": [],
            "cancel_url": done_url,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/proposals/transition_form.html", context)
