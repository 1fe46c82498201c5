"""The synchronous endpoint's wait: woken by the job's channel-layer messages, backed by
database polls, bounded by a timeout, and fed by a real worker thread."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.core.files.uploadedfile import SimpleUploadedFile

from remover.devapi.waiting import wait_for_job
from remover.models import Job
from remover.processing import jobs
from remover.processing.events import Publisher, group_name
from remover.processing.thread_worker import InProcessWorker
from remover.web import limits

from .helpers import image_bytes

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def queued_job() -> Job:
    upload = SimpleUploadedFile("photo.png", image_bytes(120, 90))
    return jobs.create_job(upload, limits.inspect_upload(upload), owner_key="apikey:test", user=None, ip=None,
                           batch=uuid.uuid4(), options={})


@sync_to_async
def finish(job_id) -> None:
    Job.objects.filter(pk=job_id).update(status="done", stage="done", progress=100)


async def test_a_message_wakes_the_wait_before_the_next_poll():
    job = await queued_job()

    async def finish_and_announce():
        await asyncio.sleep(0.2)
        await finish(job.pk)
        await get_channel_layer().group_send(group_name(job.pk), {"type": "job.changed", "id": str(job.pk),
                                                                  "snapshot": {"status": "done"}})

    started = time.monotonic()
    _, finished = await asyncio.gather(finish_and_announce(), wait_for_job(job.pk, timeout=20, poll=10))
    assert finished.status == "done" and time.monotonic() - started < 3


async def test_without_messages_the_database_is_polled():
    job = await queued_job()

    async def finish_quietly():
        await asyncio.sleep(0.2)
        await finish(job.pk)

    _, finished = await asyncio.gather(finish_quietly(), wait_for_job(job.pk, timeout=20, poll=0.2))
    assert finished.status == "done"


async def test_the_wait_is_bounded_and_notices_deletion():
    job = await queued_job()
    with pytest.raises(TimeoutError):
        await wait_for_job(job.pk, timeout=0.3, poll=0.1)
    job_id = job.pk
    await sync_to_async(job.delete)()
    assert await wait_for_job(job_id, timeout=5, poll=0.1) is None


async def test_a_worker_thread_finishes_what_the_wait_waits_for(fake_model):
    job = await queued_job()
    thread_worker = InProcessWorker(maxsize=4, sweep_seconds=300, publish=Publisher())
    thread_worker.start(asyncio.get_running_loop())  # publishes on this loop, as under daphne
    try:
        thread_worker.submit(job.pk)
        finished = await wait_for_job(job.pk, timeout=30, poll=5)
    finally:
        await sync_to_async(thread_worker.stop, thread_sensitive=False)()
    assert finished.status == "done" and fake_model.calls == 1
