"""文号 under concurrency and at the turn of the year (Asia/Shanghai)."""

import datetime
import random
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections, transaction

from proposals.models import Assignment, Membership
from proposals.tests import factories as f
from replies import workflow as rwf
from replies.models import DocNumberCounter, Reply
from tracker.tests import clock


class Rollback(Exception):
    pass


def pending_reply(unit, proposal_session):
    assignment = f.AssignmentFactory(
        unit=unit, proposal__session=proposal_session, state=Assignment.State.ACCEPTED
    )
    return Reply.objects.create(
        assignment=assignment,
        proposal=assignment.proposal,
        unit=unit,
        title="对提案的答复",
        salutation="张文浩委员：",
        body="正文",
        result_label="采纳",
        result_class="A",
        state=Reply.State.PENDING_SIGNATURE,
    )


@pytest.mark.django_db(transaction=True)
def test_eight_threads_signing_with_rollbacks_leave_numbers_without_gaps_or_duplicates(
    monkeypatch,
):
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL row locks; run it through `make test`")
    # The PDF task is not under test here; keep the on-commit hook from reaching a broker.
    monkeypatch.setattr("replies.tasks.render_signed_pdf.delay", lambda *a: None)
    session = f.SessionFactory()
    units = [f.UnitFactory(docno_prefix="甲"), f.UnitFactory(docno_prefix="乙")]
    signers = {}
    for unit in units:
        user = f.UserFactory()
        f.MembershipFactory(user=user, unit=unit, role=Membership.Role.SIGNER)
        signers[unit.pk] = user
    replies = [pending_reply(units[i % 2], session) for i in range(200)]
    chunks = [replies[i::8] for i in range(8)]
    barrier = threading.Barrier(8)
    outcomes: list[tuple[int, bool]] = []
    lock = threading.Lock()

    def worker(seed: int, chunk: list[Reply]) -> None:
        rng = random.Random(seed)
        barrier.wait()
        try:
            for reply in chunk:
                roll_back = rng.random() < 0.2
                try:
                    with transaction.atomic():
                        rwf.sign_reply(reply.pk, actor=signers[reply.unit_id])
                        if roll_back:
                            raise Rollback
                except Rollback:
                    pass
                with lock:
                    outcomes.append((reply.pk, not roll_back))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(chunks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(outcomes) == 200
    signed_ids = {pk for pk, ok in outcomes if ok}
    for unit in units:
        rows = Reply.objects.filter(unit=unit, docno_number__isnull=False)
        numbers = sorted(rows.values_list("docno_number", flat=True))
        assert numbers == list(range(1, len(numbers) + 1)), "no gap, no duplicate"
        assert set(rows.values_list("pk", flat=True)) <= signed_ids
        counter = DocNumberCounter.objects.get(unit=unit)
        assert counter.last_number == len(numbers)
    assert Reply.objects.filter(state="signed").count() == len(signed_ids)
    assert len(signed_ids) < 200, "some signings were rolled back"


@pytest.mark.django_db
def test_a_rolled_back_signing_enqueues_no_pdf_task(django_capture_on_commit_callbacks):
    unit = f.UnitFactory(docno_prefix="甲")
    signer = f.UserFactory()
    f.MembershipFactory(user=signer, unit=unit, role=Membership.Role.SIGNER)
    reply = pending_reply(unit, f.SessionFactory())
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(Rollback),
        transaction.atomic(),
    ):
        rwf.sign_reply(reply, actor=signer)
        raise Rollback
    assert callbacks == []
    reply.refresh_from_db()
    assert (reply.state, reply.docno_number) == ("pending_signature", None)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("utc", "year", "day"),
    [
        (datetime.datetime(2024, 12, 31, 15, 59, tzinfo=datetime.UTC), 2024, 31),
        (datetime.datetime(2024, 12, 31, 16, 0, tzinfo=datetime.UTC), 2025, 1),
    ],
)
def test_the_year_of_a_number_turns_at_midnight_in_shanghai(utc, year, day):
    unit = f.UnitFactory(docno_prefix="普发改委")
    signer = f.UserFactory()
    f.MembershipFactory(user=signer, unit=unit, role=Membership.Role.SIGNER)
    reply = pending_reply(unit, f.SessionFactory())
    with clock.travel(utc):
        rwf.sign_reply(reply, actor=signer)
    reply.refresh_from_db()
    assert reply.doc_number == f"普发改委〔{year}〕1号"
    assert reply.signed_on.day == day
    assert reply.signed_at.astimezone(ZoneInfo("Asia/Shanghai")).year == year
