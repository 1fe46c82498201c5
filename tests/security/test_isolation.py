"""Owner isolation: ids nobody can guess, and a job, its files, its batch and its WebSocket
answer 404 (or a refused handshake) to everyone but its owner, even one who knows the id;
WebSockets from a foreign page (Origin) are refused."""

from __future__ import annotations

import io
import uuid
import zipfile

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.test import Client

from remover.models import Job
from remover.web.owners import SESSION_KEY
from tests.web.helpers import upload

from .helpers import HOST, ORIGIN, session_with_job


def finished_job(client, worker) -> dict:
    job = upload(client).json()
    worker.drain()
    return client.get(job["urls"]["self"]).json()


def job_urls(job: dict) -> list[str]:
    base = f"/api/jobs/{job['id']}"
    return [base, f"{base}/preview", f"{base}/original", f"{base}/download", f"{base}/download?mask=1",
            f"{base}/edit", f"{base}/idphoto", f"{base}/sheet?sheet=a4&format=pdf", f"/api/batches/{job['batch']}/download"]


@pytest.mark.django_db
def test_ids_and_owner_tokens_are_random_and_long(client, worker, fake_model):
    jobs = [upload(client).json() for _ in range(3)]
    for job in jobs:
        assert uuid.UUID(job["id"]).version == 4 and uuid.UUID(job["batch"]).version == 4  # 122 random bits
    assert len({job["id"] for job in jobs}) == 3
    token = client.session[SESSION_KEY]
    assert len(token) == 32 and int(token, 16)  # 128 random bits, kept server-side in the session
    assert token not in str(jobs)  # never handed out


@pytest.mark.django_db
def test_a_stranger_who_knows_every_id_gets_404_like_for_a_job_that_never_existed(client, worker, fake_model):
    job = finished_job(client, worker)
    stranger, signed_in_stranger = Client(), Client()
    stranger.get("/api/limits")
    signed_in_stranger.force_login(User.objects.create_user("mallory", password="pw-for-tests-only"))
    never_existed = {"id": str(uuid.uuid4()), "batch": str(uuid.uuid4())}

    for visitor in (stranger, signed_in_stranger):
        for url, unknown_url in zip(job_urls(job), job_urls(never_existed)):
            response, unknown = visitor.get(url), visitor.get(unknown_url)
            assert response.status_code == 404, url
            # Same answer as for an id that does not exist: nothing tells the two apart.
            assert response.content == unknown.content, url
        assert visitor.delete(f"/api/jobs/{job['id']}").status_code == 404
    assert Job.objects.filter(pk=job["id"]).exists()
    assert client.get(job["urls"]["download"]).status_code == 200  # the owner still has it


def zip_names(response) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(b"".join(response))).namelist()


@pytest.mark.django_db
def test_joining_someone_elses_batch_shows_nothing_of_theirs(client, worker, fake_model):
    theirs = finished_job(client, worker)
    mallory = Client()
    mine = upload(mallory, name="mine.png", batch=theirs["batch"]).json()  # the batch id is guessed or seen
    worker.drain()
    assert mine["batch"] == theirs["batch"]
    assert zip_names(mallory.get(f"/api/batches/{theirs['batch']}/download")) == ["mine-cutout.png"]
    assert zip_names(client.get(theirs["urls"]["batch_download"])) == ["photo-cutout.png"]


@pytest.fixture
def application():
    from project.asgi import application

    return application


async def handshake(application, job_id, session_key=None, origin=ORIGIN) -> bool:
    headers = [HOST] + ([origin] if origin else []) + ([(b"cookie", f"sessionid={session_key}".encode())] if session_key else [])
    communicator = WebsocketCommunicator(application, f"/ws/jobs/{job_id}/", headers=headers)
    connected, _ = await communicator.connect()
    await communicator.disconnect()
    return connected


@pytest.mark.django_db(transaction=True)
async def test_only_the_owner_opens_the_jobs_websocket(application):
    owner_key, job_id = await session_with_job()
    stranger_key, _ = await session_with_job()
    assert await handshake(application, job_id, owner_key)
    assert not await handshake(application, job_id, stranger_key)  # knows the id, not the owner
    assert not await handshake(application, job_id)  # no session at all
    assert not await handshake(application, uuid.uuid4(), owner_key)  # no such job


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("origin", [
    b"https://evil.example", b"http://127.0.0.1.evil.example", b"null", b"http://localhost.evil.example:8000",
])
async def test_websockets_from_a_foreign_page_are_refused(application, origin):
    owner_key, job_id = await session_with_job()
    assert not await handshake(application, job_id, owner_key, origin=(b"origin", origin))


@pytest.mark.django_db(transaction=True)
async def test_websockets_without_an_origin_are_refused(application):
    owner_key, job_id = await session_with_job()
    assert not await handshake(application, job_id, owner_key, origin=None)
