"""The unit of work: create a job from an upload, process it, describe it, purge it.

:func:`process_job` is the whole of a job's processing, given only its id and a
``publish(job_id, snapshot)`` callable. The thread worker (remover/processing/thread_worker.py) calls it from
its thread; a Celery task can call it the same way. State lives in the database and
files in Django storage, so any process can pick a job up.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import PurePath

import cv2
import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from remover.engine import compose
from remover.engine.heap import hand_back_freed_memory
from remover.engine.imageio import DecodedImage, ImageError, decode_image, encode_image
from remover.engine.pipeline import cut_out
from remover.models import DailyUsage, Job
from remover.processing import batching, edits
from remover.processing.idphoto_jobs import describe as describe_id_photo
from remover.processing.idphoto_jobs import is_id_photo
from remover.processing.idphoto_jobs import make_photo as make_id_photo
from remover.processing.segmentation import configured_segmenter
from remover.web.limits import Refused, Tier, UploadInfo, fit_megapixels

log = logging.getLogger(__name__)

Publish = Callable[..., None]  # publish(job_id, snapshot: dict | None = None), see remover/processing/events.py
SNAPSHOT_FIELDS = ("status", "stage", "progress", "error")
FAILED_MESSAGE = "Something went wrong while processing this image. Please try again."
GAVE_UP_MESSAGE = "This image could not be processed. Please try a different image."


class JobGone(Exception):
    """The job was deleted (by its owner or the purge) while it was being processed."""


# --- Creating ---------------------------------------------------------------------------

def create_job(upload, info: UploadInfo, *, owner_key: str, user, ip: str | None,
               batch: uuid.UUID, options: dict) -> Job:
    """Store the upload and a queued job for it (not yet handed to any worker)."""
    job = Job(
        owner_key=owner_key,
        user=user if user is not None and user.is_authenticated else None,
        client_ip=ip,
        batch=batch,
        options=options,
        original_name=PurePath(upload.name or "").name[:255],
        input_extension=info.extension,
        source_bytes=upload.size,
        width=info.width,
        height=info.height,
        expires_at=timezone.now() + timedelta(hours=settings.CLEARCUT_RETENTION_HOURS),
    )
    job.input.save("input", upload, save=False)
    try:
        job.save()
    except BaseException:
        job.input.delete(save=False)
        raise
    return job


# --- Processing -------------------------------------------------------------------------

def segmenter():
    """The worker's one model (loaded on first use, then shared by every job in the process);
    with CLEARCUT_BATCH_SIZE > 1, wrapped so that concurrent jobs share forward passes."""
    if settings.CLEARCUT_BATCH_SIZE > 1:
        return batching.shared(configured_segmenter, settings.CLEARCUT_BATCH_SIZE, settings.CLEARCUT_BATCH_WAIT_MS / 1000)
    return configured_segmenter()


def _update(job_id: uuid.UUID, **fields) -> None:
    if not Job.objects.filter(pk=job_id).update(**fields):
        raise JobGone(job_id)


def _record(job_id: uuid.UUID, publish: Publish, **fields) -> None:
    """Write a step to the database first, then announce it (a page reading the job in
    between must never be behind the message)."""
    _update(job_id, **fields)
    publish(job_id, {name: fields[name] for name in SNAPSHOT_FIELDS if name in fields})


def process_job(job_id: uuid.UUID, publish: Publish, claim: str = "") -> None:
    """Run one queued job to ``done`` or ``error``, publishing each stage.

    Never raises for a bad image or a failing step: the job ends in ``error`` with a
    message for the owner. A job that is no longer queued (taken by another worker,
    finished, deleted) is left alone, so handing the same id over twice is harmless.

    ``claim`` names this run: a Celery task passes its task id. A message redelivered
    after its worker died keeps that id, so it may take back the job it had started, while
    any other copy of the message leaves a running job alone. Every start counts as an
    attempt; once ``CLEARCUT_MAX_ATTEMPTS`` are spent (the image keeps killing its worker)
    the job ends in ``error`` instead of running again.
    """
    if not _claim(job_id, claim, publish):
        return
    publish_queue_positions(publish)
    try:
        _run_to_the_end(job_id, publish)
    finally:
        # A large photo leaves its working memory free in the heap, kept for the next
        # photo's steps (engine/heap.py); past a limit a server hands it back.
        hand_back_freed_memory()


def _run_to_the_end(job_id: uuid.UUID, publish: Publish) -> None:
    """``_run`` the claimed job; a bad image or a failing step ends it in ``error``."""
    try:
        _run(Job.objects.get(pk=job_id), publish)
    except (JobGone, Job.DoesNotExist):
        log.info("job %s was deleted while it ran", job_id)
        return
    except ImageError as exc:
        error = str(exc)
    except Exception:
        log.exception("job %s failed", job_id)
        error = FAILED_MESSAGE
    else:
        return
    try:
        _record(job_id, publish, status=Job.Status.ERROR, stage="error", error=error, finished_at=timezone.now())
    except JobGone:
        pass


def _claim(job_id: uuid.UUID, claim: str, publish: Publish) -> bool:
    """Move the job to running for ``claim`` in one UPDATE, so exactly one caller wins."""
    takeable = Q(status=Job.Status.QUEUED)
    if claim:
        takeable |= Q(status=Job.Status.RUNNING, claimed_by=claim)
    mine = Job.objects.filter(takeable, pk=job_id)
    start = {"status": Job.Status.RUNNING, "stage": "decoding", "progress": 0, "error": ""}
    now = timezone.now()
    if mine.filter(attempts__lt=settings.CLEARCUT_MAX_ATTEMPTS).update(
        claimed_by=claim, attempts=F("attempts") + 1, started_at=now, **start
    ):
        publish(job_id, start)
        return True
    spent = {"status": Job.Status.ERROR, "stage": "error", "error": GAVE_UP_MESSAGE}
    if mine.update(finished_at=now, **spent):
        log.error("job %s gave up after %d attempts", job_id, settings.CLEARCUT_MAX_ATTEMPTS)
        publish(job_id, spent)
    return False


def _run(job: Job, publish: Publish) -> None:
    last = None

    def report(stage: str, percent: int) -> None:
        nonlocal last
        if (stage, percent) != last:  # the model reports often; repeats tell the page nothing
            last = (stage, percent)
            _record(job.pk, publish, stage=stage, progress=percent)

    report("decoding", 2)
    with job.input.open("rb") as stored:
        data = stored.read()
    decoded = decode_image(data, max_megapixels=settings.CLEARCUT_MAX_MEGAPIXELS)
    del data
    compliance = None
    if is_id_photo(job):
        result, compliance = make_id_photo(job, decoded, segmenter(), report)
    else:
        result = cut_out(decoded, segmenter(), progress=report)
        report("compositing", 92)
    width, height = result.size
    if is_id_photo(job):  # small: everything before "done"
        _store(job, {**preview_outputs(decoded, result), "cutout": full_output(result)},
               finished_at=timezone.now(), width=width, height=height, idphoto_report=compliance, **DONE)
        publish(job.pk, DONE)
        return
    # "Done" as soon as the page has what it shows (the preview pair); the full-size cut-out,
    # seconds of PNG encoding at phone sizes, follows. Downloads at preview size never need
    # it; larger ones wait for it (load_cutout).
    _store(job, preview_outputs(decoded, result), finished_at=timezone.now(), width=width, height=height, **DONE)
    publish(job.pk, DONE)
    del decoded
    try:
        _store(job, {"cutout": full_output(result)})
    except JobGone:
        raise
    except Exception:  # the job stays done; its larger downloads answer "try again" (and a restart redoes it)
        log.exception("job %s: the full-size cut-out could not be stored", job.pk)


DONE = {"status": Job.Status.DONE, "stage": "done", "progress": 100}


def _store(job: Job, outputs: dict[str, bytes], **fields) -> None:
    """Save ``outputs`` under the job's fixed file names and record them with ``fields`` in
    one UPDATE; nothing is left behind when that fails (the job was deleted meanwhile)."""
    saved = {}
    try:
        for name, content in outputs.items():
            field = getattr(job, name)
            # Outputs have fixed names: a job run again after a restart overwrites its
            # earlier files instead of leaving them behind next to suffixed copies.
            field.storage.delete(field.field.generate_filename(job, name))
            field.save(name, ContentFile(content), save=False)
            saved[name] = field.name
        _update(job.pk, **saved, **fields)
    except BaseException:
        for name in saved:
            getattr(job, name).delete(save=False)
        raise


def preview_size(width: int, height: int) -> tuple[int, int]:
    """(width, height) of the preview pair for a full-size result of ``width`` x ``height``."""
    return fit_megapixels(width, height, settings.CLEARCUT_PREVIEW_MEGAPIXELS)


def preview_outputs(decoded: DecodedImage, result: compose.CutOut) -> dict[str, bytes]:
    """The pair the page shows: the cut-out and the photo at preview size."""
    size = preview_size(*result.size)
    original = Image.fromarray(decoded.rgb)
    if original.size != size:
        original = original.resize(size, Image.Resampling.LANCZOS)
    return {
        "preview": encode_image(compose.to_rgba(result.resized(*size)), "png"),
        # Upright sRGB JPEG, pixel-aligned with the preview: every browser can show it,
        # unlike HEIC or TIFF uploads, and it is what the before/after slider compares.
        "original": encode_image(original, "jpg", jpeg_quality=88),
    }


def full_output(result: compose.CutOut) -> bytes:
    """The full-size cut-out every larger download is rendered from: an RGBA PNG."""
    return encode_image(compose.to_rgba(result), "png")


def load_cutout(job: Job, size: tuple[int, int] | None = None) -> compose.CutOut:
    """The stored cut-out as the engine's :class:`CutOut`: full resolution, or shrunk to
    ``size`` (width, height) as it is decoded.

    Shrinking happens on the Pillow image, whose RGBA resampling premultiplies by alpha
    (edges keep their colour, like :meth:`CutOut.resized`) in 8 bits: a 49 MP cut-out costs
    two RGBA copies instead of the float arrays of a full-size resize.
    """
    if size is not None and size == preview_size(job.width, job.height) and job.preview:
        stored_file = job.preview  # the same pixels as the full cut-out shrunk, already made
    else:
        stored_file = full_cutout(job)
    with stored_file.open("rb") as stored:
        image = Image.open(stored)
        image.load()
    image = image.convert("RGBA")
    if size is not None and size != image.size:
        shrink = size[0] < image.width
        image = image.resize(size, Image.Resampling.BOX if shrink else Image.Resampling.BILINEAR)
    rgba = np.asarray(image)
    cutout = compose.CutOut(foreground=np.ascontiguousarray(rgba[..., :3]), alpha=np.ascontiguousarray(rgba[..., 3]))
    # The owner's touch-up strokes: every download path comes through here.
    return edits.applied(job, cutout, lambda photo_size: load_original(job, photo_size))


class FullSizePending(Refused):
    """The full-size cut-out of a finished job is not there yet, and did not come in time."""

    def __init__(self):
        super().__init__("The full-size image is still being prepared. Please try again in a moment.", 503,
                         retry_after=5)


def full_cutout(job: Job):
    """The job's full-size cut-out file, waiting up to CLEARCUT_FULL_SIZE_WAIT_SECONDS for the
    worker to store it (it does so right after "done"); raises :class:`FullSizePending`."""
    deadline = time.monotonic() + settings.CLEARCUT_FULL_SIZE_WAIT_SECONDS
    while not job.cutout:
        if time.monotonic() > deadline:
            raise FullSizePending()
        time.sleep(0.1)
        job.refresh_from_db(fields=["cutout"])
    return job.cutout


def load_original(job: Job, size: tuple[int, int] | None = None) -> np.ndarray:
    """The uploaded photo, decoded upright (for the blurred background); (H, W, 3) uint8,
    at full size or shrunk to ``size`` (width, height) — a JPEG decoded at a reduced scale."""
    with job.input.open("rb") as stored:
        rgb = decode_image(stored.read(), max_megapixels=settings.CLEARCUT_MAX_MEGAPIXELS,
                           at_least=min(size) if size else None).rgb
    if size is not None and (rgb.shape[1], rgb.shape[0]) != size:
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return rgb


# --- Recovery and retention -------------------------------------------------------------

def requeue_interrupted() -> list[uuid.UUID]:
    """After a restart: running jobs go back to the queue; returns every queued id, oldest first.

    Only for the in-process worker, where this process is the only one running jobs. Jobs
    claimed by a Celery task are not touched: their workers may be alive, and a dead
    worker's message comes back from the broker by itself.
    """
    interrupted = Job.objects.filter(status=Job.Status.RUNNING, claimed_by="")
    interrupted.update(status=Job.Status.QUEUED, stage="queued", progress=0)
    # Stopped between "done" and storing the full-size cut-out: made again from the start.
    Job.objects.filter(status=Job.Status.DONE, cutout="", claimed_by="").update(
        status=Job.Status.QUEUED, stage="queued", progress=0)
    return list(Job.objects.filter(status=Job.Status.QUEUED).order_by("created_at").values_list("pk", flat=True))


def purge_expired(now: datetime | None = None) -> list[uuid.UUID]:
    """Delete jobs past their expiry time, with their files; returns the deleted ids."""
    now = now or timezone.now()
    deleted = []
    for job in Job.objects.filter(expires_at__lte=now):
        deleted.append(job.pk)  # read before delete(), which clears it
        job.delete()  # the post_delete handler removes the files
    DailyUsage.objects.filter(day__lt=now.date() - timedelta(days=1)).delete()
    return deleted


# --- Describing -------------------------------------------------------------------------

def job_state(job: Job, tier: Tier) -> dict:
    """The JSON a page gets from ``GET /api/jobs/<id>`` and from the job's WebSocket."""
    state = {
        "id": str(job.pk),
        "status": job.status,
        "stage": job.stage,
        "progress": job.progress,
        "error": job.error or None,
        "name": job.original_name,
        "batch": str(job.batch),
        "mode": "idphoto" if is_id_photo(job) else "cutout",
        "ws": f"/ws/jobs/{job.pk}/",
        "created_at": job.created_at.isoformat(),
        "expires_at": job.expires_at.isoformat(),
        "tier": tier.name,
        "full_size": [job.width, job.height],
        "download_size": list(fit_megapixels(job.width, job.height, tier.max_megapixels)),
        "pro_size": list(fit_megapixels(job.width, job.height, settings.CLEARCUT_PRO_MEGAPIXELS)),
        "urls": {
            "self": reverse("api-job", args=[job.pk]),
            "batch_download": reverse("api-batch-download", args=[job.batch]),
        },
    }
    if job.status == Job.Status.QUEUED:
        state["position"] = job.queue_position()
    if is_id_photo(job):
        return describe_id_photo(job, state)
    if job.status == Job.Status.DONE:
        state["urls"].update(
            download=reverse("api-job-download", args=[job.pk]),
            preview=reverse("api-job-preview", args=[job.pk]),
            original=reverse("api-job-original", args=[job.pk]),
            edit=reverse("api-job-edit", args=[job.pk]),
        )
        state["edit_revision"] = job.edit_revision
    return state


def publish_queue_positions(publish: Publish) -> None:
    """Every queued job's position moves when one leaves the queue: tell their pages."""
    for job_id in Job.objects.filter(status=Job.Status.QUEUED).values_list("pk", flat=True):
        publish(job_id)
