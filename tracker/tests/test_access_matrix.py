"""The access matrix: every route that takes an object id × every actor × every method, and the
outcome each gets, against the committed table ``access_matrix.csv``.

The routes are not listed by hand. ``access_support.routes()`` walks the URL configuration
(admin change/delete/history pages and the admin's own object views, /admin/tools/, /my/,
/files/) and reads the API schema drf-spectacular generates; each parameter is filled in with
an object of one small world. A route added later is asked too, and fails here until its rows
are in the table: regenerate the table with

    ACCESS_MATRIX_WRITE=1 pytest tracker/tests/test_access_matrix.py

then review every changed row against SECURITY.md's "Who may see what" before committing.

The table records behaviour; ``access_policy`` says what the behaviour should be (who may not
know an object exists, who may only read it), written from SECURITY.md without asking the code.
Every row of the table must agree with it, and regenerating refuses to write a row it
contradicts: a change of behaviour that is a change of policy is made in ``access_policy`` first.

The actors: the committee, the supervision office, a clerk and a signer of the lead unit, a clerk
of a unit that has nothing to do with the proposal, clerks of the lead and the co-handling unit the
proposal was first assigned to and then withdrawn from (申请退回 approved), the proposal's proposer,
another member, and anonymous; the methods: GET, HEAD, POST, PUT, PATCH and DELETE, unsafe ones
with an empty body and no CSRF check (CSRF is tested elsewhere). GET and HEAD must write nothing;
an unsafe request from an actor who may change something runs in a savepoint rolled back after it,
so the next one sees the same world; from a foreign or read-only actor, and whenever it is refused,
it must write nothing at all (the access audit's own rows aside).

Then: every actor who may not know that the object exists gets, for every method, the answer
of an id that names nothing — the same status, redirect and messages, and the same body once
the id is written out.
"""

from __future__ import annotations

import csv
import fcntl
import logging
import os
import re
from collections import defaultdict
from contextlib import nullcontext
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.template import Template
from django.test import Client, override_settings
from django.test.utils import _TestState
from django.urls import Resolver404, resolve

from proposals.models import AccessEvent
from tracker.tests import access_policy as policy
from tracker.tests import access_support as s

pytestmark = pytest.mark.django_db

CSV_PATH = Path(__file__).with_name("access_matrix.csv")
COLUMNS = ("route", "object", "actor", "method", "expected")
WRITE = os.environ.get("ACCESS_MATRIX_WRITE") == "1"

ROUTES = s.routes()
#: Redirect targets that refuse: a sign-in page, or the admin's index with "does not exist".
REFUSING_REDIRECTS = frozenset({"admin:login", "my:login", "admin:index"})


def load_table() -> dict[tuple[str, str], dict[tuple[str, str], str]]:
    table: dict[tuple[str, str], dict[tuple[str, str], str]] = defaultdict(dict)
    if CSV_PATH.exists():
        with CSV_PATH.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                table[(row["route"], row["object"])][(row["actor"], row["method"])] = row[
                    "expected"
                ]
    return table


TABLE = load_table()
OBSERVED: dict[tuple[str, str], dict[tuple[str, str], str]] = {}


