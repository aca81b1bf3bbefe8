"""What a web process loads on its first request, loaded before it serves one (issue 24).

Django loads most of a site lazily: the URLconf (and with it every view module, the admin's
included: about two thirds of a first request), the compiled templates, the translation
catalogues, the password hashers. A fresh gunicorn worker paid all of it on the first request
it served — a committee member's first dashboard after a restart took 1.8 s instead of 0.1 s.

gunicorn preloads the application (``preload_app`` in gunicorn.conf.py) and calls ``warm()`` in
the master before it forks the workers, so each worker starts with all of it in memory (shared
with the master, copy-on-write) and ``gc.freeze()`` keeps the collector from touching — and so
copying — those pages. ``warm_worker()`` then runs in each worker (``post_worker_init``): its own
database connection, opened before the first request rather than during it.

Nothing here reads or writes data: ``warm()`` touches the database only to close what Django
opened (a forked child must not share its parent's connection), and no cache or broker.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterator
from pathlib import Path

logger = logging.getLogger(__name__)

#: URL names resolved and reversed once: the pages people open first after a restart.
FIRST_PAGES = ("admin:index", "admin:login", "my:index", "my:login")


def warm() -> dict[str, float]:
    """Load what the first requests need, in this process; seconds each part took."""
    timings: dict[str, float] = {}
    for name, step in (
        ("urls", _urls),
        ("templates", _templates),
        ("translations", _translations),
        ("auth", _auth),
    ):
        started = time.perf_counter()
        try:
            step()
        except Exception:  # a warm-up never stops the server: the request will load it then
            logger.exception("warm-up step %s failed", name)
        timings[name] = round(time.perf_counter() - started, 3)
    _close_connections()
    gc.collect()
    gc.freeze()
    return timings


def warm_worker(application=None) -> None:
    """In a forked worker: its database connection, before the first request needs it, and
    one row of every table read through it, so that the PostgreSQL backend serving this
    connection has the tables' and indexes' catalogue entries cached (a new backend reads
    them on first use: most of what a first request still cost after preloading)."""
    from django.apps import apps
    from django.db import DatabaseError, connection

    try:
        connection.ensure_connection()
    except Exception:  # the database may be down at start: the request will say so
        logger.warning("warm-up: no database connection yet", exc_info=True)
        return
    for model in apps.get_models():
        try:
            list(model._base_manager.values_list("pk", flat=True)[:1])
        except DatabaseError:  # a table not migrated yet: the request will say so
            continue
    if application is not None:
        _first_request(application)


def _first_request(application) -> None:
    """The sign-in page, served once inside this worker (nobody signed in, nothing written):
    after ``fork`` every page of the master's memory the first request writes to — reference
    counts, caches — is copied for this process (≈ 2,400 pages, 20–30 ms on this VM); this way
    the first person's request does not pay for the ones on its way. It is counted in the
    request metrics like any other."""
    import io
    import sys

    from django.conf import settings

    hosts = [h.lstrip(".") for h in settings.ALLOWED_HOSTS if h and "*" not in h]
    host = hosts[0] if hosts else "localhost"
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/admin/login/",
        "QUERY_STRING": "",
        "SERVER_NAME": host,
        "SERVER_PORT": "80",
        "HTTP_HOST": host,
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if getattr(settings, "SECURE_SSL_REDIRECT", False):  # behind the TLS proxy, as it sends it
        environ.update({"wsgi.url_scheme": "https", "HTTP_X_FORWARDED_PROTO": "https"})
    try:
        body = application(environ, lambda status, headers, exc_info=None: None)
        try:
            for _chunk in body:
                pass
        finally:
            getattr(body, "close", lambda: None)()
    except Exception:  # a warm-up never stops the worker
        logger.warning("warm-up: the sign-in page failed", exc_info=True)


def _urls() -> None:
    """The URLconf and every module it imports; the resolvers' reverse dictionaries."""
    from django.urls import get_resolver, reverse

    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 - imports the URLconf
    _populate(resolver)
    for name in FIRST_PAGES:
        path = reverse(name)
        resolver.resolve(path)


def _populate(resolver) -> None:
    """Every resolver's reverse dictionary, namespaces included (each is built on the first
    ``reverse`` into it: the dashboard links into a dozen)."""
    from django.urls import URLResolver

    resolver._populate()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            _populate(pattern)


def _templates() -> None:
    """Every template of the project and its apps, compiled into the cached loaders."""
    from django.template import TemplateDoesNotExist, TemplateSyntaxError, engines

    for engine in engines.all():
        for name in _template_names(engine):
            try:
                engine.get_template(name)
            except (TemplateDoesNotExist, TemplateSyntaxError, UnicodeDecodeError):
                continue


def _template_names(engine) -> Iterator[str]:
    directories = getattr(engine, "template_dirs", ())
    for directory in directories:
        root = Path(directory)
        for path in sorted(root.rglob("*.html")):
            yield path.relative_to(root).as_posix()


def _translations() -> None:
    """The catalogues of the site's language (every app's, merged on first use)."""
    from django.conf import settings
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        translation.gettext("warm-up")
    translation.get_language_info(settings.LANGUAGE_CODE)


def _auth() -> None:
    """The password hashers and validators, and the published passwords a sign-in refuses
    (``settings.PUBLISHED_PASSWORDS`` names a function of the demo: importing it took most of a
    member's first sign-in)."""
    from django.contrib.auth import hashers, password_validation

    from proposals.passwords import published_passwords

    hashers.get_hashers()
    password_validation.get_default_password_validators()
    published_passwords()


def _close_connections() -> None:
    from django.db import connections

    connections.close_all()
