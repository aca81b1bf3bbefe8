"""The bench URLconf of ``bench/api.py``: the project's URLs plus the plain view.

Used in-process (``override_settings(ROOT_URLCONF="bench.api_urls")``) and by the gunicorn that
``bench/api.py`` starts (through ``bench/api_wsgi.py``), so both serve the same views.
"""

from django.urls import include, path

from bench.api import plain_replies

urlpatterns = [
    path("plain/replies/", plain_replies),
    path("", include("tracker.urls")),
]