def write_table(observed: dict) -> None:
    """Merge what this process observed into the CSV (under a lock: xdist workers each write
    their share), drop the rows of routes that are gone, and write it sorted. A table the
    policy contradicts is not written."""
    current = {(r.key, r.obj) for r in ROUTES}
    with open(CSV_PATH.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        table = load_table()
        table.update(observed)
        table = {key: cells for key, cells in table.items() if key in current}
        unread = unreadable(table) if all(key in table for key in current) else []
        assert not unread, "not written, the policy says these may read:\n" + "\n".join(unread)
        rows = sorted(
            (route, obj, actor, method, outcome)
            for (route, obj), cells in table.items()
            if (route, obj) in current
            for (actor, method), outcome in cells.items()
        )
        with CSV_PATH.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(COLUMNS)
            writer.writerows(rows)
    CSV_PATH.with_suffix(".lock").unlink(missing_ok=True)


# --- The world, built once ------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the module in a transaction rolled back at its end (as Django's
    ``setUpTestData``); each test runs in a savepoint of it."""
    from django.conf import settings

    overrides = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        AXES_ENABLED=False,
        MEDIA_ROOT=tmp_path_factory.mktemp("access-media"),
        # Sessions in a signed cookie: thousands of requests without a session row each.
        SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}},
    )
    with (
        django_db_blocker.unblock(),
        overrides,
        pytest.MonkeyPatch.context() as mp,
        transaction.atomic(),
    ):
        # The letters' PDFs are not under test: a tiny one instead of WeasyPrint's.
        mp.setattr("replies.pdf.render_letter_pdf", lambda *a, **k: s.TINY_PDF)
        # The test client's record of every template rendered and a copy of its context, on
        # ten thousand pages, is a third of the time; nothing here reads it.
        original = getattr(_TestState, "saved_data", None)
        if original is not None:
            mp.setattr(Template, "_render", original.template_render)
        world = s.build_world()
        world.clients = {}
        for actor in s.ACTORS:
            client = Client(raise_request_exception=False)
            if world.actors[actor] is not None:
                client.force_login(world.actors[actor])
            world.clients[actor] = client
        world.digest_sql = digest_sql()
        world.baseline = digest(world)
        # Refusals are logged with their traceback by Django: thousands of them here.
        quiet = [logging.getLogger(name) for name in ("django.request", "django.security")]
        levels = [logger.level for logger in quiet]
        for logger in quiet:
            logger.setLevel(logging.ERROR)
        yield world
        for logger, level in zip(quiet, levels, strict=True):
            logger.setLevel(level)
        transaction.set_rollback(True)
    from django.core.cache import cache

    cache.delete_many([f"tracker:admin-job:{j}" for j in world.jobs.values()])


@pytest.fixture(scope="module", autouse=True)
def _write_table_at_the_end():
    yield
    if WRITE and OBSERVED:
        write_table(OBSERVED)


def digest_sql() -> str:
    """One query: a hash of every row of every table of the project's models (but the access
    audit, which records refusals on purpose)."""
    tables = sorted(
        {
            m._meta.db_table
            for m in apps.get_models()
            if m._meta.managed
            and not m._meta.proxy
            and m is not AccessEvent
            and m._meta.app_label
            in {"proposals", "replies", "tracker", "auth", "authtoken", "admin", "axes"}
        }
    )
    parts = [
        f"SELECT '{t}', md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{t}\" t"
        for t in tables
    ]
    return " UNION ALL ".join(parts)


def digest(world) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(world.digest_sql)
        return sorted(cursor.fetchall())


# --- Asking ---------------------------------------------------------------------------------


def outcome(response) -> str:
    """The status, and for a redirect where it goes (the URL name of its target)."""
    code = response.status_code
    if 300 <= code < 400 and response.has_header("Location"):
        path = urlsplit(response["Location"]).path
        try:
            match = resolve(path)
        except Resolver404:
            return f"{code} {path}"
        return f"{code} {match.view_name or match.route}"
    return str(code)


def is_refusal(expected: str) -> bool:
    code, _sep, target = expected.partition(" ")
    return int(code) >= 400 or target in REFUSING_REDIRECTS


# --- The policy ------------------------------------------------------------------------------

#: The admin's ``<id>/`` pattern sends whoever is signed in to ``<id>/change/`` without looking
#: the id up: it says nothing about the object.
BARE_ADMIN_ID = "/<path:object_id>/"
_PUBLIC: dict[str, bool] = {}


def is_public(route_key: str) -> bool:
    """Whether a route of the table is on the public surface (the public API and pages:
    whoever asks, only publication counts)."""
    if route_key not in _PUBLIC:
        route = next(r for r in ROUTES if r.key == route_key)
        url = "/" + route.template.format(**{p: "1" for p, _what in route.params})
        _PUBLIC[route_key] = s.is_public_route(route, url)
    return _PUBLIC[route_key]


def shows(route_key: str, outcome: str) -> bool:
    """Whether an answer shows or acts on the object: neither a refusal nor the admin's
    redirect from ``<id>/`` to ``<id>/change/`` (given for any id)."""
    forward = route_key.endswith(BARE_ADMIN_ID) and outcome.startswith("30")
    return not (is_refusal(outcome) or forward)


def contradictions(route_key: str, obj: str, cells: dict[tuple[str, str], str]) -> list[str]:
    """The cells of one route where the code shows an object to someone the policy hides it
    from."""
    public = is_public(route_key)
    return [
        f"{route_key} [{obj}] {actor} {method} → {got}: the policy says "
        f"{policy.outcome(actor, obj, public=public).value}"
        for (actor, method), got in sorted(cells.items())
        if shows(route_key, got) and not policy.may_read(actor, obj, public=public)
    ]


def unreadable(table: dict) -> list[str]:
    """Actors the policy lets read an object (on the public surface, or elsewhere) to whom no
    route of that kind answers a GET for it with 200."""
    shown: set[tuple[str, str, bool]] = set()
    asked: set[tuple[str, bool]] = set()
    for (route_key, obj), cells in table.items():
        public = is_public(route_key)
        asked.add((obj, public))
        for (actor, method), got in cells.items():
            if method == "GET" and got == "200":
                shown.add((obj, actor, public))
    return [
        f"{obj} {actor} ({'public' if public else 'signed-in'} routes): "
        f"{policy.outcome(actor, obj, public=public).value}, but no route shows it"
        for obj, public in sorted(asked)
        for actor in s.ACTORS
        if policy.may_read(actor, obj, public=public) and (obj, actor, public) not in shown
    ]


class Writes:
    """Records the statements that write (an execute wrapper: no query of its own), but the
    access audit's rows, which record refusals on purpose."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        verb = sql.lstrip()[:8].upper()
        writing = verb.startswith(("INSERT", "UPDATE", "DELETE", "TRUNCATE"))
        if writing and AccessEvent._meta.db_table not in sql:
            self.seen.append(sql[:160])
        return execute(sql, params, many, context)


