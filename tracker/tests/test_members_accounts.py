"""Accounts for members, in bulk (issue 21, part 1): a session's list of 委员 from Excel, one
account and one invitation e-mail each (none on a second run), a one-time link that sets a
password and expires, groups reached through their conveners, 届满 deactivation that keeps
history, and the sign-in link that really sends for any member with a registered address."""

from __future__ import annotations

import io
import re
import time
import uuid

import pytest
import time_machine
from django.contrib.auth.backends import ModelBackend
from django.core import mail
from django.test import Client, TestCase
from django.utils import timezone
from openpyxl import Workbook

from proposals import workflow as pwf
from proposals.models import Proposal, Proposer, Transition, User
from proposals.tests import factories as f
from proposals.workflow import members as accounts
from tracker.members import invitations, roster
from tracker.models import Invitation, LoginLinkMail, SessionRoll

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-members-{uuid.uuid4().hex}",
        }
    }


def roster_file(rows: list[tuple[str, str, str, str]]) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "界别", "手机", "电子邮箱"])
    for row in rows:
        sheet.append(list(row))
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    return data


def three_hundred() -> list[tuple[str, str, str, str]]:
    return [
        (f"委员{i:03d}", "经济界", f"1390000{i:04d}", f"member{i:03d}@example.org")
        for i in range(300)
    ]


def invite_all(proposers, actor):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return invitations.invite_members(proposers, actor=actor)


def link_in(message) -> str:
    (path,) = re.findall(r"https?://[^/\s]+(/my/invitation/[^\s]+/)", message.body)
    return path


def test_three_hundred_members_from_excel_get_one_account_and_one_invitation_each(
    session, committee, eager_tasks, mailoutbox
):
    rows, errors = roster.read_roster(roster_file(three_hundred()))
    assert errors == [] and len(rows) == 300
    result = roster.import_roster(rows, session=session)
    assert result.ok and result.created == 300

    report = invite_all(result.proposers, committee)

    assert report.accounts_created == 300 and len(report.invited) == 300
    assert User.objects.filter(proposer__isnull=False).count() == 300
    assert len(mailoutbox) == 300
    assert len({m.to[0] for m in mailoutbox}) == 300
    assert Invitation.objects.filter(state="sent").count() == 300
    assert Transition.objects.filter(verb="invite").count() == 300
    first = next(m for m in mailoutbox if m.to == ["member000@example.org"])
    assert first.subject == "开通“我的提案”账号：请设置密码"
    assert "委员000委员" in first.body and "登录名：member000@example.org" in first.body

    # The same list again, imported and invited: nothing new, nothing sent.
    rows, _errors = roster.read_roster(roster_file(three_hundred()))
    again = roster.import_roster(rows, session=session)
    second = invite_all(again.proposers, committee)
    assert again.created == 0 and second.accounts_created == 0 and second.invited == []
    assert second.already_invited == 300
    assert len(mailoutbox) == 300
    assert Proposer.objects.count() == 300 and SessionRoll.objects.count() == 300


def test_a_list_with_one_bad_row_imports_nobody(session):
    rows, _ = roster.read_roster(
        roster_file([("张三", "经济界", "13900000001", "a@example.org"), ("", "", "123", "x@")])
    )
    result = roster.import_roster(rows, session=session)
    assert not result.ok
    assert "第3行：请填写姓名。" in result.errors
    assert "第3行：手机号码应为11位数字。" in result.errors
    assert "第3行：电子邮箱格式不正确。" in result.errors
    assert Proposer.objects.count() == 0 and SessionRoll.objects.count() == 0


def test_an_existing_member_is_completed_not_duplicated(session):
    known = f.ProposerFactory(name="张文浩", mobile="13900000001", email="")
    row = ("张文浩", "经济界", "13900000001", "z@example.org")
    rows, _ = roster.read_roster(roster_file([row]))
    result = roster.import_roster(rows, session=session)
    known.refresh_from_db()
    assert result.created == 0 and result.proposers == [known]
    assert known.email == "z@example.org"


