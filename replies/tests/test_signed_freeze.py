"""A signed letter is frozen in the database (issue 17, row 6), tested as the probe did it.

The probe connected as the application's PostgreSQL role and changed a signed 不予公开 reply
with raw SQL: made it 主动公开, published it, moved it to another unit, cleared its hash — and
the render task printed a new "signed" PDF with the other unit's name. Here the same role
(``proposals/tests/pg_roles.py``) tries every frozen column of a signed reply and a signed
opinion, the forward moves, the PDF's write-once, DELETE; the render path is tried with a hash
cleared by the tables' owner. PostgreSQL only: on another database these tests fail.
"""

from __future__ import annotations

import datetime
import importlib

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from proposals import workflow as pwf
from proposals.models import Membership
from proposals.tests import factories as f
from proposals.tests.pg_roles import as_owner_without_triggers, make_app_role
from replies import freeze, rendering
from replies import workflow as rwf
from replies.models import (
    OPINION_TRANSITIONS,
    REPLY_TRANSITIONS,
    CoOpinion,
    Disclosure,
    OpinionState,
    Reply,
    ReplyState,
    SignedLetterError,
)

pytestmark = pytest.mark.django_db
FAKE_HASH = "a" * 64


@pytest.fixture(autouse=True)
def _postgresql_only(db):
    if connection.vendor != "postgresql":
        pytest.fail("the freeze lives in PostgreSQL: run with DATABASE_URL=postgres://…")


@pytest.fixture
def app_role(db):
    return make_app_role()


def staff(unit, role, username):
    user = f.UserFactory(username=username)
    f.MembershipFactory(user=user, unit=unit, role=role)
    return user


def handled_to(committee, session, lead_unit, co_unit):
    """A filed proposal assigned to ``lead_unit`` (lead) and ``co_unit`` (co), both accepted."""
    proposal = f.ProposalFactory(session=session, title="关于加强社区养老服务的建议")
    pwf.file_proposal(proposal, actor=committee)
    units = [(lead_unit, "lead")] + ([(co_unit, "co")] if co_unit else [])
    assignments = pwf.assign_proposal(
        proposal,
        actor=committee,
        units=units,
        assigned_on=timezone.localdate() - datetime.timedelta(days=20),
    )
    for a in assignments:
        pwf.accept_assignment(a, actor=committee)
    return proposal, assignments


class Letters:
    """A signed 不予公开 reply and a signed opinion of one proposal, with what they could be
    moved to: another unit, proposal and assignment."""


@pytest.fixture
def letters(committee, session, unit_a, unit_b, clerk_a, signer_a, clerk_b) -> Letters:
    s = Letters()
    signer_b = staff(unit_b, Membership.Role.SIGNER, "signer_b")
    s.co_clerk = clerk_b
    s.committee = committee
    s.other_unit = f.UnitFactory(name="长宁区科学技术委员会", docno_prefix="长科")
    s.proposal, (s.lead, s.co) = handled_to(committee, session, unit_a, unit_b)
    s.other_proposal, (s.other_assignment,) = handled_to(committee, session, s.other_unit, None)

    opinion = rwf.start_opinion(s.co, actor=clerk_b)
    opinion = rwf.edit_opinion(opinion, actor=clerk_b, version=opinion.version, body="同意。")
    rwf.submit_opinion(opinion, actor=clerk_b)
    s.opinion = rwf.sign_opinion(opinion, actor=signer_b)
    s.reply = signed_reply(s.lead, clerk_a, signer_a, Disclosure.NOT_PUBLIC)
    return s


def signed_reply(assignment, clerk, signer, disclosure) -> Reply:
    reply = rwf.start_reply(assignment, actor=clerk)
    reply = rwf.edit_reply(
        reply,
        actor=clerk,
        version=reply.version,
        result_label="采纳",
        disclosure=disclosure,
        body=reply.body + "一、主要做法\n已经落实。",
    )
    rwf.submit_reply(reply, actor=clerk, override_reason="会办意见已电话沟通")
    rwf.sign_reply(reply, actor=signer)
    reply.refresh_from_db()
    return reply


