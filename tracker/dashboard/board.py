"""The dashboard itself: its sections and counts, and what it reads only when the page shows
it (the faults, the services' warnings)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from functools import cached_property

from django.utils.translation import gettext as _

from proposals.models import User
from tracker.dashboard.faults import faults
from tracker.dashboard.lines import Count_, Section


@dataclass
class Dashboard:
    role: str  # "unit" | "committee" | "supervisor" | "none"
    today: datetime.date
    sections: list[Section] = field(default_factory=list)
    counts: list[Count_] = field(default_factory=list)
    counts_title: str = ""
    unit_overdue: list[Count_] = field(default_factory=list)
    unit_names: list[str] = field(default_factory=list)
    user: User | None = field(default=None, repr=False, compare=False)

    @property
    def todo_total(self) -> int:
        return sum(s.count for s in self.sections)

    @cached_property
    def faults(self) -> list[Section]:
        """What went wrong in the background and needs a person, read when the page shows it
        (``faults``): the unit's and the committee's letters whose PDF failed or is late, and
        for the committee the e-mails that failed and the tasks waiting in the outbox. Only
        the sections that hold something."""
        if self.user is None or self.role not in ("unit", "committee"):
            return []
        return [s for s in faults(self.user, committee=self.role == "committee") if s.count]

    @cached_property
    def service_warnings(self) -> list[str]:
        """Redis or the broker unreachable from this process, as this process last saw it."""
        if self.role != "committee":
            return []
        from proposals import outbox
        from tracker import cache

        warnings = []
        if cache.degraded():
            warnings.append(
                _(
                    "缓存服务（Redis）暂时无法连接：本进程改用内存缓存，接口限流按进程计算，后台任务进度暂不可见。"
                )
            )
        if outbox.broker_down():
            warnings.append(
                _("消息队列（Redis）暂时无法连接：新的后台任务暂存在数据库中，恢复后自动投递。")
            )
        return warnings
