"""The API: ``/api/v1/…``, its OpenAPI schema at ``/api/schema/`` and Swagger UI at
``/api/docs/`` (assets from drf-spectacular-sidecar, served by the app: no CDN). The docs page is
the split view: its start-up script is a second request (``?script=``), not an inline script, so
the page needs nothing beyond the site's Content-Security-Policy.

Each app contributes its routes (``proposals.api.urls``, ``replies.api.urls``); what needs both
apps — the member pages, statistics, integration — is here.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from tracker.api import integration, members, views
from tracker.api.statistics import StatisticsView

app_name = "api"

v1 = [
    path("", include("proposals.api.urls")),
    path("", include("replies.api.urls")),
    path("statistics/", StatisticsView.as_view(), name="statistics"),
    path("me/proposals/", members.MemberProposalListView.as_view(), name="me-proposal-list"),
    re_path(
        r"^me/proposals/(?P<pk>[^/.]+)/$",
        members.MemberProposalDetailView.as_view(),
        name="me-proposal-detail",
    ),
    path("me/proposers/", members.ProposerDirectoryView.as_view(), name="me-proposer-list"),
    path(
        "integration/proposals/import/",
        integration.ProposalImportView.as_view(),
        name="integration-proposal-import",
    ),
    path(
        "integration/proposals/",
        integration.ProposalReportView.as_view(),
        name="integration-proposal-list",
    ),
    path(
        "integration/replies/",
        integration.ReplyReportView.as_view(),
        name="integration-reply-list",
    ),
    path(
        "integration/feedback/",
        integration.FeedbackReportView.as_view(),
        name="integration-feedback-list",
    ),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", template_name="api/swagger_ui.html"
        ),
        name="docs",
    ),
    # Anything else under /api/ is a JSON 404, like a missing object.
    re_path(r"^.*$", views.not_found, name="not-found"),
]
