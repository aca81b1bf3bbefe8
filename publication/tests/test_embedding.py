"""The district portal frames the public pages only when an operator names it (issue 22)."""

import pytest
from django.core.checks import run_checks
from django.test import Client

pytestmark = pytest.mark.django_db
PORTAL = "https://www.portal.example.gov.cn"


def frame_ancestors(response) -> str:
    policy = response.get("Content-Security-Policy", "")
    return next(
        (p.strip() for p in policy.split(";") if p.strip().startswith("frame-ancestors")), ""
    )


def test_by_default_nobody_frames_the_public_pages():
    response = Client().get("/public/")
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert frame_ancestors(response) == "frame-ancestors 'none'"


def test_the_named_portal_and_only_it_may_frame_them(settings):
    settings.PUBLIC_EMBED_ORIGINS = [PORTAL]
    response = Client().get("/public/")
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert frame_ancestors(response) == f"frame-ancestors {PORTAL}"
    again = Client().get("/public/", HTTP_IF_NONE_MATCH=response.get("ETag", ""))
    assert frame_ancestors(again) == f"frame-ancestors {PORTAL}"
    # Nothing else of the site may be framed by it.
    login = Client().get("/admin/login/")
    assert login["X-Frame-Options"] == "DENY"
    assert frame_ancestors(login) == "frame-ancestors 'none'"


@pytest.mark.parametrize("origin", ["*", "https://portal.example.gov.cn/path", "portal.gov.cn"])
def test_a_malformed_origin_stops_the_site_at_its_checks(settings, origin):
    settings.PUBLIC_EMBED_ORIGINS = [origin]
    errors = [e for e in run_checks() if e.id == "publication.E001"]
    assert len(errors) == 1 and origin in errors[0].msg
