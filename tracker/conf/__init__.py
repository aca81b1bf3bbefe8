"""Blocks of ``tracker.settings``, by subject, as plain functions.

``tracker.settings`` stays the one settings module (``DJANGO_SETTINGS_MODULE``); it calls these
functions, handing them its ``environ.Env`` where a block reads the environment. They read
nothing at import time and keep no state: ``tracker/settings.py`` evaluated again (a test runs it
with another environment through ``runpy``) gets values for that environment, not cached ones.
"""
