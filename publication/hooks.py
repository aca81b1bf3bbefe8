"""Where ``publication`` plugs into ``replies`` (which never imports it), in ``ready()``.

- ``publish_reply`` asks ``review.prepare_publication`` first (the redaction review);
- every save of a reply that changes what the public sees — published, or a correction sent or
  published — rewrites the search entries of the reply and of the one it supersedes and changes
  the public stamp, in the saving transaction (a ``post_save`` receiver, so the replies imported
  as already published are indexed too);
- the API's list and detail are cached by that stamp and search with ``?q=`` through
  ``publication.search``; its PDF is the public rendition where items were masked.
"""

from __future__ import annotations

import datetime
import uuid

from django.db import connections, router, transaction
from django.db.models.signals import post_save
from django.utils import timezone

from proposals.models import Session, Unit
from publication import review, search
from publication.models import PublicState, PublicText
from replies.api import filters as api_filters
from replies.api import public_cache
from replies.api import views as api_views
from replies.models import Reply, ReplyState
from replies.workflow import replies as reply_workflow

_PUBLIC_STATES = (ReplyState.SENT, ReplyState.PUBLISHED)


#: The stamp and the newest reply's id in one indexed statement, written out: it runs on
#: every public request, and the ORM would spend longer building it than the database running it.
STAMP_SQL = (
    "SELECT s.token, s.changed_at, (SELECT max(r.id) FROM replies_reply r) "
    "FROM publication_publicstate s WHERE s.id = 1"
)


def current_stamp() -> tuple[str, datetime.datetime]:
    """The token (with the newest reply's id: rows written in bulk, bypassing the workflow,
    still make the cache stale) and when it last changed."""
    with connections[router.db_for_read(PublicState)].cursor() as cursor:
        cursor.execute(STAMP_SQL)
        row = cursor.fetchone()
    if row is None:  # only in a database emptied since migrating (migration 0003 writes it)
        bump_stamp()
        return current_stamp()
    token, changed_at, newest_id = row
    if isinstance(changed_at, str):  # SQLite hands back text
        changed_at = datetime.datetime.fromisoformat(changed_at)
    if timezone.is_naive(changed_at):
        changed_at = timezone.make_aware(changed_at, datetime.UTC)
    return f"{token}.{newest_id}", changed_at


def bump_stamp() -> tuple[str, datetime.datetime]:
    token, now = uuid.uuid4().hex, timezone.now()
    PublicState.objects.update_or_create(pk=1, defaults={"token": token, "changed_at": now})
    # tracker.fastcache reads a copy of the stamp: replaced as soon as this commits.
    transaction.on_commit(public_cache.publish_stamp, using=router.db_for_write(PublicState))
    return token, now


def on_name_saved(sender, instance, raw: bool = False, **kwargs) -> None:
    """A unit's or a session's names are printed on the public pages."""
    if not raw:
        bump_stamp()


def on_reply_saved(sender, instance: Reply, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    correction = instance.supersedes_id is not None and instance.state in _PUBLIC_STATES
    if instance.state != ReplyState.PUBLISHED and not correction:
        return
    search.index_reply(instance)
    if instance.supersedes_id is not None:
        search.index_reply(Reply.objects.get(pk=instance.supersedes_id))
    bump_stamp()


def register() -> None:
    if review.prepare_publication not in reply_workflow.PUBLISH_CHECKS:
        reply_workflow.PUBLISH_CHECKS.append(review.prepare_publication)
    post_save.connect(on_reply_saved, sender=Reply, dispatch_uid="publication.on_reply_saved")
    for model in (Unit, Session):
        post_save.connect(on_name_saved, sender=model, dispatch_uid=f"publication.{model.__name__}")
    public_cache.STAMP = current_stamp
    api_filters.SEARCH = search.search_ids
    api_views.PUBLIC_PDF = public_pdf


def public_pdf(reply: Reply):
    """The file the public downloads: the masked rendition when items were masked (None while
    it is not rendered yet), else the signed original."""
    try:
        public = reply.public_text
    except PublicText.DoesNotExist:
        return reply.pdf, reply.pdf_sha256
    if public.masked:
        return (public.pdf, public.pdf_sha256) if public.pdf_sha256 else (None, "")
    return reply.pdf, reply.pdf_sha256
