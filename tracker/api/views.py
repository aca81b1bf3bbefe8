"""What the API answers outside its routes."""

from django.http import JsonResponse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from proposals.api.common import error_body


@csrf_exempt  # it changes nothing, so a POST without a CSRF token gets the same JSON 404
def not_found(request, *args, **kwargs) -> JsonResponse:
    """A path under /api/ that names nothing: the same JSON 404 as a missing object."""
    body = error_body("not_found", _("未找到。"))
    response = JsonResponse(body, status=404, json_dumps_params={"ensure_ascii": False})
    patch_cache_control(response, no_store=True)
    return response
