"""The in-process worker: restart pickup, the bounded queue, failures that must not kill it,
and the retention purge (with time moved forward)."""

from __future__ import annotations

import io
import threading
import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from remover.models import DailyUsage, Job
from remover.processing import jobs
from remover.processing.thread_worker import InProcessWorker, QueueFull
from remover.web import limits

from .helpers import image_bytes


def make_job(**fields) -> Job:
    upload = SimpleUploadedFile("photo.png", image_bytes(160, 120), "image/png")
    job = jobs.create_job(
        upload, limits.inspect_upload(upload), owner_key="owner", user=None, ip="127.0.0.1",
        batch=uuid.uuid4(), options={},
    )
    if fields:
        Job.objects.filter(pk=job.pk).update(**fields)
        job.refresh_from_db()
    return job


class Recorder:
    """A publish callable that remembers what was published and can wait for a job's end."""

    def __init__(self):
        self.published: list[uuid.UUID] = []
        self.finished = threading.Event()

    def __call__(self, job_id, snapshot=None):
        self.published.append(job_id)
        if snapshot and snapshot.get("status") in ("done", "error"):
            self.finished.set()


@pytest.mark.django_db
def test_restart_requeues_interrupted_jobs_oldest_first(fake_model):
    running = make_job(status="running", stage="segmenting", progress=40)
    queued = make_job()
    done = make_job(status="done", stage="done", progress=100, cutout="jobs/done-cutout.png")
    # Announced done, stopped before its full-size cut-out was stored: made again.
    half_done = make_job(status="done", stage="done", progress=100)

    fresh = InProcessWorker(maxsize=1, sweep_seconds=300)  # smaller than the backlog: recovered anyway
    fresh.recover()
    assert fresh.pending() == [running.pk, queued.pk, half_done.pk]
    running.refresh_from_db()
    assert (running.status, running.stage, running.progress) == ("queued", "queued", 0)

    fresh.drain()
    assert set(Job.objects.values_list("status", flat=True)) == {"done"}
    assert fake_model.calls == 3  # the finished job was not run again; the half-done one was
    assert default_storage.exists(Job.objects.get(pk=running.pk).cutout.name)
    assert done.pk not in fresh.pending()


@pytest.mark.django_db(transaction=True)
def test_worker_thread_picks_up_left_over_jobs_when_it_starts(fake_model):
    left_over = make_job(status="running", stage="refining", progress=70)
    recorder = Recorder()
    thread_worker = InProcessWorker(maxsize=4, sweep_seconds=300, publish=recorder)
    thread_worker.start()
    try:
        assert recorder.finished.wait(timeout=30)
    finally:
        thread_worker.stop()
    assert not thread_worker.running
    left_over.refresh_from_db()
    assert left_over.status == "done" and left_over.progress == 100 and left_over.started_at is not None


def test_queue_is_bounded():
    bounded = InProcessWorker(maxsize=2, sweep_seconds=300)
    bounded.submit(uuid.uuid4())
    bounded.submit(uuid.uuid4())
    assert not bounded.has_room()
    with pytest.raises(QueueFull):
        bounded.submit(uuid.uuid4())


@pytest.mark.django_db
def test_a_rerun_job_overwrites_its_files(worker, fake_model):
    job = make_job()
    worker.submit(job.pk)
    worker.drain()
    first = sorted(default_storage.listdir("jobs")[1])
    Job.objects.filter(pk=job.pk).update(status="queued", cutout="", preview="", original="")
    worker.submit(job.pk)  # as if the process died after writing files, before recording them
    worker.drain()
    assert sorted(default_storage.listdir("jobs")[1]) == first
    assert len(first) == 4


@pytest.mark.django_db
def test_a_job_is_processed_once_even_if_handed_over_twice(worker, fake_model):
    job = make_job()
    worker.submit(job.pk)
    worker.submit(job.pk)
    worker.drain()
    assert fake_model.calls == 1
    assert Job.objects.get(pk=job.pk).status == "done"


@pytest.mark.django_db
def test_model_failure_ends_the_job_in_error_and_the_worker_goes_on(worker, fake_model, monkeypatch):
    broken, fine = make_job(), make_job()
    real_predict = fake_model.predict

    def predict_once_broken(images, **options):
        if fake_model.calls == 0:
            fake_model.calls += 1
            raise RuntimeError("simulated out-of-memory")
        return real_predict(images, **options)

    monkeypatch.setattr(fake_model, "predict", predict_once_broken)
    worker.submit(broken.pk)
    worker.submit(fine.pk)
    worker.drain()
    broken.refresh_from_db()
    assert broken.status == "error" and broken.error == jobs.FAILED_MESSAGE
    assert not broken.cutout  # nothing half-written is kept
    assert Job.objects.get(pk=fine.pk).status == "done"


@pytest.mark.django_db
def test_job_deleted_while_running_leaves_no_files(worker, fake_model, monkeypatch):
    job = make_job()
    real_predict = fake_model.predict

    def predict_then_delete(images, **options):
        Job.objects.filter(pk=job.pk).delete()  # "delete now" pressed mid-run
        return real_predict(images, **options)

    monkeypatch.setattr(fake_model, "predict", predict_then_delete)
    worker.submit(job.pk)
    worker.drain()
    assert not Job.objects.exists()
    assert default_storage.listdir("jobs")[1] == []


# --- Retention ---------------------------------------------------------------------------

@pytest.mark.django_db
def test_purge_expired_deletes_old_jobs_and_their_files(worker, fake_model):
    old = make_job()
    worker.submit(old.pk)
    worker.drain()
    old.refresh_from_db()
    old_files = [f.name for f in old.stored_files()]
    assert len(old_files) == 4
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(hours=23)):
        newer = make_job()  # uploaded 23 hours after the first one

    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(hours=24, minutes=1)):
        out = io.StringIO()
        call_command("purge_expired", stdout=out)

    assert out.getvalue().strip() == "Deleted 1 expired job(s)."
    assert list(Job.objects.values_list("pk", flat=True)) == [newer.pk]
    assert not any(default_storage.exists(name) for name in old_files)
    assert default_storage.exists(newer.input.name)


@pytest.mark.django_db
def test_nothing_is_purged_before_its_time(settings):
    settings.CLEARCUT_RETENTION_HOURS = 2
    make_job()
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(hours=1, minutes=59)):
        assert jobs.purge_expired() == []
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(hours=2, minutes=1)):
        assert len(jobs.purge_expired()) == 1


@pytest.mark.django_db
def test_worker_sweep_purges_and_tells_open_pages(fake_model):
    job = make_job()
    recorder = Recorder()
    sweeper = InProcessWorker(maxsize=4, sweep_seconds=300, publish=recorder)
    yesterday = timezone.now().date() - timedelta(days=2)
    DailyUsage.objects.create(scope="ip", key="k", day=yesterday, count=3)
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(days=2)):
        sweeper.step()  # no job waiting: only the sweep, which is due at start
    assert not Job.objects.exists()
    assert recorder.published == [job.pk]
    assert not DailyUsage.objects.exists()
