"""The public API (政务公开): published replies, their PDFs, sessions, units and statistics."""

from __future__ import annotations

import datetime
from urllib.parse import parse_qs, quote, urlparse

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from proposals.models import Unit
from proposals.tests import factories as f
from replies import workflow as rwf
from replies.models import Disclosure, Reply
from replies.workflow import replies as rwf_replies
from tracker.tests import api_support as s

pytestmark = pytest.mark.django_db
D = datetime.date
LIST = "/api/v1/replies/"


@pytest.fixture(autouse=True)
def _api(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}


@pytest.fixture
def h(committee):
    return s.handling(committee)


@pytest.fixture
def p1(db):
    return s.member("p1", "张文浩")


@pytest.fixture
def published(h, session, p1):
    """One reply through the whole workflow, published, with its stored PDF."""
    return s.handled(h, session=session, lead=p1.proposer, store_pdf=True)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_the_list_shows_published_replies_with_their_metadata(published):
    response = Client().get(LIST)
    assert response.status_code == 200
    (row,) = response.json()["results"]
    reply = published.reply
    assert row["id"] == reply.pk
    assert row["doc_number"] == f"长发改〔{reply.signed_on.year}〕1号"
    assert row["organ"] == "上海市长宁区发展和改革委员会"
    assert row["session"]["name"] == "十五届二次会议"
    assert row["proposal_number"] == published.proposal.number
    assert (row["result_label"], row["result_class"]) == ("解决或采纳", "A")
    assert row["signed_on"] == reply.signed_on.isoformat()
    assert row["published_on"] == reply.published_on.isoformat()
    assert row["updated_at"].endswith("+08:00")
    assert row["url"] == f"http://testserver/api/v1/replies/{reply.pk}/"
    assert row["pdf_url"] == f"http://testserver/api/v1/replies/{reply.pk}/pdf"
    assert response["Cache-Control"] == "public, max-age=300"


def test_the_detail_has_the_full_text_and_the_proposers_names(published):
    reply = published.reply
    response = Client().get(f"{LIST}{reply.pk}/")
    assert response.status_code == 200
    data = response.json()
    assert data["salutation"] == "张文浩委员："
    assert "一、总体情况" in data["body"]
    assert data["closing"].startswith("感谢")
    assert data["proposers"] == ["张文浩"]
    assert response["Cache-Control"] == "public, max-age=300"


