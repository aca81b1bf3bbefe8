"""Faults: what went wrong in the background and needs a person — letters whose PDF failed
or is late, e-mails the ledger gave up on, tasks kept in the outbox while the broker was down."""

from __future__ import annotations

import datetime

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from proposals.models import OutboxMessage, User, unit_ids_of
from proposals.outbox import OUTBOX_ALERT_ATTEMPTS
from replies.models import CoOpinion, Reply
from replies.workflow import RENDER_GRACE
from signing.checks import failing_letters
from tracker.dashboard.lines import SECTION_ROWS, Line, Section, _first_rows, _url
from tracker.models import Digest, EventNotice, Outgoing

#: What the outbox's task names mean to a person.
TASK_LABELS = {
    "replies.tasks.render_signed_pdf": gettext_lazy("生成签发件"),
    "tracker.tasks.send_event_notice": gettext_lazy("发送事件通知"),
    "tracker.tasks.send_digest": gettext_lazy("发送提醒邮件"),
}


def faults(user: User, *, committee: bool, now: datetime.datetime | None = None) -> list[Section]:
    """The fault sections of a unit's member (their units' letters) or of the committee (every
    letter, the failed e-mails, the outbox). Each list is one query, whatever the numbers."""
    now = now or timezone.now()
    sections = [_pdf_faults(user, committee=committee, now=now)]
    if committee:
        sections += [_mail_faults(), _outbox_faults(), _signature_faults()]
    return sections


def _pdf_faults(user: User, *, committee: bool, now: datetime.datetime) -> Section:
    """Signed letters without their PDF: 生成失败 (danger), or late past ``RENDER_GRACE``."""
    missing = Q(signed_at__isnull=False, pdf_sha256="") & (
        Q(pdf_failed_at__isnull=False) | Q(signed_at__lt=now - RENDER_GRACE)
    )
    rows: list[Reply | CoOpinion] = []
    count = 0
    for model in (Reply, CoOpinion):
        qs = model.objects.visible_to(user).filter(missing)
        if not committee:
            qs = qs.filter(unit_id__in=unit_ids_of(user))
        found, n = _first_rows(
            qs.select_related("proposal", "unit").order_by("pdf_failed_at", "signed_at", "pk")
        )
        rows += found
        count += n
    rows.sort(key=lambda x: (x.pdf_failed_at is None, x.signed_at))
    lines = [_pdf_line(letter, now) for letter in rows[:SECTION_ROWS]]
    return Section(
        key="pdf_failed",
        title=_("签发件未能生成"),
        count=count,
        lines=lines,
        more_url=_url("replies_reply_changelist", query={"pdf": "missing"})
        if count > SECTION_ROWS
        else "",
        tone="danger",
        empty=_("没有生成失败的签发件。"),
    )


