"""The audit trail is append-only where it is stored, and kept at least 180 days.

PostgreSQL only: the guarantee is a trigger (migration proposals/0004_transition_append_only),
so on another database these tests fail rather than pass vacuously.
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from proposals import workflow as pwf
from proposals.models import AppendOnlyError, Transition, User
from proposals.models import today as _today
from proposals.tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgresql_only(db):
    if connection.vendor != "postgresql":
        pytest.fail(
            "The audit trail's guarantees live in PostgreSQL; run with "
            f"DATABASE_URL=postgres://… (vendor here: {connection.vendor})."
        )


def audit_row(actor: User, *, days_ago: int, note: str = "") -> Transition:
    return Transition.objects.create(
        actor=actor,
        content_type=ContentType.objects.get_for_model(User),
        object_id=actor.pk,
        verb="test",
        note=note,
        at=timezone.now() - datetime.timedelta(days=days_ago),
    )


@pytest.fixture
def filed(committee, session):
    proposal = f.ProposalFactory(session=session)
    pwf.file_proposal(proposal, actor=committee)
    return Transition.objects.get(object_id=proposal.pk, verb="file")


def refused(sql: str, params=()) -> str:
    with pytest.raises(DatabaseError) as info, transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, params)
    return str(info.value)


def test_a_raw_sql_update_of_a_transition_row_is_refused_by_the_database(filed):
    message = refused("UPDATE proposals_transition SET note = 'changed' WHERE id = %s", [filed.pk])
    assert "append-only" in message
    filed.refresh_from_db()
    assert filed.note == ""


def test_a_raw_sql_delete_of_a_transition_row_is_refused_by_the_database(filed):
    message = refused("DELETE FROM proposals_transition WHERE id = %s", [filed.pk])
    assert "append-only" in message
    assert Transition.objects.filter(pk=filed.pk).exists()


def test_an_orm_queryset_update_or_delete_is_refused_by_the_database(filed):
    with pytest.raises(DatabaseError), transaction.atomic():
        Transition.objects.filter(pk=filed.pk).update(verb="forged")
    with pytest.raises(DatabaseError), transaction.atomic():
        Transition.objects.filter(pk=filed.pk).delete()
    with pytest.raises(AppendOnlyError):
        filed.delete()
    filed.refresh_from_db()
    assert filed.verb == "file"


def test_an_old_row_cannot_be_deleted_without_the_purge_flag(committee):
    old = audit_row(committee, days_ago=400)
    refused("DELETE FROM proposals_transition WHERE id = %s", [old.pk])
    assert Transition.objects.filter(pk=old.pk).exists()


def test_even_with_the_purge_flag_the_database_keeps_rows_younger_than_180_days(committee):
    young = audit_row(committee, days_ago=170)
    message = refused(
        "SET LOCAL tracker.audit_purge = 'on'; DELETE FROM proposals_transition WHERE id = %s",
        [young.pk],
    )
    assert "append-only" in message
    assert Transition.objects.filter(pk=young.pk).exists()


def test_purge_audit_deletes_rows_past_retention_and_records_that_it_did(committee):
    old = [audit_row(committee, days_ago=d) for d in (200, 400, 1000)]
    young = [audit_row(committee, days_ago=d) for d in (0, 30, 179)]
    before = _today() - datetime.timedelta(days=180)

    call_command("purge_audit", before=f"{before:%Y-%m-%d}")

    assert not Transition.objects.filter(pk__in=[t.pk for t in old]).exists()
    assert Transition.objects.filter(pk__in=[t.pk for t in young]).count() == 3
    (trace,) = Transition.objects.filter(verb="purge_audit")
    assert trace.note.startswith("删除 3 条")
    # The flag is off again: the same transaction cannot go on deleting.
    refused("DELETE FROM proposals_transition WHERE id = %s", [young[0].pk])


def test_purge_audit_dry_run_deletes_nothing(committee, capsys):
    old = audit_row(committee, days_ago=400)
    call_command(
        "purge_audit", before=f"{_today() - datetime.timedelta(days=200):%Y-%m-%d}", dry_run=True
    )
    assert "将删除 1 条" in capsys.readouterr().out
    assert Transition.objects.filter(pk=old.pk).exists()
    assert not Transition.objects.filter(verb="purge_audit").exists()


def test_purge_audit_refuses_a_date_inside_the_retention_period(committee):
    rows = [audit_row(committee, days_ago=d) for d in (10, 100, 400)]
    too_late = _today() - datetime.timedelta(days=179)
    with pytest.raises(CommandError, match="至少保留 180 天"):
        call_command("purge_audit", before=f"{too_late:%Y-%m-%d}")
    assert Transition.objects.filter(pk__in=[t.pk for t in rows]).count() == 3


def test_a_longer_retention_setting_moves_the_limit_and_a_shorter_one_cannot(committee, settings):
    audit_row(committee, days_ago=400)
    settings.AUDIT_RETENTION_DAYS = 365
    with pytest.raises(CommandError, match="至少保留 365 天"):
        call_command("purge_audit", before=f"{_today() - datetime.timedelta(days=200):%Y-%m-%d}")
    settings.AUDIT_RETENTION_DAYS = 30
    with pytest.raises(CommandError, match="至少保留 180 天"):
        call_command("purge_audit", before=f"{_today() - datetime.timedelta(days=60):%Y-%m-%d}")


def test_purge_audit_refuses_a_malformed_date():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("purge_audit", before="2024/01/01")
