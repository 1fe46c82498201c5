"""Abuse limits: request bodies refused while they arrive (real daphne, raw sockets), uploads
and WebSocket handshakes per minute per session and per network (429 + Retry-After), the
bounded queue's "busy" with nothing kept and memory flat, and no CPU amplification in
downloads."""

from __future__ import annotations

import gc
import json
import logging
import select
import socket
import time
import tracemalloc
from types import SimpleNamespace

import pytest
import requests
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.models import Session
from django.core.files.storage import default_storage
from django.test import Client
from websockets.sync.client import connect as ws_connect

from remover.models import Job
from remover.web import ratelimit
from tests.live_server import Daphne, read_json_answer
from tests.web.helpers import image_bytes, upload

from .helpers import HOST, ORIGIN, session_with_job

# --- Request bodies over the limit, on a real server ----------------------------------------

@pytest.fixture(scope="module")
def small_limit_server(tmp_path_factory):
    """daphne with a 1 MB upload limit (so the request limit is 1 MB + 64 KB of form)."""
    with Daphne(tmp_path_factory.mktemp("small-limit"), {"CLEARCUT_MAX_UPLOAD_MB": "1", "CLEARCUT_WORKER": "none"}) as server:
        yield server


def raw_request(server, head: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(head.encode())
    return sock


def test_a_declared_length_over_the_limit_is_answered_before_any_body_is_sent(small_limit_server):
    sock = raw_request(small_limit_server, (
        "POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\n"
        f"Content-Length: {50 * 1024 * 1024}\r\n\r\n"
    ))
    status, body = read_json_answer(sock)  # not one byte of the 50 MB was sent
    sock.close()
    assert status == 413
    assert body == {"error": "This upload is 50.0 MB; the limit is 1 MB per image. Please upload a smaller file."}


def test_a_chunked_body_is_cut_off_soon_after_the_limit(small_limit_server):
    sock = raw_request(small_limit_server, (
        "POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ))
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, b"\0" * 64 * 1024)
    sent, answered = 0, False
    while sent < 40 * 1024 * 1024 and not answered:  # would be 40 MB; the limit is about 1 MB
        try:
            sock.sendall(chunk)
        except OSError:  # the server gave up on us: the answer is already waiting
            break
        sent += 64 * 1024
        answered = bool(select.select([sock], [], [], 0)[0])
    status, body = read_json_answer(sock)
    sock.close()
    assert status == 413 and "the limit is 1 MB per image" in body["error"]
    # Stopped early: what was sent is the limit plus what the loopback socket buffers held.
    assert sent < 20 * 1024 * 1024


def test_an_ordinary_client_sending_too_much_still_reads_the_json_413(small_limit_server):
    browser = requests.Session()
    token = browser.get(f"{small_limit_server.url}/api/limits", timeout=10).cookies["csrftoken"]
    response = browser.post(
        f"{small_limit_server.url}/api/jobs",
        files={"image": ("big.bmp", b"BM" + b"\0" * (3 * 1024 * 1024), "image/bmp")},
        headers={"X-CSRFToken": token, "Referer": small_limit_server.url}, timeout=30,
    )
    assert response.status_code == 413 and "the limit is 1 MB" in response.json()["error"]


def test_requests_within_the_limit_and_websockets_work_as_before(small_limit_server):
    browser = requests.Session()
    token = browser.get(f"{small_limit_server.url}/api/limits", timeout=10).cookies["csrftoken"]
    response = browser.post(
        f"{small_limit_server.url}/api/jobs",
        files={"image": ("photo.png", image_bytes(400, 300), "image/png")},
        headers={"X-CSRFToken": token, "Referer": small_limit_server.url}, timeout=30,
    )
    assert response.status_code == 201, response.text
    job = response.json()
    cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    with ws_connect(f"ws://127.0.0.1:{small_limit_server.port}{job['ws']}",
                    additional_headers={"Cookie": cookie, "Origin": small_limit_server.url}) as ws:
        assert json.loads(ws.recv(timeout=10))["id"] == job["id"]


# --- Upload rate limits ----------------------------------------------------------------------

@pytest.mark.django_db
def test_uploads_per_session_are_limited_per_minute(client, settings, monkeypatch):
    settings.CLEARCUT_UPLOADS_PER_MINUTE = 3
    clock = [60 * 20_000 + 20.0]  # 20 s into a minute
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: clock[0]))
    assert upload(client).status_code == 201  # the first upload gives the session its owner token
    assert upload(client, data=b"not an image").status_code == 415  # refused attempts count too
    assert upload(client).status_code == 201
    assert upload(client).status_code == 201
    quota_before = client.get("/api/limits").json()["quota_left_today"]

    refused = upload(client)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "40"
    assert refused.json() == {"error": "Too many uploads in a short time. Please wait 40 seconds and try again."}
    assert Job.objects.count() == 3
    assert client.get("/api/limits").json()["quota_left_today"] == quota_before  # no quota spent on it

    assert upload(Client()).status_code == 201  # another visitor is not affected
    clock[0] += 40  # the next minute
    assert upload(client).status_code == 201


