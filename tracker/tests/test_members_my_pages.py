"""/my/ details of issue 21, part 4: 新建提案 offers only the sessions open for submission in
the member's district; the header's links are tap targets of 44 px; feedback is coloured by
its meaning; and a member chooses how to be told."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from proposals.tests import factories as f
from tracker.models import MemberPreference, SessionRoll
from tracker.my.forms import offered_sessions
from tracker.tests.my_support import member

pytestmark = pytest.mark.django_db
D = datetime.date


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_new_proposal_offers_only_open_sessions_of_the_members_district(monkeypatch):
    monkeypatch.setattr("tracker.my.forms.today", lambda: D(2026, 12, 7))
    changning_past = f.SessionFactory(district="长宁", term=15, meeting=1, year=2025)
    changning_now = f.SessionFactory(
        district="长宁",
        term=15,
        meeting=2,
        year=2026,
        submissions_open_from=D(2026, 11, 1),
        submissions_open_until=D(2027, 1, 31),
    )
    changning_closed = f.SessionFactory(
        district="长宁",
        term=15,
        meeting=3,
        year=2027,
        submissions_open_from=D(2027, 2, 1),
        submissions_open_until=D(2027, 3, 31),
    )
    putuo_now = f.SessionFactory(
        district="普陀", term=15, meeting=2, year=2026, submissions_open_from=D(2026, 11, 1)
    )
    user = member("m1", "张文浩")
    SessionRoll.objects.create(session=changning_past, proposer=user.proposer)

    offered = list(offered_sessions(user.proposer))
    assert offered == [changning_now]
    assert changning_closed not in offered and putuo_now not in offered
    # On the page: the open session only.
    page = client_for(user).get("/my/proposals/new/").content.decode()
    options = re.findall(r'<option value="(\d+)"', page)
    assert options == [str(changning_now.pk)]


def test_without_a_window_only_the_newest_session_of_a_district_is_offered():
    old = f.SessionFactory(district="长宁", term=14, meeting=5, year=2022)
    new = f.SessionFactory(district="长宁", term=15, meeting=1, year=2023)
    ended = f.SessionFactory(
        district="普陀", term=15, meeting=1, year=2023, closes_on=D(2023, 1, 9)
    )
    user = member("m2", "林静")
    offered = list(offered_sessions(user.proposer, day=D(2026, 12, 7)))
    assert offered == [new]
    assert old not in offered and ended not in offered


def test_with_no_session_open_the_member_is_told_so():
    f.SessionFactory(
        district="长宁", term=15, meeting=5, year=2026, submissions_open_until=D(2020, 1, 1)
    )
    user = member("m5", "陈铸")
    page = client_for(user).get("/my/proposals/new/").content.decode()
    assert "目前没有正在征集提案的会议，暂不能新建提案。" in page


def test_posting_a_session_that_is_not_offered_is_refused():
    closed = f.SessionFactory(
        district="长宁", term=15, meeting=4, year=2026, submissions_open_until=D(2020, 1, 1)
    )
    user = member("m3", "瞿子涵")
    response = client_for(user).post(
        "/my/proposals/new/",
        {
            "session": closed.pk,
            "title": "关于X的建议",
            "category": "society",
            "analysis": "a",
            "suggestions": "b",
        },
    )
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode()


def test_the_header_links_are_tap_targets_of_44_px():
    css = (Path(settings.BASE_DIR) / "tracker/static/my/my.css").read_text()
    nav_link = re.search(r"\.nav a \{([^}]*)\}", css).group(1)
    button = re.search(r"\.linkish \{([^}]*)\}", css).group(1)
    for rule in (nav_link, button):
        assert "min-height: 44px" in rule and "min-width: 44px" in rule


def test_not_satisfied_is_never_shown_in_the_colour_of_success():
    css = (Path(settings.BASE_DIR) / "tracker/static/my/my.css").read_text()
    assert re.search(r"\.fb-not_satisfied \{\s*color: var\(--err\);", css)
    assert re.search(r"\.fb-satisfied \{\s*color: var\(--ok\);", css)


def test_a_member_chooses_how_to_be_told():
    user = member("m4", "沈汕")
    c = client_for(user)
    page = c.get("/my/notifications/").content.decode()
    assert "电子邮件和短信" in page and "不接收通知" in page
    assert c.post("/my/notifications/", {"channels": "sms"}).status_code == 302
    assert MemberPreference.objects.get(proposer=user.proposer).channels == "sms"
    c.post("/my/notifications/", {"channels": "none"})
    assert MemberPreference.objects.get(proposer=user.proposer).channels == "none"
    assert MemberPreference.objects.count() == 1
