"""CLEARCUT_WORKER=celery in this process, with the sending replaced: which queue a job goes
to, the bound on waiting jobs, a broker that cannot be reached, and start-up recovery."""

from __future__ import annotations

import uuid

import pytest

from remover.models import Job
from remover.processing import dispatch, worker
from remover.processing.dispatch import CeleryDispatcher

from .test_claims import make_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(isolated, monkeypatch) -> list[tuple[uuid.UUID, str]]:
    record = []
    monkeypatch.setattr(dispatch, "send", lambda job: record.append((job.pk, dispatch.queue_for(job))))
    return record


class FakeRedis:
    """Just the SET NX EX the recovery lock uses."""

    keys: set[str] = set()

    def set(self, key, value, nx=False, ex=None):
        if nx and key in self.keys:
            return None
        self.keys.add(key)
        return True


def test_queues_keep_single_uploads_apart_from_batches_and_id_photos():
    single = make_job()
    first = make_job()
    second = make_job(batch=first.batch)
    passport = make_job(options={"mode": "idphoto", "preset": "uk"})
    assert [dispatch.queue_for(j) for j in (single, first, second, passport)] == [
        "clearcut.interactive", "clearcut.interactive", "clearcut.batch", "clearcut.idphoto"
    ]


def test_celery_mode_puts_the_dispatcher_behind_get_worker(isolated, monkeypatch, sent):
    isolated.CLEARCUT_WORKER = "celery"
    monkeypatch.setattr(worker, "_worker", None)
    started = []
    monkeypatch.setattr(CeleryDispatcher, "start", lambda self, loop=None: started.append(loop))
    job = make_job()
    worker.enqueue(job.pk)  # what the upload view calls, whatever the deployment
    assert isinstance(worker.get_worker(), CeleryDispatcher)
    assert sent == [(job.pk, "clearcut.interactive")]
    assert started  # the recovery runs once the process serves


def test_waiting_jobs_are_bounded_across_processes(sent):
    dispatcher = CeleryDispatcher(maxsize=2)
    make_job(), make_job()
    assert not dispatcher.has_room()  # counted in the shared database, not in this process
    third = make_job()
    with pytest.raises(worker.QueueFull):
        dispatcher.submit(third.pk)
    assert sent == []


def test_an_unreachable_broker_refuses_the_upload_as_busy(isolated, monkeypatch):
    def broker_down(job):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379")

    monkeypatch.setattr(dispatch, "send", broker_down)
    with pytest.raises(worker.QueueFull):
        CeleryDispatcher(maxsize=10).submit(make_job().pk)


def test_start_up_recovery_resends_queued_jobs_once_and_never_running_ones(sent, monkeypatch):
    FakeRedis.keys = set()
    monkeypatch.setattr(dispatch, "redis_client", FakeRedis)
    queued = [make_job(), make_job()]
    make_job(status="running", claimed_by="task-a")
    make_job(status="done")
    # Three web processes start together: one re-sends, the others find the lock taken.
    assert CeleryDispatcher(10).recover() == [job.pk for job in queued]
    assert CeleryDispatcher(10).recover() == []
    assert CeleryDispatcher(10).recover() == []
    assert [job_id for job_id, _ in sent] == [job.pk for job in queued]
    assert Job.objects.filter(status="running").count() == 1
