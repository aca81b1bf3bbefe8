"""The public pages and the API as the portal sees them: filters, search, metadata, conditional
GET from the cache, a publication visible at once, corrections as 410 and tombstones, the feed,
the sitemap — and a portal mirror kept right with ``updated_since``."""

from __future__ import annotations

import datetime
import time
import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from django.utils import timezone

from proposals.models import Membership
from publication.tests.conftest import publish
from replies import workflow as rwf
from replies.models import Reply
from replies.tests.factories import stand_in_renderer, unit_staff

pytestmark = pytest.mark.django_db
API = "/api/v1/replies/"


@pytest.fixture(autouse=True)
def _unthrottled(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}


def correct(old: Reply, body: str, *, publish_it: bool = True) -> Reply:
    clerk = unit_staff(old.unit, Membership.Role.CLERK)
    new = rwf.supersede_reply(old, actor=clerk, reason="数字有误")
    new = rwf.edit_reply(new, actor=clerk, version=new.version, body=body)
    rwf.submit_reply(new, actor=clerk)
    rwf.sign_reply(new, actor=unit_staff(old.unit, Membership.Role.SIGNER))
    with stand_in_renderer():
        rwf.store_signed_pdf("reply", new.pk)
    rwf.send_reply(new, actor=clerk)
    if publish_it:
        rwf.publish_reply(new, actor=clerk)
    return Reply.objects.get(pk=new.pk)


def test_the_list_filters_searches_and_highlights(library):
    page = Client().get("/public/", {"q": "加装电梯"}).content.decode()
    assert "共 1 件" in page
    assert "<mark>加装电梯</mark>" in page
    unit = library["parking"].unit
    page = Client().get("/public/", {"unit": unit.pk}).content.decode()
    assert "共 1 件" in page and f"/public/replies/{library['parking'].pk}/" in page
    page = Client().get("/public/", {"year": 2023, "result": "D"}).content.decode()
    assert "共 1 件" in page and f"/public/replies/{library['business'].pk}/" in page
    page = Client().get("/public/", {"session": library["lift"].proposal.session_id})
    assert "共 5 件" in page.content.decode()


