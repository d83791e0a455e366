"""The Celery app. Start a worker with `celery -A rafiki_web worker -Q rafiki` (add `gpu` on
machines with GPUs) and the reconciler with `celery -A rafiki_web beat`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rafiki_web.settings")

app = Celery("rafiki_web")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
