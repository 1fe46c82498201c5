"""Waiting, without blocking the event loop, for a queued job to finish, wherever it runs.

Whoever processes the job (the in-process worker today, Celery workers when scaled out)
announces each step on the job's channel-layer group (remover/processing/events.py). We listen there
to wake up as soon as the job ends, and read the database on every wake-up and at least
every ``poll`` seconds: messages are best-effort, the database is the truth.
"""

from __future__ import annotations

import asyncio
import uuid

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from remover.models import Job
from remover.processing.events import group_name

FINAL_STATUSES = (Job.Status.DONE, Job.Status.ERROR)


@sync_to_async
def _load(job_id: uuid.UUID) -> Job | None:
    return Job.objects.filter(pk=job_id).first()


def _says_finished(message: dict) -> bool:
    snapshot = message.get("snapshot")
    # No snapshot: "read the database" (the job moved in the queue, or was deleted).
    return snapshot is None or snapshot.get("status") in FINAL_STATUSES


async def wait_for_job(job_id: uuid.UUID, timeout: float, poll: float = 1.0) -> Job | None:
    """The finished job, or None if it was deleted meanwhile; raises TimeoutError after ``timeout`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    layer = get_channel_layer()
    channel = group = None
    if layer is not None:
        group, channel = group_name(job_id), await layer.new_channel("devapi.wait.")
        await layer.group_add(group, channel)
    try:
        while True:
            job = await _load(job_id)  # after subscribing: an ending in between is not missed
            if job is None or job.status in FINAL_STATUSES:
                return job
            await _until_news(layer, channel, min(poll, deadline - loop.time()), loop)
            if loop.time() >= deadline:
                raise TimeoutError(f"job {job_id} did not finish within {timeout:g} s")
    finally:
        if layer is not None:
            await layer.group_discard(group, channel)


async def _until_news(layer, channel: str | None, wait: float, loop: asyncio.AbstractEventLoop) -> None:
    """Return when a message says the job may have ended, or after ``wait`` seconds."""
    if wait <= 0:
        return
    if layer is None:
        await asyncio.sleep(wait)
        return
    until = loop.time() + wait
    while (left := until - loop.time()) > 0:
        try:
            message = await asyncio.wait_for(layer.receive(channel), left)
        except TimeoutError:
            return
        if _says_finished(message):
            return
