"""CSRF: an unsafe request that carries a session and no CSRF token is refused and changes nothing.

The routes come from the URL resolver: every pattern under /admin/ (each registered ModelAdmin's
add, change, delete, history and changelist — where actions are posted —, the workflow verb
pages, the letter views), /admin/tools/, /my/, /files/ and /api/ is filled in with real ids and
asked with POST (and, under /api/, PUT, PATCH and DELETE) by a signed-in client that enforces
CSRF. Without the token: 403 and the database is unchanged. With the token: not refused for CSRF
(so the test would notice if the token were never checked at all). The sign-in forms too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import SESSION_KEY
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from proposals.models import Assignment, Proposal, User
from replies.models import Feedback, Reply
from tracker import admin_tasks, jobs
from tracker.tests import admin_data
from tracker.tests.my_support import PASSWORD, handling, member, replied_proposal

pytestmark = pytest.mark.django_db

UNSAFE = ("post", "put", "patch", "delete")
# Tables a refused request may write: the session (renewed on every request), the access audit
# (a CSRF refusal is recorded there on purpose) and django-axes' bookkeeping.
NOT_STATE = {"sessions.session", "proposals.accessevent"}
NOT_STATE_APPS = {"axes"}
# Routes that need no token because they change nothing whoever calls them.
EXEMPT = {
    "api:not-found": "the JSON 404 for any other path under /api/; csrf_exempt, writes nothing",
}


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name"
    path: str


def _walk(patterns, namespace: str = "", prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, ns, prefix + str(p.pattern))
        elif p.name:
            yield f"{namespace}{p.name}", p


def _admin_model(name: str):
    """The model of an admin route name such as ``admin:replies_reply_preview``."""
    short = name.removeprefix("admin:")
    for model in admin.site._registry:
        if short.startswith(f"{model._meta.app_label}_{model._meta.model_name}_"):
            return model
    return None


def _first_pk(model) -> str:
    obj = model._default_manager.order_by("pk").first()
    return str(obj.pk) if obj else "999999"


def _kwargs(name: str, params: list[str], world) -> dict[str, str]:
    values = {}
    for param in params:
        if name.startswith("admin:") and param in ("object_id", "id"):
            model = _admin_model(name)
            values[param] = _first_pk(model) if model else "1"
        elif param == "verb":
            values[param] = admin.site._registry[_admin_model(name)].verbs[0].name
        elif param == "pk":
            reply_routes = ("my:reply", "my:reply_pdf", "my:feedback", "api:reply")
            reply_routes += ("api:me-reply-feedback",)
            if name.startswith(reply_routes):
                values[param] = str(world.reply.pk)
            elif name == "attachment-download":
                values[param] = "1"
            else:
                values[param] = str(world.proposal.pk)
        else:
            values[param] = {
                "assignment_id": str(world.assignment.pk),
                "job_id": world.job_id,
                "app_label": "proposals",
                "model_name": "proposal",
                "uidb64": "MQ",
                "token": "set-password",
                "content_type_id": "1",
                "object_id": "1",
            }[param]
    return values


def routes(world) -> list[Route]:
    found = []
    for name, pattern in _walk(get_resolver().url_patterns):
        params = list(pattern.pattern.regex.groupindex)
        path = reverse(name, kwargs=_kwargs(name, params, world))
        if path.startswith(("/admin/", "/my/", "/api/", "/files/")):
            found.append(Route(name, path))
    return found


def state_digest() -> str:
    """A hash of every row of every table that holds the system's state."""
    digest = hashlib.sha256()
    for model in apps.get_models():
        label = model._meta.label_lower
        if label in NOT_STATE or model._meta.app_label in NOT_STATE_APPS:
            continue
        for row in model._default_manager.order_by("pk").values_list():
            digest.update(repr((label, row)).encode())
    return digest.hexdigest()


@dataclass
class World:
    committee: User
    clerk: User
    proposer: User
    proposal: Proposal
    assignment: Assignment
    reply: Reply
    job_id: str


@pytest.fixture
def world(committee, session, settings, tmp_path) -> World:
    settings.MEDIA_ROOT = tmp_path
    h = handling(committee)
    proposer = member("csrf_member", "张晓钟")
    done = replied_proposal(h, session=session, lead=proposer.proposer, store_pdf=False)
    # A draft too, so the letter editor's routes have something to act on.
    session.refresh_from_db()  # filing took a serial
    fresh = admin_data.assign(admin_data.filed_proposal(session), h.unit)
    admin_data.reply(fresh, state=Reply.State.DRAFT)
    return World(
        committee=committee,
        clerk=h.clerk,
        proposer=proposer,
        proposal=done.proposal,
        assignment=done.lead,
        reply=done.reply,
        job_id=jobs.create(admin_tasks.SESSION_PDFS, user_id=committee.pk, payload={}),
    )


def csrf_client(user: User | None) -> Client:
    """A client that enforces CSRF and, like a browser on a forged request, sends the CSRF
    cookie along: only the token in the form or header is missing."""
    client = Client(enforce_csrf_checks=True)
    client.cookies[settings.CSRF_COOKIE_NAME] = _get_new_csrf_string()
    if user is not None:
        client.force_login(user)
    return client


def token_for(client: Client) -> str:
    """The token a page of the site would have given: the cookie's secret."""
    return client.cookies[settings.CSRF_COOKIE_NAME].value


def refused_for_csrf(response) -> bool:
    return response.status_code == 403 and b"CSRF" in response.content


