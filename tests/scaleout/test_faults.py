"""Faults on the real cluster: workers killed with SIGKILL in the middle of a job, the web
process restarted under an open WebSocket, several web processes starting at once.
No job may be lost, and none may run twice."""

from __future__ import annotations

import os
import re
import signal
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests

from remover.processing.dispatch import RECOVERY_LOCK

from .cluster import BIN, Process
from .conftest import full_size_stored, job_row
from .visitor import FINAL, Visitor, photo_png

pytestmark = pytest.mark.scaleout


def running(cluster, visitor: Visitor, job: dict) -> str:
    """Wait until a worker is in the middle of the job; returns the job's task id."""
    visitor.follow(job, until=lambda event: event["stage"] == "segmenting")
    return job_row(cluster, job["id"])["claimed_by"]


def files_of(cluster, job_id: str) -> list[str]:
    full_size_stored(cluster, job_id)
    return sorted(key.split(job_id + "-")[1] for key in cluster.bucket_keys() if job_id in key)


RESULTS = ["cutout.png", "input.png", "original.jpg", "preview.png"]


@pytest.fixture
def visitor(cluster) -> Visitor:
    return Visitor(cluster.url)


def test_killed_pool_process_hands_its_job_back(cluster, visitor):
    job = visitor.upload(photo_png("astronaut"))
    task_id = running(cluster, visitor, job)
    holder = cluster.workers[cluster.holder(task_id)]
    [pool_process] = holder.children()
    os.kill(pool_process, signal.SIGKILL)  # the process with the model and the job in hand

    assert visitor.follow(job).last["stage"] == "done"
    row = job_row(cluster, job["id"])
    assert (row["status"], row["attempts"], row["claimed_by"]) == ("done", 2, task_id)
    assert re.search(r"signal 9 \(SIGKILL\)", holder.log)
    assert len(cluster.finished_by(task_id)) == 1  # the second run finished, once
    assert files_of(cluster, job["id"]) == RESULTS


def test_vanished_worker_job_is_redelivered_after_the_visibility_timeout(cluster, visitor):
    job = visitor.upload(photo_png("chelsea"))
    task_id = running(cluster, visitor, job)
    name = cluster.holder(task_id)
    cluster.workers[name].kill()  # the whole worker, as if its machine went away: nothing is handed back
    try:
        assert visitor.follow(job, timeout=150).last["stage"] == "done"
        row = job_row(cluster, job["id"])
        assert (row["status"], row["attempts"], row["claimed_by"]) == ("done", 2, task_id)
        [survivor] = cluster.finished_by(task_id)
        assert survivor != name
        assert files_of(cluster, job["id"]) == RESULTS
    finally:
        cluster.start_worker(name)


def test_web_restart_under_an_open_socket(cluster, visitor):
    job = visitor.upload(photo_png("coffee"))
    restart = threading.Thread(target=cluster.restart_web)

    def restart_once_running(event: dict) -> bool:
        if event["stage"] == "segmenting" and not restart.is_alive() and restart.ident is None:
            restart.start()  # daphne goes down while the worker is mid-job
        return event["stage"] in FINAL

    followed = visitor.follow(job, until=restart_once_running)
    restart.join()
    assert followed.connections >= 2  # the socket dropped with the server and came back
    assert followed.last["stage"] == "done"
    assert job_row(cluster, job["id"])["attempts"] == 1


def test_web_processes_starting_together_never_run_a_job_twice(cluster, visitor):
    # Two jobs keep the workers busy while four wait in the queue.
    jobs = [visitor.upload(photo_png(name)) for name in ("astronaut", "chelsea", "coffee", "astronaut", "chelsea", "coffee")]
    redis.Redis.from_url(cluster.redis_url).delete(RECOVERY_LOCK)  # as if the last start was long ago
    argv = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", "0", "project.asgi:application"]
    webs = [Process(f"web {i}", argv, cluster.env()) for i in range(3)]
    try:
        ports = [int(web.wait_for(r"Listening on TCP address 127\.0\.0\.1:(\d+)", 60).group(1)) for web in webs]
        with ThreadPoolExecutor(3) as pool:  # each one's first connection runs its start-up recovery
            list(pool.map(lambda port: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=30), ports))
        for job in jobs:
            assert visitor.follow(job).last["stage"] == "done"
        resent = [web for web in webs if "queued job(s) to the workers" in web.log]
    finally:
        for web in webs:
            web.stop()
    assert len(resent) == 1  # the others found the recovery lock taken
    sent_again = int(re.search(r"re-sent (\d+) queued", resent[0].log).group(1))
    assert sent_again >= 1
    for job in jobs:  # the copies found their jobs taken: every job ran exactly once
        row = job_row(cluster, job["id"])
        assert (row["status"], row["attempts"]) == ("done", 1)
        assert files_of(cluster, job["id"]) == RESULTS
