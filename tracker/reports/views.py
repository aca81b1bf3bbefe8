"""The statistics page's 年度报告 button: the session's 提案办理工作情况报告 as a Word file.

Who may have it is who may read the statistics page (the committee and the supervision
office, ``sees_everything``): the report holds the same figures. It is built in the request —
a session's figures are a handful of queries and the document a few hundred KB.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

from proposals.admin import content_disposition
from proposals.models import Session
from proposals.models import today as _today
from tracker.reports import annual


def annual_report_view(request: HttpRequest) -> HttpResponse:
    """``?session=<id>``: the report as of today; 403 to those who cannot see the statistics,
    404 for a session that does not exist."""
    if not request.user.sees_everything:
        raise PermissionDenied
    try:
        session = Session.objects.get(pk=int(request.GET.get("session", "")))
    except (ValueError, Session.DoesNotExist) as exc:
        raise Http404 from exc
    today = _today()
    response = HttpResponse(annual.build(session, today), content_type=annual.DOCX_TYPE)
    response["Content-Disposition"] = content_disposition(
        "attachment", annual.filename(session, today), "annual-report.docx"
    )
    patch_cache_control(response, private=True, no_store=True)
    return response
