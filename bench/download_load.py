"""Heavy downloads at once against one daphne: memory, refusals, and another visitor's wait.

    python -m bench.download_load [--downloads 12] [--side 7000]

The attack from issue 17: an anonymous visitor uploads a small PNG declaring ``--side``²
pixels (7000² = 49 MP, under the cap), then asks for ``--downloads`` *different* heavy
downloads of it at once (blurred backdrop as JPEG, each with another colour or format, so
none can share a render). Meanwhile a second visitor downloads their 512 px photo.

Reports: the answers to the heavy downloads (200, or 503 + Retry-After when the render
lane is full), the server's peak RSS *during the downloads* (VmRSS sampled every 20 ms;
the kernel's VmHWM would include the 49 MP job's processing before), its RSS before, and
the small download's time. Then the same downloads again, one after the other: those
answered before come from storage, the refused ones are rendered now.
Results also go to bench/out/download_load.json.
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import requests
from PIL import Image

from bench.environment import describe
from bench.load import rss_kb
from tests.live_server import Daphne

OUT = Path(__file__).resolve().parent / "out" / "download_load.json"


def flat_png(side: int) -> bytes:
    """A ``side``² PNG that compresses to almost nothing: a grey field with a darker disc."""
    y, x = np.ogrid[:side, :side]
    disc = (x - side / 2) ** 2 + (y - side / 2) ** 2 < (side / 3) ** 2
    pixels = np.where(disc[..., None], np.uint8(60), np.uint8(200)).repeat(3, axis=2)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG", compress_level=9)
    return buf.getvalue()


def visitor(server: Daphne) -> requests.Session:
    session = requests.Session()
    session.get(f"{server.url}/api/limits", timeout=30).raise_for_status()
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
    return session


def finished(session: requests.Session, server: Daphne, data: bytes, timeout: float) -> dict:
    created = session.post(f"{server.url}/api/jobs", files={"image": ("photo.png", data, "image/png")}, timeout=120)
    created.raise_for_status()
    job = created.json()
    deadline = time.monotonic() + timeout
    while job["status"] not in ("done", "error") and time.monotonic() < deadline:
        time.sleep(0.5)
        job = session.get(f"{server.url}{job['urls']['self']}", timeout=30).json()
    if job["status"] != "done":
        raise RuntimeError(f"job ended {job['status']}: {job.get('error')}")
    return job


class Sampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.running = pid, 0, True

    def run(self):
        while self.running:
            self.peak_kb = max(self.peak_kb, rss_kb(self.pid, "VmRSS"))
            time.sleep(0.02)


def heavy_queries(count: int) -> list[str]:
    """``count`` different downloads: the blurred backdrop in each format, then colours."""
    formats = ("jpg", "png", "webp")
    return [f"format={formats[i % 3]}&bg={'blur' if i < 3 else f'{i * 17 % 256:02X}40C0'}" for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--downloads", type=int, default=12)
    parser.add_argument("--side", type=int, default=7000)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder, Daphne(Path(folder)) as server:
        attacker, other = visitor(server), visitor(server)
        data = flat_png(args.side)
        small = finished(other, server, flat_png(512), args.timeout)
        big = finished(attacker, server, data, args.timeout)
        time.sleep(1)
        before_kb = rss_kb(server.pid, "VmRSS")
        sampler = Sampler(server.pid)
        sampler.start()

        def heavy(query: str) -> tuple[int, float, str]:
            started = time.monotonic()
            response = attacker.get(f"{server.url}{big['urls']['download']}?{query}", timeout=600)
            return response.status_code, time.monotonic() - started, response.headers.get("Retry-After", "")

        queries = heavy_queries(args.downloads)
        with ThreadPoolExecutor(args.downloads) as pool:
            answers = [pool.submit(heavy, query) for query in queries]
            time.sleep(0.5)  # the heavy ones are in the lane
            started = time.monotonic()
            small_status = other.get(f"{server.url}{small['urls']['download']}?format=png", timeout=120).status_code
            small_seconds = time.monotonic() - started
            heavy_results = [future.result() for future in answers]
        sampler.running = False
        sampler.join()
        started = time.monotonic()
        again = [attacker.get(f"{server.url}{big['urls']['download']}?{q}", timeout=600).status_code for q in queries]
        again_seconds = time.monotonic() - started

    statuses = [status for status, _, _ in heavy_results]
    result = {
        "machine": describe(),
        "upload_bytes": len(data),
        "megapixels": args.side ** 2 / 1e6,
        "heavy_downloads": {
            "ok": statuses.count(200), "busy_503": statuses.count(503),
            "other": [s for s in statuses if s not in (200, 503)],
            "retry_after": sorted({r for s, _, r in heavy_results if s == 503}),
            "slowest_ok_s": round(max((t for s, t, _ in heavy_results if s == 200), default=0), 2),
        },
        "rss_before_mb": round(before_kb / 1024),
        "rss_peak_during_downloads_mb": round(sampler.peak_kb / 1024),
        "small_download": {"status": small_status, "seconds": round(small_seconds, 3)},
        "again": {"statuses": sorted(set(again)), "seconds_for_all": round(again_seconds, 2)},
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
