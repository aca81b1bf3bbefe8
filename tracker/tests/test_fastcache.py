"""tracker.fastcache: a cache hit of a public answer served in front of Django is the answer the
whole stack gives — status, every header byte for byte, body — and a publication, a cookie, an
Authorization header, a conditional GET, HEAD, a throttle or Redis going away change what it
does exactly as they change Django's answer."""

from __future__ import annotations

import io
import json
import sys
import uuid

import pytest
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_started
from django.db import close_old_connections
from prometheus_client import REGISTRY

from publication.hooks import bump_stamp
from publication.tests.conftest import publish
from replies.api import public_cache
from tracker.fastcache import FastCache
from tracker.logging import CLIENT_IP_ENVIRON, REQUEST_ID_ENVIRON

pytestmark = pytest.mark.django_db
API = "/api/v1/replies/"


class Counting:
    """Django's WSGI handler, counting the requests that reach it."""

    def __init__(self) -> None:
        self.handler = WSGIHandler()
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.handler(environ, start_response)


def call(app, path: str, *, method: str = "GET", **headers: str):
    """``(status, headers, body, environ)`` of one request, as gunicorn would make it."""
    path, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "HTTP_X_REQUEST_ID": "fixed-request-id",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    environ.update(headers)
    seen = []

    def start_response(status, response_headers, exc_info=None):
        seen[:] = [status, list(response_headers)]

    # As Django's test client: the test's transaction is not a connection to close.
    request_started.disconnect(close_old_connections)
    try:
        body = b"".join(app(environ, start_response))
    finally:
        request_started.connect(close_old_connections)
    return seen[0], seen[1], body, environ


@pytest.fixture
def apps():
    django = Counting()
    return FastCache(django), django


@pytest.fixture(autouse=True)
def _fresh(settings, db):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}
    settings.ALLOWED_HOSTS = ["testserver"]
    bump_stamp()  # a stamp no earlier test left answers (or a stamp's copy) under
    cache.delete(public_cache.stamp_key())


@pytest.fixture
def library(session):
    return {key: publish(key, session) for key in ("lift", "rental")}


def urls(library) -> list[str]:
    pk = library["lift"].pk
    return [
        "/public/",
        "/public/?q=%E7%94%B5%E6%A2%AF",
        f"/public/replies/{pk}/",
        "/public/feed.atom",
        "/sitemap.xml",
        API,
        f"{API}{pk}/",
    ]


@pytest.mark.parametrize("embedded", [False, True])
def test_a_hit_is_byte_for_byte_the_whole_stacks_answer(apps, library, settings, embedded):
    if embedded:
        settings.PUBLIC_EMBED_ORIGINS = ["https://www.example.gov.cn"]
    fast, django = apps
    for url in urls(library):
        call(fast, url)  # a miss: Django builds it, and it is copied
        before = django.calls
        status, headers, body, environ = call(fast, url)
        assert django.calls == before, f"{url} was not served from the copy"
        full = call(django, url)
        assert (status, headers, body) == full[:3], url
        assert status == "200 OK"
        names = {name for name, _ in headers}
        assert {"ETag", "Last-Modified", "Cache-Control", "X-Request-ID"} <= names, url
        assert {"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"} <= names
        policy = dict(headers)["Content-Security-Policy"]
        if embedded and not url.startswith(API):  # the portal frames its pages, not the API
            assert "X-Frame-Options" not in names
            assert "frame-ancestors https://www.example.gov.cn" in policy
        else:
            assert dict(headers)["X-Frame-Options"] == "DENY"
            assert "frame-ancestors 'none'" in policy
        # What gunicorn's access log reads.
        assert environ[REQUEST_ID_ENVIRON] == "fixed-request-id"
        assert environ[CLIENT_IP_ENVIRON] == "127.0.0.1"


def test_a_copy_made_from_a_fresh_render_equals_a_cached_answer(apps, library):
    """The first request of a URL renders it (nothing cached anywhere) and is copied: the copy
    is still what the stack answers from its cache."""
    fast, django = apps
    for url in urls(library):
        first = call(fast, url)  # Django renders it
        full = call(django, url)  # Django's answer from its cache
        again = call(fast, url)
        assert first[:3] == full[:3] == again[:3], url