def ask(world, actor: str, method: str, url: str, route) -> tuple:
    """One request. GET and HEAD never write; an unsafe request from an actor the policy lets
    act on the route's object runs in a savepoint rolled back afterwards; from anyone else
    (read-only or hidden), or when it is refused, it writes nothing at all."""
    client = world.clients[actor]
    client.cookies.pop("messages", None)
    writes = Writes()
    safe = method in ("GET", "HEAD")
    may_change = policy.may_write(actor, route.obj) and not is_public(route.key)
    savepoint = transaction.atomic() if not safe and may_change else nullcontext()
    with savepoint, connection.execute_wrapper(writes):
        if safe:
            response = client.generic(method, url)
        else:
            response = client.generic(
                method, url, b"", content_type="application/x-www-form-urlencoded"
            )
        got = outcome(response)
        if safe or not may_change or is_refusal(got):
            assert not writes.seen, f"{actor} {method} {url} → {got} wrote {writes.seen}"
        if not safe and may_change:
            transaction.set_rollback(True)
    return response, got


def assert_nothing_changed(world, what: str) -> None:
    changed = [a[0] for a, b in zip(world.baseline, digest(world), strict=True) if a != b]
    assert not changed, f"{what} changed {changed}"


#: What the matrix test saw of the foreign actors' answers, for the second test:
#: (route id, actor, method) -> (outcome, what the answer says with the id written out).
SEEN: dict[tuple[str, str, str], tuple[str, tuple]] = {}


