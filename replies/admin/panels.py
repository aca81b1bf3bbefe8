"""What replies adds to the proposal and assignment pages of the proposals admin: the letters
(replies and co-handling opinions) the user may see, and the button that starts a draft."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from proposals.admin import _unit_ids, _when, register_panel
from proposals.admin.access import admin_user
from proposals.models import Assignment, AssignmentState, Proposal
from replies.models import CoOpinion, OpinionState, Reply, ReplyState

if TYPE_CHECKING:  # django-stubs-ext is a development tool, not in the image
    from django_stubs_ext import StrOrPromise

_OPEN_REPLY = (ReplyState.DRAFT, ReplyState.PENDING_SIGNATURE)
_OPEN_OPINION = (OpinionState.DRAFT, OpinionState.PENDING_SIGNATURE, OpinionState.SIGNED)


def _letters_table(letters: list[Reply | CoOpinion]) -> SafeString:
    if not letters:
        return format_html("<p>{}</p>", _("暂无。"))
    rows = []
    for letter in letters:
        kind: StrOrPromise
        if isinstance(letter, Reply):
            name, kind, sent = "replies_reply_change", letter.get_kind_display(), letter.sent_at
        else:
            name, kind, sent = "replies_coopinion_change", _("会办意见"), letter.delivered_at
        link = format_html(
            '<a href="{}">{}</a>',
            reverse(f"admin:{name}", args=[letter.pk]),
            letter.doc_number or letter.title,
        )
        rows.append((link, letter.unit, kind, letter.get_state_display(), _when(sent)))
    head = (_("文号/标题"), _("单位"), _("类型"), _("状态"), _("送出时间"))
    return format_html(
        '<table class="letters"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>',
        format_html_join("", "<th>{}</th>", ((h,) for h in head)),
        format_html_join("", "<tr>" + "<td>{}</td>" * 5 + "</tr>", rows),
    )


def _start_button(assignment: Assignment, request: HttpRequest) -> SafeString:
    """起草答复 / 起草会办意见, when the user's unit can start one now."""
    if assignment.unit_id not in _unit_ids(request):
        return SafeString("")
    if assignment.role == Assignment.Role.CO:
        if assignment.state != AssignmentState.ACCEPTED:
            return SafeString("")
        if assignment.opinions.filter(state__in=_OPEN_OPINION).exists():
            return SafeString("")
        url = reverse("admin:replies_coopinion_start_for", args=[assignment.pk])
        label = _("起草会办意见")
    else:
        if assignment.state not in (AssignmentState.ACCEPTED, AssignmentState.REPLIED):
            return SafeString("")
        if assignment.replies.filter(state__in=_OPEN_REPLY).exists():
            return SafeString("")
        url = reverse("admin:replies_reply_start_for", args=[assignment.pk])
        if assignment.state == AssignmentState.REPLIED:
            url += "?kind=follow_up"
            label = _("起草再次答复")
        else:
            label = _("起草答复")
    return format_html('<p><a class="button default" href="{}">{}</a></p>', url, label)


def assignment_letters(request: HttpRequest, obj: Assignment) -> tuple[StrOrPromise, SafeString]:
    """The letters of the assignment's proposal the user may see, newest first."""
    user = admin_user(request)
    replies = list(
        Reply.objects.visible_to(user)
        .filter(proposal_id=obj.proposal_id)
        .select_related("unit")
        .order_by("-created_at")
    )
    opinions = list(
        CoOpinion.objects.visible_to(user)
        .filter(proposal_id=obj.proposal_id)
        .select_related("unit")
        .order_by("-created_at")
    )
    html = format_html(
        "{}<h4>{}</h4>{}<h4>{}</h4>{}",
        _start_button(obj, request),
        _("答复"),
        _letters_table(replies),
        _("会办意见"),
        _letters_table(opinions),
    )
    return _("答复与会办意见"), html


def proposal_letters(request: HttpRequest, obj: Proposal) -> tuple[StrOrPromise, SafeString]:
    user = admin_user(request)
    replies = list(Reply.objects.visible_to(user).filter(proposal=obj).select_related("unit"))
    opinions = list(CoOpinion.objects.visible_to(user).filter(proposal=obj).select_related("unit"))
    return _("答复与会办意见"), _letters_table([*replies, *opinions])


register_panel(Assignment, assignment_letters, order=10)
register_panel(Proposal, proposal_letters, order=10)
