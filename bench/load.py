"""Load test on 127.0.0.1: concurrent 24 MP uploads to one daphne, memory of the server.

    python -m bench.load [--uploads 20] [--megapixels 24] [--timeout 1500] [--queue-size 100]

Starts daphne (the default deployment: in-process worker with the real model, SQLite,
local files) on a free loopback port with its own temporary database and files, warms it
up with one small job (the model loads), then fires ``--uploads`` uploads of a
``--megapixels`` JPEG at once, each from its own browser session (CSRF cookie, then the
multipart POST), and follows every accepted job to its end.

Reports: requests made, failures (any answer other than 201, any job ending in error, any
connection error, any job not finished in time), deliberate "busy" answers (503 +
Retry-After, when the bounded queue is full; counted apart and not failures, see
--queue-size), p50/p95 upload latency (POST until the 201) and upload-to-done time, and
the server process's RSS: after warm-up, and its peak (the kernel's high-water mark,
VmHWM) over the whole run. Results also go to bench/out/load.json.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import requests
from PIL import Image

from bench.environment import describe
from tests.live_server import Daphne

OUT = Path(__file__).resolve().parent / "out" / "load.json"


def photo(megapixels: float) -> bytes:
    """A camera-like JPEG: the astronaut enlarged, with sensor-like noise (24 MP: about 5.5 MB)."""
    from skimage import data

    width = int(round((megapixels * 1e6 * 1.5) ** 0.5))
    height = int(round(width / 1.5))
    image = np.asarray(Image.fromarray(data.astronaut()).resize((width, height), Image.Resampling.BICUBIC))
    noise = np.random.default_rng(0).normal(0, 5, (height, width, 1))
    buf = io.BytesIO()
    Image.fromarray(np.clip(image + noise, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def rss_kb(pid: int, field: str) -> int:
    """VmRSS (now) or VmHWM (peak so far) of a process, in kB, from /proc."""
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Browser:
    """One visitor: a session cookie, the CSRF token, uploads and polling like the page."""

    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()
        self.requests = 1
        self.token = self.http.get(f"{base}/api/limits", timeout=60).cookies["csrftoken"]

    def upload(self, data: bytes, name: str) -> requests.Response:
        self.requests += 1
        return self.http.post(
            f"{self.base}/api/jobs", files={"image": (name, data, "image/jpeg")},
            headers={"X-CSRFToken": self.token, "Referer": self.base}, timeout=300,
        )

    def wait(self, job: dict, deadline: float) -> dict:
        while True:
            self.requests += 1
            state = self.http.get(f"{self.base}{job['urls']['self']}", timeout=60).json()
            if state["status"] in ("done", "error") or time.monotonic() > deadline:
                return state
            time.sleep(1)


def visit(base: str, data: bytes, index: int, start: threading.Barrier, deadline_s: float) -> dict:
    """One browser's upload and, if accepted, its job until done: timings and outcome."""
    result: dict = {"index": index, "requests": 0}
    browser = None
    try:
        browser = Browser(base)
        start.wait(timeout=300)  # every upload leaves at the same moment
        began = time.monotonic()
        response = browser.upload(data, f"photo-{index}.jpg")
        result.update(status=response.status_code, upload_s=time.monotonic() - began)
        if response.status_code == 503:
            result["retry_after"] = response.headers.get("Retry-After")
        if response.status_code == 201:
            state = browser.wait(response.json(), time.monotonic() + deadline_s)
            result.update(job=state["status"], done_s=time.monotonic() - began, error=state["error"])
    except (requests.RequestException, ValueError, KeyError, threading.BrokenBarrierError) as exc:
        result["exception"] = f"{type(exc).__name__}: {exc}"
    result["requests"] = browser.requests if browser else 0
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--megapixels", type=float, default=24.0)
    parser.add_argument("--timeout", type=float, default=1500, help="seconds for every job to finish")
    parser.add_argument("--queue-size", type=int, default=100, help="CLEARCUT_QUEUE_SIZE of the server")
    args = parser.parse_args()
    machine = describe()  # now: other commits may land while it runs
    print(machine)
    data = photo(args.megapixels)
    print(f"{args.uploads} concurrent uploads of a {args.megapixels:g} MP JPEG ({len(data) / 1e6:.1f} MB)")

    with tempfile.TemporaryDirectory() as tmp:
        server = Daphne(Path(tmp), {"CLEARCUT_WORKER": "thread", "CLEARCUT_QUEUE_SIZE": str(args.queue_size)})
        server.start()
        try:
            warm = Browser(server.url)
            warm.wait(warm.upload(photo(0.1), "warm-up.jpg").json(), time.monotonic() + 600)
            baseline_kb = rss_kb(server.pid, "VmRSS")
            samples: list[int] = []
            sampling = threading.Event()

            def sample() -> None:
                while not sampling.wait(0.25):
                    samples.append(rss_kb(server.pid, "VmRSS"))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            started = time.monotonic()
            barrier = threading.Barrier(args.uploads)
            with ThreadPoolExecutor(args.uploads) as pool:
                results = list(pool.map(lambda i: visit(server.url, data, i, barrier, args.timeout), range(args.uploads)))
            wall = time.monotonic() - started
            sampling.set()
            sampler.join()
            peak_kb = rss_kb(server.pid, "VmHWM")
            alive = server.process.poll() is None
        finally:
            server.stop()

    busy = [r for r in results if r.get("status") == 503]
    failures = [r for r in results if r not in busy and (r.get("status") != 201 or r.get("job") != "done")]
    uploads = [r["upload_s"] for r in results if r.get("status") == 201]
    done = [r["done_s"] for r in results if r.get("job") == "done"]
    report = {
        "machine": machine,
        "uploads": args.uploads,
        "megapixels": args.megapixels,
        "upload_mb": round(len(data) / 1e6, 2),
        "requests": sum(r["requests"] for r in results),  # CSRF cookie, upload, status polls
        "accepted": len(uploads),
        "busy_503": len(busy),
        "failures": len(failures),
        "failure_details": failures,
        "upload_p50_s": round(statistics.median(uploads), 2) if uploads else None,
        "upload_p95_s": round(percentile(uploads, 0.95), 2) if uploads else None,
        "done_p50_s": round(statistics.median(done), 1) if done else None,
        "done_p95_s": round(percentile(done, 0.95), 1) if done else None,
        "wall_s": round(wall, 1),
        "rss_after_warmup_mb": round(baseline_kb / 1024),
        "rss_peak_sampled_mb": round(max(samples, default=baseline_kb) / 1024),
        "rss_peak_mb": round(peak_kb / 1024),
        "server_alive": alive,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2))
    print(json.dumps({k: v for k, v in report.items() if k != "failure_details"}, indent=2))
    for failure in failures:
        print("FAILURE", failure)


if __name__ == "__main__":
    main()
