"""``manage.py reindex_public`` indexes replies the hooks never saw and drops stale entries."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from publication import search
from publication.hooks import current_stamp
from publication.models import SearchEntry

pytestmark = pytest.mark.django_db


def test_reindexing_finds_replies_indexed_by_nobody_and_changes_the_stamp(library):
    SearchEntry.objects.all().delete()
    assert search.search_ids("公租房")[0] == []
    before = current_stamp()
    out = io.StringIO()
    call_command("reindex_public", stdout=out)
    assert "已索引 5 件" in out.getvalue()
    assert search.search_ids("公租房")[0] == [library["rental"].pk]
    assert current_stamp() != before
