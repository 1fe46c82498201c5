"""Web app fixtures: isolated storage and channel layer, a worker driven by the test, a fast
stand-in for the model (most tests check the web app, not the network), helpers to upload."""

from __future__ import annotations

import pytest

from remover.processing import worker as worker_module
from tests.conftest import png_bytes

from .helpers import FakeSegmenter


@pytest.fixture(autouse=True)
def web_settings(settings, tmp_path):
    """Files in a temporary folder, a fresh in-memory channel layer, no worker thread."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.CLEARCUT_WORKER = "none"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast test users
    return settings


@pytest.fixture(autouse=True)
def worker(monkeypatch, web_settings):
    """This test's own in-process worker; tests run queued jobs with ``worker.drain()``."""
    fresh = worker_module.InProcessWorker(web_settings.CLEARCUT_QUEUE_SIZE, web_settings.CLEARCUT_SWEEP_SECONDS)
    monkeypatch.setattr(worker_module, "_worker", fresh)
    return fresh


@pytest.fixture
def fake_model(monkeypatch):
    fake = FakeSegmenter()
    monkeypatch.setattr("remover.processing.jobs.segmenter", lambda: fake)
    return fake


@pytest.fixture
def astronaut_png(astronaut) -> bytes:
    return png_bytes(astronaut)
