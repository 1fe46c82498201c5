"""One scaled-out cluster (Redis, S3, daphne, two Celery workers) shared by the tests that
need real services, and isolation for the tests that run in this process."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest

from .cluster import Cluster, missing_services

# Short enough that a vanished worker's job comes back within the test, still well above
# the few seconds a small image takes here (the hard limit is 35 s).
FAULT_SETTINGS = {"CLEARCUT_JOB_TIME_LIMIT": "30", "CLEARCUT_VISIBILITY_TIMEOUT": "40", "CLEARCUT_RESTORE_INTERVAL": "1"}


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    missing = missing_services()
    if missing:
        reason = f"needs {', '.join(missing)}: apt-get install redis-server; pip install 'moto[server]'"
        if os.environ.get("CI"):  # CI installs both: a missing one is a broken setup, not a skip
            pytest.fail(reason)
        pytest.skip(reason)
    running = Cluster(tmp_path_factory.mktemp("cluster"), env=FAULT_SETTINGS).start()
    yield running
    running.stop()


def job_row(cluster: Cluster, job_id: str) -> dict:
    """The job's row, read straight from the cluster's SQLite file."""
    with sqlite3.connect(cluster.tmp / "db.sqlite3", timeout=20) as db:
        db.row_factory = sqlite3.Row
        row = db.execute("SELECT * FROM remover_job WHERE id = ?", (job_id.replace("-", ""),)).fetchone()
    return dict(row)


def full_size_stored(cluster: Cluster, job_id: str, timeout: float = 30) -> dict:
    """The job's row once its full-size cut-out is recorded: a worker stores it just after
    announcing "done" (remover/processing/jobs.py)."""
    deadline = time.monotonic() + timeout
    row = job_row(cluster, job_id)
    while not row["cutout"] and time.monotonic() < deadline:
        time.sleep(0.1)
        row = job_row(cluster, job_id)
    assert row["cutout"], f"job {job_id} has no full-size cut-out {timeout} s after done"
    return row


@pytest.fixture
def isolated(settings, tmp_path):
    """For tests in this process: files in a temporary folder, in-memory channel layer, no thread."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.CLEARCUT_WORKER = "none"
    return settings
