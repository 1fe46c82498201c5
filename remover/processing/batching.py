"""Several jobs' images in one forward pass, for GPU workers (``CLEARCUT_BATCH_SIZE`` > 1).

A GPU runs a batch of 1024² images in much less time than the same images one by one; a
CPU does not (its time grows with the pixels), so the default batch size, 1, leaves the
model alone. With batching on, jobs run in threads of one worker process sharing one
model (``celery -A project worker -P threads -c 4``, see docs/deploy.md): a job that
reaches segmentation waits up to ``CLEARCUT_BATCH_WAIT_MS`` for other jobs to join, then
one ``predict`` serves them all. Decoding, refinement and encoding stay per job and
overlap with the GPU's work on other jobs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np

from remover.engine.segmenter import Segmenter


class _Request:
    def __init__(self, images: Sequence[np.ndarray], progress: Callable[[float], None] | None):
        self.images = list(images)
        self.progress = progress
        self.result: list[np.ndarray] | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()

    def report(self, fraction: float) -> None:
        # Runs in whichever thread leads the batch. One job's failing report (its job was
        # deleted meanwhile) must not stop the batch: the error goes back to that job only.
        if self.progress is None or self.error is not None:
            return
        try:
            self.progress(fraction)
        except Exception as exc:
            self.error = exc


class BatchingSegmenter:
    """Stands in for a :class:`Segmenter`: ``predict`` calls from several threads are merged."""

    def __init__(self, segmenter: Segmenter, max_batch: int, wait_seconds: float):
        self.segmenter = segmenter
        self.max_batch = max_batch
        self.wait_seconds = wait_seconds
        self._lock = threading.Lock()
        self._grown = threading.Condition(self._lock)
        self._waiting: list[_Request] = []

    def __getattr__(self, name):  # device, dtype, ...: those of the model
        return getattr(self.segmenter, name)

    def _waiting_images(self) -> int:
        return sum(len(request.images) for request in self._waiting)

    def predict(self, images: Sequence[np.ndarray], batch_size: int = 4,
                progress: Callable[[float], None] | None = None) -> list[np.ndarray]:
        request = _Request(images, progress)
        with self._lock:
            self._waiting.append(request)
            leads = len(self._waiting) == 1  # the first to arrive runs the batch
            self._grown.notify_all()
            if leads:
                self._grown.wait_for(lambda: self._waiting_images() >= self.max_batch, self.wait_seconds)
                batch, self._waiting = self._waiting, []
        if leads:
            self._run(batch)
        request.done.wait()
        if request.error is not None:
            raise request.error
        return request.result

    def _run(self, batch: list[_Request]) -> None:
        def report(fraction: float) -> None:
            for request in batch:
                request.report(fraction)

        try:
            maps = self.segmenter.predict([image for r in batch for image in r.images],
                                          batch_size=self.max_batch, progress=report)
        except BaseException as exc:
            for request in batch:
                request.error = request.error or exc
        else:
            start = 0
            for request in batch:
                request.result, start = maps[start:start + len(request.images)], start + len(request.images)
        finally:
            for request in batch:
                request.done.set()


_shared: BatchingSegmenter | None = None
_shared_lock = threading.Lock()


def shared(load: Callable[[], Segmenter], max_batch: int, wait_seconds: float) -> BatchingSegmenter:
    """The process's batching model, built once even when several threads ask at once."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = BatchingSegmenter(load(), max_batch, wait_seconds)
        return _shared
