"""A browser's view of the site, over real sockets: HTTP uploads and the job's WebSocket.

Like the page's JavaScript, :meth:`Visitor.follow` reconnects when the socket drops
(the web process restarted) and reads until the job is done or failed.
"""

from __future__ import annotations

import io
import json
import time

import requests
from PIL import Image
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import connect

FINAL = ("done", "error")


def photo_png(name: str = "astronaut", size: int = 256) -> bytes:
    """A real photo that ships with scikit-image, as a small PNG."""
    from skimage import data

    image = Image.fromarray(getattr(data, name)())
    image.thumbnail((size, size))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


class Visitor:
    def __init__(self, base_url: str):
        self.base_url = base_url
        self.session = requests.Session()
        self.session.get(f"{base_url}/api/limits", timeout=30).raise_for_status()  # sets the CSRF cookie

    def upload(self, data: bytes, name: str = "photo.png", batch: str | None = None) -> dict:
        response = self.session.post(
            f"{self.base_url}/api/jobs",
            files={"image": (name, data, "image/png")},
            data={"batch": batch} if batch else {},
            headers={"X-CSRFToken": self.session.cookies["csrftoken"]},
            timeout=60,
        )
        assert response.status_code == 201, response.text
        return response.json()

    def state(self, job: dict) -> dict:
        return self.session.get(f"{self.base_url}{job['urls']['self']}", timeout=30).json()

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(f"{self.base_url}{path}", timeout=60, **kwargs)

    def follow(self, job: dict, timeout: float = 180, until=lambda event: event["stage"] in FINAL) -> "Followed":
        """Read the job's socket until ``until(event)``, reconnecting whenever it drops."""
        ws_url = self.base_url.replace("http://", "ws://") + job["ws"]
        cookie = "; ".join(f"{k}={v}" for k, v in self.session.cookies.items())
        followed = Followed()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with connect(ws_url, origin=self.base_url, additional_headers={"Cookie": cookie},
                             open_timeout=5) as socket:
                    followed.connections += 1
                    while True:
                        event = json.loads(socket.recv(timeout=max(0.1, deadline - time.monotonic())))
                        followed.events.append(event)
                        followed.times.append(time.monotonic())
                        if until(event):
                            return followed
            except (ConnectionClosed, InvalidHandshake, OSError):  # OSError covers a recv timeout too
                followed.failures += 1
                time.sleep(0.2)  # the server is restarting or busy: try again, as the page does
        raise TimeoutError(f"job {job['id']} did not finish: {followed.events[-3:]}")


class Followed:
    """What one job's socket said, with the arrival time of each message."""

    def __init__(self):
        self.events: list[dict] = []
        self.times: list[float] = []
        self.connections = 0
        self.failures = 0  # connections refused, dropped or timed out

    @property
    def last(self) -> dict:
        return self.events[-1]

    def first(self, stage: str) -> float | None:
        """When the socket first said the job was in ``stage``."""
        return next((t for e, t in zip(self.events, self.times) if e["stage"] == stage), None)
