"""The proposer pages (/my/): a few lines each. Reads come from ``tracker.my.selectors``,
writes go through the workflow functions, and a refused call comes back as a message."""

from __future__ import annotations

import io

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from proposals import deadlines
from proposals import workflow as pwf
from proposals.models import EDITABLE_PROPOSAL_STATES, Proposal, ProposalStatus
from replies import workflow as rwf
from replies.models import Reply
from replies.serving import LetterIntegrityError, read_signed_pdf
from replies.workflow import letter_for
from tracker.my import selectors
from tracker.my.access import proposer_required
from tracker.my.forms import FeedbackForm, ProposalForm


def _mine(request):
    return Proposal.objects.for_proposer(request.proposer)


def _own_led(request, pk: int) -> Proposal:
    return get_object_or_404(_mine(request).filter(lead_proposer=request.proposer), pk=pk)


def _apply_errors(form, error: pwf.WorkflowError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


@proposer_required
def index(request):
    return render(
        request,
        "my/index.html",
        {
            "cards": selectors.my_proposals(request.proposer),
            "invitations": selectors.pending_invitations(request.proposer),
        },
    )


@proposer_required
def proposal_detail(request, pk: int):
    proposal = get_object_or_404(
        _mine(request).select_related("session", "lead_proposer", "merged_into"), pk=pk
    )
    me = request.proposer
    links = list(proposal.coproposer_links.select_related("proposer"))
    my_link = next((link for link in links if link.proposer_id == me.pk), None)
    is_lead = proposal.lead_proposer_id == me.pk
    editable = proposal.status in EDITABLE_PROPOSAL_STATES
    return render(
        request,
        "my/proposal.html",
        {
            "proposal": proposal,
            "links": links,
            "is_lead": is_lead,
            "editable": is_lead and editable,
            "waiting": [link for link in links if link.confirmed_at is None],
            "my_link": my_link if editable else None,
            "units": selectors.handling_units(proposal),
            "due_dates": selectors.due_dates(proposal),
            "replies": selectors.readable_replies(proposal, me),
            "timeline": selectors.timeline(proposal, me),
            "merged_number": (
                rwf.proposal_number_text(proposal.merged_into) if proposal.merged_into_id else ""
            ),
        },
    )


@proposer_required
def proposal_new(request):
    form = ProposalForm(request.POST or None, lead=request.proposer)
    if request.method == "POST" and form.is_valid():
        try:
            proposal = pwf.draft_proposal(
                actor=request.user, session=form.cleaned_data["session"], **form.workflow_kwargs()
            )
        except pwf.WorkflowError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _draft_saved_message(proposal))
            return redirect("my:proposal", pk=proposal.pk)
    return render(request, "my/proposal_form.html", {"form": form, "proposal": None})


def _draft_saved_message(proposal: Proposal) -> str:
    if proposal.coproposer_links.filter(confirmed_at__isnull=True).exists():
        return _("已保存。联名提案人全部确认后，即可提交。")
    return _("已保存。请核对后提交。")


@proposer_required
def proposal_edit(request, pk: int):
    proposal = _own_led(request, pk)
    if proposal.status not in EDITABLE_PROPOSAL_STATES:
        messages.error(request, _("此件已提交，不能再修改。"))
        return redirect("my:proposal", pk=proposal.pk)
    initial = {
        "title": proposal.title,
        "category": proposal.category,
        "analysis": proposal.analysis,
        "suggestions": proposal.suggestions,
        "coproposers": [link.proposer_id for link in proposal.coproposer_links.all()],
    }
    form = ProposalForm(
        request.POST or None, lead=request.proposer, with_session=False, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        kwargs = form.workflow_kwargs()
        # Keep the co-proposers' earlier order; new ones follow.
        chosen = set(kwargs["coproposers"])
        kept = [pid for pid in initial["coproposers"] if pid in chosen]
        kwargs["coproposers"] = kept + [pid for pid in kwargs["coproposers"] if pid not in kept]
        try:
            pwf.revise_proposal(proposal, actor=request.user, **kwargs)
        except pwf.WorkflowError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _draft_saved_message(proposal))
            return redirect("my:proposal", pk=proposal.pk)
    return render(request, "my/proposal_form.html", {"form": form, "proposal": proposal})


