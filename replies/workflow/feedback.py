"""A proposer's feedback on a reply (once each; 不满意 reopens the assignment), and who may give
it: the proposers a reply answers, and the conveners who answer for a group among them.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from proposals import events
from proposals.models import Assignment, AssignmentState, Proposer, User
from proposals.workflow import (
    InvalidInput,
    NotAllowed,
    WrongState,
    record_transition,
    reopen_assignment,
)
from replies.kinds import REPLY_KIND
from replies.models import Feedback, Reply
from replies.workflow.common import _lock, _now, _today


def reply_proposers(reply: Reply) -> list[Proposer]:
    """Everyone a reply answers: its proposal's proposers and those of proposals merged in."""
    proposal = reply.proposal
    proposers = list(proposal.proposers())
    for merged in proposal.merged_proposals.all():
        proposers += merged.proposers()
    unique: dict[int, Proposer] = {}
    for p in proposers:
        unique.setdefault(p.pk, p)
    return list(unique.values())


def feedback_speaker(reply: Reply, proposer: Proposer) -> Proposer | None:
    """Whom ``proposer`` answers for on ``reply``: themselves when the reply answers them,
    otherwise the first group among its proposers that they convene."""
    answers = reply_proposers(reply)
    if any(p.pk == proposer.pk for p in answers):
        return proposer
    groups = {p.pk: p for p in answers if p.kind != Proposer.Kind.MEMBER}
    if not groups:
        return None
    convened = set(proposer.convened_groups.filter(pk__in=groups).values_list("pk", flat=True))
    return next((g for pk, g in groups.items() if pk in convened), None)


@transaction.atomic
def record_feedback(
    reply: Reply | int,
    *,
    actor: User,
    proposer: Proposer | int | None,
    rating: str,
    on_work: str = "",
    on_result: str = "",
    comment: str = "",
    channel: str = Feedback.Channel.ONLINE,
) -> Feedback:
    """A proposer's answer, once per reply. 不满意 reopens the assignment for re-handling.

    ``proposer`` None (a user who is no proposer) is refused like any outsider."""
    reply = _lock(REPLY_KIND, reply)
    if reply.state not in REPLY_KIND.transitions["feedback"][0]:
        raise WrongState(_("答复送达后才能反馈意见。"))
    proposer_id = proposer.pk if isinstance(proposer, Proposer) else proposer
    proposal = reply.proposal
    proposers = {p.pk: p for p in reply_proposers(reply)}
    if proposer_id is None or proposer_id not in proposers:
        raise InvalidInput(_("只有本件提案的提案者可以反馈。"), field="proposer")
    speaker = proposers[proposer_id]
    own = speaker.user_id == actor.pk
    # A group's convener 召集人 answers for the group (界别组, 党派 …).
    convener = (
        not own
        and speaker.kind != Proposer.Kind.MEMBER
        and speaker.conveners.filter(user=actor, user__isnull=False).exists()
    )
    if not (own or convener or actor.is_committee or reply.unit_id in actor.unit_ids()):
        raise NotAllowed(_("您不能代替该提案者反馈意见。"))
    if channel not in Feedback.Channel.values:
        raise InvalidInput(_("反馈方式无效。"), field="channel")
    for name, value in (("rating", rating), ("on_work", on_work), ("on_result", on_result)):
        if (value or name == "rating") and value not in Feedback.Rating.values:
            raise InvalidInput(_("请选择满意、基本满意或不满意。"), field=name)
    if Feedback.objects.filter(reply=reply, proposer_id=proposer_id).exists():
        raise WrongState(_("已收到该提案者对此答复的意见，每份答复只能反馈一次。"))
    fb = Feedback.objects.create(
        reply=reply,
        proposal=proposal,
        proposer_id=proposer_id,
        rating=rating,
        on_work=on_work,
        on_result=on_result,
        comment=comment.strip(),
        channel=channel,
        received_at=_now(),
        recorded_by=actor,
    )
    record_transition(
        fb,
        actor=actor,
        verb="feedback",
        to_state=rating,
        note=f"{proposers[proposer_id]} {fb.get_rating_display()}",
        proposal=proposal,
    )
    if rating == Feedback.Rating.NOT_SATISFIED:
        events.emit("feedback_not_satisfied", feedback_id=fb.pk)
        assignment = Assignment.objects.get(pk=reply.assignment_id)
        if assignment.state == AssignmentState.REPLIED:
            reopen_assignment(
                assignment,
                actor=actor,
                reason=_("%(p)s 对答复不满意") % {"p": proposers[proposer_id]},
                on=_today(),
            )
    return fb
