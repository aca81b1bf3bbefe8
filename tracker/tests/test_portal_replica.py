"""The portal's read replica (proposals/replica.py): with ``DATABASE_PORTAL_URL`` set, the
public API is served from that database alone, and nothing else is.

The proof runs the application in a child process whose primary (``DATABASE_URL``) names a
database that does not exist and whose replica is this test's database: every public route
answers from the replica, while a route that needs the primary (a member's own proposals, a
token to look up) fails — so the public views read nothing from the primary, and the private
ones read nothing from the replica.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from proposals.replica import PORTAL, PortalReplicaRouter, portal_reads
from replies.models import Reply
from tracker.tests import api_support as s

ROOT = Path(settings.BASE_DIR)

CHILD = r"""
import json, sys
import django
django.setup()
from django.conf import settings
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
assert settings.DATABASES["portal"]["NAME"] != settings.DATABASES["default"]["NAME"]
client = Client(raise_request_exception=False)
out = {}
for url in json.loads(sys.argv[1]):
    response = client.get(url)
    out[url] = response.status_code
token = client.get("/api/v1/me/proposals/", HTTP_AUTHORIZATION="Token " + "0" * 40)
out["private"] = token.status_code
print(json.dumps(out))
"""


def _url(db_name: str) -> str:
    d = connection.settings_dict
    server = f"{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}"
    return f"postgres://{d['USER']}:{d['PASSWORD']}@{server}/{db_name}"


@pytest.mark.django_db(transaction=True)
def test_the_public_api_is_served_from_the_replica_alone(committee, session, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    p1 = s.member("p1", "张文浩")
    done = s.handled(s.handling(committee), session=session, lead=p1.proposer, store_pdf=True)
    reply = done.reply
    assert Reply.objects.published().filter(pk=reply.pk).exists()
    urls = [
        "/api/v1/replies/",
        f"/api/v1/replies/{reply.pk}/",
        f"/api/v1/replies/{reply.pk}/pdf",
        "/api/v1/sessions/",
        "/api/v1/units/",
        "/api/v1/statistics/",
    ]
    env = {
        **os.environ,
        "DATABASE_URL": _url("tracker_no_such_primary"),
        "DATABASE_PORTAL_URL": _url(connection.settings_dict["NAME"]),
        "MEDIA_ROOT": str(tmp_path),
        "DEBUG": "false",
        "SECRET_KEY": "replica-test-" + "x" * 40,
    }
    env.pop("REDIS_URL", None)  # throttling counts in the local-memory cache
    result = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(urls)],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "tracker.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert {u: answers[u] for u in urls} == dict.fromkeys(urls, 200), result.stderr[-3000:]
    # The primary really is unreachable: a route that needs it fails.
    assert answers["private"] == 500


def test_the_router_sends_reads_to_the_replica_only_inside_a_public_view():
    router = PortalReplicaRouter()
    assert router.db_for_read(Reply) is None
    with portal_reads():
        assert router.db_for_read(Reply) == PORTAL
        assert router.db_for_write(Reply) == "default"
    assert router.db_for_read(Reply) is None
    assert router.allow_migrate(PORTAL, "replies") is False
    assert router.allow_migrate("default", "replies") is True


def test_without_a_replica_there_is_no_router_and_one_database():
    assert "portal" not in settings.DATABASES
    assert not settings.DATABASE_ROUTERS
