"""Synchronous developer API latency for a 2 MP photo, next to the CLI on the same photo.

daphne serves the project on a free 127.0.0.1 port (throwaway database, the real model in the
in-process worker, a Pro key so the answer is full size). One warm-up request loads the
model, then N requests are sent one after another to POST /api/v1/remove (multipart PNG in,
PNG with alpha out); each latency is measured by the client, upload and download included.
The CLI runs ``manage.py removebg`` on the same file: once (process start and model load
included, as a user sees it), and with the file given K times, whose difference gives the
CLI's time per image with the model loaded.

    python -m bench.api_latency [--requests 10] [--cli-batch 5]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from PIL import Image

from bench.environment import describe
from tests.devapi.live import ROOT, live_server


def two_megapixel_png(folder: Path) -> Path:
    """scikit-image's astronaut, resized to 1414x1414 (2.0 MP)."""
    from skimage import data

    path = folder / "astronaut-2mp.png"
    Image.fromarray(data.astronaut()).resize((1414, 1414), Image.Resampling.LANCZOS).save(path)
    return path


def time_cli(images: list[Path], out: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "manage.py", "removebg", *map(str, images), "--out", str(out)],
                   cwd=ROOT, check=True, capture_output=True, timeout=600)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--cli-batch", type=int, default=5)
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    folder = Path(tempfile.mkdtemp(prefix="clearcut-api-bench-"))
    try:
        photo = two_megapixel_png(folder)
        payload = photo.read_bytes()
        latencies = []
        with live_server(folder / "server", pro=True) as server:
            def remove() -> requests.Response:
                response = requests.post(f"{server.base}/api/v1/remove", headers={"X-Api-Key": server.key},
                                         files={"image_file": (photo.name, payload, "image/png")},
                                         data={"format": "png", "size": "full"}, timeout=300)
                response.raise_for_status()
                return response

            warm = remove()
            size = Image.open(io.BytesIO(warm.content)).size
            for _ in range(args.requests):
                started = time.perf_counter()
                remove()
                latencies.append(time.perf_counter() - started)

        # The CLI, same photo: one run as a user starts it, then a batch of copies.
        copies = []
        for n in range(args.cli_batch):
            copy = folder / f"copy-{n}.png"
            shutil.copyfile(photo, copy)
            copies.append(copy)
        cli_once = time_cli([photo], folder / "cli-once")
        cli_batch = time_cli(copies, folder / "cli-batch")
        cli_per_image = (cli_batch - cli_once) / (args.cli_batch - 1)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    cuts = statistics.quantiles(latencies, n=20, method="inclusive")
    result = {
        "environment": describe(),
        # Other work on the machine slows both sides alike; this says how busy it was.
        "load_average_1min": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "image": "astronaut 1414x1414 PNG (2.0 MP), answer PNG " + "x".join(map(str, size)),
        "api_requests": len(latencies),
        "api_p50_s": round(statistics.median(latencies), 2),
        "api_p95_s": round(cuts[18], 2),
        "api_min_s": round(min(latencies), 2),
        "api_max_s": round(max(latencies), 2),
        "cli_one_image_s": round(cli_once, 2),
        "cli_per_image_in_batch_s": round(cli_per_image, 2),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
