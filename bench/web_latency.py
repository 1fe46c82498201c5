"""Upload to "done" for a large photo through the real server, and how soon progress shows.

Starts daphne (embedded default: in-process worker, SQLite, in-memory channel layer) on a
free 127.0.0.1 port, warms the model with one small upload, then for each run uploads a
JPEG made from scikit-image's astronaut and follows the job over a real WebSocket:

- upload: POST /api/jobs answered (the file is stored, the job queued);
- first progress event: the first message from the worker (stage past "queued");
- done: the "done" message;
- full-size PNG: the download of the transparent PNG at full size, asked for the moment
  "done" arrives, by a signed-in Pro user (free downloads are the 1 MP preview itself).

    python -m bench.web_latency [--megapixels 12] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import requests
from websockets.sync.client import connect

from bench.environment import describe
from bench.memory import large_photo
from tests.live_server import Daphne


PRO_USER = (
    "from django.contrib.auth.models import Permission, User; "
    "user = User.objects.create_user('pro', password='bench-only-password-5'); "
    "user.user_permissions.add(Permission.objects.get(codename='full_resolution'))"
)


def pro_session(base: str) -> requests.Session:
    http = requests.Session()
    http.get(f"{base}/accounts/login/", timeout=60)
    signed_in = http.post(f"{base}/accounts/login/", timeout=60, allow_redirects=False, data={
        "username": "pro", "password": "bench-only-password-5", "csrfmiddlewaretoken": http.cookies["csrftoken"]})
    if signed_in.status_code != 302:
        raise RuntimeError(f"sign-in failed: {signed_in.status_code}")
    return http


def follow(base: str, data: bytes, http: requests.Session) -> dict[str, float]:
    token = http.get(f"{base}/api/limits", timeout=60).cookies.get("csrftoken") or http.cookies["csrftoken"]
    began = time.monotonic()
    response = http.post(f"{base}/api/jobs", files={"image": ("photo.jpg", data, "image/jpeg")},
                         headers={"X-CSRFToken": token, "Referer": base}, timeout=300)
    response.raise_for_status()
    marks = {"upload": time.monotonic() - began}
    job = response.json()
    cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    ws_base = base.replace("http://", "ws://")
    with connect(f"{ws_base}{job['ws']}", origin=base, additional_headers={"Cookie": cookie}) as socket:
        while True:
            event = json.loads(socket.recv(timeout=600))
            if event["stage"] not in ("queued",) and "first progress event" not in marks:
                marks["first progress event"] = time.monotonic() - began
            if event["stage"] in ("done", "error"):
                if event["stage"] == "error":
                    raise RuntimeError(event.get("error"))
                marks["done"] = time.monotonic() - began
                break
    download = http.get(f"{base}{job['urls']['self']}/download?format=png", timeout=300)
    download.raise_for_status()
    marks["full-size PNG"] = time.monotonic() - began - marks["done"]
    return marks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megapixels", type=float, default=12.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(describe())
    photo = large_photo(args.megapixels)
    with tempfile.TemporaryDirectory() as folder:
        server = Daphne(Path(folder), {"CLEARCUT_WORKER": "thread"})
        server.start()
        try:
            server.manage("shell", "-c", PRO_USER)
            http = pro_session(server.url)
            follow(server.url, large_photo(0.25), http)  # loads the model
            runs = [follow(server.url, photo, http) for _ in range(args.runs)]
        finally:
            server.stop()
    print(f"\n{args.megapixels:g} MP JPEG ({len(photo) / 1e6:.1f} MB), {args.runs} runs; seconds after the upload "
          "began (the full-size PNG: after done)")
    for mark in ("upload", "first progress event", "done", "full-size PNG"):
        values = sorted(run[mark] for run in runs)
        print(f"{mark:<22} median {values[len(values) // 2]:6.2f}   min {values[0]:6.2f}   max {values[-1]:6.2f}")


if __name__ == "__main__":
    main()