def test_the_reply_page_shows_the_metadata_text_and_pdf_link(library):
    reply = library["lift"]
    response = Client().get(f"/public/replies/{reply.pk}/")
    page = response.content.decode()
    for label in ("索引号", "发布机构", "文号", "成文日期", "公开日期", "主题分类", "公开方式"):
        assert f"<dt>{label}</dt>" in page
    assert reply.doc_number in page and "主动公开" in page
    assert "<h3>一、总体情况</h3>" in page
    assert f"/public/replies/{reply.pk}.pdf" in page
    pdf = Client().get(f"/public/replies/{reply.pk}.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["ETag"] == f'"{reply.pdf_sha256}"'


def test_pages_answer_304_to_a_current_copy_and_tell_a_proxy_how_long_to_keep_them(library):
    first = Client().get("/public/")
    assert first["Cache-Control"] == "public, max-age=1"
    assert first["ETag"] and first["Last-Modified"]
    again = Client().get("/public/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    detail = Client().get(f"{API}{library['lift'].pk}/")
    assert (
        Client().get(f"{API}{library['lift'].pk}/", HTTP_IF_NONE_MATCH=detail["ETag"]).status_code
        == 304
    )


def test_a_publication_is_visible_at_once_though_the_list_was_cached(db, session):
    publish("lift", session)
    etag = Client().get("/public/")["ETag"]
    assert "共 1 件" in Client().get("/public/").content.decode()
    api_before = Client().get(API).json()["results"]
    started = time.monotonic()
    publish("rental", session)
    page = Client().get("/public/", HTTP_IF_NONE_MATCH=etag)
    assert page.status_code == 200 and "共 2 件" in page.content.decode()
    assert len(Client().get(API).json()["results"]) == len(api_before) + 1
    assert time.monotonic() - started < 5  # publishing included; visibility itself is immediate


def test_a_corrected_reply_answers_410_with_a_link_and_comes_back_as_a_tombstone(library):
    old = library["rental"]
    new = correct(old, "一、公租房供应\n今年新增公租房900套。")
    page = Client().get(f"/public/replies/{old.pk}/")
    assert page.status_code == 410
    assert f"/public/replies/{new.pk}/" in page.content.decode()
    assert Client().get(f"/public/replies/{old.pk}.pdf").status_code == 410
    api = Client().get(f"{API}{old.pk}/")
    assert api.status_code == 410
    assert api.json()["superseded_by"].endswith(f"{API}{new.pk}/")
    rows = {r["id"]: r for r in Client().get(API).json()["results"]}
    assert old.pk not in rows and rows[new.pk]["supersedes"] == old.pk
    rows = {r["id"]: r for r in Client().get(API, {"include": "withdrawn"}).json()["results"]}
    assert rows[old.pk]["withdrawn"] is True
    assert rows[old.pk]["superseded_by"]["id"] == new.pk
    assert rows[old.pk]["superseded_by"]["withdrawn_on"] == timezone.localdate().isoformat()
    assert rows[new.pk]["withdrawn"] is False and rows[new.pk]["superseded_by"] is None


def test_the_feed_carries_corrections_as_entries_and_the_sitemap_lists_public_replies(library):
    old = library["rental"]
    new = correct(old, "一、公租房供应\n今年新增公租房900套。")
    feed = ET.fromstring(Client().get("/public/feed.atom").content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.findtext("a:title", namespaces=ns) for e in feed.findall("a:entry", ns)]
    assert len(titles) == 5
    assert any(t.startswith("【更正】") and old.doc_number in t for t in titles)
    sitemap = Client().get("/sitemap.xml").content.decode()
    assert f"/public/replies/{new.pk}/" in sitemap
    assert f"/public/replies/{old.pk}/" not in sitemap


def test_the_public_api_searches_with_q(library):
    rows = Client().get(API, {"q": "公租房"}).json()["results"]
    assert [r["id"] for r in rows] == [library["rental"].pk]


def test_a_portal_mirror_follows_a_correction_without_downloading_everything_again(library):
    def sync(mirror: dict, since: str | None) -> int:
        params = {"include": "withdrawn", **({"updated_since": since} if since else {})}
        url, fetched = API, 0
        while url:
            data = Client().get(url, params if url == API else None).json()
            for row in data["results"]:
                fetched += 1
                if row["withdrawn"]:
                    mirror.pop(row["id"], None)
                else:
                    mirror[row["id"]] = row
                    if row["supersedes"]:
                        mirror.pop(row["supersedes"], None)
            url = data["next"]
        return fetched

    mirror: dict[int, dict] = {}
    assert sync(mirror, None) == 5
    synced_at = (timezone.now() - datetime.timedelta(seconds=1)).isoformat()
    time.sleep(0.01)
    old = library["rental"]
    new = correct(old, "一、公租房供应\n今年新增公租房900套。")
    fetched = sync(mirror, synced_at)
    assert fetched == 2  # the correction and the tombstone, nothing else
    assert set(mirror) == {r.pk for k, r in library.items() if k != "rental"} | {new.pk}


def test_renaming_a_unit_makes_the_cached_pages_and_api_fresh(library):
    reply = library["lift"]
    page_etag = Client().get(f"/public/replies/{reply.pk}/")["ETag"]
    api_etag = Client().get(f"{API}{reply.pk}/")["ETag"]
    unit = reply.unit
    unit.organ_name = "上海市长宁区住房管理局"
    unit.save()
    page = Client().get(f"/public/replies/{reply.pk}/", HTTP_IF_NONE_MATCH=page_etag)
    assert page.status_code == 200 and "上海市长宁区住房管理局" in page.content.decode()
    api = Client().get(f"{API}{reply.pk}/", HTTP_IF_NONE_MATCH=api_etag)
    assert api.status_code == 200 and api.json()["organ"] == "上海市长宁区住房管理局"
