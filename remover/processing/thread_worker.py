"""The embedded worker: one thread in the web process, one loaded model, a bounded queue.

It starts with the server's first connection (see :class:`StartWorker` in project/asgi.py)
or the first upload, never at import, so ``migrate``, ``check`` and tests that do not
need it never load the model. On start it re-queues the jobs a restart interrupted; it
also runs the retention sweep every ``CLEARCUT_SWEEP_SECONDS``.

The queue holds job ids only; the jobs themselves are rows, so nothing is lost with the
process. ``CLEARCUT_WORKER=none`` keeps the queue but runs no thread: tests run the
queued jobs themselves with :meth:`InProcessWorker.drain`.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
import uuid

from django.db import close_old_connections

from remover.processing import jobs, metrics
from remover.processing.events import Publisher

log = logging.getLogger(__name__)


class QueueFull(Exception):
    """The worker has ``CLEARCUT_QUEUE_SIZE`` jobs waiting already."""


class InProcessWorker:
    def __init__(self, maxsize: int, sweep_seconds: float, publish: Publisher | None = None):
        self.maxsize = maxsize
        self.sweep_seconds = sweep_seconds
        self.publish = publish or Publisher()
        self._pending: collections.deque[uuid.UUID] = collections.deque()
        self._wakeup = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._next_sweep = 0.0  # sweep once right after start

    # --- Queue ---------------------------------------------------------------------------

    def submit(self, job_id: uuid.UUID) -> None:
        with self._wakeup:
            if len(self._pending) >= self.maxsize:
                raise QueueFull
            self._pending.append(job_id)
            self._wakeup.notify()

    def has_room(self) -> bool:
        with self._wakeup:
            return len(self._pending) < self.maxsize

    def pending(self) -> list[uuid.UUID]:
        with self._wakeup:
            return list(self._pending)

    def queue_lengths(self) -> dict[str, int]:
        """For /metrics: job ids waiting in this process."""
        with self._wakeup:
            return {"in-process": len(self._pending)}

    def recover(self) -> None:
        """Queue every job the database holds as queued or running, oldest first.

        Recovered jobs may exceed ``maxsize``: they were accepted before the restart.
        """
        recovered = jobs.requeue_interrupted()
        with self._wakeup:
            known = set(recovered)
            self._pending = collections.deque(recovered + [j for j in self._pending if j not in known])
            self._wakeup.notify()
        if recovered:
            log.info("re-queued %d job(s) left over from before the restart", len(recovered))

    def _take(self, timeout: float) -> uuid.UUID | None:
        with self._wakeup:
            if not self._pending:
                self._wakeup.wait(timeout)
            return self._pending.popleft() if self._pending and not self._stopping else None

    # --- Work ----------------------------------------------------------------------------

    def step(self, timeout: float = 0.0) -> bool:
        """Run the next job (waiting up to ``timeout`` for one) and a due sweep; True if a job ran."""
        job_id = self._take(timeout)
        close_old_connections()  # a long-lived thread must not keep a broken or stale connection
        if job_id is not None:
            try:
                jobs.process_job(job_id, metrics.StageTimer(self.publish))
            except Exception:  # the database went away, say; the job is re-queued at the next start
                log.exception("worker could not process job %s", job_id)
        if time.monotonic() >= self._next_sweep:
            self.sweep()
        return job_id is not None

    def drain(self) -> None:
        """Run every queued job now, in the calling thread (tests with ``CLEARCUT_WORKER=none``)."""
        while self.step():
            pass

    def sweep(self) -> None:
        self._next_sweep = time.monotonic() + self.sweep_seconds
        try:
            for job_id in jobs.purge_expired():
                self.publish(job_id)  # an open page learns its job is gone
        except Exception:
            log.exception("retention sweep failed; retrying in %s s", self.sweep_seconds)

    # --- Thread --------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Start the thread once; ``loop`` is the server's event loop, for publishing."""
        if loop is not None and self.publish.loop is None:
            self.publish.loop = loop
        if self.running:
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="clearcut-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Let the current job finish, then end the thread."""
        with self._wakeup:
            self._stopping = True
            self._wakeup.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            self.recover()
            jobs.segmenter()  # load the model now, not during the first visitor's job
        except Exception:
            log.exception("worker start-up failed; jobs will report the error")
        while not self._stopping:
            self.step(timeout=max(0.1, self._next_sweep - time.monotonic()))
        close_old_connections()


