"""The Celery application.

Without ``REDIS_URL`` the settings make every task run eagerly, in-process, so that
``make run`` needs no broker; with it, tasks go through Redis to a worker.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

app = Celery("tracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The admin's long work (Excel import, a session's PDFs) lives in tracker/admin_tasks.py.
app.autodiscover_tasks(lambda: ["tracker"], related_name="admin_tasks")
