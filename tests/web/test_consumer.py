"""The job WebSocket, through the real ASGI application (origin check, sessions, routing)."""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.backends.db import SessionStore

from remover.models import Job
from remover.processing import jobs
from remover.processing.events import Publisher
from remover.web import limits
from remover.web.owners import SESSION_KEY

from .helpers import image_bytes

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1")
HOST = (b"host", b"127.0.0.1")


@pytest.fixture
def application():
    from project.asgi import application

    return application


@database_sync_to_async
def new_session() -> tuple[str, str]:
    """(session cookie value, owner token) of a visitor who has uploaded before."""
    session = SessionStore()
    session[SESSION_KEY] = uuid.uuid4().hex
    session.create()
    return session.session_key, session[SESSION_KEY]


@database_sync_to_async
def new_job(owner: str) -> Job:
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = image_bytes(320, 240)
    upload = SimpleUploadedFile("photo.png", data, "image/png")
    info = limits.inspect_upload(upload)
    return jobs.create_job(upload, info, owner_key=owner, user=None, ip="127.0.0.1", batch=uuid.uuid4(), options={})


async def connect(application, job_id, session_key: str | None, headers=(ORIGIN, HOST)):
    headers = list(headers)
    if session_key:
        headers.append((b"cookie", f"sessionid={session_key}".encode()))
    communicator = WebsocketCommunicator(application, f"/ws/jobs/{job_id}/", headers=headers)
    connected, _ = await communicator.connect()
    return communicator, connected


async def test_owner_gets_the_current_state_on_connect(application):
    session_key, owner = await new_session()
    job = await new_job(owner)
    communicator, connected = await connect(application, job.pk, session_key)
    assert connected
    state = await communicator.receive_json_from()
    assert state["id"] == str(job.pk)
    assert state["stage"] == "queued" and state["progress"] == 0 and state["position"] == 1
    await communicator.disconnect()


async def test_progress_events_arrive_in_order_until_done(application, worker, fake_model):
    session_key, owner = await new_session()
    job = await new_job(owner)
    communicator, connected = await connect(application, job.pk, session_key)
    assert connected
    assert (await communicator.receive_json_from())["stage"] == "queued"

    # The worker runs in its own thread, as in the server, and publishes on this loop.
    worker.publish = Publisher(loop=asyncio.get_running_loop())
    worker.submit(job.pk)
    thread = threading.Thread(target=worker.drain)
    thread.start()
    events = []
    while not events or events[-1]["stage"] not in ("done", "error"):
        events.append(await communicator.receive_json_from(timeout=10))
    await asyncio.get_running_loop().run_in_executor(None, thread.join)

    # Every step reaches the page, in order, even if the worker is ahead of the socket.
    stages = [event["stage"] for event in events]
    assert list(dict.fromkeys(stages)) == ["decoding", "segmenting", "refining", "compositing", "done"]
    progress = [event["progress"] for event in events]
    assert progress == sorted(progress) and progress[-1] == 100
    assert events[-1]["urls"]["download"] == f"/api/jobs/{job.pk}/download"
    assert events[-1]["tier"] == "free" and events[-1]["download_size"] == [320, 240]
    await communicator.disconnect()


async def test_a_late_stale_step_does_not_move_the_bar_back(application):
    session_key, owner = await new_session()
    job = await new_job(owner)
    await database_sync_to_async(
        lambda: Job.objects.filter(pk=job.pk).update(status="running", stage="refining", progress=70)
    )()
    communicator, connected = await connect(application, job.pk, session_key)
    assert connected
    assert (await communicator.receive_json_from())["progress"] == 70

    publish = database_sync_to_async(Publisher(loop=asyncio.get_running_loop()))
    await publish(job.pk, {"status": "running", "stage": "segmenting", "progress": 10})  # sent before we joined
    await publish(job.pk, {"status": "running", "stage": "refining", "progress": 90})
    state = await communicator.receive_json_from()
    assert (state["stage"], state["progress"]) == ("refining", 90)
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_reconnecting_after_the_end_gets_the_final_state(application, worker, fake_model):
    session_key, owner = await new_session()
    job = await new_job(owner)
    worker.submit(job.pk)
    await database_sync_to_async(worker.drain)()

    communicator, connected = await connect(application, job.pk, session_key)
    assert connected
    state = await communicator.receive_json_from()
    assert state["status"] == "done" and state["progress"] == 100 and "preview" in state["urls"]
    await communicator.disconnect()


