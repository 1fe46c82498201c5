"""Who may run a job: duplicate messages, a redelivered message taking its job back, the
bound on attempts, restart recovery beside Celery, and the Celery task itself (run
eagerly here, in this process, with a stand-in model)."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from remover.models import Job
from remover.processing import jobs, tasks
from remover.web import limits
from tests.web.helpers import FakeSegmenter, image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fake_model(isolated, monkeypatch):
    fake = FakeSegmenter()
    monkeypatch.setattr("remover.processing.jobs.segmenter", lambda: fake)
    return fake


class Published(list):
    def __call__(self, job_id, snapshot=None):
        self.append(snapshot or {})


def make_job(**fields) -> Job:
    upload = SimpleUploadedFile("photo.png", image_bytes(120, 90), "image/png")
    job = jobs.create_job(upload, limits.inspect_upload(upload), owner_key="owner", user=None, ip=None,
                          batch=uuid.uuid4(), options={})
    Job.objects.filter(pk=job.pk).update(**fields)
    job.refresh_from_db()
    return job


def test_a_second_copy_of_a_message_does_nothing(fake_model):
    job = make_job()
    jobs.process_job(job.pk, Published(), claim="task-a")
    jobs.process_job(job.pk, Published(), claim="task-b")  # the same job sent again (start-up recovery)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.claimed_by, fake_model.calls) == ("done", 1, "task-a", 1)


def test_only_the_same_task_id_takes_back_a_running_job(fake_model):
    job = make_job(status="running", stage="segmenting", claimed_by="task-a", attempts=1)
    jobs.process_job(job.pk, Published(), claim="task-b")  # another copy: the holder may be alive
    jobs.process_job(job.pk, Published())  # the in-process worker never takes a running job
    assert fake_model.calls == 0
    jobs.process_job(job.pk, Published(), claim="task-a")  # redelivered after its worker died
    job.refresh_from_db()
    assert (job.status, job.attempts, fake_model.calls) == ("done", 2, 1)


def test_a_job_that_keeps_killing_its_worker_is_given_up(fake_model, settings):
    job = make_job(status="running", claimed_by="task-a", attempts=settings.CLEARCUT_MAX_ATTEMPTS)
    published = Published()
    jobs.process_job(job.pk, published, claim="task-a")
    job.refresh_from_db()
    assert (job.status, job.error, fake_model.calls) == ("error", jobs.GAVE_UP_MESSAGE, 0)
    assert published[-1]["status"] == "error"


def test_restart_recovery_leaves_celery_jobs_alone():
    in_process = make_job(status="running", stage="refining")
    on_celery = make_job(status="running", stage="refining", claimed_by="task-a")
    assert jobs.requeue_interrupted() == [in_process.pk]
    on_celery.refresh_from_db()
    assert on_celery.status == "running"


def test_the_celery_task_runs_the_job_under_its_own_id(fake_model):
    job = make_job()
    tasks.process.apply(args=[str(job.pk)], task_id="task-1").get()
    job.refresh_from_db()
    assert (job.status, job.claimed_by, job.attempts) == ("done", "task-1", 1)


def test_a_task_that_failed_for_good_does_not_leave_its_job_running():
    job = make_job(status="running", claimed_by="task-1", attempts=1)
    other = make_job(status="running", claimed_by="task-2", attempts=1)
    tasks.give_up(sender=tasks.process, task_id="task-1", args=[str(job.pk)])
    job.refresh_from_db()
    other.refresh_from_db()
    assert (job.status, job.error) == ("error", jobs.FAILED_MESSAGE)
    assert other.status == "running"