# --- The matrix -----------------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.id)
def test_every_actor_and_method_gets_the_outcome_in_the_table(world, route):
    url = route.url(world)
    observed: dict[tuple[str, str], str] = {}
    errors = []
    for actor in s.ACTORS:
        foreign = not policy.may_read(actor, route.obj, public=is_public(route.key))
        for method in s.METHODS:
            response, got = ask(world, actor, method, url, route)
            observed[(actor, method)] = got
            if got.startswith("5"):
                errors.append(f"{actor} {method} {url} → {got}")
            if foreign:
                SEEN[(route.id, actor, method)] = (got, _read(route, world, response))
    assert_nothing_changed(world, f"asking {url}")
    assert not errors, errors
    against_policy = contradictions(route.key, route.obj, observed)
    assert not against_policy, "\n".join(against_policy)  # and so never written to the table
    if WRITE:
        OBSERVED[(route.key, route.obj)] = observed
    if WRITE:
        return
    expected = TABLE.get((route.key, route.obj))
    assert expected, (
        f"{route.id} is not in {CSV_PATH.name}: regenerate it with ACCESS_MATRIX_WRITE=1 and "
        "review the new rows against SECURITY.md"
    )
    differences = [
        f"{actor:15} {method:6} expected {expected.get((actor, method))!r:28} got {got!r}"
        for (actor, method), got in observed.items()
        if expected.get((actor, method)) != got
    ]
    assert not differences, f"{route.id} ({url}):\n" + "\n".join(differences)


def _read(route, world, response, *, missing: bool = False) -> tuple:
    """What an answer says — status, redirect, messages, body — with the id written as <id>."""
    storage = getattr(response.wsgi_request, "_messages", None)
    messages = [str(m) for m in getattr(storage, "_queued_messages", [])]
    body = b"<a streamed file>" if response.streaming else response.content
    text = "\n".join([response.get("Location", ""), *messages, body.decode("utf-8", "replace")])
    url = route.url(world, missing=missing)
    placeholder = "/" + route.template.format(**{p: f"<{p}>" for p, _w in route.params})
    text = text.replace(url, placeholder).replace(quote(url, safe=""), quote(placeholder))
    for param, what in route.params:
        value = world.value(what, route, missing=missing)
        for form in (f"/{value}/", f"“{value}”", f'"{value}"', f">{value}<"):
            text = text.replace(form, form.replace(value, f"<{param}>"))
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)
    return response.status_code, text


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.id)
def test_a_foreign_object_answers_exactly_like_a_missing_one(world, route):
    """Every actor who may not know the object exists (``access_policy``, from SECURITY.md:
    another unit, another member, anonymous — and, on a public route, nobody) gets, for every
    method, the answer of an id that names nothing: same status, redirect and messages, same
    body but for the id."""
    real_url, missing_url = route.url(world), route.url(world, missing=True)
    assert real_url != missing_url
    compared = 0
    for actor in s.ACTORS:
        if policy.may_read(actor, route.obj, public=is_public(route.key)):
            continue
        for method in s.METHODS:
            if (route.id, actor, method) not in SEEN:  # the matrix test was not run
                response, got = ask(world, actor, method, real_url, route)
                SEEN[(route.id, actor, method)] = (got, _read(route, world, response))
            got, said = SEEN[(route.id, actor, method)]
            absent, got_missing = ask(world, actor, method, missing_url, route)
            assert got_missing == got, (
                f"{actor} {method}: {real_url} → {got}, a missing id → {got_missing}"
            )
            assert said == _read(route, world, absent, missing=True), (
                f"{actor} {method} {real_url}: the answer tells the object from a missing one"
            )
            compared += 1
    assert_nothing_changed(world, f"asking {missing_url}")
    # On the public surface a published reply is everyone's: nobody is foreign to it.
    everyones = is_public(route.key) and policy.THINGS[route.obj].public
    assert compared or everyones, "nobody was foreign"