async def test_error_state_carries_the_message(application, worker, fake_model):
    session_key, owner = await new_session()
    job = await new_job(owner)
    await database_sync_to_async(
        lambda: Job.objects.filter(pk=job.pk).update(status="error", stage="error", error="Broken file.")
    )()
    communicator, connected = await connect(application, job.pk, session_key)
    assert connected
    state = await communicator.receive_json_from()
    assert (state["status"], state["stage"], state["error"]) == ("error", "error", "Broken file.")
    await communicator.disconnect()


async def test_queue_position_moves_when_the_job_ahead_starts(application, worker, fake_model):
    session_key, owner = await new_session()
    ahead, behind = await new_job(owner), await new_job(owner)
    communicator, connected = await connect(application, behind.pk, session_key)
    assert connected
    assert (await communicator.receive_json_from())["position"] == 2

    worker.publish = Publisher(loop=asyncio.get_running_loop())
    worker.submit(ahead.pk)  # only the one ahead: `behind` stays queued
    thread = threading.Thread(target=worker.drain)
    thread.start()
    assert (await communicator.receive_json_from(timeout=10))["position"] == 1
    await asyncio.get_running_loop().run_in_executor(None, thread.join)
    await communicator.disconnect()


async def test_deleting_the_job_closes_its_socket(application):
    session_key, owner = await new_session()
    job = await new_job(owner)
    communicator, connected = await connect(application, job.pk, session_key)
    assert connected
    await communicator.receive_json_from()

    await database_sync_to_async(lambda: Job.objects.get(pk=job.pk).delete())()
    await database_sync_to_async(Publisher(loop=asyncio.get_running_loop()))(job.pk)  # as the API does
    output = await communicator.receive_output(timeout=5)
    assert output == {"type": "websocket.close", "code": 4404}


async def test_other_visitors_and_unknown_ids_are_refused(application):
    _, owner = await new_session()
    job = await new_job(owner)
    stranger_session, _ = await new_session()
    for job_id, session_key in ((job.pk, stranger_session), (job.pk, None), (uuid.uuid4(), stranger_session)):
        communicator, connected = await connect(application, job_id, session_key)
        assert not connected
        await communicator.disconnect()


async def test_foreign_origin_is_refused(application):
    session_key, owner = await new_session()
    job = await new_job(owner)
    communicator, connected = await connect(
        application, job.pk, session_key, headers=[(b"origin", b"https://evil.example"), HOST]
    )
    assert not connected
    await communicator.disconnect()


@pytest.mark.parametrize("origin, host", [
    (b"http://127.0.0.1:9999", b"127.0.0.1:8151"),  # another port
    (b"http://localhost", b"127.0.0.1:8151"),  # another allowed host name
    (b"https://127.0.0.1:8151", b"127.0.0.1:8151"),  # another scheme
    (b"http://127.0.0.1:8151", b"evil.example:8151"),  # a Host the site does not answer
    (b"null", b"127.0.0.1:8151"),
])
async def test_origins_differing_in_port_scheme_or_host_are_refused(application, origin, host):
    session_key, owner = await new_session()
    job = await new_job(owner)
    communicator, connected = await connect(application, job.pk, session_key, headers=[(b"origin", origin), (b"host", host)])
    assert not connected
    await communicator.disconnect()
    same, connected_same = await connect(
        application, job.pk, session_key, headers=[(b"origin", b"http://127.0.0.1:8151"), (b"host", b"127.0.0.1:8151")]
    )
    assert connected_same  # the page's own origin, on the same port, is let in
    await same.disconnect()
