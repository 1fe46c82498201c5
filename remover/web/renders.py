"""Downloads rendered at most once each, a bounded number at a time, and kept in storage.

A download is a function of the job (and its edit), the format, the background and the
pixel size, so each distinct one is rendered once and stored next to the job's files
(``renders/<job id>/``, deleted with the job by remover/models.py); asking again, or
asking while it is being made, gets the same file. Rendering a large photo takes seconds and a few hundred MB, so
renders run in two bounded lanes: photos up to CLEARCUT_RENDER_LIGHT_MEGAPIXELS in one,
larger ones in another with CLEARCUT_RENDER_WORKERS threads and at most
CLEARCUT_RENDER_QUEUE waiting. When a lane is full the download is refused with 503 and
Retry-After, and a small download never waits behind large ones.
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from remover.models import Job, renders_folder
from remover.web.downloads import (
    DownloadRequest,
    output_size,
    render_download,
    stored_as_is,
)
from remover.web.limits import Refused, Tier

BUSY = "Many downloads are being prepared right now. Please try again in a few seconds."
BUSY_RETRY_SECONDS = 5


class JobDeleted(Exception):
    """The job was deleted while its download was being rendered (the file was not kept)."""


def storage_name(job: Job, request: DownloadRequest, tier: Tier) -> str:
    """Where this download of this job is kept: a digest of everything the pixels depend on."""
    # The request's repr spells every option it holds (a scene's pixels are never part of one).
    what = (job.pk, job.edit_revision, request, output_size(job, tier))
    digest = hashlib.sha256(repr(what).encode()).hexdigest()[:32]
    return f"{renders_folder(job.pk)}/{digest}.{request.fmt}"


class Lane:
    """A thread pool that refuses work instead of queueing without bound."""

    def __init__(self, workers: int, waiting: int, name: str):
        self.capacity = workers + waiting
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self.taken = 0
        self.lock = threading.Lock()

    def submit(self, fn, *args) -> Future:
        with self.lock:
            if self.taken >= self.capacity:
                raise Refused(BUSY, 503, retry_after=BUSY_RETRY_SECONDS)
            self.taken += 1
        future = self.pool.submit(fn, *args)
        future.add_done_callback(self._release)
        return future

    def _release(self, _future: Future) -> None:
        with self.lock:
            self.taken -= 1


class Renderer:
    """Hands out the storage name of a download: a stored output that already is it, or a
    kept render, rendering it first if nobody has."""

    def __init__(self, workers: int, waiting: int, light_megapixels: float):
        self.light = Lane(1, waiting, "render-light")
        self.heavy = Lane(workers, waiting, "render-heavy")
        self.light_pixels = light_megapixels * 1e6
        self.in_progress: dict[str, Future] = {}
        self.lock = threading.Lock()

    def stored(self, job: Job, request: DownloadRequest, tier: Tier) -> Future:
        """A future of the download's storage name. Blocking (a storage look-up): call it off
        the event loop. Raises :class:`Refused` (503) when the job's lane is full."""
        as_is = stored_as_is(job, request, tier)
        if as_is is not None:
            stored: Future = Future()
            stored.set_result(as_is.name)
            return stored
        name = storage_name(job, request, tier)
        with self.lock:
            running = self.in_progress.get(name)
            if running is not None:
                return running
        if default_storage.exists(name):
            done: Future = Future()
            done.set_result(name)
            return done
        with self.lock:
            running = self.in_progress.get(name)  # started while we looked
            if running is not None:
                return running
            lane = self.light if job.width * job.height <= self.light_pixels else self.heavy
            future = lane.submit(self._render, job, request, tier, name)
            self.in_progress[name] = future
        future.add_done_callback(lambda _: self._forget(name))
        return future

    def _forget(self, name: str) -> None:
        with self.lock:
            self.in_progress.pop(name, None)

    @staticmethod
    def _render(job: Job, request: DownloadRequest, tier: Tier, name: str) -> str:
        try:
            data = render_download(job, request, tier)
        except Exception:
            if not Job.objects.filter(pk=job.pk).exists():  # its files went while we read them
                raise JobDeleted(job.pk)
            raise
        saved = default_storage.save(name, ContentFile(data))
        # Deleted meanwhile: its files were removed before this one existed, so remove it
        # here (a deletion after this check finds it in the folder).
        if not Job.objects.filter(pk=job.pk).exists():
            default_storage.delete(saved)
            raise JobDeleted(job.pk)
        return saved


_renderer: Renderer | None = None
_renderer_lock = threading.Lock()


def renderer() -> Renderer:
    """The process's one :class:`Renderer`, sized from the settings on first use."""
    global _renderer
    with _renderer_lock:
        if _renderer is None:
            _renderer = Renderer(settings.CLEARCUT_RENDER_WORKERS, settings.CLEARCUT_RENDER_QUEUE,
                                 settings.CLEARCUT_RENDER_LIGHT_MEGAPIXELS)
        return _renderer
