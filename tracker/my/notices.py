"""The notices a member was sent about each step of their proposal, for the /my/ timeline:
"已通过短信通知", "电子邮件通知发送失败" … read from the ledgers (``MemberNotice``, and the
``reply_sent`` ``EventNotice`` that carries a reply's e-mail)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from proposals.models import Proposer
from tracker.models import EventNotice, MemberChannel, MemberNotice, Outgoing


@dataclass(frozen=True)
class NoticeLine:
    text: str
    css: str = ""


def _line(channel: str, state: str) -> NoticeLine:
    how = _("短信") if channel == MemberChannel.SMS else _("电子邮件")
    if state == Outgoing.State.SENT:
        return NoticeLine(_("已通过%(how)s通知您") % {"how": how})
    if state == Outgoing.State.FAILED:
        return NoticeLine(_("%(how)s通知发送失败，提案委员会将跟进") % {"how": how}, "failed")
    if state == Outgoing.State.CANCELLED:
        return NoticeLine(_("%(how)s通知已取消") % {"how": how})
    return NoticeLine(_("%(how)s通知发送中") % {"how": how})


def notices_by_transition(proposer: Proposer, ids: list[int]) -> dict[int, list[NoticeLine]]:
    found: dict[int, list[NoticeLine]] = {}
    rows = MemberNotice.objects.filter(proposer=proposer, transition_id__in=ids).order_by(
        "channel", "pk"
    )
    for tid, channel, state in rows.values_list("transition_id", "channel", "state"):
        found.setdefault(tid, []).append(_line(channel, state))
    mails = EventNotice.objects.filter(proposer=proposer, transition_id__in=ids).order_by("pk")
    for tid, state in mails.values_list("transition_id", "state"):
        found.setdefault(tid, []).insert(0, _line(MemberChannel.EMAIL, state))
    return found


def attach_notices(steps: list, proposer: Proposer) -> None:
    """Give each step of the timeline the notices its audit row caused."""
    ids = [s.transition_id for s in steps if s.transition_id]
    if not ids:
        return
    found = notices_by_transition(proposer, ids)
    for s in steps:
        s.notices = found.get(s.transition_id, [])
