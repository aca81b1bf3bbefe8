"""Replies and co-handling opinions through the workflow: the happy path of seed 000 (one lead
unit, four co-handling units) and every refusal the rules name."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import serializers

from proposals import workflow as pwf
from proposals.models import Assignment, DueDate, Membership, Proposer, Transition
from proposals.tests import factories as f
from replies import workflow as rwf
from replies.models import CoOpinion, DocNumberCounter, Feedback, Reply
from replies.seeds import seed_text

pytestmark = pytest.mark.django_db
D = datetime.date


def staff(unit, role, name):
    user = f.UserFactory(username=name)
    f.MembershipFactory(user=user, unit=unit, role=role)
    return user


@pytest.fixture
def seed000(committee, session):
    """长宁区投促办 leads proposal 061; 区发改委、区商务委、区科委、区规资局 co-handle."""
    lead_unit = f.UnitFactory(
        name="长宁区投资促进办公室",
        short_name="区投促办",
        organ_name="上海市长宁区投资促进办公室",
        docno_prefix="长投促",
        address="长宁路599号",
        postcode="200050",
        contact_name="李明",
        contact_phone="22050000",
    )
    co_units = [
        f.UnitFactory(name=n, short_name=s)
        for n, s in [
            ("长宁区发展和改革委员会", "区发改委"),
            ("长宁区商务委员会", "区商务委"),
            ("长宁区科学技术委员会", "区科委"),
            ("长宁区规划和自然资源局", "区规资局"),
        ]
    ]
    members = [f.ProposerFactory(name=n) for n in ("沈汕", "施彧", "陈铸", "王五")]
    proposal = f.ProposalFactory(
        session=session, lead_proposer=members[0], title="关于新形势下开展科学招商、精准引资的建议"
    )
    for i, m in enumerate(members[1:], start=1):
        f.CoProposerFactory(proposal=proposal, proposer=m, position=i)
    session.last_serial = 60
    session.save()
    pwf.file_proposal(proposal, actor=committee)
    lead, *cos = pwf.assign_proposal(
        proposal,
        actor=committee,
        units=[(lead_unit, "lead"), *[(u, "co") for u in co_units]],
        assigned_on=D(2024, 3, 1),
    )
    for a in (lead, *cos):
        pwf.accept_assignment(a, actor=committee)
    proposal.refresh_from_db()
    return {
        "proposal": proposal,
        "lead": lead,
        "cos": cos,
        "clerk": staff(lead_unit, Membership.Role.CLERK, "tcb_clerk"),
        "signer": staff(lead_unit, Membership.Role.SIGNER, "tcb_signer"),
        "co_clerks": [staff(u, Membership.Role.CLERK, f"co{i}") for i, u in enumerate(co_units)],
        "co_signers": [
            staff(u, Membership.Role.SIGNER, f"cosign{i}") for i, u in enumerate(co_units)
        ],
        "members": members,
    }


def audit_verbs(obj):
    return list(
        Transition.objects.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
        ).values_list("verb", flat=True)
    )


def assert_refused(call, *objs, error=pwf.WorkflowError):
    def snap():
        rows = [serializers.serialize("json", type(o).objects.filter(pk=o.pk)) for o in objs]
        return rows, Transition.objects.count(), DocNumberCounter.objects.count()

    before = snap()
    with pytest.raises(error) as info:
        call()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in info.value.message)
    assert snap() == before
    return info.value


def deliver_all_opinions(s):
    for a, clerk, signer in zip(s["cos"], s["co_clerks"], s["co_signers"], strict=True):
        op = rwf.start_opinion(a, actor=clerk)
        op = rwf.edit_opinion(op, actor=clerk, version=op.version, body=op.body + "同意主办意见。")
        rwf.submit_opinion(op, actor=clerk)
        rwf.sign_opinion(op, actor=signer)
        rwf.deliver_opinion(op, actor=clerk)


def drafted(s, **fields):
    reply = rwf.start_reply(s["lead"], actor=s["clerk"])
    fields = {"result_label": "采纳", "body": reply.body + "一、腾笼换鸟\n具体措施。", **fields}
    return rwf.edit_reply(reply, actor=s["clerk"], version=reply.version, **fields)


def test_a_draft_starts_prefilled_from_the_proposal_and_the_unit(seed000):
    reply = rwf.start_reply(seed000["lead"], actor=seed000["clerk"])
    assert reply.title == "对区政协十五届二次会议第061号提案的答复"
    assert reply.salutation == "沈汕、施彧、陈铸等委员："
    assert reply.body.startswith(
        "沈汕、施彧、陈铸等委员提出的《关于新形势下开展科学招商、精准引资的建议》的提案收悉，"
        "经研究，现将办理情况答复如下："
    )
    assert (reply.contact_person, reply.contact_postcode) == ("李明", "200050")
    assert reply.state == "draft"
    assert audit_verbs(reply) == ["start"]


def test_the_cc_starts_with_the_co_handling_units_still_on_the_proposal(seed000, committee):
    reply = rwf.start_reply(seed000["lead"], actor=seed000["clerk"])
    assert reply.cc == (
        "上海市长宁区发展和改革委员会、上海市长宁区商务委员会、上海市长宁区科学技术委员会、"
        "上海市长宁区规划和自然资源局"
    )
    # The clerk may change it like any other field.
    edited = rwf.edit_reply(reply, actor=seed000["clerk"], version=reply.version, cc="区政协提案委")
    assert edited.cc == "区政协提案委"


def test_a_co_unit_that_left_the_proposal_is_not_copied(seed000, committee):
    leaving = seed000["cos"][1]
    pwf.request_reassignment(
        leaving, actor=seed000["co_clerks"][1], reason="职责不符", on=D(2024, 3, 2)
    )
    pwf.approve_reassignment(leaving, actor=committee)
    reply = rwf.start_reply(seed000["lead"], actor=seed000["clerk"])
    assert "商务委员会" not in reply.cc
    assert reply.cc.count("、") == 2


def test_a_reply_to_a_merged_proposal_speaks_to_every_proposer(seed000, committee, session):
    group = f.ProposerFactory(name="民建界别组", kind=Proposer.Kind.SECTOR_GROUP)
    by_group = f.ProposalFactory(session=session, lead_proposer=group, title="关于招商的建议")
    member = f.ProposerFactory(name="林静")
    by_member = f.ProposalFactory(session=session, lead_proposer=member, title="关于引资的建议")
    # A member who also co-signed the main proposal is named once.
    f.CoProposerFactory(proposal=by_member, proposer=seed000["members"][1], position=1)
    for merged in (by_group, by_member):
        pwf.merge_proposal(merged, into=seed000["proposal"], actor=committee)
    reply = rwf.start_reply(seed000["lead"], actor=seed000["clerk"])
    assert reply.salutation == "民建界别组、沈汕、施彧、陈铸等委员："
    assert "提案（与" in reply.body and "并案办理）收悉" in reply.body
    alone = f.ProposalFactory(session=session, lead_proposer=member)
    assert rwf.draft_texts(alone)["salutation"] == "林静委员："


@pytest.mark.parametrize(
    ("names_kinds", "expected"),
    [
        ([("张文浩", "member")], "张文浩委员"),
        ([("钱建峰", "member"), ("施美芳", "member")], "钱建峰、施美芳委员"),
        (
            [("张晓钟", "member"), ("林静", "member"), ("瞿子涵", "member")],
            "张晓钟、林静、瞿子涵委员",
        ),
        ([("民建界别组", "sector_group")], "民建界别组"),
        ([("农工党区委", "party")], "农工党区委"),
    ],
)
def test_salutations_follow_the_proposers(names_kinds, expected):
    proposers = [Proposer(name=n, kind=k) for n, k in names_kinds]
    assert rwf.addressee(proposers) == expected


def test_the_happy_path_of_seed_000(seed000, django_capture_on_commit_callbacks):
    s = seed000
    deliver_all_opinions(s)
    for a in s["cos"]:
        a.refresh_from_db()
        assert a.state == "opinion_sent"
        assert a.due(DueDate.Clock.CO_OPINION).completed_on is not None
    reply = drafted(s)
    rwf.submit_reply(reply, actor=s["clerk"])
    with django_capture_on_commit_callbacks() as callbacks:
        rwf.sign_reply(reply, actor=s["signer"])
    assert len(callbacks) == 1, "the PDF is rendered by a task enqueued on commit"
    reply.refresh_from_db()
    year = reply.signed_on.year
    assert reply.doc_number == f"长投促〔{year}〕1号"
    assert reply.signer == s["signer"]
    rwf.send_reply(reply, actor=s["clerk"])
    rwf.publish_reply(reply, actor=s["clerk"])
    reply.refresh_from_db()
    s["lead"].refresh_from_db()
    s["proposal"].refresh_from_db()
    assert (reply.state, s["lead"].state, s["proposal"].status) == (
        "published",
        "replied",
        "replied",
    )
    assert reply.published_on is not None
    assert Reply.objects.published().get() == reply
    assert audit_verbs(reply) == ["start", "edit", "submit", "sign", "send", "publish"]


def test_submitting_without_every_opinion_needs_a_recorded_reason(seed000):
    s = seed000
    reply = drafted(s)
    e = assert_refused(lambda: rwf.submit_reply(reply, actor=s["clerk"]), reply)
    assert "区发改委" in e.message and "区规资局" in e.message
    rwf.submit_reply(reply, actor=s["clerk"], override_reason="会办单位逾期未复，先行答复")
    reply.refresh_from_db()
    assert reply.state == "pending_signature"
    assert reply.opinion_override_reason == "会办单位逾期未复，先行答复"
    note = Transition.objects.filter(verb="submit", object_id=reply.pk).get().note
    assert "先行答复" in note


def test_an_incomplete_draft_cannot_be_submitted(seed000):
    s = seed000
    reply = rwf.start_reply(s["lead"], actor=s["clerk"])  # no result label yet
    assert_refused(lambda: rwf.submit_reply(reply, actor=s["clerk"], override_reason="x"), reply)


def pending(s):
    reply = drafted(s)
    rwf.submit_reply(reply, actor=s["clerk"], override_reason="先行答复")
    reply.refresh_from_db()
    return reply


def test_a_signer_of_another_unit_or_a_clerk_cannot_sign(seed000):
    s = seed000
    reply = pending(s)
    assert_refused(
        lambda: rwf.sign_reply(reply, actor=s["co_signers"][0]), reply, error=pwf.NotAllowed
    )
    assert_refused(lambda: rwf.sign_reply(reply, actor=s["clerk"]), reply, error=pwf.NotAllowed)


def test_signing_twice_is_refused_and_uses_one_number(seed000):
    s = seed000
    reply = pending(s)
    rwf.sign_reply(reply, actor=s["signer"])
    reply.refresh_from_db()
    assert_refused(lambda: rwf.sign_reply(reply, actor=s["signer"]), reply, error=pwf.WrongState)
    assert DocNumberCounter.objects.get(unit=reply.unit).last_number == 1


def test_the_signer_returns_a_draft_with_a_comment(seed000):
    s = seed000
    reply = pending(s)
    assert_refused(lambda: rwf.return_reply(reply, actor=s["signer"], comment=""), reply)
    rwf.return_reply(reply, actor=s["signer"], comment="请补充具体措施")
    reply.refresh_from_db()
    assert (reply.state, reply.return_comment) == ("draft", "请补充具体措施")


def signed(s, **fields):
    reply = drafted(s, **fields)
    rwf.submit_reply(reply, actor=s["clerk"], override_reason="先行答复")
    rwf.sign_reply(reply, actor=s["signer"])
    reply.refresh_from_db()
    return reply


def test_a_signed_reply_cannot_be_edited(seed000):
    s = seed000
    reply = signed(s)
    assert_refused(
        lambda: rwf.edit_reply(reply, actor=s["clerk"], version=reply.version, body="改"),
        reply,
        error=pwf.WrongState,
    )


@pytest.mark.parametrize("disclosure", ["on_request", "not_public"])
def test_only_public_replies_are_published(seed000, disclosure):
    s = seed000
    reply = signed(s, disclosure=disclosure)
    rwf.send_reply(reply, actor=s["clerk"])
    reply.refresh_from_db()
    assert_refused(lambda: rwf.publish_reply(reply, actor=s["clerk"]), reply, error=pwf.WrongState)
    assert not Reply.objects.published().exists()


def test_an_unsent_reply_cannot_be_published(seed000):
    s = seed000
    reply = signed(s)
    assert_refused(lambda: rwf.publish_reply(reply, actor=s["clerk"]), reply, error=pwf.WrongState)


def test_two_editors_of_one_draft_the_second_save_is_refused(seed000):
    s = seed000
    other = staff(s["lead"].unit, Membership.Role.CLERK, "second_clerk")
    reply = rwf.start_reply(s["lead"], actor=s["clerk"])
    read_by_both = reply.version
    rwf.edit_reply(reply, actor=s["clerk"], version=read_by_both, body="第一位的文字")
    reply.refresh_from_db()
    e = assert_refused(
        lambda: rwf.edit_reply(reply, actor=other, version=read_by_both, body="第二位的文字"),
        reply,
        error=rwf.StaleVersion,
    )
    assert str(s["clerk"]) in e.message
    reply.refresh_from_db()
    assert reply.body == "第一位的文字"


def test_a_clerk_of_another_unit_cannot_draft_or_edit(seed000):
    s = seed000
    outsider = s["co_clerks"][0]
    assert_refused(
        lambda: rwf.start_reply(s["lead"], actor=outsider), s["lead"], error=pwf.NotAllowed
    )
    reply = rwf.start_reply(s["lead"], actor=s["clerk"])
    assert_refused(
        lambda: rwf.edit_reply(reply, actor=outsider, version=reply.version, body="x"),
        reply,
        error=pwf.NotAllowed,
    )


def test_a_co_unit_writes_opinions_not_replies(seed000):
    s = seed000
    assert_refused(
        lambda: rwf.start_reply(s["cos"][0], actor=s["co_clerks"][0]),
        s["cos"][0],
        error=pwf.WrongState,
    )
    assert_refused(
        lambda: rwf.start_opinion(s["lead"], actor=s["clerk"]), s["lead"], error=pwf.WrongState
    )


def test_an_opinion_is_addressed_to_the_lead_unit(seed000):
    s = seed000
    op = rwf.start_opinion(s["cos"][0], actor=s["co_clerks"][0])
    assert op.salutation == "区投促办："
    assert op.title == "关于对区政协十五届二次会议第061号提案的会办意见"
    assert op.closing == "以上意见供你单位统一答复提案者时参考。"


def test_the_lead_unit_sees_opinions_only_once_delivered(seed000):
    s = seed000
    op = rwf.start_opinion(s["cos"][0], actor=s["co_clerks"][0])
    assert not CoOpinion.objects.visible_to(s["clerk"]).exists()
    assert CoOpinion.objects.visible_to(s["co_clerks"][0]).get() == op
    rwf.submit_opinion(op, actor=s["co_clerks"][0])
    rwf.sign_opinion(op, actor=s["co_signers"][0])
    rwf.deliver_opinion(op, actor=s["co_clerks"][0])
    assert CoOpinion.objects.visible_to(s["clerk"]).get() == op
    assert not CoOpinion.objects.visible_to(s["co_clerks"][1]).exists()


def sent(s, **fields):
    reply = signed(s, **fields)
    rwf.send_reply(reply, actor=s["clerk"])
    reply.refresh_from_db()
    return reply


def test_not_satisfied_feedback_reopens_handling_with_a_new_due_date(seed000):
    s = seed000
    reply = sent(s)
    member = s["members"][1]
    fb = rwf.record_feedback(
        reply, actor=s["clerk"], proposer=member, rating="not_satisfied", channel="paper"
    )
    assert fb.get_rating_display() == "不满意"
    lead = Assignment.objects.get(pk=s["lead"].pk)
    assert (lead.state, lead.round) == ("accepted", 2)
    due = lead.due(DueDate.Clock.REHANDLING_REPLY)
    assert due is not None and due.completed_on is None
    s["proposal"].refresh_from_db()
    assert s["proposal"].status == "assigned"
    again = rwf.start_reply(lead, actor=s["clerk"])
    assert again.kind == "rehandling"


def test_feedback_is_taken_once_per_proposer_and_only_from_proposers(seed000):
    s = seed000
    reply = sent(s)
    member = s["members"][0]
    rwf.record_feedback(reply, actor=s["clerk"], proposer=member, rating="satisfied")
    assert_refused(
        lambda: rwf.record_feedback(reply, actor=s["clerk"], proposer=member, rating="satisfied"),
        reply,
        error=pwf.WrongState,
    )
    stranger = f.ProposerFactory()
    assert_refused(
        lambda: rwf.record_feedback(reply, actor=s["clerk"], proposer=stranger, rating="satisfied"),
        reply,
    )
    assert_refused(
        lambda: rwf.record_feedback(
            reply, actor=s["clerk"], proposer=s["members"][1], rating="great"
        ),
        reply,
    )
    assert Feedback.objects.count() == 1


def test_a_follow_up_upgrades_the_result_and_keeps_the_history(seed000):
    s = seed000
    first = sent(s, result_label="列入计划拟解决")
    assert first.result_class == "B"
    lead = Assignment.objects.get(pk=s["lead"].pk)
    follow = rwf.start_reply(lead, actor=s["clerk"], kind="follow_up")
    assert follow.title.endswith("的再次答复")
    follow = rwf.edit_reply(
        follow, actor=s["clerk"], version=follow.version, result_label="解决采纳", body="已落实。"
    )
    rwf.submit_reply(follow, actor=s["clerk"], override_reason="跟踪办理")
    rwf.sign_reply(follow, actor=s["signer"])
    rwf.send_reply(follow, actor=s["clerk"])
    history = rwf.result_history(lead)
    assert [(r.result_label, r.result_class) for r in history] == [
        ("列入计划拟解决", "B"),
        ("解决采纳", "A"),
    ]
    first.refresh_from_db()
    assert first.result_label == "列入计划拟解决"


def test_a_correction_supersedes_the_signed_reply_which_stays_unchanged(seed000):
    s = seed000
    old = sent(s)
    rwf.publish_reply(old, actor=s["clerk"])
    before = serializers.serialize("json", Reply.objects.filter(pk=old.pk))
    new = rwf.supersede_reply(old, actor=s["clerk"], reason="联系电话有误")
    assert new.state == "draft" and new.supersedes == old
    assert Reply.objects.published().get() == old, "the old one stays until the correction is out"
    new = rwf.edit_reply(new, actor=s["clerk"], version=new.version, contact_phone="22050001")
    rwf.submit_reply(new, actor=s["clerk"], override_reason="更正")
    rwf.sign_reply(new, actor=s["signer"])
    rwf.send_reply(new, actor=s["clerk"])
    rwf.publish_reply(new, actor=s["clerk"])
    assert Reply.objects.published().get() == new
    assert serializers.serialize("json", Reply.objects.filter(pk=old.pk)) == before


def test_the_letter_of_a_reply_carries_what_is_printed(seed000):
    s = seed000
    reply = signed(s, cc="区政协提案委员会、区政府督查室")
    letter = rwf.letter_for(reply)
    assert letter.doc_number == reply.doc_number
    assert letter.organs == ("上海市长宁区投资促进办公室",)
    assert letter.salutation == "沈汕、施彧、陈铸等委员："
    assert letter.cc == ("区政协提案委员会", "区政府督查室")
    assert letter.note == "此件公开发布"
    assert not letter.draft
    assert [b.level for b in letter.body][:2] == [0, 1]
    preview = rwf.letter_for(rwf.start_opinion(s["cos"][0], actor=s["co_clerks"][0]))
    assert preview.draft and preview.doc_number == ""


@pytest.fixture
def putuo(committee):
    unit = f.UnitFactory(
        name="普陀区发展和改革委员会",
        short_name="普陀区发改委",
        organ_name="上海市普陀区发展和改革委员会",
        docno_prefix="普发改委",
    )
    session = f.SessionFactory(
        district="普陀", term=15, meeting=2, number_template="第{term}{meeting}{serial:03d}号"
    )
    session.last_serial = 44
    session.save()
    proposal = f.ProposalFactory(session=session, lead_proposer=f.ProposerFactory(name="张文浩"))
    pwf.file_proposal(proposal, actor=committee)
    (lead,) = pwf.assign_proposal(
        proposal, actor=committee, units=[(unit, "lead")], assigned_on=D(2023, 2, 10)
    )
    pwf.accept_assignment(lead, actor=committee)
    return lead


def test_a_published_letter_is_imported_with_its_number_and_date(committee, putuo):
    from replies.legacy import read_letter

    letter, _warnings = read_letter(seed_text("001"))
    reply = rwf.import_published_reply(
        putuo, actor=committee, letter=letter, published_on=D(2023, 5, 20)
    )
    assert reply.doc_number == "普发改委〔2023〕14号"
    assert (reply.signed_on, reply.state, reply.result_class) == (D(2023, 5, 8), "published", "A")
    assert Reply.objects.published().get() == reply
    putuo.refresh_from_db()
    assert putuo.state == "replied"
    assert DocNumberCounter.objects.get(unit=putuo.unit, year=2023).last_number == 14
    assert audit_verbs(reply) == ["import"]
    printed = rwf.letter_for(reply)
    assert printed.doc_number == "普发改委〔2023〕14号" and not printed.draft
    assert [b.text for b in printed.body] == [b.text for b in letter.body]


def test_an_import_whose_number_belongs_to_another_unit_is_refused(committee, putuo, clerk_a):
    from replies.legacy import read_letter

    letter, _ = read_letter(seed_text("002"))  # 长发改〔2024〕19号
    assert_refused(lambda: rwf.import_published_reply(putuo, actor=committee, letter=letter), putuo)
    letter, _ = read_letter(seed_text("001"))
    assert_refused(
        lambda: rwf.import_published_reply(putuo, actor=clerk_a, letter=letter),
        putuo,
        error=pwf.NotAllowed,
    )


def test_the_orm_refuses_to_change_a_signed_reply(seed000):
    from replies.models import SignedLetterError

    s = seed000
    reply = signed(s)
    reply.body = "悄悄改过的正文"
    with pytest.raises(SignedLetterError):
        reply.save()
    with pytest.raises(SignedLetterError):
        reply.save(update_fields=["body"])
    reply.refresh_from_db()
    assert reply.body != "悄悄改过的正文"
    # What may still change after signing (sending, the stored PDF) saves as usual.
    rwf.send_reply(reply, actor=s["clerk"])
    reply.refresh_from_db()
    assert reply.state == "sent"


def test_postgresql_refuses_to_change_a_signed_letter_behind_the_orm(seed000):
    """A queryset update() and raw SQL go around LetterFields.save; the trigger does not."""
    from django.db import DatabaseError, connection, transaction

    from replies.models import Reply

    s = seed000
    reply = signed(s)
    assert connection.vendor == "postgresql", "the freeze lives in PostgreSQL (make test)"
    for attempt in (
        lambda: Reply.objects.filter(pk=reply.pk).update(body="改过的正文"),
        lambda: Reply.objects.filter(pk=reply.pk).update(docno_number=999),
        lambda: connection.cursor().execute(
            "UPDATE replies_reply SET signed_on = signed_on + 1 WHERE id = %s", [reply.pk]
        ),
    ):
        with pytest.raises(DatabaseError, match="signed letter"), transaction.atomic():
            attempt()
    # What happens after signing still works underneath the ORM: sending, publishing, the PDF.
    assert Reply.objects.filter(pk=reply.pk).update(pdf_size=1234) == 1
    unsigned = drafted(s)
    assert Reply.objects.filter(pk=unsigned.pk).update(body="草稿可以改") == 1


def test_render_reply_writes_the_pdf_of_a_reply(seed000, tmp_path):
    from io import StringIO

    from django.core.management import CommandError, call_command

    s = seed000
    reply = signed(s)
    out = tmp_path / "reply.pdf"
    stdout = StringIO()
    call_command("render_reply", str(reply.pk), "-o", str(out), stdout=stdout)
    assert out.read_bytes().startswith(b"%PDF")
    assert reply.doc_number in stdout.getvalue()
    with pytest.raises(CommandError, match="找不到"):
        call_command("render_reply", "999999", "-o", str(out))
    with pytest.raises(CommandError, match="尚无签发件"):
        call_command("render_reply", str(reply.pk), "-o", str(out), "--stored")
    rwf.store_signed_pdf("reply", reply.pk)
    call_command("render_reply", str(reply.pk), "-o", str(out), "--stored", stdout=StringIO())
    reply.refresh_from_db()
    import hashlib

    assert hashlib.sha256(out.read_bytes()).hexdigest() == reply.pdf_sha256