def test_the_detail_answers_304_to_a_client_with_a_current_copy(published):
    url = f"{LIST}{published.reply.pk}/"
    first = Client().get(url)
    etag, last_modified = first["ETag"], first["Last-Modified"]
    assert etag.startswith('"') and last_modified.endswith("GMT")
    again = Client().get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again["ETag"] == etag
    assert not again.content
    assert Client().get(url, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304
    assert Client().get(url, HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_the_etag_changes_when_what_the_detail_shows_changes(published):
    url = f"{LIST}{published.reply.pk}/"
    etag = Client().get(url)["ETag"]
    # As the admin saves a unit: the save drops the cached answers (publication.cache).
    unit = Unit.objects.get(pk=published.reply.unit_id)
    unit.organ_name = "上海市长宁区发展改革委"
    unit.save()
    assert Client().get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_the_pdf_is_the_stored_signed_file_with_etag_and_a_chinese_filename(published):
    reply = published.reply
    response = Client().get(f"{LIST}{reply.pk}/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    body = b"".join(response.streaming_content)
    with reply.pdf.open("rb") as stored:
        assert body == stored.read()
    assert response["ETag"] == f'"{reply.pdf_sha256}"'
    disposition = response["Content-Disposition"]
    assert disposition.startswith('inline; filename="reply-')
    assert f"filename*=UTF-8''{quote(reply.doc_number + '.pdf', safe='')}" in disposition
    assert response["Cache-Control"] == "public, max-age=86400"
    again = Client().get(f"{LIST}{reply.pk}/pdf", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_a_published_reply_whose_pdf_is_not_stored_yet_has_no_pdf_url(h, session, p1, monkeypatch):
    # 送达 renders a missing PDF itself: sent without that, as an imported reply still rendering
    # (a stored PDF cannot be dropped afterwards: the database writes it once).
    with monkeypatch.context() as patch:
        patch.setattr(rwf_replies, "_require_pdf", lambda reply: None)
        done = s.handled(h, session=session, lead=p1.proposer, store_pdf=False)
    row = Client().get(f"{LIST}{done.reply.pk}/").json()
    assert row["pdf_url"] is None
    response = Client().get(f"{LIST}{done.reply.pk}/pdf")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "make",
    ["draft", "on_request", "not_public", "sent_not_published"],
)
def test_an_unpublished_reply_is_404_everywhere_and_never_listed(make, h, session, p1):
    if make == "draft":
        done = s.handled(h, session=session, lead=p1.proposer, publish=False)
        reply = s.draft_reply_with_canary(h, done.lead)
    elif make in ("on_request", "not_public"):
        disclosure = {"on_request": Disclosure.ON_REQUEST, "not_public": Disclosure.NOT_PUBLIC}
        reply = s.handled(h, session=session, lead=p1.proposer, disclosure=disclosure[make]).reply
    elif make == "sent_not_published":
        reply = s.handled(h, session=session, lead=p1.proposer, publish=False).reply
    else:
        reply = s.handled(h, session=session, lead=p1.proposer, publish=False).reply
    assert reply.pk not in ids(Client().get(LIST))
    for url in (f"{LIST}{reply.pk}/", f"{LIST}{reply.pk}/pdf"):
        response = Client().get(url)
        assert response.status_code == 404
        assert response.json() == {"code": "not_found", "message": "未找到。", "fields": {}}
    assert "no-store" in Client().get(f"{LIST}{reply.pk}/")["Cache-Control"]


def test_a_corrected_reply_leaves_the_list_and_answers_410_naming_its_correction(h, session, p1):
    """Issue 22: a mirror learns what replaced the letter it holds (the list's tombstones are
    publication/tests' subject)."""
    reply = s.handled(h, session=session, lead=p1.proposer).reply
    correction = rwf.supersede_reply(reply, actor=h.clerk, reason="文号有误")
    rwf.submit_reply(correction, actor=h.clerk)
    rwf.sign_reply(correction, actor=h.signer)
    rwf.send_reply(correction, actor=h.clerk)
    assert reply.pk not in ids(Client().get(LIST))
    response = Client().get(f"{LIST}{reply.pk}/")
    assert response.status_code == 410
    body = response.json()
    assert (body["code"], body["fields"]) == ("gone", {})
    assert body["superseded_by"].endswith(f"{LIST}{correction.pk}/")
    assert Client().get(f"{LIST}{reply.pk}/pdf").status_code in (404, 410)


def test_an_id_that_is_not_a_number_is_a_json_404(published):
    for url in (f"{LIST}abc/", f"{LIST}abc/pdf", f"{LIST}99999999999999999999/", "/api/v1/x"):
        response = Client().get(url)
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found"


@pytest.fixture
def many(session, p1):
    """Published replies of two units, two sessions, two years and four result classes."""
    unit_a = f.UnitFactory(
        name="长宁区教育局", short_name="区教育局", organ_name="上海市长宁区教育局"
    )
    unit_b = f.UnitFactory(
        name="长宁区民政局", short_name="区民政局", organ_name="上海市长宁区民政局"
    )
    other = f.SessionFactory(term=15, meeting=3, name="十五届三次会议", year=2025)
    first = s.bulk_published(
        8, session=session, units=[unit_a, unit_b], lead=p1.proposer, published_on=D(2024, 5, 10)
    )
    second = s.bulk_published(
        4,
        session=other,
        units=[unit_b],
        lead=p1.proposer,
        published_on=D(2025, 6, 2),
        start_serial=2000,
    )
    return {"a": unit_a, "b": unit_b, "session": session, "other": other, "replies": first + second}


def test_the_list_filters_by_session_unit_class_year_and_text(many):
    replies = many["replies"]

    def expect(query, chosen):
        assert sorted(ids(Client().get(LIST, query))) == sorted(r.pk for r in chosen), query

    expect({"session": many["other"].pk}, replies[8:])
    expect({"unit": many["a"].pk}, [r for r in replies if r.unit_id == many["a"].pk])
    expect({"result_class": "C"}, [r for r in replies if r.result_class == "C"])
    expect({"year": 2025}, replies[8:])
    expect({"year": 2025, "unit": many["a"].pk}, [])
    expect({"q": "教育局"}, [r for r in replies if r.unit_id == many["a"].pk])
    expect({"q": replies[3].proposal.number}, [replies[3]])
    expect({"q": "1005"}, [replies[5]])
    expect({"q": "不存在的标题"}, [])


def test_updated_since_lists_what_changed_after_a_moment(many):
    replies = many["replies"]
    moment = timezone.now()
    Reply.objects.filter(pk=replies[2].pk).update(updated_at=moment + datetime.timedelta(hours=1))
    since = (moment + datetime.timedelta(minutes=1)).isoformat()
    assert ids(Client().get(LIST, {"updated_since": since})) == [replies[2].pk]


@pytest.mark.parametrize("ordering", ["-published_on", "published_on", "-signed_on", "signed_on"])
def test_cursor_pages_cover_every_reply_once_in_order(many, ordering):
    field = ordering.lstrip("-")
    seen, url = [], f"{LIST}?ordering={ordering}&page_size=5"
    while url:
        data = Client().get(url).json()
        seen += data["results"]
        url = data["next"]
    assert len(seen) == len(many["replies"])
    assert len({row["id"] for row in seen}) == len(seen)
    values = [row[field] for row in seen]
    assert values == sorted(values, reverse=ordering.startswith("-"))
    back = Client().get(data["previous"]).json() if data["previous"] else None
    assert back is None or back["results"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"session": "abc"}, "session"),
        ({"session": ""}, "session"),
        ({"unit": "-1"}, "unit"),
        ({"result_class": "E"}, "result_class"),
        ({"year": "99999"}, "year"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"ordering": "title"}, "ordering"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "1000"}, "page_size"),
        ({"cursor": "abc"}, "cursor"),
        ({"q": "x" * 101}, "q"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it_in_chinese(many, query, field):
    response = Client().get(LIST, query)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["fields"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])


