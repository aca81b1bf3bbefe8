"""The WSGI application ``bench/api.py`` runs under gunicorn: the project's, as
``tracker.wsgi`` builds it, with two changes the settings cannot take from the environment:

- ``ROOT_URLCONF`` is ``bench.api_urls`` (``tracker.urls`` plus the plain view ``/plain/replies/``);
- the API's throttle rates are empty (no throttling), as in the in-process measure: the anonymous
  rate (120/min by address) would answer 429 to a load generator within a second.

As in ``tracker.wsgi``, the handler is behind ``tracker.fastcache`` (cache hits of the public
answers), unless uncached or ``PUBLIC_FASTCACHE=0``.

    gunicorn bench.api_wsgi:application -w 2 -b 127.0.0.1:PORT
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

from django.conf import settings

settings.ROOT_URLCONF = "bench.api_urls"
settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

if os.environ.get("BENCH_API_UNCACHED") == "1":
    # The uncached figure (as before issue 24): no stamp, so the public answers are not cached.
    try:
        from replies.api import public_cache
    except ImportError:  # no public cache in this version
        pass
    else:
        public_cache.STAMP = None
elif os.environ.get("PUBLIC_FASTCACHE", "1") != "0":
    try:
        from tracker.fastcache import wrap
    except ImportError:  # no fast path in this version
        pass
    else:
        application = wrap(application)
