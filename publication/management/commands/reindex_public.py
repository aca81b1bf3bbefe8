"""Rebuild the public search entries and make every cached public answer stale.

For replies published before the ``publication`` app was installed, or written in bulk
(``bench/generate.py``): ``manage.py reindex_public``. Idempotent.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from publication import hooks, search
from publication.models import SearchEntry
from replies.models import Reply


class Command(BaseCommand):
    help = "重建公开答复的全文检索索引，并使公开页面缓存失效。"

    def handle(self, *args, **options):
        published = Reply.objects.published().select_related("unit", "proposal")
        count = 0
        with transaction.atomic():
            SearchEntry.objects.exclude(reply__in=published.values("pk")).delete()
            for reply in published.iterator(chunk_size=500):
                search.index_reply(reply)
                count += 1
            hooks.bump_stamp()
        self.stdout.write(f"已索引 {count} 件公开答复。")
