"""Prometheus metrics: /metrics on the web, and the Celery worker's own port.

What there is:

- requests, responses, latencies and exceptions by view (``django_http_…``, django-prometheus'
  middleware);
- Celery tasks: ``tracker_celery_tasks_published_total`` (where they are queued), and where
  they run ``tracker_celery_tasks_total{task,state}`` and
  ``tracker_celery_task_duration_seconds{task}`` (``tracker.celery``'s signal handlers);
- read at scrape time, on the web only: ``tracker_celery_queue_length{queue}`` (LLEN of the
  celery, mail and pdf queues in Redis, all priorities; ``tracker_redis_up`` 0 and no lengths
  when Redis does not answer), ``tracker_overdue_due_dates{clock}`` (open due dates past their
  day), ``tracker_failed_emails{kind}``, ``tracker_letters_without_pdf`` (signed more than 15
  minutes ago and still without their PDF) and ``tracker_worker_heartbeat_age_seconds``.

Where the numbers live. gunicorn runs several worker processes and Celery's prefork pool
several children; a counter in one process is not seen by another. Both use prometheus_client's
multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``: each process writes its numbers to files there
and a scrape adds them up): gunicorn.conf.py gives each gunicorn instance a directory of its
own, and the Celery worker makes one when ``CELERY_METRICS_PORT`` is set (tracker/celery.py).
The worker is another container, so its numbers are served by the worker itself, on
``CELERY_METRICS_PORT`` (``start_worker_server``), not by the web's /metrics — Prometheus
scrapes both.

/metrics is not public: it answers only a client in ``METRICS_ALLOWED_NETWORKS`` (loopback and
the private networks by default) or a request with ``Authorization: Bearer <METRICS_TOKEN>``;
anyone else gets the site's 404, as for a page that does not exist. The client's address is
the one behind the trusted proxies (``proposals.client_ip``); a request that came through a
proxy whose forwarded address was not resolved is not let in by its network, only by the token.
"""

from __future__ import annotations

import datetime
import hmac
import ipaddress
import logging
import os
from collections.abc import Iterable, Iterator

import prometheus_client
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

QUEUES = ("celery", "mail", "pdf")
#: kombu's Redis transport keeps a queue's messages of priority p > 0 under "name\x06\x16p".
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = (0, 3, 6, 9)