@pytest.mark.django_db
def test_refused_cookie_less_requests_store_no_sessions(client):
    for _ in range(10):
        client.cookies.clear()
        assert upload(client, data=b"junk").status_code == 415
    assert not Session.objects.exists()


@pytest.mark.django_db
def test_uploads_per_network_are_limited_across_sessions(settings):
    settings.CLEARCUT_UPLOADS_PER_MINUTE_PER_IP = 3
    for _ in range(3):
        assert upload(Client(REMOTE_ADDR="2001:db8:7:7::1")).status_code == 201  # a new session each time
    refused = upload(Client(REMOTE_ADDR="2001:db8:7:7:abcd::2"))  # same /64: same household
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 60
    assert upload(Client(REMOTE_ADDR="2001:db8:7:8::1")).status_code == 201


# --- WebSocket handshake rate limits ---------------------------------------------------------

@pytest.fixture
def application():
    from project.asgi import application

    return application


async def open_socket(application, job_id, session_key=None, ip="198.51.100.7") -> bool:
    headers = [ORIGIN, HOST] + ([(b"cookie", f"sessionid={session_key}".encode())] if session_key else [])
    communicator = WebsocketCommunicator(application, f"/ws/jobs/{job_id}/", headers=headers)
    communicator.scope["client"] = (ip, 50000)
    connected, _ = await communicator.connect()
    await communicator.disconnect()
    return connected


@pytest.mark.django_db(transaction=True)
async def test_websocket_handshakes_per_session_and_network_are_limited(application, settings):
    settings.CLEARCUT_SOCKETS_PER_MINUTE, settings.CLEARCUT_SOCKETS_PER_MINUTE_PER_IP = 2, 3
    session_key, job_id = await session_with_job()
    assert await open_socket(application, job_id, session_key)
    assert await open_socket(application, job_id, session_key)
    assert not await open_socket(application, job_id, session_key)  # third in the minute: refused
    assert await open_socket(application, job_id, session_key, ip="198.51.100.8") is False  # per session, any IP

    other_key, other_job = await session_with_job()
    assert await open_socket(application, other_job, other_key, ip="203.0.113.1")
    assert await open_socket(application, other_job, other_key, ip="203.0.113.1")
    other_network_key, third_job = await session_with_job()
    assert not await open_socket(application, third_job, other_network_key, ip="198.51.100.7")  # the IP's fourth


# --- The bounded queue ---------------------------------------------------------------------

@pytest.mark.django_db
def test_a_full_queue_answers_busy_keeps_nothing_and_memory_stays_flat(client, settings, worker, fake_model, caplog):
    settings.CLEARCUT_UPLOADS_PER_MINUTE_PER_IP = 0
    # Django logs every 5xx with its request, and pytest keeps log records: not our memory.
    caplog.set_level(logging.CRITICAL, logger="django.request")
    worker.maxsize = 3
    photo = image_bytes(640, 480)

    def flood(count: int) -> list[int]:
        statuses = []
        for _ in range(count):
            client.cookies.clear()  # every request a new visitor, so no per-session limit applies
            statuses.append(upload(client, data=photo).status_code)
        return statuses

    assert flood(3) == [201] * 3
    busy = upload(client, data=photo)
    assert busy.status_code == 503 and busy["Retry-After"] == "10"
    assert busy.json() == {"error": "The server is busy right now. Please try again in a moment."}
    del busy

    flood(10)  # warm up whatever is cached on first use
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    assert flood(40) == [503] * 40
    gc.collect()
    grown = sum(stat.size_diff for stat in tracemalloc.take_snapshot().compare_to(before, "filename"))
    tracemalloc.stop()
    # 40 refused uploads of a 900 KB photo leave next to nothing behind in this process.
    assert grown < 256 * 1024, grown
    assert len(worker.pending()) == 3 and Job.objects.count() == 3
    assert len(default_storage.listdir("jobs")[1]) == 3  # refused uploads are not stored

    worker.drain()
    assert flood(1) == [201]  # room again


# --- No CPU amplification in downloads -------------------------------------------------------

@pytest.mark.django_db
def test_a_blurred_download_of_a_long_strip_is_cheap(client, worker, fake_model):
    job = upload(client, data=image_bytes(20, 20000), name="strip.png").json()
    worker.drain()
    started = time.perf_counter()
    response = client.get(f"/api/jobs/{job['id']}/download", {"bg": "blur", "format": "jpg"})
    assert response.status_code == 200
    assert time.perf_counter() - started < 5  # was 23 s of CPU at full-size blur


def test_blurring_a_shrunken_copy_matches_the_full_size_blur(astronaut):
    import cv2
    import numpy as np

    from remover.engine.compose import blurred_backdrop

    big = cv2.resize(astronaut, (1600, 1200), interpolation=cv2.INTER_CUBIC)
    exact = cv2.GaussianBlur(big, (0, 0), 0.02 * 1600)
    diff = np.abs(blurred_backdrop(big).astype(int) - exact.astype(int))
    assert diff.mean() < 0.5 and diff.max() <= 10

