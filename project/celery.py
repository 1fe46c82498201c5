"""The Celery app for scaled-out inference (CLEARCUT_WORKER=celery).

Start workers with ``celery -A project worker`` (see docs/deploy.md). Settings come from
Django's settings under the ``CELERY_`` prefix; the three queues are declared here so a
worker started without ``-Q`` consumes all of them, in turn (kombu's Redis transport
rotates between queues after each message), and a flood of batch or ID-photo jobs cannot
starve single uploads.
"""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("clearcut")
app.config_from_object("django.conf:settings", namespace="CELERY")

# Names shared with remover/processing/dispatch.py, which picks one per job.
INTERACTIVE, BATCH, IDPHOTO = "clearcut.interactive", "clearcut.batch", "clearcut.idphoto"
# Each queue bound by its own routing key: a message lands in exactly one of them.
app.conf.task_queues = [Queue(name, routing_key=name) for name in (INTERACTIVE, BATCH, IDPHOTO)]
app.conf.task_default_queue = INTERACTIVE

app.autodiscover_tasks(["remover.processing"])  # remover/processing/tasks.py