TASKS_PUBLISHED = Counter(
    "tracker_celery_tasks_published",
    "Celery tasks queued, by task.",
    ["task"],
)
TASKS = Counter(
    "tracker_celery_tasks",
    "Celery tasks run, by task and final state (success, failure, retry …).",
    ["task", "state"],
)
TASK_DURATION = Histogram(
    "tracker_celery_task_duration_seconds",
    "Time a Celery task ran, by task.",
    ["task"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)


def multiprocess_mode() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def process_registry() -> CollectorRegistry:
    """The registry of this process's own metrics, added up over the processes in
    multiprocess mode."""
    if multiprocess_mode():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return prometheus_client.REGISTRY


# --- Read at scrape time ----------------------------------------------------------------------


def queue_lengths(url: str, queues: Iterable[str] = QUEUES) -> dict[str, int] | None:
    """{queue: messages waiting} from the broker, or None when Redis does not answer."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        pipe = client.pipeline(transaction=False)
        keys = []
        for queue in queues:
            for step in _PRIORITY_STEPS:
                key = queue if step == 0 else f"{queue}{_PRIORITY_SEPARATOR}{step}"
                keys.append(queue)
                pipe.llen(key)
        counts: dict[str, int] = dict.fromkeys(queues, 0)
        for queue, n in zip(keys, pipe.execute(), strict=True):
            counts[queue] += int(n)
        return counts
    except redis.RedisError:
        return None
    finally:
        client.close()


def overdue_due_dates(today: datetime.date | None = None) -> dict[str, int]:
    """{clock: running due dates past their day (``proposals.selectors``)}, every clock listed."""
    from django.db.models import Count
    from django.utils import timezone

    from proposals.models import DueDate
    from proposals.selectors import past_due, running_due_dates

    today = today or timezone.localdate()
    rows = past_due(running_due_dates(), today).order_by().values("clock").annotate(n=Count("pk"))
    counts = dict.fromkeys(DueDate.Clock.values, 0)
    counts.update({r["clock"]: r["n"] for r in rows})
    return counts


def failed_emails() -> dict[str, int]:
    from tracker.models import Digest, EventNotice, Outgoing

    return {
        "digest": Digest.objects.filter(state=Outgoing.State.FAILED).count(),
        "event_notice": EventNotice.objects.filter(state=Outgoing.State.FAILED).count(),
    }


def letters_without_pdf() -> int:
    from django.utils import timezone

    from replies.models import CoOpinion, Reply

    cutoff = timezone.now() - datetime.timedelta(minutes=15)
    return sum(
        model.objects.filter(signed_at__lt=cutoff, pdf_sha256="").count()
        for model in (Reply, CoOpinion)
    )


def heartbeat_age() -> float | None:
    from django.utils import timezone

    from tracker.health import HEARTBEAT
    from tracker.models import Heartbeat

    beat_at = Heartbeat.objects.filter(name=HEARTBEAT).values_list("beat_at", flat=True).first()
    return None if beat_at is None else (timezone.now() - beat_at).total_seconds()


class DeploymentCollector(Collector):
    """The gauges read when Prometheus scrapes the web's /metrics."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        broker = getattr(settings, "CELERY_BROKER_URL", "")
        if broker.startswith(("redis://", "rediss://", "unix://")):
            lengths = queue_lengths(broker)
            up = GaugeMetricFamily("tracker_redis_up", "1 when the broker answered, else 0.")
            up.add_metric([], 0 if lengths is None else 1)
            yield up
            if lengths is not None:
                gauge = GaugeMetricFamily(
                    "tracker_celery_queue_length",
                    "Messages waiting in a Celery queue (all priorities).",
                    labels=["queue"],
                )
                for queue, n in lengths.items():
                    gauge.add_metric([queue], n)
                yield gauge
        try:
            overdue = overdue_due_dates()
            failed = failed_emails()
            without_pdf = letters_without_pdf()
            age = heartbeat_age()
        except Exception:
            logger.warning("metrics: the database did not answer", exc_info=True)
            return
        gauge = GaugeMetricFamily(
            "tracker_overdue_due_dates",
            "Open due dates of open assignments past their day, by clock.",
            labels=["clock"],
        )
        for clock, n in overdue.items():
            gauge.add_metric([clock], n)
        yield gauge
        gauge = GaugeMetricFamily(
            "tracker_failed_emails",
            "E-mails given up after their last attempt, by kind.",
            labels=["kind"],
        )
        for kind, n in failed.items():
            gauge.add_metric([kind], n)
        yield gauge
        yield GaugeMetricFamily(
            "tracker_letters_without_pdf",
            "Signed letters still without their PDF 15 minutes after signing.",
            value=without_pdf,
        )
        if age is not None:
            yield GaugeMetricFamily(
                "tracker_worker_heartbeat_age_seconds",
                "Seconds since a worker last ran beat's heartbeat task.",
                value=age,
            )


_SCRAPE_REGISTRY = CollectorRegistry(auto_describe=False)
_SCRAPE_REGISTRY.register(DeploymentCollector())


# --- Who may read them ------------------------------------------------------------------------

_FORWARDING_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED")


def _networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in settings.METRICS_ALLOWED_NETWORKS]


def _in_networks(address: str | None) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in _networks())


def _has_token(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return False
    scheme, _sep, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def may_scrape(request: HttpRequest) -> bool:
    if _has_token(request):
        return True
    from tracker.middleware import client_address, resolves_forwarded_addresses

    address = client_address(request)
    forwarded = any(request.META.get(h) for h in _FORWARDING_HEADERS)
    if forwarded and (
        not resolves_forwarded_addresses() or address == request.META.get("REMOTE_ADDR")
    ):
        # Through a proxy that was not unwrapped: REMOTE_ADDR is the proxy's own (private)
        # address and says nothing about who asks.
        return False
    return _in_networks(address)


@never_cache
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not may_scrape(request):
        raise Http404
    body = prometheus_client.generate_latest(process_registry())
    body += prometheus_client.generate_latest(_SCRAPE_REGISTRY)
    return HttpResponse(body, content_type=prometheus_client.CONTENT_TYPE_LATEST)


# --- The Celery worker's own port -------------------------------------------------------------


def start_worker_server(port: int, addr: str = "0.0.0.0"):
    """Serve this worker's task metrics (all its pool processes in multiprocess mode) on
    ``port``; returns the server and its thread."""
    return prometheus_client.start_http_server(port, addr=addr, registry=process_registry())
