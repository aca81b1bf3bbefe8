"""What the API shows is exactly what may be shown.

A canary string goes into every private thing (proposers' phones and e-mails, the committee's
review note, contact notes, the signer's return comments, a co-handling opinion, drafts, replies
that are 依申请公开, 不予公开 or not yet published, another member's draft); then every public
and member endpoint is crawled — lists, details, filters, pages, OPTIONS, the schema, the
docs, error bodies, the PDF's text — and no response may carry the canary. The keys of the
public responses must equal the allow-list below: a field added to a serializer fails this
test until it is added here, on purpose.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import pdfplumber
import pytest
from django.test import Client

from proposals import workflow as pwf
from proposals.models import Proposal
from replies import workflow as rwf
from replies.models import Disclosure, Reply, ReplyState
from tracker.tests import api_support as s
from tracker.tests.api_support import CANARY

pytestmark = pytest.mark.django_db

#: The keys of public responses (nested keys as ``parent.child``; list items as ``parent[]``).
PUBLIC_REPLY_LIST_KEYS = {
    "next",
    "previous",
    "results",
    "results[].id",
    "results[].title",
    "results[].doc_number",
    "results[].organ",
    "results[].unit",
    "results[].unit.id",
    "results[].unit.name",
    "results[].unit.short_name",
    "results[].session",
    "results[].session.id",
    "results[].session.district",
    "results[].session.name",
    "results[].proposal_number",
    "results[].kind",
    "results[].result_label",
    "results[].result_class",
    "results[].signed_on",
    "results[].published_on",
    "results[].updated_at",
    "results[].url",
    "results[].pdf_url",
    # Corrections (issue 22): what a correction replaces, and whether this one was withdrawn.
    "results[].supersedes",
    "results[].withdrawn",
    "results[].superseded_by",
}
PUBLIC_REPLY_DETAIL_KEYS = {
    key.removeprefix("results[].") for key in PUBLIC_REPLY_LIST_KEYS if key.startswith("results[].")
} | {"salutation", "body", "closing", "proposers"}
SESSION_KEYS = {
    "[].id",
    "[].district",
    "[].term",
    "[].meeting",
    "[].name",
    "[].year",
    "[].opens_on",
    "[].closes_on",
}
UNIT_KEYS = {"[].id", "[].name", "[].short_name", "[].organ_name", "[].is_active"}
_FIGURES = {
    "key",
    "label",
    "filed",
    "assigned",
    "replied",
    "replied_on_time",
    "met",
    "feedback",
    "satisfied",
    "overdue",
    "sent",
    "published",
    "co_assigned",
    "co_done",
    "merged",
    "unassigned",
    "feedback_first",
    "satisfied_first",
    "rehandled",
    "co_on_time",
    "co_missing",
    "level",
    "satisfaction_rate_first",
    "satisfaction_rate_final",
    "co_on_time_rate",
    "reply_rate",
    "on_time_rate",
    "meeting_rate",
    "satisfaction_rate",
    "public_rate",
    "results",
    "results.A",
    "results.B",
    "results.C",
    "results.D",
    "result_shares",
    "result_shares.A",
    "result_shares.B",
    "result_shares.C",
    "result_shares.D",
}
STATISTICS_KEYS = (
    {"group_by", "level", "total_level", "filters", "today", "total", "rows_total", "rows"}
    | {f"filters.{k}" for k in ("session", "unit", "category", "date_from", "date_to")}
    | {f"total.{k}" for k in _FIGURES}
    | {f"rows_total.{k}" for k in _FIGURES}
    | {f"rows[].{k}" for k in _FIGURES}
    | {"definitions"}
    | {f"definitions[].{k}" for k in ("attribute", "label", "proposal", "assignment")}
)
ERROR_KEYS = {"code", "message", "fields"}


def keys(data, prefix: str = "") -> set[str]:
    out: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            name = f"{prefix}.{key}" if prefix else key
            out.add(name)
            out |= keys(value, name)
    elif isinstance(data, list):
        for item in data:
            out |= keys(item, f"{prefix}[]")
    return out


@pytest.fixture(autouse=True)
def _api(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}


@pytest.fixture
def world(committee, session):
    """P1's proposal published (with a draft follow-up and every internal note a canary); P2's
    replies that must stay internal, and a draft of P2's."""
    h = s.handling(committee)
    p1, p2, p3 = s.member("p1", "张文浩"), s.member("p2", "钱建峰"), s.member("p3", "施美芳")
    hidden = f"\n{CANARY}-unpublished-body"
    mine = s.handled(
        h, session=session, lead=p1.proposer, coproposers=(p3.proposer,), store_pdf=True
    )
    s.draft_reply_with_canary(h, mine.lead)
    on_request = s.handled(
        h, session=session, lead=p2.proposer, disclosure=Disclosure.ON_REQUEST, body_extra=hidden
    )
    not_public = s.handled(
        h, session=session, lead=p2.proposer, disclosure=Disclosure.NOT_PUBLIC, body_extra=hidden
    )
    unpublished = s.handled(h, session=session, lead=p2.proposer, publish=False, body_extra=hidden)
    superseded = s.handled(h, session=session, lead=p2.proposer)
    correction = rwf.supersede_reply(superseded.reply, actor=h.clerk, reason=f"{CANARY}-reason")
    correction = rwf.edit_reply(
        correction, actor=h.clerk, version=correction.version, body=f"{CANARY}-correction"
    )
    rwf.submit_reply(correction, actor=h.clerk)
    rwf.sign_reply(correction, actor=h.signer)
    rwf.send_reply(correction, actor=h.clerk)
    draft = pwf.draft_proposal(
        actor=p2, session=session, title=f"{CANARY}-p2-draft-title", analysis=f"{CANARY}-draft"
    )
    rejected = s.f.ProposalFactory(session=session, lead_proposer=p2.proposer, title="关于Y的建议")
    pwf.not_file_proposal(
        rejected, actor=committee, disposition="reference", note=f"{CANARY}-not-filed-note"
    )
    return {
        "h": h,
        "p1": p1,
        "p2": p2,
        "p3": p3,
        "mine": mine,
        "hidden": [
            on_request.reply,
            not_public.reply,
            unpublished.reply,
            superseded.reply,
            correction,
            *Reply.objects.filter(state="draft"),
        ],
        "p2_proposals": [
            on_request.proposal,
            not_public.proposal,
            unpublished.proposal,
            superseded.proposal,
            draft,
            rejected,
        ],
    }


