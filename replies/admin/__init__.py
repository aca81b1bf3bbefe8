"""The admin of ``replies``: the letter editor shared by replies and opinions (``letters``),
one module per registered subject, and the panels it adds to the proposals admin's pages."""

from replies.admin.letters import (
    DOC_NUMBER_SEARCH,
    SIGNER,
    UNIT_OR_COMMITTEE,
    LetterAdmin,
)

from replies.admin import replies  # isort: skip
from replies.admin import opinions  # isort: skip
from replies.admin import records  # isort: skip
from replies.admin import panels  # isort: skip
from replies.admin import search  # noqa: F401  # isort: skip
from replies.admin.opinions import OPINION_VERBS, CoOpinionAdmin  # isort: skip
from replies.admin.records import DocNumberCounterAdmin, FeedbackAdmin  # isort: skip
from replies.admin.replies import REPLY_VERBS, ReplyAdmin  # isort: skip

__all__ = [
    "DOC_NUMBER_SEARCH",
    "OPINION_VERBS",
    "REPLY_VERBS",
    "SIGNER",
    "UNIT_OR_COMMITTEE",
    "CoOpinionAdmin",
    "DocNumberCounterAdmin",
    "FeedbackAdmin",
    "LetterAdmin",
    "ReplyAdmin",
    "opinions",
    "panels",
    "records",
    "replies",
]
