"""The Celery app. Periodic jobs are declared in settings (CELERY_BEAT_SCHEDULE)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("kanaalwijzer")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
