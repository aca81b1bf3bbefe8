"""The OpenAPI schema is valid, and the API keeps to it under generated input (Schemathesis).

Schemathesis reads the schema the app serves (``/api/schema/``) and calls the app in-process
through WSGI, inside the test's transaction on PostgreSQL, with valid and invalid data for
every public and member operation (the member ones with a member's token). Checks: no server
error; every status, content type and body is the one the schema documents; input that breaks
the schema gets a 4xx. The number of examples is bounded so the run stays well under a minute.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

from proposals.tests import factories as f
from tracker.tests import api_support as s

pytestmark = pytest.mark.django_db

EXAMPLES = {"positive": 25, "negative": 20}


@pytest.fixture(autouse=True)
def _api(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}


def test_the_schema_validates_without_warnings():
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


def test_the_docs_page_loads_its_assets_from_the_app():
    page = Client().get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    asset = Client().get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200


@pytest.fixture
def in_process_wsgi():
    """Requests through WSGI inside the test's transaction: like Django's test client, keep the
    request signals from closing the connection that holds it."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(committee, session):
    h = s.handling(committee)
    p1, p2 = s.member("p1", "张文浩"), s.member("p2", "钱建峰")
    s.handled(h, session=session, lead=p1.proposer, coproposers=(p2.proposer,), store_pdf=True)
    s.bulk_published(15, session=session, units=[h.unit, h.co_unit], lead=p1.proposer)
    f.SessionFactory(term=15, meeting=3, name="十五届三次会议", year=2025)
    return {"p1": p1}


def test_public_and_member_operations_keep_to_the_schema(world, in_process_wsgi):
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        negative_data_rejection,
        response_schema_conformance,
        status_code_conformance,
    )

    from tracker.wsgi import application

    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
        negative_data_rejection,
    ]
    token = {"Authorization": f"Token {s.token_for(world['p1'])}"}
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if "/integration/" not in result.ok().path
    ]
    assert len(operations) >= 10
    tried = 0
    for operation in operations:
        headers = token if operation.path.startswith("/api/v1/me/") else None
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                exercise(operation, mode, headers=headers, checks=checks)
            except Unsatisfiable:
                # Nothing in this operation can be made invalid (no parameters, no body).
                assert mode == GenerationMode.NEGATIVE, operation.label
            tried += 1
    assert tried == 2 * len(operations)


def exercise(operation, mode, *, headers, checks) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES[mode.value],
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        case.call_and_validate(headers=headers, checks=checks)

    run()