def assert_refused_then_accepted(user: User | None, route: Route, method: str, data=None):
    client = csrf_client(user)
    before = state_digest()
    send = getattr(client, method)
    kwargs = {"content_type": "application/json"} if route.path.startswith("/api/") else {}
    payload = data if data is not None else ({} if not kwargs else "{}")
    response = send(route.path, payload, **kwargs)
    who = user.username if user else "anonymous"
    assert refused_for_csrf(response), (who, method, route, response.status_code)
    assert state_digest() == before, (who, method, route, "changed state")
    if user is not None:
        assert client.session.get(SESSION_KEY) == str(user.pk), "the session itself survives"
    # The same request with the token is not refused for CSRF (so the check above can fail).
    token = token_for(client)
    with_token = send(route.path, payload, HTTP_X_CSRFTOKEN=token, **kwargs)
    assert not refused_for_csrf(with_token), (who, method, route, with_token.content[:200])


def test_every_admin_and_tools_route_refuses_a_post_without_the_token(world):
    admin_routes = [
        r
        for r in routes(world)
        if r.path.startswith("/admin/") and r.name not in ("admin:logout", "admin:login")
    ]
    for route in admin_routes:
        user = world.clerk if "replies_" in route.name else world.committee
        assert_refused_then_accepted(user, route, "post")
    # Every registered ModelAdmin's add, change and changelist were among them, and the tools.
    names = {r.name for r in admin_routes}
    for model in admin.site._registry:
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        assert {f"{info}_add", f"{info}_change", f"{info}_changelist"} <= names, info
    assert {n for n in names if n.startswith("tracker_admin:")} >= {
        "tracker_admin:import",
        "tracker_admin:render_pdfs",
        "tracker_admin:statistics",
    }
    assert any(n.endswith("_preview") for n in names)  # the letter views
    assert len(admin_routes) > 60


def test_a_changelist_action_and_a_workflow_verb_are_refused_without_the_token(world):
    """The POSTs that do the work: an action on selected rows, and a verb page's confirm."""
    action = Route("admin:proposals_assignment_changelist", "/admin/proposals/assignment/")
    verb = admin.site._registry[Assignment].verbs[0].name
    data = {"action": verb, "_selected_action": [str(world.assignment.pk)], "apply": "1"}
    assert_refused_then_accepted(world.committee, action, "post", data)
    for route in routes(world):
        if route.name.startswith("admin:proposals_") and "verb" in route.name:
            assert_refused_then_accepted(world.committee, route, "post", {"apply": "1"})


def test_signing_out_is_refused_without_the_token(world):
    for name in ("admin:logout", "my:logout"):
        route = Route(name, reverse(name))
        assert_refused_then_accepted(world.committee, route, "post")


def test_the_sign_in_forms_refuse_a_post_without_the_token(world):
    for name in ("admin:login", "my:login", "my:login_link"):
        route = Route(name, reverse(name))
        data = {"username": world.committee.username, "password": PASSWORD}
        client = csrf_client(None)
        response = client.post(route.path, data)
        assert refused_for_csrf(response), name
        assert SESSION_KEY not in client.session, "not signed in"
        response = client.post(route.path, data, HTTP_X_CSRFTOKEN=token_for(client))
        assert not refused_for_csrf(response), name


def test_every_my_route_refuses_a_post_without_the_token(world):
    my_routes = [
        r for r in routes(world) if r.path.startswith("/my/") and r.name not in ("my:logout",)
    ]
    for route in my_routes:
        if route.name in ("my:login", "my:login_link"):
            continue  # the sign-in forms, above
        assert_refused_then_accepted(world.proposer, route, "post")
    assert {"my:proposal_new", "my:proposal_submit", "my:feedback"} <= {r.name for r in my_routes}
    assert Feedback.objects.count() == 0


def test_every_unsafe_api_method_with_a_session_and_no_token_is_refused(world):
    """DRF's SessionAuthentication enforces CSRF; public views take no credentials at all, and
    the integration views take a token only, so a session never reaches them either."""
    api_routes = [r for r in routes(world) if r.path.startswith(("/api/", "/files/"))]
    tested = 0
    for route in api_routes:
        if route.name in EXEMPT:
            continue
        for method in UNSAFE:
            for user in (world.proposer, world.committee):
                client = csrf_client(user)
                before = state_digest()
                kwargs = {"content_type": "application/json"}
                response = getattr(client, method)(route.path, "{}", **kwargs)
                assert response.status_code in (401, 403, 405), (method, route, response)
                if response.status_code == 405:
                    # Not accepted at all: the view refuses the method before anything else.
                    assert route.name.startswith(("api:schema", "api:docs")) or (_public(route)), (
                        method,
                        route,
                        "405 from a view that reads the session",
                    )
                assert state_digest() == before, (method, route)
                tested += 1
    # The member routes that write are among them, refused by CSRF in particular.
    feedback = Route("api:me-reply-feedback", f"/api/v1/me/replies/{world.reply.pk}/feedback/")
    submit = Route("api:me-proposal-list", "/api/v1/me/proposals/")
    for route in (feedback, submit):
        assert_refused_then_accepted(world.proposer, route, "post", "{}")
    integration = Route("api:integration-proposal-import", "/api/v1/integration/proposals/import/")
    response = csrf_client(world.committee).post(integration.path, "{}", "application/json")
    assert response.status_code in (401, 403), "a session is no credential for integration"
    assert tested > 50


def _public(route: Route) -> bool:
    """A view that takes no credentials: a session changes nothing it does."""
    from django.urls import resolve

    view = resolve(route.path).func
    cls = getattr(view, "cls", None)
    return cls is not None and not any(
        "Session" in a.__name__ for a in getattr(cls, "authentication_classes", ())
    )
