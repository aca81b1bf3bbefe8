"""Replies and co-handling opinions: one function per verb.

Drafting, signing with a 文号, sending, feedback, re-handling, publication, follow-ups and
corrections. Each function is atomic, locks its row, asks the guard, saves only what it
changed and writes one audit row (``proposals.workflow.record_transition``). A signed letter
never changes: a correction is a new reply that supersedes it.

The two kinds of letter — a reply 答复 and a co-handling opinion 会办意见 — are described once
each (``replies.kinds``: model, states and transitions, editable fields, what a draft needs),
and the steps they share take that description instead of branching on the model. The verbs
are split by subject:

    errors     ``StaleVersion`` (the others come from ``proposals.workflow``)
    texts      the title, salutation, opening and closing a draft starts from
    common     guards, row lock, move and audit, edit, signing with a 文号, 重新生成
    replies    start, edit, submit, return, sign, send, publish, supersede a reply
    opinions   start, edit, submit, return, sign, deliver an opinion
    feedback   a proposer's feedback, and whom a reply answers
    legacy     the import of replies published before the system

The printed letter and its PDF are ``replies.rendering``'s; its names callers knew here are
re-exported too. Every name callers use is re-exported here, so they import
``replies.workflow`` and need not know which module holds a verb. The modules import ``errors``,
``texts`` and ``common``, never this package; ``common`` queues the renders through
``replies.tasks``, which imports ``replies.rendering`` and never the workflow.
"""

from proposals.workflow import InvalidInput, NotAllowed, WorkflowError, WrongState
from replies.kinds import EDITABLE_FIELDS, REPLY_EDITABLE_FIELDS
from replies.rendering import (
    RENDER_GRACE,
    PdfAlreadyStored,
    PdfRenderFailed,
    has_pdf,
    letter_for,
    pdf_failure_reason,
    pdf_late,
    render_pdf,
    store_signed_pdf,
    unrendered_letters,
)
from replies.workflow.common import rerender_pdf
from replies.workflow.errors import StaleVersion
from replies.workflow.feedback import feedback_speaker, record_feedback, reply_proposers
from replies.workflow.legacy import import_published_reply
from replies.workflow.opinions import (
    deliver_opinion,
    edit_opinion,
    return_opinion,
    sign_opinion,
    start_opinion,
    submit_opinion,
)
from replies.workflow.replies import (
    edit_reply,
    missing_opinions,
    publish_reply,
    result_history,
    return_reply,
    send_reply,
    sign_reply,
    start_reply,
    submit_reply,
    supersede_reply,
)
from replies.workflow.texts import addressee, draft_texts, proposal_number_text

__all__ = [
    "EDITABLE_FIELDS",
    "RENDER_GRACE",
    "REPLY_EDITABLE_FIELDS",
    "InvalidInput",
    "NotAllowed",
    "PdfAlreadyStored",
    "PdfRenderFailed",
    "StaleVersion",
    "WorkflowError",
    "WrongState",
    "addressee",
    "deliver_opinion",
    "draft_texts",
    "edit_opinion",
    "edit_reply",
    "feedback_speaker",
    "has_pdf",
    "import_published_reply",
    "letter_for",
    "missing_opinions",
    "pdf_failure_reason",
    "pdf_late",
    "proposal_number_text",
    "publish_reply",
    "record_feedback",
    "render_pdf",
    "reply_proposers",
    "rerender_pdf",
    "result_history",
    "return_opinion",
    "return_reply",
    "send_reply",
    "sign_opinion",
    "sign_reply",
    "start_opinion",
    "start_reply",
    "store_signed_pdf",
    "submit_opinion",
    "submit_reply",
    "supersede_reply",
    "unrendered_letters",
]