@require_POST
@proposer_required
def proposal_submit(request, pk: int):
    proposal = _own_led(request, pk)
    returned = proposal.status == ProposalStatus.RETURNED
    submit = pwf.resubmit_proposal if returned else pwf.submit_proposal
    try:
        submit(proposal, actor=request.user)
    except pwf.WorkflowError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已提交，提案委员会审查后将告知结果。"))
    return redirect("my:proposal", pk=proposal.pk)


@require_POST
@proposer_required
def coproposal_confirm(request, pk: int):
    proposal = get_object_or_404(_mine(request), pk=pk)
    try:
        pwf.confirm_coproposal(proposal, actor=request.user)
    except pwf.WorkflowError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("您已确认联名。"))
    return redirect("my:proposal", pk=proposal.pk)


@require_POST
@proposer_required
def coproposal_decline(request, pk: int):
    proposal = get_object_or_404(_mine(request), pk=pk)
    try:
        pwf.decline_coproposal(proposal, actor=request.user)
    except pwf.WorkflowError as error:
        messages.error(request, error.message)
        return redirect("my:proposal", pk=proposal.pk)
    messages.success(request, _("您已不再是此件的联名提案人。"))
    return redirect("my:index")


def _readable_reply(request, pk: int) -> Reply:
    return get_object_or_404(
        Reply.objects.for_proposer(request.proposer).select_related("unit", "proposal__session"),
        pk=pk,
    )


@proposer_required
def reply_detail(request, pk: int):
    reply = _readable_reply(request, pk)
    return render(
        request,
        "my/reply.html",
        {
            "reply": reply,
            "letter": letter_for(reply, draft=False),
            "row": selectors.reply_row(reply, request.proposer),
            "back": selectors.back_proposal(reply, request.proposer),
        },
    )


@proposer_required
def reply_pdf(request, pk: int):
    """The signed PDF as stored at signing (its SHA-256 is on record), never re-rendered;
    read and checked once (``replies.serving``), and not served when it no longer verifies."""
    reply = _readable_reply(request, pk)
    if not reply.pdf:
        raise Http404(_("PDF 尚未生成。"))
    try:
        data = read_signed_pdf(reply)
    except LetterIntegrityError:
        # Changed or missing since signing: the office is told (the dashboard), the member too.
        messages.error(request, _("签发件原件正在由办公室核验，暂不能下载，请稍后再试。"))
        return redirect("my:reply", pk=reply.pk)
    name = f"{reply.doc_number or reply.title}.pdf"
    return FileResponse(
        io.BytesIO(data), as_attachment=True, filename=name, content_type="application/pdf"
    )


def rehandling_period() -> str:
    """How long re-handling takes, as configured: ``3个月``."""
    amount, unit = deadlines.rule_for("rehandling_reply")
    return f"{amount}{deadlines.UNIT_LABELS[unit]}"


@proposer_required
def reply_feedback(request, pk: int):
    reply = _readable_reply(request, pk)
    row = selectors.reply_row(reply, request.proposer)
    context = {
        "reply": reply,
        "row": row,
        "period": rehandling_period(),
        "back": selectors.back_proposal(reply, request.proposer),
    }
    if row.my_feedback is not None:
        if request.method == "POST":
            messages.info(request, _("已收到您的意见，每份答复只能反馈一次。"))
        return render(request, "my/feedback_received.html", context)
    if not row.can_give_feedback:
        raise Http404(_("您不能对此答复反馈意见。"))
    form = FeedbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rwf.record_feedback(
                reply, actor=request.user, proposer=row.on_behalf, **form.cleaned_data
            )
        except pwf.WrongState as error:
            messages.info(request, error.message)
            return redirect("my:feedback", pk=reply.pk)
        except pwf.WorkflowError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("已收到您的意见，谢谢！"))
            return redirect("my:feedback", pk=reply.pk)
    return render(request, "my/feedback.html", {**context, "form": form})
