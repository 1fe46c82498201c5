"""GPU batching: jobs running in threads of one worker share forward passes, and each gets
its own masks and progress back."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from remover.models import Job
from remover.processing import batching, jobs
from remover.processing.batching import BatchingSegmenter
from tests.web.helpers import FakeSegmenter

from .test_claims import Published, make_job


class CountingModel:
    """Answers each image with a map filled with its first pixel's value; counts batches."""

    def __init__(self):
        self.batches: list[int] = []

    def predict(self, images, batch_size=4, progress=None):
        self.batches.append(len(images))
        if progress:
            progress(0.5)
            progress(1.0)
        return [np.full((4, 4), float(image[0, 0, 0])) for image in images]


def in_threads(target, count: int) -> None:
    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)


def test_concurrent_requests_share_one_forward_pass():
    model = CountingModel()
    shared = BatchingSegmenter(model, max_batch=4, wait_seconds=5)  # a full batch does not wait
    answers, seen = {}, {i: [] for i in range(4)}

    def job(i):
        image = np.full((8, 8, 3), i, np.uint8)
        answers[i] = shared.predict([image], progress=seen[i].append)

    in_threads(job, 4)
    assert model.batches == [4]
    assert {i: float(maps[0][0, 0]) for i, maps in answers.items()} == {0: 0.0, 1: 1.0, 2: 2.0, 3: 3.0}
    assert all(fractions == [0.5, 1.0] for fractions in seen.values())


def test_a_lone_request_waits_briefly_then_runs_alone():
    model = CountingModel()
    maps = BatchingSegmenter(model, max_batch=4, wait_seconds=0.05).predict([np.zeros((8, 8, 3), np.uint8)])
    assert model.batches == [1] and len(maps) == 1


def test_one_jobs_failing_progress_fails_that_job_only():
    model = CountingModel()
    shared = BatchingSegmenter(model, max_batch=2, wait_seconds=5)
    outcome = {}

    def job(i):
        def progress(fraction):
            if i == 0:
                raise jobs.JobGone("deleted meanwhile")

        try:
            outcome[i] = len(shared.predict([np.zeros((8, 8, 3), np.uint8)], progress=progress))
        except jobs.JobGone:
            outcome[i] = "gone"

    in_threads(job, 2)
    assert outcome == {0: "gone", 1: 1} and model.batches == [2]


@pytest.mark.django_db(transaction=True)
def test_jobs_in_worker_threads_are_segmented_together(isolated, monkeypatch):
    isolated.CLEARCUT_BATCH_SIZE = 3
    isolated.CLEARCUT_BATCH_WAIT_MS = 5000
    fake = FakeSegmenter()
    monkeypatch.setattr("remover.processing.jobs.configured_segmenter", lambda: fake)
    monkeypatch.setattr(batching, "_shared", None)
    queued = [make_job() for _ in range(3)]
    in_threads(lambda i: jobs.process_job(queued[i].pk, Published(), claim=f"task-{i}"), 3)
    assert fake.calls == 1  # one predict for the three jobs
    assert set(Job.objects.values_list("status", flat=True)) == {"done"}
