"""A Celery worker in threads of the test process, for tests that go through a real broker."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from django.db import connection, connections
from django.db.backends.signals import connection_created


@contextlib.contextmanager
def threaded_worker(app, queues: list[str], *, concurrency: int) -> Iterator:
    """Start ``app``'s worker on ``queues``.

    Each task closes its thread's database connection when it ends. A connection a worker
    thread opens outside a task (a signal handler after ``task_postrun``, say) cannot be closed
    from this thread, and left open it keeps the test database busy at teardown ("being
    accessed by other users"): the connections the worker's threads opened are recorded, and
    those still open when the worker has stopped are ended on the server.
    """
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun

    opened: set[int] = set()
    main = threading.main_thread()

    def close_connections(**kwargs):
        connections.close_all()

    def record(sender, connection, **kwargs):
        if threading.current_thread() is not main and connection.vendor == "postgresql":
            opened.add(connection.connection.info.backend_pid)

    task_postrun.connect(close_connections, weak=False)
    connection_created.connect(record, weak=False)
    try:
        with start_worker(
            app,
            pool="threads",
            concurrency=concurrency,
            perform_ping_check=False,
            queues=queues,
            loglevel="WARNING",
            shutdown_timeout=30,
        ) as worker:
            yield worker
    finally:
        task_postrun.disconnect(close_connections)
        connection_created.disconnect(record)
        if opened and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY(%s)",
                    [sorted(opened)],
                )
