"""/healthz, /readyz and /metrics in this process (embedded default: in-memory counters)."""

from __future__ import annotations

import pytest

from remover.processing import health, metrics
from remover.processing.thread_worker import InProcessWorker

from .test_claims import make_job

pytestmark = pytest.mark.django_db


def test_liveness_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "storage": "ok"}}


def test_probes_are_not_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/readyz").status_code == 200
    assert client.get("/api/limits").status_code == 301


def test_not_ready_while_the_database_is_down(client, monkeypatch):
    def down():
        raise OSError("connection refused")

    monkeypatch.setattr(health, "_database", down)
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "failed"
    assert "refused" not in ready.content.decode()  # the reason goes to the log, not to callers


def test_metrics_need_the_token_or_an_allowed_network(client, settings):
    settings.DEBUG = True  # debug does not open them
    settings.CLEARCUT_METRICS_TOKEN = ""
    settings.CLEARCUT_METRICS_NETWORKS = []
    assert client.get("/metrics").status_code == 404
    settings.CLEARCUT_METRICS_TOKEN = "s3cret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="s3cret").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200
    settings.CLEARCUT_METRICS_TOKEN = ""
    settings.CLEARCUT_METRICS_NETWORKS = ["10.0.0.0/8", "fd00::/8"]
    assert client.get("/metrics").status_code == 404  # the test client is 127.0.0.1
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="11.1.2.3").status_code == 404


def test_stage_times_failures_and_queue_lengths(client, settings, isolated, monkeypatch):
    from tests.web.helpers import FakeSegmenter

    settings.CLEARCUT_METRICS_TOKEN = "s3cret"
    monkeypatch.setattr(metrics, "store", lambda fresh=metrics.MemoryStore(): fresh)
    monkeypatch.setattr("remover.processing.jobs.segmenter", FakeSegmenter)
    local = InProcessWorker(maxsize=10, sweep_seconds=300)
    monkeypatch.setattr("remover.processing.worker._worker", local)
    good, waiting = make_job(), make_job()
    broken = make_job()
    broken.input.storage.delete(broken.input.name)  # the upload vanished: the job fails
    local.submit(good.pk)
    local.submit(broken.pk)
    local.drain()
    local.submit(waiting.pk)

    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").content.decode()
    for stage in ("queued", "decoding", "segmenting", "refining", "compositing", "total"):
        assert f'clearcut_stage_seconds_count{{stage="{stage}"}}' in text
    assert 'clearcut_stage_seconds_count{stage="total"} 2.0' in text
    assert 'clearcut_jobs_finished_total{outcome="done"} 1.0' in text
    assert 'clearcut_jobs_finished_total{outcome="failed"} 1.0' in text
    assert 'clearcut_jobs{status="queued"} 1.0' in text
    assert 'clearcut_queue_messages{queue="in-process"} 1.0' in text
