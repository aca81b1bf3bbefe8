"""The 公开属性 line carries its scope as offices print it: 主动公开 · 全文 / 摘要 (issue 20)."""

import pytest

from replies import workflow as rwf
from replies.models import Disclosure, DisclosureScope
from replies.tests.factories import ReplyFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("disclosure", "scope", "printed"),
    [
        (Disclosure.PUBLIC, DisclosureScope.FULL, "主动公开 · 全文"),
        (Disclosure.PUBLIC, DisclosureScope.SUMMARY, "主动公开 · 摘要"),
        (Disclosure.PUBLIC, "", "主动公开"),
        # A scope left over from an earlier choice says nothing of a letter that is not public.
        (Disclosure.ON_REQUEST, DisclosureScope.FULL, "依申请公开"),
    ],
)
def test_the_disclosure_line_prints_its_scope(disclosure, scope, printed):
    reply = ReplyFactory(disclosure=disclosure, disclosure_scope=scope)
    assert rwf.letter_for(reply).disclosure == printed


def test_the_scope_is_edited_with_the_draft_and_kept_when_signed():
    reply = ReplyFactory(disclosure_scope=DisclosureScope.SUMMARY, signed=True)
    assert reply.disclosure_scope == DisclosureScope.SUMMARY
    assert rwf.letter_for(reply).disclosure == "主动公开 · 摘要"