def stored(obj):
    return type(obj).objects.values().get(pk=obj.pk)


def update(role, obj, assignments: str, params=()) -> int:
    table = obj._meta.db_table
    return role.execute(f"UPDATE {table} SET {assignments} WHERE id = %s", [*params, obj.pk])


def refused(role, obj, assignments: str, params=(), *, match="signed letter") -> str:
    before = stored(obj)
    with pytest.raises(DatabaseError, match=match) as info:
        update(role, obj, assignments, params)
    assert stored(obj) == before
    return str(info.value)


# --- The rules are the transition tables' -----------------------------------------------------


def test_the_migrations_moves_are_the_ones_the_transition_tables_allow():
    """The trigger's copy (a migration never changes) against today's tables: when a table
    changes, this fails until a new migration replaces the function."""
    migration = importlib.import_module("replies.migrations.0007_signed_letter_frozen_whole")
    assert {
        "replies_reply": freeze.signed_moves(REPLY_TRANSITIONS),
        "replies_coopinion": freeze.signed_moves(OPINION_TRANSITIONS),
    } == migration.MOVES
    assert freeze.signed_moves(REPLY_TRANSITIONS) == (("sent", "published"), ("signed", "sent"))
    assert freeze.signed_moves(OPINION_TRANSITIONS) == (("signed", "delivered"),)
    assert {
        "replies_reply": freeze.STAMPS["reply"],
        "replies_coopinion": freeze.STAMPS["opinion"],
    } == migration.STAMPS
    assert {
        "replies_reply": freeze.REQUIRES["reply"],
        "replies_coopinion": freeze.REQUIRES["opinion"],
    } == migration.REQUIRES
    for name in ("WRITE_ONCE", "WHILE_NO_PDF", "CLEARABLE", "FREE"):
        assert getattr(migration, name) == getattr(freeze, name), name
    # Every state a signed letter moves into has its date, stamped with the move.
    for kind, table in (("reply", REPLY_TRANSITIONS), ("opinion", OPINION_TRANSITIONS)):
        targets = {to for _from, to in freeze.signed_moves(table)}
        assert set(freeze.STAMPS[kind].values()) == targets


def _move_sql(kind: str, state: str) -> str:
    stamp = {v: k for k, v in freeze.STAMPS[kind].items()}.get(state)
    date = {"published_on": "current_date"}.get(stamp, "now()")
    return f"state = '{state}'" + (f", {stamp} = {date}" if stamp else "")


@pytest.mark.parametrize("kind", ["reply", "opinion"])
def test_every_state_change_of_a_signed_letter_follows_the_transition_table(
    kind, app_role, letters, signer_a, clerk_a
):
    """From each state a signed letter can be in, to every other state: only the table's moves
    pass (with their date), whatever the SQL says."""
    if kind == "reply":
        letter = signed_reply(letters.lead, clerk_a, signer_a, Disclosure.PUBLIC)
        states, table = ReplyState.values, REPLY_TRANSITIONS
    else:
        letter, states, table = letters.opinion, OpinionState.values, OPINION_TRANSITIONS
    moves = freeze.signed_moves(table)
    # The states a signed letter reaches, in the order of the moves.
    path = [str(table["sign"][1])]
    while nxt := [to for fr, to in moves if fr == path[-1]]:
        path.append(nxt[0])
    allowed, refusals = [], []
    for i, here in enumerate(path):
        if i:
            assert update(app_role, letter, _move_sql(kind, here)) == 1
        for there in states:
            if there == here:
                continue
            try:
                update(app_role, letter, _move_sql(kind, there))
            except DatabaseError as exc:
                assert "signed letter" in str(exc)
                refusals.append((here, there))
            else:
                allowed.append((here, there))
                # Back where the walk was (its date unset): as the owner, the only one who can.
                stamp = {v: k for k, v in freeze.STAMPS[kind].items()}[there]
                as_owner_without_triggers(
                    f"UPDATE {letter._meta.db_table} SET state = %s, {stamp} = NULL WHERE id = %s",
                    [here, letter.pk],
                )
    assert sorted(allowed) == sorted(moves)
    assert len(refusals) == len(path) * (len(states) - 1) - len(moves)


