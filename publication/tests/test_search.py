"""Chinese full-text search on the database's own engine: the same fixtures give the same top
results on PostgreSQL and (in a subprocess, ``make run``'s engine) on SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from proposals.models import Membership
from publication import search
from publication.models import SearchEntry
from publication.tests.conftest import publish
from replies import workflow as rwf
from replies.tests.factories import stand_in_renderer, unit_staff

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def keys(library, text: str) -> list[str]:
    by_pk = {reply.pk: key for key, reply in library.items()}
    ids, _query = search.search_ids(text)
    return [by_pk[pk] for pk in ids]


def test_the_engine_is_the_database_s_own(library):
    assert SearchEntry.objects.count() == 5
    table = "publication_searchentry" if connection.vendor == "postgresql" else "publication_fts"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        assert cursor.fetchone()[0] == 5


@pytest.mark.parametrize(
    ("query", "top", "found"),
    [
        ("老旧小区加装电梯", "lift", {"lift"}),
        ("加装电梯", "lift", {"lift"}),
        ("停车", "parking", {"parking", "elderly"}),
        ("公租房", "rental", {"rental"}),
        ("营商环境", "business", {"business"}),
        ("区房管局", None, {"lift", "rental"}),
        ("长宁区住房保障和房屋管理局", None, {"lift", "rental"}),
        ("区建管委 停车", "parking", {"parking"}),
    ],
)
def test_queries_find_what_a_person_expects(library, query, top, found):
    result = keys(library, query)
    assert set(result) == found
    if top:
        assert result[0] == top


def test_a_word_only_in_passing_ranks_below_the_reply_about_it(library):
    result = keys(library, "电梯")
    assert result[0] == "lift"
    assert "business" in result


def test_a_query_with_nothing_to_find_finds_nothing(library):
    assert keys(library, "量子计算机") == []
    assert keys(library, "   ") == []


def test_snippets_highlight_the_words_and_escape_the_text():
    text = "前言<b>不是标签</b>。" + "无关内容" * 30 + "老旧小区加装电梯已完成126台。"
    html = search.snippet(text, ("老旧小区", "加装电梯"))
    assert "<mark>老旧小区</mark><mark>加装电梯</mark>" in html
    assert "<b>" not in html
    assert html.startswith("…")


def test_a_new_publication_is_found_at_once(db, session):
    assert keys({}, "公租房") == []
    reply = publish("rental", session)
    assert search.search_ids("公租房")[0] == [reply.pk]


def test_a_reply_superseded_by_a_sent_correction_is_not_found_and_the_correction_is(
    library,
):
    old = library["rental"]
    clerk = unit_staff(old.unit, Membership.Role.CLERK)
    signer = unit_staff(old.unit, Membership.Role.SIGNER)
    new = rwf.supersede_reply(old, actor=clerk, reason="套数有误")
    new = rwf.edit_reply(
        new, actor=clerk, version=new.version, body="一、公租房供应\n今年新增公租房900套。"
    )
    rwf.submit_reply(new, actor=clerk)
    rwf.sign_reply(new, actor=signer)
    # A draft correction changes nothing yet.
    assert search.search_ids("公租房")[0] == [old.pk]
    with stand_in_renderer():
        rwf.store_signed_pdf("reply", new.pk)
    rwf.send_reply(new, actor=clerk)
    assert search.search_ids("公租房")[0] == []
    rwf.publish_reply(new, actor=clerk)
    assert search.search_ids("公租房")[0] == [new.pk]


@pytest.mark.slow
def test_the_same_tests_pass_on_sqlite(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PYTEST_XDIST_WORKER")},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'search.sqlite3'}",
    }
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-p", "no:xdist"),
            *(__file__, "-k", "not test_the_same_tests_pass_on_sqlite"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "14 passed" in done.stdout, done.stdout[-2000:]