def test_each_request_gets_its_own_request_id_and_is_counted(apps, library):
    fast, _ = apps
    call(fast, "/public/")

    def counted():
        sample = REGISTRY.get_sample_value
        return (
            sample("tracker_public_fastcache_responses_total", {"status": "200"}) or 0,
            sample("django_http_requests_total_by_method_total", {"method": "GET"}) or 0,
            sample("django_http_responses_total_by_status_total", {"status": "200"}) or 0,
        )

    before = counted()
    _, headers, _, environ = call(fast, "/public/", HTTP_X_REQUEST_ID="")
    request_id = dict(headers)["X-Request-ID"]
    assert len(request_id) == 32 and environ[REQUEST_ID_ENVIRON] == request_id
    assert dict(call(fast, "/public/", HTTP_X_REQUEST_ID="")[1])["X-Request-ID"] != request_id
    assert [after - b for after, b in zip(counted(), before, strict=True)] == [2, 2, 2]


def test_a_publication_is_served_by_the_next_request_after_its_commit(
    apps, session, django_capture_on_commit_callbacks
):
    fast, django = apps
    publish("lift", session)
    for url in ("/public/", API):
        call(fast, url)
    assert "共 1 件" in call(fast, "/public/")[2].decode()
    with django_capture_on_commit_callbacks(execute=True):
        publish("rental", session)
    before = django.calls
    page = call(fast, "/public/")[2].decode()
    assert "共 2 件" in page and django.calls == before + 1  # a miss: Django built it
    assert len(json.loads(call(fast, API)[2])["results"]) == 2
    before = django.calls
    assert "共 2 件" in call(fast, "/public/")[2].decode()
    assert django.calls == before  # and copied again


def test_a_stamp_changed_without_its_copy_being_replaced_shows_once_the_copy_expires(apps, library):
    """The copy of the stamp lives a second: a commit whose ``publish_stamp`` did not run (a
    process killed, rows written in bulk) is visible once it is read again."""
    fast, django = apps
    call(fast, "/public/")
    call(fast, "/public/")
    bump_stamp()  # its on_commit never runs inside the test's transaction
    before = django.calls
    call(fast, "/public/")
    assert django.calls == before  # the copy still says the old stamp
    cache.delete(public_cache.stamp_key())  # what STAMP_TTL does
    call(fast, "/public/")
    assert django.calls == before + 1


def test_a_correction_makes_the_page_410_at_once(apps, library, django_capture_on_commit_callbacks):
    from publication.tests.test_pages import correct

    fast, _ = apps
    url = f"/public/replies/{library['rental'].pk}/"
    assert call(fast, url)[0] == "200 OK" and call(fast, url)[0] == "200 OK"
    with django_capture_on_commit_callbacks(execute=True):
        correct(library["rental"], "一、公租房供应\n今年新增公租房900套。")
    assert call(fast, url)[0].startswith("410")
    gone = call(fast, url)
    assert gone[:3] == call(apps[1], url)[:3]


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_COOKIE": "sessionid=abc"},
        {"HTTP_COOKIE": "csrftoken=x; sessionid=abc"},
        {"HTTP_COOKIE": "messages=abc"},
        {"HTTP_AUTHORIZATION": "Bearer abc"},
        {"HTTP_IF_MATCH": '"x"'},
    ],
)
def test_a_session_cookie_or_authorization_goes_to_django(apps, library, headers):
    fast, django = apps
    call(fast, "/public/")
    call(fast, API)
    for url in ("/public/", API):
        before = django.calls
        call(fast, url, **headers)
        assert django.calls == before + 1, (url, headers)