# --- Regressions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "page", ["auth/group", "authtoken/tokenproxy", "axes/accessattempt", "axes/accesslog"]
)
def test_another_apps_history_page_answers_like_a_missing_id(world, page):
    """Regression (found by the matrix): the admins of Django's groups, DRF's tokens and
    django-axes' logs answered a unit clerk's (and the committee's: neither holds Django model
    permissions) request for an existing row's history with 403, for a missing one with the
    "does not exist" redirect. Fixed by ``proposals.admin.access.HiddenUnlessViewable``;
    a superuser still sees the page."""
    from axes.models import AccessAttempt, AccessLog
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import TokenProxy

    from proposals.tests import factories as f

    model = {
        "auth/group": Group,
        "authtoken/tokenproxy": TokenProxy,
        "axes/accessattempt": AccessAttempt,
        "axes/accesslog": AccessLog,
    }[page]
    obj = world.objects[(model, "")]
    real = f"/admin/{page}/{obj.pk}/history/"
    missing = f"/admin/{page}/{world.missing_pk(model)}/history/"
    for actor in ("clerk_a", "committee"):
        client = world.clients[actor]
        assert outcome(client.get(real)) == outcome(client.get(missing)) == "302 admin:index"
    root = Client()
    root.force_login(f.UserFactory(username="am_root", is_superuser=True))
    assert root.get(real).status_code == 200


# --- The table against the policy ------------------------------------------------------------


def test_every_row_of_the_table_agrees_with_the_policy():
    """No recorded answer shows an object to an actor ``access_policy`` hides it from, and
    everyone the policy lets read an object finds it on some route of the kind (public or
    signed-in) the policy names."""
    table = load_table()
    assert sum(len(cells) for cells in table.values()) > 8000
    against = [
        line
        for (route_key, obj), cells in table.items()
        if (route_key, obj) in {(r.key, r.obj) for r in ROUTES}
        for line in contradictions(route_key, obj, cells)
    ]
    assert not against, "\n".join(against)
    current = {(r.key, r.obj) for r in ROUTES}
    unread = unreadable({key: cells for key, cells in table.items() if key in current})
    assert not unread, "\n".join(unread)


def test_the_policy_knows_every_object_and_actor_of_the_matrix():
    assert {r.obj for r in ROUTES} <= set(policy.THINGS), "teach access_policy.THINGS"
    assert set(s.ACTORS) == set(policy.ACTORS)


def test_the_policy_refuses_what_the_table_does_not_show():
    """The policy has teeth: a draft shown to another unit, a withdrawn unit's own draft shown
    to it, the supervision office acting, and a reply nobody can read are contradictions."""
    leaked = {("clerk_b", "GET"): "200", ("clerk_a", "GET"): "200"}
    assert contradictions("admin/replies/reply/<path:object_id>/change/", "Reply:draft", leaked)
    withdrawn = {("clerk_w", "GET"): "200"}
    assert contradictions(
        "admin/replies/reply/<path:object_id>/change/", "Reply:withdrawn", withdrawn
    )
    assert not policy.may_write("supervisor", "Proposal")
    assert not policy.may_write("committee", "Transition")
    hidden_everywhere = {
        ("admin/replies/reply/<path:object_id>/change/", "Reply:draft"): {
            (actor, "GET"): "403" for actor in s.ACTORS
        }
    }
    assert "Reply:draft clerk_a (signed-in routes): allowed, but no route shows it" in (
        unreadable(hidden_everywhere)
    )


#: The kinds of object the app's visibility predicates decide (SECURITY.md's table). Feedback
#: is left out: ``Feedback.objects.visible_to`` gives a proposer their own, which no route
#: shows by its id (the policy: read on the reply's page); system records are the admin's.
PREDICATE_KINDS = frozenset({"proposal", "file", "assignment", "reply", "opinion"})


def test_the_apps_predicates_hide_exactly_what_the_policy_hides(world):
    """The app's visibility predicates (``visible_to``, ``for_proposer``, ``published``, as
    ``access_support.World.may_see`` asks them) give every actor the objects the policy does."""
    disagree = [
        f"{route.id} {actor}: the code says {seen}, the policy {not seen}"
        for route in ROUTES
        if policy.THINGS[route.obj].kind in PREDICATE_KINDS
        for actor in s.ACTORS
        if (seen := world.may_see(actor, route))
        != policy.may_read(actor, route.obj, public=is_public(route.key))
    ]
    assert not disagree, "\n".join(disagree)


# --- The table and the enumeration ----------------------------------------------------------


