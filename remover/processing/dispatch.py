"""Handing queued jobs to Celery workers (``CLEARCUT_WORKER=celery``).

:class:`CeleryDispatcher` stands in for the in-process worker behind
:func:`remover.processing.worker.get_worker`, with the same ``has_room`` / ``submit`` / ``start`` /
``queue_lengths``, so the code that accepts uploads does not change with the deployment.

Queues: a single upload, or the first file of a batch, goes to ``clearcut.interactive``;
the rest of a batch to ``clearcut.batch``; ID-photo jobs to ``clearcut.idphoto``. Workers
take from their queues in turn, so a single upload waits for at most one job from each
other queue per free worker, however long the batch backlog.

Recovery: web processes never touch running jobs here (the broker redelivers the message
of a worker that died, see remover/processing/tasks.py). On start, one web process re-sends every
queued job, in case its message was lost (a web process that died between saving the job
and sending it, a Redis that lost its data). Re-sending is safe because a job is claimed
with a single UPDATE from "queued": a second copy of a message finds the job taken and
does nothing. A Redis lock keeps several web processes starting together from each
re-sending the whole queue.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid

import redis
from django.conf import settings
from django.db import connection

from project.celery import BATCH, IDPHOTO, INTERACTIVE
from remover.models import Job
from remover.processing.tasks import process
from remover.processing.thread_worker import QueueFull

log = logging.getLogger(__name__)

QUEUES = (INTERACTIVE, BATCH, IDPHOTO)
RECOVERY_LOCK = "clearcut:recovery"
RECOVERY_LOCK_SECONDS = 60


def queue_for(job: Job) -> str:
    if job.options.get("mode") == "idphoto":  # the site's ID photo mode and the developer API's
        return IDPHOTO
    if Job.objects.filter(batch=job.batch, created_at__lt=job.created_at).exists():
        return BATCH
    return INTERACTIVE


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)


def send(job: Job) -> None:
    process.apply_async((str(job.pk),), queue=queue_for(job))


class CeleryDispatcher:
    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._started = False
        self._lock = threading.Lock()

    def has_room(self) -> bool:
        """Fewer than CLEARCUT_QUEUE_SIZE jobs wait, across all web processes."""
        return Job.objects.filter(status=Job.Status.QUEUED).count() < self.maxsize

    def submit(self, job_id: uuid.UUID) -> None:
        """Send a saved, queued job to the workers; :class:`QueueFull` when it cannot go."""
        if Job.objects.filter(status=Job.Status.QUEUED).count() > self.maxsize:  # this job counts too
            raise QueueFull
        try:
            send(Job.objects.get(pk=job_id))
        except Exception as exc:  # broker unreachable: the upload is refused as "busy", not lost
            log.error("could not send job %s to the workers: %s", job_id, exc)
            raise QueueFull from exc

    def queue_lengths(self) -> dict[str, int]:
        """For /metrics: messages waiting in each queue (kombu keeps a Redis list per queue)."""
        client = redis_client()
        return {queue: client.llen(queue) for queue in QUEUES}

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """The server's first connection: recover once, off the event loop."""
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._recover_in_thread, name="clearcut-recovery", daemon=True).start()

    def _recover_in_thread(self) -> None:
        try:
            self.recover()
        finally:
            connection.close()  # the thread ends here; its database connection must not linger

    def recover(self) -> list[uuid.UUID]:
        """Re-send every queued job unless another process did so within the last minute."""
        try:
            if not redis_client().set(RECOVERY_LOCK, "1", nx=True, ex=RECOVERY_LOCK_SECONDS):
                return []
            queued = list(Job.objects.filter(status=Job.Status.QUEUED).order_by("created_at"))
            for job in queued:
                send(job)
        except Exception:
            log.exception("could not re-send queued jobs at start")
            return []
        if queued:
            log.info("re-sent %d queued job(s) to the workers", len(queued))
        return [job.pk for job in queued]