def test_a_csrf_cookie_alone_is_served_from_the_copy(apps, library):
    fast, django = apps
    call(fast, "/public/")
    before = django.calls
    cookie = "csrftoken=" + "a1B2" * 8
    status, headers, body, _ = call(fast, "/public/", HTTP_COOKIE=cookie)
    assert django.calls == before
    assert (status, headers, body) == call(django, "/public/", HTTP_COOKIE=cookie)[:3]
    # A malformed one Django replaces (Set-Cookie): that answer is Django's.
    before = django.calls
    replaced = call(fast, "/public/", HTTP_COOKIE="csrftoken=abc")
    assert django.calls == before + 1 and "Set-Cookie" in dict(replaced[1])


def test_conditional_gets_answer_304_with_the_stacks_headers(apps, library):
    fast, django = apps
    for url in ("/public/", API, f"{API}{library['lift'].pk}/"):
        _, headers, _, _ = call(fast, url)
        etag, modified = dict(headers)["ETag"], dict(headers)["Last-Modified"]
        for condition in ({"HTTP_IF_NONE_MATCH": etag}, {"HTTP_IF_MODIFIED_SINCE": modified}):
            call(fast, url, **condition)  # the first 304 is Django's, and copied
            before = django.calls
            answer = call(fast, url, **condition)
            assert django.calls == before, (url, condition)
            assert answer[0] == "304 Not Modified" and answer[2] == b""
            assert answer[:3] == call(django, url, **condition)[:3], (url, condition)
        # A stale copy gets the whole answer, still from the copy.
        before = django.calls
        stale = call(fast, url, HTTP_IF_NONE_MATCH='"stale"')
        assert stale[0] == "200 OK" and django.calls == before
        assert stale[:3] == call(django, url, HTTP_IF_NONE_MATCH='"stale"')[:3]


def test_head_is_served_from_the_copy_with_the_stacks_headers(apps, library):
    fast, django = apps
    for url in ("/public/", API):
        call(fast, url)
        before = django.calls
        head = call(fast, url, method="HEAD")
        assert django.calls == before
        assert head[:2] == call(django, url, method="HEAD")[:2]
        assert dict(head[1])["Content-Length"] == dict(call(fast, url)[1])["Content-Length"]


def test_other_paths_methods_and_hosts_go_to_django(apps, library):
    fast, django = apps
    pk = library["lift"].pk
    for url in (f"/public/replies/{pk}.pdf", "/healthz", "/api/v1/sessions/", "/admin/"):
        call(fast, url)
        before = django.calls
        call(fast, url)
        assert django.calls == before + 1, url
    call(fast, "/public/")
    before = django.calls
    assert not call(fast, "/public/", method="POST")[0].startswith("200")
    assert call(fast, "/public/", HTTP_HOST="evil.example")[0].startswith("400")
    assert django.calls == before + 2


def test_the_api_throttle_still_counts_the_hits(apps, library, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/min"},
    }
    fast, _ = apps
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"
    statuses = [call(fast, API, REMOTE_ADDR=address)[0][:3] for _ in range(5)]
    assert statuses == ["200", "200", "200", "429", "429"]


def test_with_redis_down_every_request_goes_to_django(apps, library, settings):
    fast, django = apps
    call(fast, "/public/")
    settings.CACHES = {
        "default": {
            "BACKEND": "tracker.cache.FallbackRedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    for _ in range(3):
        before = django.calls
        status, _, body, _ = call(fast, "/public/")
        assert status == "200 OK" and "共 2 件" in body.decode()
        assert django.calls == before + 1


def test_without_redis_every_request_goes_to_django(apps, library, settings):
    """A process's own cache would not see another worker's commit: no fast path."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    fast, django = apps
    for _ in range(3):
        before = django.calls
        assert call(fast, "/public/")[0] == "200 OK"
        assert django.calls == before + 1


def test_a_path_out_of_ascii_reaches_django_as_the_server_gave_it(apps, library):
    """The fast path reads the request from a copy of the environ: Django decodes the path
    itself (WSGI gives its bytes as latin-1)."""
    fast, django = apps
    path = f"{API}编号/".encode().decode("latin-1")
    answer = call(fast, path)
    assert answer[0].startswith("404") and answer[:3] == call(django, path)[:3]
