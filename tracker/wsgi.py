"""The WSGI application: Django's handler behind ``tracker.fastcache``, which answers the cache
hits of the portal's public pages and API itself (issue 24); ``PUBLIC_FASTCACHE=0`` turns that
off."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
application = get_wsgi_application()

if os.environ.get("PUBLIC_FASTCACHE", "1").strip().lower() not in ("0", "false", "no", "off"):
    from tracker.fastcache import wrap

    application = wrap(application)