def test_an_invitation_link_sets_a_password_once(committee, eager_tasks, mailoutbox):
    p = f.ProposerFactory(name="钱建峰", email="qian@example.org", user=None)
    invite_all([p], committee)
    path = link_in(mailoutbox[0])
    c = Client()
    opened = c.get(path)
    assert opened.status_code == 302 and "set-password" in opened["Location"]
    assert path.split("/")[-2] not in opened["Location"], "the token leaves the address bar"
    page = c.get(opened["Location"])
    assert page.status_code == 200 and "设置密码" in page.content.decode()
    done = c.post(
        opened["Location"], {"new_password1": "Lu-Jia-Zui-88", "new_password2": "Lu-Jia-Zui-88"}
    )
    assert done.status_code == 302 and done["Location"] == "/my/"
    assert c.get("/my/").status_code == 200

    user = User.objects.get(proposer=p)
    assert user.check_password("Lu-Jia-Zui-88")
    assert Invitation.objects.get(user=user).accepted_at is not None
    assert Transition.objects.filter(verb="accept_invitation", actor=user).count() == 1
    # Spent: the same link again shows that it no longer works.
    again = Client().get(path)
    assert again.status_code == 400 and "链接已失效" in again.content.decode()


def test_an_invitation_link_expires(committee, eager_tasks, mailoutbox, settings):
    settings.MEMBER_INVITATION_MAX_AGE = 3600
    p = f.ProposerFactory(name="施美芳", email="shi@example.org", user=None)
    invite_all([p], committee)
    path = link_in(mailoutbox[0])
    with time_machine.travel(time.time() + 2 * 3600):
        late = Client().get(path)
    assert late.status_code == 400
    assert Client().get(path).status_code == 302, "within the hour it still works"


def test_a_forged_or_foreign_token_is_refused(committee, eager_tasks, mailoutbox):
    a = f.ProposerFactory(name="甲", email="a@example.org", user=None)
    b = f.ProposerFactory(name="乙", email="b@example.org", user=None)
    invite_all([a, b], committee)
    path_a = link_in(next(m for m in mailoutbox if m.to == ["a@example.org"]))
    path_b = link_in(next(m for m in mailoutbox if m.to == ["b@example.org"]))
    uid_a, token_b = path_a.split("/")[3], path_b.split("/")[4]
    assert Client().get(f"/my/invitation/{uid_a}/{token_b}/").status_code == 400
    assert Client().get(f"/my/invitation/{uid_a}/set-password/").status_code == 400


def test_a_group_is_reached_through_its_conveners(committee, eager_tasks, mailoutbox):
    c1 = f.ProposerFactory(name="召集人甲", email="c1@example.org", user=None)
    c2 = f.ProposerFactory(name="召集人乙", email="c2@example.org", user=None)
    group = f.ProposerFactory(
        name="民建界别组", kind=Proposer.Kind.SECTOR_GROUP, email="g@example.org", user=None
    )
    group.conveners.set([c1, c2])
    invite_all([group], committee)
    assert sorted(m.to[0] for m in mailoutbox) == ["c1@example.org", "c2@example.org"]
    group.refresh_from_db()
    assert group.user_id is None


def test_a_member_without_an_address_is_named_not_invited(committee, eager_tasks, mailoutbox):
    p = f.ProposerFactory(name="林静", email="", user=None)
    report = invite_all([p], committee)
    assert report.without_email == ["林静"] and mailoutbox == []


def test_a_member_who_leaves_keeps_their_history_and_can_come_back(
    session, committee, eager_tasks, mailoutbox
):
    p = f.ProposerFactory(name="瞿子涵", email="qu@example.org", user=None)
    invite_all([p], committee)
    p.refresh_from_db()
    proposal = f.ProposalFactory(session=session, lead_proposer=p, title="关于养老的建议")
    pwf.file_proposal(proposal, actor=committee)

    assert accounts.deactivate_member(p, actor=committee, note="届满")
    assert not accounts.deactivate_member(p, actor=committee), "a second time writes nothing"
    p.refresh_from_db()
    assert not p.is_active and not p.user.is_active
    assert Proposal.objects.filter(lead_proposer=p).count() == 1
    assert Transition.objects.filter(verb="deactivate_member", actor=committee).count() == 1
    assert not ModelBackend().user_can_authenticate(p.user)

    assert accounts.reactivate_member(p, actor=committee)
    p.refresh_from_db()
    assert p.is_active and p.user.is_active
    assert Transition.objects.filter(verb="reactivate_member").count() == 1