def assert_clean(url: str, response) -> None:
    if response.get("Content-Type", "").startswith("application/pdf"):
        data = b"".join(response.streaming_content) if response.streaming else response.content
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            text = "".join(page.extract_text() or "" for page in pdf.pages)
        assert "委员" in text
    else:
        text = b"".join(response.streaming_content) if response.streaming else response.content
        text = text.decode("utf-8")
    assert CANARY not in text, url
    assert CANARY.lower() not in text, url


def crawl(client: Client, urls: Iterable[str], *, method: str = "get") -> dict[str, object]:
    seen = {}
    for url in urls:
        response = getattr(client, method)(url)
        assert response.status_code < 500, url
        assert_clean(f"{method.upper()} {url}", response)
        seen[url] = response
    return seen


def test_no_public_endpoint_shows_a_private_thing(world, session):
    client = Client()
    published = list(Reply.objects.published())
    assert [r.pk for r in published] == [world["mine"].reply.pk]
    h = world["h"]
    urls = [
        "/api/v1/replies/",
        "/api/v1/replies/?ordering=signed_on",
        f"/api/v1/replies/?session={session.pk}",
        f"/api/v1/replies/?unit={h.unit.pk}",
        "/api/v1/replies/?result_class=A",
        f"/api/v1/replies/?year={published[0].signed_on.year}",
        f"/api/v1/replies/?q={CANARY}",
        "/api/v1/replies/?q=区发改委",
        "/api/v1/replies/?updated_since=2000-01-01T00:00:00%2B08:00",
        "/api/v1/replies/?page_size=1",
        "/api/v1/sessions/",
        "/api/v1/units/",
        "/api/v1/statistics/",
        "/api/v1/statistics/?group_by=unit",
        "/api/v1/statistics/?group_by=session",
        "/api/v1/statistics/?group_by=category",
        "/api/v1/statistics/?group_by=month",
        "/api/schema/",
        "/api/docs/",
        # errors
        "/api/v1/replies/?session=x",
        "/api/v1/replies/?cursor=abc",
        "/api/v1/nothing/",
    ]
    for reply in published:
        urls += [f"/api/v1/replies/{reply.pk}/", f"/api/v1/replies/{reply.pk}/pdf"]
    for reply in world["hidden"]:
        urls += [f"/api/v1/replies/{reply.pk}/", f"/api/v1/replies/{reply.pk}/pdf"]
    seen = crawl(client, urls)
    crawl(client, [u for u in urls if u.startswith("/api/v1/")], method="options")
    crawl(client, ["/api/v1/replies/", "/api/v1/statistics/"], method="post")

    listed = {row["id"] for row in seen["/api/v1/replies/"].json()["results"]}
    assert listed == {r.pk for r in published}
    assert seen[f"/api/v1/replies/?q={CANARY}"].json()["results"] == []
    for reply in world["hidden"]:
        # A reply corrected away is gone (410, naming the correction); the rest never existed.
        corrected = Reply.objects.filter(
            supersedes=reply, state__in=[ReplyState.SENT, ReplyState.PUBLISHED]
        ).exists()
        gone = seen[f"/api/v1/replies/{reply.pk}/"]
        assert gone.status_code == (410 if corrected else 404)
        assert set(gone.json()) <= {"code", "message", "fields", "superseded_by"}
        assert seen[f"/api/v1/replies/{reply.pk}/pdf"].status_code in (
            (404, 410) if corrected else (404,)
        )

    assert keys(seen["/api/v1/replies/"].json()) == PUBLIC_REPLY_LIST_KEYS
    detail = seen[f"/api/v1/replies/{published[0].pk}/"].json()
    assert keys(detail) - {"proposers[]"} == PUBLIC_REPLY_DETAIL_KEYS
    assert detail["proposers"] == ["张文浩", "施美芳"]
    assert keys(seen["/api/v1/sessions/"].json()) == SESSION_KEYS
    assert keys(seen["/api/v1/units/"].json()) == UNIT_KEYS
    assert keys(seen["/api/v1/statistics/?group_by=unit"].json()) == STATISTICS_KEYS
    for url in ("/api/v1/replies/?session=x", "/api/v1/nothing/"):
        assert set(seen[url].json()) == ERROR_KEYS


