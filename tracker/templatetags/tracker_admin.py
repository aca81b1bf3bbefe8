"""Template tags of the admin's own pages: the dashboard on the index, the tools' links."""

from __future__ import annotations

from django import template
from django.urls import NoReverseMatch, reverse

from tracker import dashboard

register = template.Library()


@register.simple_tag(takes_context=True)
def admin_dashboard(context) -> dashboard.Dashboard | None:
    """The signed-in user's dashboard (see ``tracker.dashboard``)."""
    request = context.get("request")
    if request is None:
        return None
    return dashboard.build(request.user)


@register.simple_tag
def tool_url(name: str, *args) -> str:
    """The URL of one of the committee's tools, or "" where they are not mounted."""
    try:
        return reverse(f"tracker_admin:{name}", args=args)
    except NoReverseMatch:
        return ""