def test_inviting_again_sends_only_when_asked_and_never_after_the_password_is_set(
    committee, eager_tasks, mailoutbox
):
    p = f.ProposerFactory(name="沈汕", email="shen@example.org", user=None)
    invite_all([p], committee)
    p.refresh_from_db()
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert invitations.reinvite_member(p, actor=committee).generation == 2
    assert len(mailoutbox) == 2
    invitations.accept_invitation(p.user, password="Xin-Mi-Ma-2026")
    assert invitations.reinvite_member(p, actor=committee) is None


# --- The sign-in link, for any member with a registered address -------------------------------


def ask(email: str, ip: str):
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = Client(REMOTE_ADDR=ip).post("/my/login/link/", {"email": email})
    return response.status_code, response["Location"]


def test_the_sign_in_link_is_delivered_to_a_member_never_invited(eager_tasks, mailoutbox):
    """The probe: a member registered with an address but without an account asked for a link
    and was told it was sent, but nothing was (only accounts were looked up)."""
    p = f.ProposerFactory(name="施彧", email="shiyu@example.org", user=None)
    unknown = ask("nobody@example.org", "198.51.100.8")
    known = ask("ShiYu@example.org", "198.51.100.9")
    assert known == unknown == (302, "/my/login/link/sent/")
    assert [m.to for m in mailoutbox] == [["shiyu@example.org"]]
    row = LoginLinkMail.objects.get()
    assert row.state == "sent" and row.email == "shiyu@example.org"
    (path,) = re.findall(r"https?://[^/\s]+(/my/login/link/[^\s]+/)", mail.outbox[0].body)
    c = Client()
    assert c.post(path).status_code == 302 and c.get("/my/").status_code == 200
    p.refresh_from_db()
    assert p.user is not None and Transition.objects.filter(verb="open_account").count() == 1
    assert Client().post(path).status_code == 400, "the link works once"


# --- The committee's pages ----------------------------------------------------------------------


def test_the_committee_imports_a_list_and_invites_from_the_admin(
    session, committee, eager_tasks, mailoutbox, django_capture_on_commit_callbacks
):
    c = Client()
    c.force_login(committee)
    upload = roster_file(three_hundred()[:3])
    upload.name = "委员名单.xlsx"
    with django_capture_on_commit_callbacks(execute=True):
        done = c.post(
            "/admin/tracker/member/import/",
            {"session": session.pk, "file": upload, "invite": "on"},
            follow=True,
        )
    assert "已导入 3 名委员（新建 3 名）。发送邀请 3 封。" in done.content.decode()
    assert len(mailoutbox) == 3
    listing = c.get("/admin/tracker/member/").content.decode()
    assert "委员001" in listing and "导入委员名单" in listing


def test_a_unit_clerk_sees_no_member_accounts(clerk_a, session):
    c = Client()
    c.force_login(clerk_a)
    assert c.get("/admin/tracker/member/").status_code in (302, 403)
    assert c.get("/admin/tracker/member/import/").status_code == 302


def test_the_member_list_shows_each_invitation_in_a_fixed_number_of_queries(
    session, committee, eager_tasks, mailoutbox, django_assert_max_num_queries
):
    """The 邀请 column is read with the list (it was a query per row: 111 for 100 members)."""
    rows, _errors = roster.read_roster(roster_file(three_hundred()[:30]))
    members = roster.import_roster(rows, session=session).proposers
    invite_all(members[:20], committee)
    Invitation.objects.filter(proposer=members[0]).update(accepted_at=timezone.now())
    c = Client()
    c.force_login(committee)
    with django_assert_max_num_queries(15):
        listing = c.get("/admin/tracker/member/?o=1").content.decode()
    assert listing.count("已设置密码") == 1
    assert "—" in listing  # the ten never invited