# --- Frozen columns ---------------------------------------------------------------------------

#: Column → an assignment that changes it; ``{…}`` names a value of the fixture.
REPLY_FROZEN = {
    "disclosure": "disclosure = 'public'",
    "state (skipping 送达)": "state = 'published', published_on = current_date",
    "state (back to a draft)": "state = 'draft'",
    "unit_id": "unit_id = {other_unit}",
    "proposal_id": "proposal_id = {other_proposal}",
    "assignment_id": "assignment_id = {other_assignment}",
    "result_label": "result_label = '留作参考'",
    "result_class": "result_class = 'D'",
    "title": "title = title || '（改）'",
    "salutation": "salutation = '他人：'",
    "body": "body = body || '又及。'",
    "closing": "closing = ''",
    "contact_phone": "contact_phone = '110'",
    "cc": "cc = '区政府办'",
    "signer_id": "signer_id = {committee}",
    "signer_name": "signer_name = '他人'",
    "docno_prefix": "docno_prefix = '长科'",
    "docno_year": "docno_year = docno_year - 1",
    "docno_number": "docno_number = docno_number + 100",
    "signed_on": "signed_on = signed_on - 1",
    "signed_at": "signed_at = signed_at - interval '1 day'",
    "kind": "kind = 'follow_up'",
    "round": "round = round + 1",
    "version": "version = version + 1",
    "supersedes_id": "supersedes_id = id",
    "return_comment": "return_comment = '退回'",
    "opinion_override_reason": "opinion_override_reason = ''",
    "created_at": "created_at = created_at - interval '1 day'",
    "last_edited_by_id (to someone else)": "last_edited_by_id = {committee}",
    "sent_at without 送达": "sent_at = now()",
    "published_on without 公开": "published_on = current_date",
}
OPINION_FROZEN = {
    "state (back to a draft)": "state = 'pending_signature'",
    "unit_id": "unit_id = {other_unit}",
    "proposal_id": "proposal_id = {other_proposal}",
    "assignment_id": "assignment_id = {other_assignment}",
    "title": "title = title || '（改）'",
    "salutation": "salutation = '他人：'",
    "body": "body = body || '又及。'",
    "signer_id": "signer_id = {committee}",
    "signer_name": "signer_name = '他人'",
    "docno_number": "docno_number = docno_number + 100",
    "signed_on": "signed_on = signed_on - 1",
    "version": "version = version + 1",
    "created_at": "created_at = created_at - interval '1 day'",
    "delivered_at without 送主办单位": "delivered_at = now()",
}


def _values(s: Letters) -> dict[str, int]:
    return {
        "other_unit": s.other_unit.pk,
        "other_proposal": s.other_proposal.pk,
        "other_assignment": s.other_assignment.pk,
        "committee": s.committee.pk,
    }


@pytest.mark.parametrize("column", REPLY_FROZEN)
def test_the_app_role_cannot_change_a_frozen_column_of_a_signed_reply(column, app_role, letters):
    message = refused(app_role, letters.reply, REPLY_FROZEN[column].format(**_values(letters)))
    assert column.split(" ")[0] in message


@pytest.mark.parametrize("column", OPINION_FROZEN)
def test_the_app_role_cannot_change_a_frozen_column_of_a_signed_opinion(column, app_role, letters):
    message = refused(app_role, letters.opinion, OPINION_FROZEN[column].format(**_values(letters)))
    assert column.split(" ")[0] in message