def test_a_member_sees_nothing_private_not_even_their_own_contacts(world):
    p1 = s.token_client(world["p1"])
    mine = world["mine"]
    urls = [
        "/api/v1/me/proposals/",
        f"/api/v1/me/proposals/{mine.proposal.pk}/",
        "/api/v1/me/proposers/",
        "/api/v1/me/proposers/?q=钱",
        f"/api/v1/me/proposers/?q={CANARY}",
    ]
    urls += [f"/api/v1/me/proposals/{p.pk}/" for p in world["p2_proposals"]]
    seen = crawl(p1, urls)
    crawl(p1, urls[:3], method="options")
    for proposal in world["p2_proposals"]:
        assert seen[f"/api/v1/me/proposals/{proposal.pk}/"].status_code == 404
    listed = {row["id"] for row in seen["/api/v1/me/proposals/"].json()["results"]}
    assert listed == {mine.proposal.pk}
    page = seen[f"/api/v1/me/proposals/{mine.proposal.pk}/"].json()
    assert [r["id"] for r in page["replies"]] == [mine.reply.pk]

    for reply in [*world["hidden"], mine.reply]:
        for data in ({"rating": "bad"}, {"rating": "satisfied", "comment": "x" * 3000}):
            response = p1.post(
                f"/api/v1/me/replies/{reply.pk}/feedback/", data, content_type="application/json"
            )
            assert response.status_code in (400, 404)
            assert_clean("feedback", response)
    response = p1.post(
        "/api/v1/me/proposals/",
        {"session": mine.proposal.session_id, "title": ""},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert_clean("submit", response)
    assert not Proposal.objects.filter(title="").exists()


def test_the_crawl_would_see_a_canary(world):
    """The control: P2 reads the 依申请公开 reply that was sent to them, canary and all, so the
    checks above look where a leak would show."""
    on_request = world["p2_proposals"][0]
    response = s.token_client(world["p2"]).get(f"/api/v1/me/proposals/{on_request.pk}/")
    assert response.status_code == 200
    assert f"{CANARY}-unpublished-body" in response.content.decode()
    with pytest.raises(AssertionError):
        assert_clean("control", response)


def test_a_cosigner_sees_the_same_as_the_lead_and_still_no_contact(world):
    p3 = s.token_client(world["p3"])
    mine = world["mine"]
    seen = crawl(p3, ["/api/v1/me/proposals/", f"/api/v1/me/proposals/{mine.proposal.pk}/"])
    assert seen["/api/v1/me/proposals/"].json()["results"][0]["my_role"] == "co"


def test_no_serializer_lists_all_fields_or_excludes_some():
    import importlib
    import inspect

    from rest_framework import serializers

    modules = [
        "proposals.api.serializers",
        "replies.api.serializers",
        "tracker.api.serializers",
        "tracker.api.statistics",
    ]
    found = 0
    for name in modules:
        module = importlib.import_module(name)
        for _n, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, serializers.ModelSerializer) or cls.__module__ != name:
                continue
            found += 1
            meta = cls.Meta
            assert isinstance(meta.fields, list | tuple), cls
            assert not hasattr(meta, "exclude"), cls
    assert found >= 10
