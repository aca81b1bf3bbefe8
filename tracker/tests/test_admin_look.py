"""The admin's look and language: one theme on every page, Chinese in the widgets too, nothing
fetched from outside."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tracker.tests import admin_data as d

pytestmark = pytest.mark.django_db

EXTERNAL = re.compile(r'(?:src|href)="(?:https?:)?//', re.I)


def test_the_js_catalogue_translates_the_unit_picker(client, committee):
    client.force_login(committee)
    catalogue = client.get(reverse("admin:jsi18n")).content.decode()
    for text in ("全选%s", "全部移除%s", "在左侧选中%s，再点击“选择”箭头。", "今天"):
        assert text in catalogue or text.encode("unicode_escape").decode() in catalogue


def test_pages_use_the_theme_load_nothing_from_outside_and_speak_chinese(
    client, committee, clerk_a, session, unit_a
):
    assignment = d.assign(d.filed_proposal(session), unit_a)
    reply = d.reply(assignment)
    pages = {
        committee: [
            reverse("admin:index"),
            reverse("tracker_admin:statistics"),
            reverse("tracker_admin:import"),
            reverse("admin:proposals_proposal_changelist"),
            reverse("admin:proposals_proposal_verb", args=[assignment.proposal_id, "assign"]),
        ],
        clerk_a: [
            reverse("admin:index"),
            reverse("admin:proposals_assignment_change", args=[assignment.pk]),
            reverse("admin:replies_reply_change", args=[reply.pk]),
        ],
    }
    for user, urls in pages.items():
        client.force_login(user)
        for url in urls:
            html = client.get(url).content.decode()
            assert 'lang="zh-hans"' in html, url
            assert "/static/tracker_admin/admin.css" in html, url
            assert not EXTERNAL.search(html), url
    client.force_login(committee)
    for url in (reverse("tracker_admin:statistics"), pages[committee][-1]):
        assert reverse("admin:jsi18n") in client.get(url).content.decode(), url


def test_the_top_navigation_offers_each_person_their_lists(client, committee, clerk_a):
    stats = reverse("tracker_admin:statistics")
    client.force_login(clerk_a)
    html = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:proposals_assignment_changelist") in html and stats not in html
    assert reverse("admin:proposals_user_changelist") not in html
    client.force_login(committee)
    assert stats in client.get(reverse("admin:index")).content.decode()