def test_the_table_lists_exactly_the_routes_that_take_an_object_id():
    current = {(r.key, r.obj) for r in ROUTES}
    assert len(current) == len(ROUTES), "two routes share a key"
    table = load_table()
    if WRITE:
        pytest.skip("the table is being rewritten")
    new = sorted(current - set(table))
    gone = sorted(set(table) - current)
    assert not new, f"routes missing from {CSV_PATH.name} (regenerate and review): {new}"
    assert not gone, f"rows of routes that no longer exist in {CSV_PATH.name}: {gone}"
    cells = {(a, m) for a in s.ACTORS for m in s.METHODS}
    incomplete = [key for key, row in table.items() if set(row) != cells]
    assert not incomplete, incomplete
    with CSV_PATH.open(newline="", encoding="utf-8") as handle:
        rows = [tuple(row) for row in csv.reader(handle)]
    assert rows[0] == COLUMNS
    assert rows[1:] == sorted(rows[1:]), f"{CSV_PATH.name} is not sorted"


def test_the_enumeration_reaches_every_kind_of_route():
    keys = {r.key for r in ROUTES}
    families = {
        "admin change page": "admin/proposals/proposal/<path:object_id>/change/",
        "admin delete page": "admin/replies/reply/<path:object_id>/delete/",
        "admin history page": "admin/proposals/assignment/<path:object_id>/history/",
        "admin verb": "admin/proposals/proposal/<int:object_id>/do/file/",
        "admin letter view": "admin/replies/reply/<int:object_id>/preview/",
        "admin tools": "admin/tools/jobs/<str:job_id>/download/",
        "proposer pages": "my/proposals/<int:pk>/",
        "downloads": "files/attachments/<int:pk>/",
        "API": "/api/v1/replies/{id}/",
    }
    missing = {name: key for name, key in families.items() if key not in keys}
    assert not missing, missing
    admin_models = {r.model for r in ROUTES if r.key.startswith("admin/") and r.model}
    assert s.admin_models() <= admin_models | {None}


def test_every_api_route_with_a_parameter_is_in_the_schema():
    """The API's routes come from the schema: a view with a path parameter that the schema
    does not show would not be asked, so it fails here."""
    from drf_spectacular.generators import EndpointEnumerator

    documented = {
        getattr(cb, "cls", cb) for _p, _r, _m, cb in EndpointEnumerator().get_api_endpoints()
    }
    undocumented = []
    for pattern, p, ns in s._walk(s.get_resolver()):
        _tmpl, names = s._template(pattern)
        url_name = f"{ns}:{p.name}" if ns and p.name else (p.name or "")
        if not pattern.startswith("api/") or not names or url_name in s.NOT_OBJECT_ROUTES:
            continue
        if getattr(p.callback, "cls", p.callback) not in documented:
            undocumented.append(pattern)
    assert not undocumented, undocumented


#: The world's objects reached through its proposal: a unit sees them only while it holds an
#: active assignment of the proposal.
THROUGH_THE_PROPOSAL = ("Proposal", "Reply", "CoOpinion", "ProposalAttachment", "Feedback")


@pytest.mark.parametrize("actor", ["clerk_w", "clerk_x"])
def test_a_withdrawn_unit_sees_nothing_of_the_proposal(world, actor):
    """The reassignment scenario: units W and X had the proposal, each started a letter, and
    were withdrawn (申请退回 approved). Neither may know that the proposal, its files, the new
    lead's sent reply, the co-handling opinion delivered to it, or their own drafts exist (but
    what the public API publishes to everyone): so the matrix's second test holds them to the
    answers of a missing id on every one of those routes."""
    checked = 0
    for route in ROUTES:
        if route.obj.split(":")[0] not in THROUGH_THE_PROPOSAL:
            continue
        public = is_public(route.key)
        if policy.may_read("anonymous", route.obj, public=public):
            continue  # published to everyone
        assert not policy.may_read(actor, route.obj, public=public), f"{actor} may see {route.id}"
        assert not world.may_see(actor, route), f"the code lets {actor} see {route.id}"
        checked += 1
    assert checked > 20
