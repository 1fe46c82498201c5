"""Celery tasks: the in-process worker's unit of work, run by worker processes.

``clearcut.process`` runs :func:`remover.processing.jobs.process_job` for one job id, publishing
progress through the channel layer (Redis), which reaches the WebSocket whichever web
process holds it. Settings in project/settings.py make the message safe to lose a worker
over: it is acknowledged only after the job ends (``acks_late``), a killed pool process
puts it back at once (``reject_on_worker_lost``), and a worker that vanished entirely has
its message redelivered by Redis after the visibility timeout. The redelivered message
keeps its task id, which is how process_job knows it may take the job back; any other
copy of a message leaves a running job alone.
"""

from __future__ import annotations

import logging
import uuid

from celery import shared_task
from celery.concurrency.thread import TaskPool as ThreadTaskPool
from celery.signals import task_failure, task_retry, worker_process_init, worker_ready
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from remover.models import Job
from remover.processing import jobs, metrics
from remover.processing.events import Publisher

log = logging.getLogger(__name__)

PUBLISH = Publisher()  # no server loop in a worker: group_send goes to Redis directly


@worker_process_init.connect
def load_model(**kwargs) -> None:
    """Each pool process loads the model once, before its first job (cuda when present)."""
    try:
        model = jobs.segmenter()
        log.info("model loaded on %s (%s)", model.device, model.dtype)
    except Exception:  # the first job retries the load and reports the error to its owner
        log.exception("could not load the model at worker start")


@worker_ready.connect
def load_shared_model(sender=None, **kwargs) -> None:
    """The threads pool (GPU batching) has no pool processes: its threads share one model."""
    if isinstance(sender.pool, ThreadTaskPool):
        load_model()


# The database going away (restart, failover, a locked SQLite file) is worth waiting
# out: the retry keeps the task id, so the job this run had claimed is taken back.
@shared_task(
    bind=True,
    name="clearcut.process",
    autoretry_for=(OperationalError, InterfaceError),
    max_retries=3,
    retry_backoff=2,
    retry_backoff_max=60,
)
def process(self, job_id: str) -> None:
    jobs.process_job(uuid.UUID(job_id), metrics.StageTimer(PUBLISH), claim=self.request.id)


@shared_task(name="clearcut.sweep")
def sweep() -> None:
    """The retention sweep (celery beat runs it every CLEARCUT_SWEEP_SECONDS)."""
    for job_id in jobs.purge_expired():
        PUBLISH(job_id)  # an open page learns its job is gone


@task_failure.connect(sender=process)
def give_up(sender=None, task_id=None, args=(), **kwargs) -> None:
    """Retries spent or the hard time limit hit: the job must not stay "running" forever."""
    failed = {"status": Job.Status.ERROR, "stage": "error", "error": jobs.FAILED_MESSAGE}
    try:
        job_id = uuid.UUID(args[0])
        if Job.objects.filter(pk=job_id, status=Job.Status.RUNNING, claimed_by=task_id).update(
            finished_at=timezone.now(), **failed
        ):
            metrics.count("finished", "failed")
            PUBLISH(job_id, failed)
    except Exception:
        log.exception("could not mark job %s as failed", args)


@task_retry.connect(sender=process)
def count_retry(sender=None, **kwargs) -> None:
    metrics.count("retries", sender.name)