def test_the_forward_moves_and_their_dates_still_work(app_role, letters, signer_a, clerk_a):
    # Through the workflow: 送达, 公开, 送主办单位 (the PDFs as the render task stores them).
    public = signed_reply(letters.lead, clerk_a, signer_a, Disclosure.PUBLIC)
    for letter in (public, letters.opinion):
        assert (
            update(
                app_role,
                letter,
                "pdf = 'letters/x.pdf', pdf_sha256 = %s, pdf_size = 9",
                [FAKE_HASH],
            )
            == 1
        )
    rwf.send_reply(public, actor=clerk_a)
    rwf.publish_reply(public, actor=clerk_a)
    rwf.deliver_opinion(letters.opinion, actor=letters.co_clerk)
    public.refresh_from_db()
    letters.opinion.refresh_from_db()
    assert public.state == "published" and public.published_on and public.sent_at
    assert letters.opinion.state == "delivered" and letters.opinion.delivered_at
    # A date once stamped stays.
    refused(app_role, public, "sent_at = sent_at + interval '1 hour'")
    refused(app_role, letters.opinion, "delivered_at = NULL")
    # The raw SQL of the same moves passes too: the rule is about what, not who.
    assert update(app_role, letters.reply, "state = 'sent', sent_at = now()") == 1
    # Columns that are the row's own bookkeeping.
    assert update(app_role, letters.reply, "updated_at = now()") == 1
    assert update(app_role, letters.reply, "last_edited_by_id = NULL") == 1


def test_a_non_public_reply_is_never_published(app_role, letters):
    """publish_reply refuses it; so does the database, even along the table's own move."""
    assert update(app_role, letters.reply, "state = 'sent', sent_at = now()") == 1
    refused(app_role, letters.reply, "state = 'published', published_on = current_date")


def test_the_app_role_cannot_delete_a_signed_reply_or_opinion(app_role, letters, clerk_a):
    # An unsigned letter is still the clerk's to change and drop.
    draft = rwf.start_reply(letters.lead, actor=clerk_a)
    assert update(app_role, draft, "disclosure = 'on_request', body = '草稿可以改'") == 1
    assert app_role.execute("DELETE FROM replies_reply WHERE id = %s", [draft.pk]) == 1
    for letter in (letters.reply, letters.opinion):
        table = letter._meta.db_table
        with pytest.raises(DatabaseError, match="cannot be deleted"):
            app_role.execute(f"DELETE FROM {table} WHERE id = %s", [letter.pk])
        assert type(letter).objects.filter(pk=letter.pk).exists()
        with pytest.raises(DatabaseError, match="cannot be deleted"), transaction.atomic():
            type(letter).objects.filter(pk=letter.pk).delete()


# --- The PDF is written once --------------------------------------------------------------------


@pytest.mark.parametrize("which", ["reply", "opinion"])
def test_the_pdf_fields_are_written_once(which, app_role, letters):
    letter = getattr(letters, which)
    # While the PDF is missing its render's failure record moves (store_signed_pdf, 重新生成).
    assert (
        update(app_role, letter, "pdf_attempts = 6, pdf_error = '超时', pdf_failed_at = now()") == 1
    )
    assert update(app_role, letter, "pdf_attempts = 0, pdf_error = '', pdf_failed_at = NULL") == 1
    # Set once: allowed (the render after signing).
    assert (
        update(
            app_role,
            letter,
            "pdf = 'letters/2024/a.pdf', pdf_sha256 = %s, pdf_size = 1234",
            [FAKE_HASH],
        )
        == 1
    )
    # Cleared or changed afterwards: refused, each of the three.
    for assignment, params in (
        ("pdf_sha256 = ''", []),
        ("pdf_sha256 = %s", ["b" * 64]),
        ("pdf = ''", []),
        ("pdf = 'letters/2024/b.pdf'", []),
        ("pdf_size = NULL", []),
        ("pdf_size = 99", []),
        ("pdf_attempts = 1", []),
    ):
        refused(app_role, letter, assignment, params)
    assert stored(letter)["pdf_sha256"] == FAKE_HASH


# --- The probe's scenario, end to end ----------------------------------------------------------


