"""The Celery app: `celery -A dlsei worker` and `celery -A dlsei beat`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dlsei.settings")

app = Celery("dlsei")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
