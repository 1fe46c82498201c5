"""Scaled out for real: daphne, two Celery workers, redis-server and an S3 endpoint (moto),
all on loopback. Uploads over HTTP, progress over WebSockets, results read from the bucket."""

from __future__ import annotations

import io
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import requests
from PIL import Image

from .cluster import METRICS_TOKEN
from .conftest import full_size_stored, job_row
from .visitor import Visitor, photo_png

pytestmark = pytest.mark.scaleout


def test_uploads_progress_and_results_in_the_bucket(cluster):
    ready = requests.get(f"{cluster.url}/readyz", timeout=30)
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "storage": "ok", "redis": "ok"}

    alone, shopper = Visitor(cluster.url), Visitor(cluster.url)
    astronaut = alone.upload(photo_png("astronaut"), "astronaut.png")
    first = shopper.upload(photo_png("chelsea"), "cat.png")
    batch = [first] + [shopper.upload(photo_png(name), f"{name}.png", batch=first["batch"])
                       for name in ("coffee", "astronaut")]
    with ThreadPoolExecutor(4) as pool:
        followed = dict(zip(
            [j["id"] for j in [astronaut, *batch]],
            pool.map(lambda vj: vj[0].follow(vj[1]), [(alone, astronaut)] + [(shopper, j) for j in batch]),
        ))

    for job_id, seen in followed.items():
        assert seen.last["stage"] == "done", seen.events
        stages = [event["stage"] for event in seen.events]
        assert {"segmenting", "refining", "compositing"} <= set(stages), stages
        running = [event["progress"] for event in seen.events if event["status"] == "running"]
        assert running == sorted(running)
        assert job_row(cluster, job_id)["attempts"] == 1

    # Each job ran once, and both workers took part.
    ran = [cluster.finished_by(job_row(cluster, job_id)["claimed_by"]) for job_id in followed]
    assert all(len(names) == 1 for names in ran), ran
    assert {names[0] for names in ran} == set(cluster.workers)

    # Each job's files are in the bucket, once: the upload and three results.
    for job_id in followed:
        full_size_stored(cluster, job_id)
    keys = cluster.bucket_keys()
    for job_id in followed:
        mine = sorted(k.split(job_id + "-")[1] for k in keys if job_id in k)
        assert mine == ["cutout.png", "input.png", "original.jpg", "preview.png"]
    stored = cluster.s3_client().get_object(Bucket=cluster.bucket, Key=f"jobs/{astronaut['id']}-cutout.png")
    image = Image.open(io.BytesIO(stored["Body"].read()))
    assert image.mode == "RGBA" and image.size == (256, 256)
    alpha = np.asarray(image)[..., 3]
    assert alpha[48, 112] > 240  # the astronaut's face
    assert alpha[:32, :32].max() < 10  # the plain backdrop, top left

    # The site serves the result from the bucket; the other visitor cannot see it.
    download = alone.get(followed[astronaut["id"]].last["urls"]["download"] + "?format=png")
    assert download.status_code == 200 and download.headers["Content-Type"] == "image/png"
    assert shopper.get(astronaut["urls"]["self"]).status_code == 404

    # The web process's /metrics adds up what the workers recorded in Redis.
    metrics = requests.get(f"{cluster.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=30)
    assert metrics.status_code == 200
    for stage in ("queued", "decoding", "segmenting", "refining", "compositing", "total"):
        count = re.search(rf'clearcut_stage_seconds_count\{{stage="{stage}"\}} (\S+)', metrics.text)
        assert count and float(count.group(1)) >= 4, stage
    assert re.search(r'clearcut_jobs_finished_total\{outcome="done"\} ([4-9]|\d\d)', metrics.text), metrics.text
    assert 'clearcut_queue_messages{queue="clearcut.interactive"} 0.0' in metrics.text