def _pdf_line(letter: Reply | CoOpinion, now: datetime.datetime) -> Line:
    is_reply = isinstance(letter, Reply)
    name = "replies_reply" if is_reply else "replies_coopinion"
    signed = timezone.localtime(letter.signed_at)
    if letter.pdf_failed_at is not None:
        detail = _("生成失败（%(n)d次）：%(reason)s") % {
            "n": letter.pdf_attempts,
            "reason": letter.pdf_error,
        }
        tone = "danger"
    else:
        minutes = int((now - letter.signed_at).total_seconds() // 60)
        detail = _("签发 %(m)d 分钟后仍未生成（后台任务可能未运行）") % {"m": minutes}
        tone = "warn"
    return Line(
        text=f"{letter.doc_number or letter.title} {letter.title}",
        url=_url(f"{name}_change", letter.pk),
        detail=f"{letter.unit} · {signed:%Y-%m-%d %H:%M}签发 · {detail}",
        tone=tone,
        action_url=_url(f"{name}_verb", letter.pk, "rerender"),
        action_label=_("重新生成签发件"),
    )


def _mail_faults() -> Section:
    """E-mails the ledger gave up on (发送失败): the committee puts them back in the queue."""
    rows: list[Outgoing] = []
    count = 0
    for model in (EventNotice, Digest):
        found, n = _first_rows(
            model.objects.filter(state=Outgoing.State.FAILED).order_by("-created_at", "-pk")
        )
        rows += found
        count += n
    rows.sort(key=lambda r: r.created_at, reverse=True)

    def line(row: Outgoing) -> Line:
        name = "tracker_eventnotice" if isinstance(row, EventNotice) else "tracker_digest"
        what = row.get_event_display() if isinstance(row, EventNotice) else _("提醒邮件")
        return Line(
            text=f"{what} → {row.email}",
            url=_url(f"{name}_change", row.pk),
            detail=_("%(at)s · 尝试%(n)d次 · %(error)s")
            % {
                "at": f"{timezone.localtime(row.created_at):%Y-%m-%d %H:%M}",
                "n": row.attempts,
                "error": row.last_error[:80],
            },
            tone="danger",
        )

    return Section(
        key="mail_failed",
        title=_("邮件发送失败"),
        count=count,
        lines=[line(r) for r in rows[:SECTION_ROWS]],
        more_url=_url("tracker_eventnotice_changelist", query={"state__exact": "failed"})
        if count
        else "",
        tone="danger",
        empty=_("没有发送失败的邮件。"),
    )


def _outbox_faults() -> Section:
    """Tasks kept in the outbox while the broker was unreachable; those that failed
    ``OUTBOX_ALERT_ATTEMPTS`` times or more are undeliverable so far (danger)."""
    rows, count = _first_rows(OutboxMessage.objects.order_by("-attempts", "created_at", "pk"))
    index = reverse("admin:index")

    def line(row: OutboxMessage) -> Line:
        url = f"{index}#fault-outbox"
        args = list(row.args)
        if row.task == "replies.tasks.render_signed_pdf" and len(args) == 2:
            kind, pk = args
            url = _url(
                "replies_reply_change" if kind == "reply" else "replies_coopinion_change", pk
            )
        elif row.task == "tracker.tasks.send_event_notice" and args:
            url = _url("tracker_eventnotice_change", args[0])
        elif row.task == "tracker.tasks.send_digest" and args:
            url = _url("tracker_digest_change", args[0])
        stuck = row.attempts >= OUTBOX_ALERT_ATTEMPTS
        return Line(
            text=f"{TASK_LABELS.get(row.task, row.task)} {', '.join(map(str, args))}",
            url=url,
            detail=_("%(at)s起待投递 · 尝试%(n)d次 · %(error)s")
            % {
                "at": f"{timezone.localtime(row.created_at):%Y-%m-%d %H:%M}",
                "n": row.attempts,
                "error": row.last_error[:80],
            },
            tone="danger" if stuck else "warn",
        )

    return Section(
        key="outbox",
        title=_("待投递的后台任务（消息队列曾不可用）"),
        count=count,
        lines=[line(r) for r in rows],
        tone="danger" if any(r.attempts >= OUTBOX_ALERT_ATTEMPTS for r in rows) else "warn",
        empty=_("没有待投递的后台任务。"),
    )


def _signature_faults() -> Section:
    """Stored signed letters whose file no longer verifies (``manage.py verify_letter
    --stored`` checks them): changed since signing, or missing. Not to be served as originals."""
    names = {"reply": "replies_reply", "opinion": "replies_coopinion"}
    records, count = _first_rows(failing_letters())
    lines = [
        Line(
            text=_("%(kind)s #%(pk)d")
            % {"kind": record.get_status_display(), "pk": record.letter_id},
            url=_url(f"{names.get(record.kind, 'replies_reply')}_change", record.letter_id),
            detail=record.problem,
            tone="danger",
        )
        for record in records
    ]
    return Section(
        key="signature_failed",
        title=_("签发件核验未通过"),
        count=count,
        lines=lines,
        tone="danger",
        empty=_("所有签发件核验通过。"),
    )
