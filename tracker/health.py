"""/healthz: is this deployment able to work? (django-health-check 4.8)

Four checks, each named by the part it looks at, and nothing else — no host, port, user or
driver message — since the page is public:

- ``database``: ``SELECT 1`` on a connection of its own;
- ``redis``: a PING on ``REDIS_URL`` (the cache) and on the Celery broker, on a new connection
  with a one-second timeout — Redis itself, not Django's cache, which may fall back to memory
  when Redis is away. Only when ``REDIS_URL`` is set;
- ``media``: a probe file written to ``MEDIA_ROOT`` and deleted (signed letters are stored
  there);
- ``worker``: the heartbeat row (``tracker.models.Heartbeat``) that beat's every-minute
  ``heartbeat`` task writes when a worker runs it — so it proves beat, the broker and a worker —
  is younger than ``HEALTH_HEARTBEAT_MAX_AGE``. Only when ``REDIS_URL`` is set (without it
  tasks run in the web process and there is no worker to watch).

200 when all pass, 503 when one fails, as the HTML page, as JSON (``Accept: application/json``
or ``?format=json``: ``{"database": "OK", "redis": "Unavailable: …", …}``) or as text. Public,
not throttled (it is not a DRF view), never cached.

``/healthz/web`` runs the same checks but the worker's: what the web process itself needs,
for a load balancer or a container health check, which should not take the web out of service
because the worker is down.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import tempfile

from celery import shared_task
from django.conf import settings
from django.db import connections
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

HEARTBEAT = "worker"


@dataclasses.dataclass(repr=False)
class _Named(HealthCheck):
    """A check shown by its name alone."""

    name = "check"

    def __repr__(self) -> str:
        return self.name


@dataclasses.dataclass(repr=False)
class DatabaseCheck(_Named):
    name = "database"
    alias: str = "default"

    def run(self) -> None:
        connection = connections[self.alias]
        try:
            with connection.temporary_connection() as cursor:
                cursor.execute("SELECT 1")
                row = cursor.fetchone()
        except Exception as exc:
            raise ServiceUnavailable("the database does not answer") from exc
        if row != (1,):
            raise ServiceUnavailable("the database answered SELECT 1 wrongly")


def redis_urls() -> list[str]:
    """The Redis servers the deployment uses: the cache's and the broker's, once each."""
    urls = []
    for url in (settings.REDIS_URL, getattr(settings, "CELERY_BROKER_URL", "")):
        if url and url.startswith(("redis://", "rediss://", "unix://")) and url not in urls:
            urls.append(url)
    return urls


@dataclasses.dataclass(repr=False)
class RedisCheck(_Named):
    name = "redis"
    timeout = datetime.timedelta(seconds=2)

    def run(self) -> None:
        import redis

        for url in redis_urls():
            client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
            try:
                if client.ping() is not True:
                    raise ServiceUnavailable("Redis answered PING wrongly")
            except redis.RedisError as exc:
                raise ServiceUnavailable("Redis does not answer") from exc
            finally:
                client.close()


@dataclasses.dataclass(repr=False)
class MediaCheck(_Named):
    name = "media"

    def run(self) -> None:
        root = str(settings.MEDIA_ROOT)
        probe = b"healthz"
        try:
            with tempfile.NamedTemporaryFile(dir=root, prefix=".healthz-", delete=True) as f:
                f.write(probe)
                f.flush()
                os.fsync(f.fileno())
                f.seek(0)
                if f.read() != probe:
                    raise ServiceUnavailable("the media directory gave back another content")
        except OSError as exc:
            raise ServiceUnavailable("the media directory is not writable") from exc


@dataclasses.dataclass(repr=False)
class WorkerCheck(_Named):
    name = "worker"

    def run(self) -> None:
        from tracker.models import Heartbeat

        max_age = datetime.timedelta(seconds=settings.HEALTH_HEARTBEAT_MAX_AGE)
        try:
            with connections["default"].temporary_connection():
                beat_at = (
                    Heartbeat.objects.filter(name=HEARTBEAT)
                    .values_list("beat_at", flat=True)
                    .first()
                )
        except Exception as exc:
            raise ServiceUnavailable("the heartbeat cannot be read") from exc
        if beat_at is None:
            raise ServiceUnavailable("no heartbeat from beat and the worker yet")
        age = timezone.now() - beat_at
        if age > max_age:
            raise ServiceUnavailable(
                f"the last heartbeat is {int(age.total_seconds())} s old "
                f"(more than {int(max_age.total_seconds())} s)"
            )


class HealthView(HealthCheckView):
    """django-health-check's view with this deployment's checks, 503 (not 500) on failure."""

    template_name = "tracker/healthz.html"
    with_worker = True

    def get_checks(self):
        yield DatabaseCheck()
        if settings.REDIS_URL:
            yield RedisCheck()
        yield MediaCheck()
        if settings.REDIS_URL and self.with_worker:
            yield WorkerCheck()

    async def get(self, request, *args, **kwargs):
        response = await super().get(request, *args, **kwargs)
        if response.status_code == 500:
            response.status_code = 503
        return response


healthz = HealthView.as_view()
healthz_web = HealthView.as_view(with_worker=False)


@shared_task(ignore_result=True)
def heartbeat() -> None:
    """Every minute (beat, ``worker-heartbeat``): the worker that runs it says it lives."""
    from tracker.models import Heartbeat

    Heartbeat.objects.update_or_create(name=HEARTBEAT, defaults={"beat_at": timezone.now()})
