"""DATABASE_URL on a real Postgres (Debian's postgresql package, a throwaway cluster on a
free loopback port): the migrations apply, and when eight workers race for one job, exactly
one gets it."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from .cluster import ROOT, Process, free_port

pytestmark = pytest.mark.scaleout

RACE = """
import os, threading, django
django.setup()
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from remover.processing import jobs
from remover.web import limits
from remover.models import Job
from tests.web.helpers import FakeSegmenter, image_bytes
jobs.segmenter = FakeSegmenter
upload = SimpleUploadedFile("photo.png", image_bytes(64, 48), "image/png")
job = jobs.create_job(upload, limits.inspect_upload(upload), owner_key="o", user=None, ip=None,
                      batch=__import__("uuid").uuid4(), options={})
gate = threading.Barrier(8)
def worker(i):
    gate.wait()  # all claim at once
    jobs.process_job(job.pk, lambda *a: None, claim=f"task-{i}")
    connection.close()
threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
for t in threads: t.start()
for t in threads: t.join()
job.refresh_from_db()
print(connection.vendor, job.status, job.attempts, job.claimed_by)
"""


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    return Path(found[-1]).parent if found else None


@pytest.fixture(scope="module")
def postgres_url():
    bin_dir = _postgres_bin()
    if bin_dir is None:
        reason = "needs Debian's postgresql package (apt-get install postgresql)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    # Postgres refuses to run as root: as root, run it as the package's postgres user, in a
    # folder of its own directly under /tmp (pytest's folders are closed to other users).
    data = Path(tempfile.mkdtemp(prefix="clearcut-pg-"))
    as_owner = []
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_owner, str(bin_dir / "initdb"), "-D", str(data / "db"), "-A", "trust", "-U", "clearcut"],
                   check=True, capture_output=True, timeout=120)
    for _ in range(5):
        port = free_port()
        server = Process("postgres", [*as_owner, str(bin_dir / "postgres"), "-D", str(data / "db"),
                                      "-h", "127.0.0.1", "-p", str(port), "-k", str(data)], os.environ.copy())
        try:
            server.wait_for(r"ready to accept connections", 60)
            break
        except RuntimeError:  # port taken meanwhile: try another
            continue
    else:
        raise RuntimeError("postgres did not start")
    try:
        subprocess.run([*as_owner, str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "clearcut",
                        "clearcut"], check=True, capture_output=True, timeout=60)
        yield f"postgres://clearcut@127.0.0.1:{port}/clearcut"
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


def test_migrations_and_a_claim_race_on_postgres(postgres_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "S3_BUCKET")}
    env.update(DATABASE_URL=postgres_url, DJANGO_SETTINGS_MODULE="project.settings",
               CLEARCUT_MEDIA_ROOT=str(tmp_path / "media"), CLEARCUT_WORKER="none")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env,
                   check=True, timeout=300)
    race = subprocess.run([sys.executable, "-c", RACE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert race.returncode == 0, race.stderr
    vendor, status, attempts, claimed_by = race.stdout.split()
    assert (vendor, status, attempts) == ("postgresql", "done", "1")
    assert claimed_by.startswith("task-")