def test_the_probes_scenario_is_refused_at_its_first_step(app_role, letters, clerk_a):
    """不予公开 → 主动公开 → published → another unit → hash cleared → re-rendered. Each step
    alone is refused too, in any order; the portal never sees the reply."""
    reply = letters.reply
    update(
        app_role, reply, "pdf = 'letters/2024/r.pdf', pdf_sha256 = %s, pdf_size = 9", [FAKE_HASH]
    )
    rwf.send_reply(reply, actor=clerk_a)
    reply.refresh_from_db()
    values = _values(letters)
    steps = [
        "disclosure = 'public'",
        "state = 'published', published_on = current_date",
        "unit_id = {other_unit}".format(**values),
        "pdf_sha256 = ''",
    ]
    first = refused(app_role, reply, steps[0])
    assert "disclosure" in first
    for step in steps[1:]:
        refused(app_role, reply, step)
    refused(app_role, reply, ", ".join(steps))
    assert not Reply.objects.published().exists()
    assert stored(reply)["disclosure"] == Disclosure.NOT_PUBLIC


def test_a_letter_whose_hash_was_cleared_is_never_rendered_again(
    app_role, letters, clerk_a, monkeypatch
):
    """The owner (triggers off) clears the hash: the render task, 重新生成 and 送达 all refuse
    to print a second "signed" PDF from what the row says now."""
    renders = []

    def render(obj) -> bytes:
        renders.append(obj.pk)
        return b"%PDF-1.7 x"

    monkeypatch.setattr(rendering, "render_pdf", render)
    for letter in (letters.reply, letters.opinion):
        update(
            app_role,
            letter,
            "pdf = 'letters/2024/r.pdf', pdf_sha256 = %s, pdf_size = 9",
            [FAKE_HASH],
        )
        as_owner_without_triggers(
            f"UPDATE {letter._meta.db_table} SET pdf_sha256 = '' WHERE id = %s", [letter.pk]
        )
        kind = "reply" if isinstance(letter, Reply) else "opinion"
        assert rwf.store_signed_pdf(kind, letter.pk) is False
        letter.refresh_from_db()
        with pytest.raises(rwf.WrongState):
            rwf.rerender_pdf(letter, actor=letters.committee)
        with pytest.raises(rwf.PdfAlreadyStored):
            rendering._store_pdf(letter, kind)
    with pytest.raises(rwf.WrongState) as info:
        rwf.send_reply(letters.reply, actor=clerk_a)
    assert info.value.code == "pdf_damaged"
    later = timezone.now() + datetime.timedelta(hours=1)
    assert rwf.unrendered_letters(now=later, grace=datetime.timedelta(0), limit=10) == []
    assert renders == []
    assert stored(letters.reply)["pdf"] == "letters/2024/r.pdf"


# --- The ORM agrees with the trigger --------------------------------------------------------------


def test_the_orm_refuses_what_the_trigger_refuses(letters):
    reply = Reply.objects.get(pk=letters.reply.pk)
    for name, value in (
        ("disclosure", Disclosure.PUBLIC),
        ("unit_id", letters.other_unit.pk),
        ("result_label", "留作参考"),
        ("state", ReplyState.PUBLISHED),
    ):
        original = getattr(reply, name)
        setattr(reply, name, value)
        with pytest.raises(SignedLetterError, match=name.removesuffix("_id")):
            reply.save()
        with pytest.raises(SignedLetterError):
            reply.save(update_fields=[name])
        setattr(reply, name, original)
    opinion = CoOpinion.objects.get(pk=letters.opinion.pk)
    opinion.state = OpinionState.DRAFT
    with pytest.raises(SignedLetterError, match="state"):
        opinion.save(update_fields=["state"])
    for letter in (reply, letters.opinion):
        with pytest.raises(SignedLetterError, match="delete"):
            letter.delete()
    assert stored(reply)["disclosure"] == Disclosure.NOT_PUBLIC


@pytest.mark.django_db(transaction=True)
def test_a_signed_letter_survives_delete_but_not_the_test_flush(letters):
    """DELETE is refused; Django's flush (TRUNCATE, what every transactional test ends with)
    still empties the tables."""
    with pytest.raises(DatabaseError, match="cannot be deleted"):
        Reply.objects.filter(pk=letters.reply.pk).delete()
    call_command("flush", interactive=False, verbosity=0)
    assert not Reply.objects.exists() and not CoOpinion.objects.exists()
