"""End to end over real sockets: daphne on a free loopback port, HTTP upload, progress over a
real WebSocket client, PNG download with a real alpha channel. Runs the real model once."""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pytest
import requests
from PIL import Image
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.live_server import Daphne


@pytest.fixture
def server(tmp_path):
    """A migrated throwaway database and media folder, and daphne serving them; yields host:port."""
    with Daphne(tmp_path, {"CLEARCUT_WORKER": "thread"}) as daphne:
        yield f"127.0.0.1:{daphne.port}"


def test_upload_progress_download_over_real_sockets(server, astronaut_png):
    browser = requests.Session()
    assert browser.get(f"http://{server}/api/limits", timeout=30).json()["tier"] == "free"
    started = time.monotonic()
    response = browser.post(
        f"http://{server}/api/jobs",
        files={"image": ("astronaut.png", astronaut_png, "image/png")},
        headers={"X-CSRFToken": browser.cookies["csrftoken"]},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    job = response.json()

    events = []
    cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    with connect(f"ws://{server}{job['ws']}", origin=f"http://{server}", additional_headers={"Cookie": cookie},
                 open_timeout=10) as socket:
        while not events or events[-1]["stage"] not in ("done", "error"):
            events.append(json.loads(socket.recv(timeout=120)))
            if len(events) == 1:
                first_event_after = time.monotonic() - started
    stages = [event["stage"] for event in events]
    assert stages[-1] == "done", events
    assert {"segmenting", "refining", "compositing"} <= set(stages)
    assert [e["progress"] for e in events] == sorted(e["progress"] for e in events)
    assert first_event_after < 10

    # Somebody else (another browser) cannot even open the job's socket.
    with pytest.raises(InvalidStatus):
        connect(f"ws://{server}{job['ws']}", origin=f"http://{server}", open_timeout=10)

    download = browser.get(f"http://{server}{events[-1]['urls']['download']}?format=png", timeout=60)
    assert download.status_code == 200 and download.headers["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(download.content))
    assert image.mode == "RGBA" and image.size == (512, 512)
    alpha = np.asarray(image)[..., 3]
    assert alpha[96, 224] > 240  # the astronaut's face
    assert alpha[:64, :64].max() < 10  # the backdrop, top left
    assert alpha[32:128, 400:500].max() < 10  # the backdrop beside the head
    assert 0.4 < (alpha > 128).mean() < 0.7
