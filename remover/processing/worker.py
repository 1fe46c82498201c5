"""This process's worker: the thread worker (remover/processing/thread_worker.py) or, with
CLEARCUT_WORKER=celery, the dispatcher to Celery (remover/processing/dispatch.py); both
have the same interface. It starts with the server's first connection (:class:`StartWorker`,
project/asgi.py) or the first upload, never at import."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid

from django.conf import settings

from remover.processing.thread_worker import InProcessWorker, QueueFull

__all__ = ["InProcessWorker", "QueueFull", "StartWorker", "enqueue", "get_worker"]

_worker: InProcessWorker | None = None
_worker_lock = threading.Lock()


def get_worker() -> InProcessWorker:
    """This process's worker; with CLEARCUT_WORKER=celery, a :class:`remover.processing.dispatch.CeleryDispatcher`
    that has the same interface and hands jobs to Celery workers instead."""
    global _worker
    with _worker_lock:
        if _worker is None:
            if settings.CLEARCUT_WORKER == "celery":
                from remover.processing.dispatch import CeleryDispatcher

                _worker = CeleryDispatcher(settings.CLEARCUT_QUEUE_SIZE)
            else:
                _worker = InProcessWorker(settings.CLEARCUT_QUEUE_SIZE, settings.CLEARCUT_SWEEP_SECONDS)
        return _worker


def ensure_started(loop: asyncio.AbstractEventLoop | None = None) -> None:
    if settings.CLEARCUT_WORKER != "none":
        get_worker().start(loop)


def enqueue(job_id: uuid.UUID) -> None:
    """Hand a saved, queued job to this process's worker; raises :class:`QueueFull`."""
    get_worker().submit(job_id)
    ensure_started()


def _forget_after_fork() -> None:
    # Threads do not survive fork(): a forked server process (Channels' live-server tests)
    # must build and start its own worker instead of trusting the parent's.
    global _worker, _worker_lock
    _worker, _worker_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


class StartWorker:
    """ASGI wrapper: the server's first connection starts the worker with the server's loop."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            ensure_started(asyncio.get_running_loop())
        return await self.app(scope, receive, send)
