"""The working-day calendar: overrides and the years entered from the State Council's notice.

Part of ``proposals.models`` (split by subject in issue 18); import from there."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from proposals.models.people import User

if TYPE_CHECKING:  # django-stubs-ext is a development tool, not in the image
    pass


# --- The working-day calendar ---------------------------------------------------------------


class DayOverride(models.Model):
    """The committee's correction of the working-day calendar for one date.

    chinesecalendar seeds the calendar; an override wins over it (e.g. next year's holidays
    announced in November, before the package knows them).
    """

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("工作日"), help_text=_("勾选为上班，不勾选为休息。"))
    note = models.CharField(_("说明"), max_length=100, blank=True, help_text=_("例如：春节调休"))
    updated_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("修改人"),
    )
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("工作日调整")
        verbose_name_plural = _("工作日调整")
        ordering = ["date"]

    def __str__(self) -> str:
        kind = _("上班") if self.is_workday else _("休息")
        return f"{self.date:%Y-%m-%d} {kind}"


class CalendarYear(models.Model):
    """A year whose official holiday notice the committee has entered into the calendar.

    One override does not make a year complete (春节 may still be missing), so a year the
    ``chinesecalendar`` package does not know counts as entered only once the committee says
    so here, naming the State Council notice it typed in. Until then its due dates carry a
    warning and no reminder goes out on the fixed-date statutory holidays (``workdays``).
    """

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    source = models.CharField(
        _("依据"),
        max_length=200,
        help_text=_("例如：国务院办公厅关于2027年部分节假日安排的通知"),
    )
    entered_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("录入人"),
    )
    entered_at = models.DateTimeField(_("录入时间"), default=timezone.now)

    class Meta:
        verbose_name = _("年度节假日安排")
        verbose_name_plural = _("年度节假日安排")
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year}"


def today() -> datetime.date:
    """The clock seam: today's date in Asia/Shanghai (tests patch this)."""
    return timezone.localdate()