def test_a_forged_cursor_position_is_a_400_not_a_crash(many):
    import base64

    forged = base64.b64encode(b"o=0&r=0&p=not-a-date").decode()
    response = Client().get(LIST, {"cursor": forged})
    assert response.status_code == 400
    assert "cursor" in response.json()["fields"]


def test_the_list_takes_the_same_number_of_queries_for_10_and_100_replies(session, p1):
    units = [f.UnitFactory() for _ in range(5)]
    s.bulk_published(10, session=session, units=units, lead=p1.proposer)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = Client().get(LIST, {"page_size": 100})
        assert response.status_code == 200
        return len(response.json()["results"]), len(ctx.captured_queries)

    ten = queries()
    s.bulk_published(90, session=session, units=units, lead=p1.proposer, start_serial=5000)
    hundred = queries()
    assert (ten[0], hundred[0]) == (10, 100)
    assert ten[1] == hundred[1] <= 2


def test_sessions_and_units_show_public_fields_only(h, session):
    sessions = Client().get("/api/v1/sessions/").json()
    assert sessions == [
        {
            "id": session.pk,
            "district": "长宁",
            "term": 15,
            "meeting": 2,
            "name": "十五届二次会议",
            "year": 2024,
            "opens_on": None,
            "closes_on": None,
        }
    ]
    units = Client().get("/api/v1/units/").json()
    assert {u["name"] for u in units} == {"长宁区发展和改革委员会", "长宁区商务委员会"}
    assert set(units[0]) == {"id", "name", "short_name", "organ_name", "is_active"}


def test_statistics_are_the_statistics_module_s_figures(published, session):
    from tracker import statistics

    data = Client().get("/api/v1/statistics/", {"session": session.pk}).json()
    expected = statistics.compute(session=session.pk).total
    assert data["total"]["assigned"] == expected.assigned == 1
    assert data["total"]["replied"] == expected.replied
    assert data["total"]["reply_rate"] == expected.reply_rate
    assert data["total"]["results"] == {"A": 1, "B": 0, "C": 0, "D": 0}
    by_unit = Client().get("/api/v1/statistics/", {"group_by": "unit"}).json()
    assert by_unit["level"] == "assignment"
    assert {row["label"] for row in by_unit["rows"]} == {"区发改委", "区商务委"}
    bad = Client().get("/api/v1/statistics/", {"date_from": "2024-05-01", "date_to": "2024-04-01"})
    assert bad.status_code == 400
    assert "date_to" in bad.json()["fields"]


def test_writes_to_the_public_api_are_refused_as_json(published):
    response = Client().post(LIST, {}, content_type="application/json")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert Client().delete(f"{LIST}{published.reply.pk}/").status_code == 405


def test_anonymous_clients_are_throttled_per_address(published, settings):
    from django.core.cache import cache

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/min"},
    }
    address = f"198.51.100.{timezone.now().microsecond % 250 + 1}"
    cache.delete(f"throttle_anon_{address}")
    client = Client(REMOTE_ADDR=address)
    statuses = [client.get(LIST).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get(LIST)
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) > 0
    # Forging X-Forwarded-For does not reset the count (TRUSTED_PROXIES is unset).
    assert client.get(LIST, HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 429
    assert Client(REMOTE_ADDR="192.0.2.77").get(LIST).status_code == 200
    cache.delete(f"throttle_anon_{address}")
    cache.delete("throttle_anon_192.0.2.77")


def test_the_next_link_keeps_the_filters(many):
    data = Client().get(LIST, {"session": many["session"].pk, "page_size": 3}).json()
    query = parse_qs(urlparse(data["next"]).query)
    assert query["session"] == [str(many["session"].pk)]
    assert "cursor" in query
