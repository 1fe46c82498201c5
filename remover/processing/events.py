"""Telling WebSocket clients that a job changed, through the channel layer.

A message names the job and, for a progress step, carries a snapshot of the fields that
step wrote (status, stage, progress, error). Each consumer reads the rest of the job from
the database and lays the snapshot over it: every stage reaches the page even when the
worker has moved on by the time the message is handled, and the sizes and links fit the
viewer's own tier. A message without a snapshot (queue moved, job deleted) means "send
what the database says now".
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

log = logging.getLogger(__name__)

CHANGED = "job.changed"  # handled by JobConsumer.job_changed


def group_name(job_id: uuid.UUID | str) -> str:
    return f"job.{uuid.UUID(str(job_id)).hex}"


class Publisher:
    """``publish(job_id, snapshot=None)``: callable handed to :func:`remover.processing.jobs.process_job`.

    ``loop`` is the web server's event loop when the publisher runs in a thread of the
    web process. The in-memory channel layer keeps asyncio queues that belong to that
    loop and are not thread-safe, so messages are handed to it with
    ``run_coroutine_threadsafe``. Elsewhere (a Celery worker, a test thread) there is no
    such loop and ``async_to_sync`` runs ``group_send`` on its own loop, which is what a
    network channel layer such as Redis expects.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None, timeout: float = 5.0):
        self.loop = loop
        self.timeout = timeout

    def __call__(self, job_id: uuid.UUID | str, snapshot: dict | None = None) -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        group, message = group_name(job_id), {"type": CHANGED, "id": str(job_id)}
        if snapshot:
            message["snapshot"] = snapshot
        try:
            if self.loop is not None and self.loop.is_running():
                asyncio.run_coroutine_threadsafe(layer.group_send(group, message), self.loop).result(self.timeout)
            else:
                async_to_sync(layer.group_send)(group, message)
        except Exception:  # progress is best-effort: a lost message must not fail the job
            log.warning("could not publish progress for job %s", job_id, exc_info=True)
