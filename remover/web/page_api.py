"""The JSON API the pages' JavaScript uses. Session + CSRF like any Django form.

Errors are ``{"error": "<message for a person>"}`` with a 4xx status (503 when busy).
Jobs, their files and their batches are visible to their owner only: to anyone else a
job does not exist (404).
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from datetime import datetime, time, timedelta
from datetime import timezone as dt_timezone
from inspect import iscoroutinefunction

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.utils import timezone
from django.views import defaults
from django.views.csrf import csrf_failure as html_csrf_failure
from django.views.decorators.csrf import ensure_csrf_cookie

from remover.devapi.errors import ApiError, error_response, removebg_response
from remover.models import Job
from remover.processing import idphoto_jobs, jobs, worker
from remover.processing.events import Publisher
from remover.web import downloads, limits, ratelimit, renders
from remover.web.limits import Refused
from remover.web.owners import owned_jobs, owner_key

NOT_FOUND = "This image does not exist or was deleted."
BUSY = "The server is busy right now. Please try again in a moment."
BUSY_RETRY_SECONDS = 10


def _error(message: str, status: int, retry_after: int | None = None) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _refused(exc: Refused) -> JsonResponse:
    retry = exc.retry_after
    if retry is None and exc.status == 503:
        retry = BUSY_RETRY_SECONDS
    elif retry is None and exc.status == 429:  # daily quotas reset at midnight UTC
        midnight = datetime.combine(timezone.now().date() + timedelta(days=1), time.min, tzinfo=dt_timezone.utc)
        retry = max(1, int((midnight - timezone.now()).total_seconds()))
    return _error(str(exc), exc.status, retry)


def api_view(*methods: str):
    """Allow ``methods`` only and turn :class:`Refused` into a JSON error (sync or async views)."""

    def decorate(view):
        def not_allowed():
            response = _error(f"Use {' or '.join(methods)} here.", 405)
            response["Allow"] = ", ".join(methods)
            return response

        if iscoroutinefunction(view):
            @functools.wraps(view)
            async def wrapper(request, *args, **kwargs):
                if request.method not in methods:
                    return not_allowed()
                try:
                    return await view(request, *args, **kwargs)
                except Refused as exc:
                    return _refused(exc)
        else:
            @functools.wraps(view)
            def wrapper(request, *args, **kwargs):
                if request.method not in methods:
                    return not_allowed()
                try:
                    return view(request, *args, **kwargs)
                except Refused as exc:
                    return _refused(exc)
        return wrapper

    return decorate


def _client_ip(request) -> str | None:
    # REMOTE_ADDR is the proxy's address unless daphne runs with --proxy-headers behind it.
    return request.META.get("REMOTE_ADDR") or None


def _owned_job(request, job_id: uuid.UUID) -> Job:
    job = owned_jobs(request.user, request.session).filter(pk=job_id).first()
    if job is None:
        raise Refused(NOT_FOUND, 404)
    return job


def _finished_job(request, job_id: uuid.UUID) -> Job:
    job = _owned_job(request, job_id)
    if idphoto_jobs.is_id_photo(job):
        raise Refused("This is an ID photo: use its photo and sheet links.", 404)
    if job.status == Job.Status.ERROR:
        raise Refused(job.error or jobs.FAILED_MESSAGE, 409)
    if job.status != Job.Status.DONE:
        raise Refused("This image is still being processed.", 409)
    return job


# --- Jobs -------------------------------------------------------------------------------

@api_view("POST")
def create_job(request):
    """``POST /api/jobs``: multipart ``image``; optional ``batch`` (an id from an earlier
    response, to group files for one ZIP), ``format`` and ``bg`` (download defaults).
    ``mode=idphoto&preset=NAME`` makes a passport / ID photo instead (remover/web/idphoto_api.py)."""
    # Counted before anything is parsed: refused and malformed attempts count too. A
    # visitor without an owner token yet is counted by network only (making one here would
    # store a session for every cookie-less request).
    ratelimit.hit(ratelimit.UPLOAD, owner_key(request.session), _client_ip(request))
    limits.check_request_size(_declared_length(request))
    try:
        upload = request.FILES.get("image")
        params = request.POST
    except (MultiPartParserError, BadRequest, SuspiciousOperation):
        raise Refused("The upload could not be read. Please try again.")
    if upload is None:
        raise Refused("Please choose an image to upload.")
    limits.check_upload_size(upload.size)
    info = limits.inspect_upload(upload)
    options = _job_options(params, limits.tier_for(request.user))
    batch = _batch_id(params.get("batch"))
    owner, user, ip = owner_key(request.session, create=True), request.user, _client_ip(request)
    in_batch = owned_jobs(user, request.session).filter(batch=batch).count()
    if in_batch >= limits.batch_max_files():
        raise Refused(f"A batch holds at most {limits.batch_max_files()} images. Please start a new batch.")
    if not worker.get_worker().has_room():
        raise Refused(BUSY, 503)
    limits.consume_quota(owner, user, ip)
    job = jobs.create_job(upload, info, owner_key=owner, user=user, ip=ip, batch=batch, options=options)
    try:
        worker.enqueue(job.pk)
    except worker.QueueFull:  # filled up since has_room(): undo, as if never accepted
        job.delete()
        limits.refund_quota(owner, user, ip)
        raise Refused(BUSY, 503)
    response = JsonResponse(jobs.job_state(job, limits.tier_for(user)), status=201)
    response["Location"] = reverse("api-job", args=[job.pk])
    return response


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0  # let the multipart parser judge the body itself


def _job_options(params, tier: limits.Tier) -> dict:
    """What the job keeps: download defaults for a cut-out (the default ``mode``), or
    ``mode=idphoto`` and its document."""
    mode = str(params.get("mode") or "cutout").strip().lower()
    if mode == idphoto_jobs.MODE:
        return idphoto_jobs.job_options(params, tier)
    if mode != "cutout":
        raise Refused("Unknown mode. Use cutout (the default) or idphoto.")
    return _upload_options(params)


def _upload_options(params) -> dict:
    """Download defaults chosen at upload, checked now so a bad value is refused up front."""
    options = {key: params[key] for key in ("format", "bg") if params.get(key)}
    if options:
        downloads.parse_request(options)
    return options


def _batch_id(value: str | None) -> uuid.UUID:
    if not value:
        return uuid.uuid4()
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Refused("The batch id is not valid. Leave it out to start a new batch.")


@api_view("GET", "DELETE")
def job_detail(request, job_id: uuid.UUID):
    """``GET``: the job's state (same JSON as its WebSocket). ``DELETE``: delete it and its files now."""
    job = _owned_job(request, job_id)
    if request.method == "GET":
        return JsonResponse(jobs.job_state(job, limits.tier_for(request.user)))
    was_queued = job.status == Job.Status.QUEUED
    job.delete()
    publish = Publisher()
    publish(job_id)  # an open page's socket closes with 4404
    if was_queued:
        jobs.publish_queue_positions(publish)
    return HttpResponse(status=204)


@api_view("GET")
def job_preview(request, job_id: uuid.UUID):
    """The cut-out as an RGBA PNG at preview size (every tier sees it)."""
    return _stored_image(_finished_job(request, job_id).preview, "image/png")


@api_view("GET")
def job_original(request, job_id: uuid.UUID):
    """The upload as an upright JPEG, pixel-aligned with the preview (the "before")."""
    return _stored_image(_finished_job(request, job_id).original, "image/jpeg")


def _stored_image(field_file, content_type: str) -> FileResponse | HttpResponseRedirect:
    if settings.CLEARCUT_S3_REDIRECTS:  # the owner was checked; the signed URL expires soon
        return HttpResponseRedirect(field_file.url)
    response = FileResponse(field_file.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"  # a job's previews never change
    return response


# --- Downloads (rendered once each, in a bounded pool: remover/web/renders.py) ---------------

@sync_to_async
def _download_lookup(request, job_id: uuid.UUID | None = None, batch: uuid.UUID | None = None):
    """Job or batch jobs, tier and parsed options, all from the database (one sync hop).
    Every download counts against the visitor's and the network's rate limits."""
    ratelimit.hit(ratelimit.DOWNLOAD, owner_key(request.session), _client_ip(request))
    tier = limits.tier_for(request.user)
    if job_id is not None:
        job = _finished_job(request, job_id)
        return [job], tier, downloads.parse_request(request.GET, job.options)
    in_batch = idphoto_jobs.without_id_photos(owned_jobs(request.user, request.session).filter(batch=batch))
    ready = list(in_batch.filter(status=Job.Status.DONE).order_by("created_at"))
    if not ready:
        if in_batch.exists():
            raise Refused("Nothing in this batch has finished yet.", 409)
        raise Refused("This batch does not exist or was deleted.", 404)
    return ready, tier, downloads.parse_request(request.GET)


# Storage look-ups and reads block: they run off the event loop (and off Django's one
# thread for sync code, so a slow storage does not hold up every other request).
_stored = sync_to_async(lambda *args: renders.renderer().stored(*args), thread_sensitive=False)


@sync_to_async(thread_sensitive=False)
def _open(name: str):
    stored = default_storage.open(name, "rb")
    return stored, stored.size


@sync_to_async(thread_sensitive=False)
def _read(name: str) -> bytes:
    with default_storage.open(name, "rb") as stored:
        return stored.read()


async def _chunks(stored, size: int = 256 * 1024):
    """A stored file's bytes for a streaming response, read off the event loop (Django would
    read a synchronous file whole into memory first under ASGI)."""
    read = sync_to_async(stored.read, thread_sensitive=False)
    try:
        while chunk := await read(size):
            yield chunk
    finally:
        await sync_to_async(stored.close, thread_sensitive=False)()


async def _rendered(job: Job, wanted: downloads.DownloadRequest, tier: limits.Tier) -> str:
    """The storage name of the job's download, waiting for its render if need be."""
    try:
        return await asyncio.wrap_future(await _stored(job, wanted, tier))
    except renders.JobDeleted:
        raise Refused(NOT_FOUND, 404)


async def _rendered_in_turn(job: Job, wanted: downloads.DownloadRequest, tier: limits.Tier) -> str:
    """:func:`_rendered` for a ZIP already under way: a full render lane means waiting for a
    turn, since the answer has started and can no longer be a 503."""
    while True:
        try:
            return await _rendered(job, wanted, tier)
        except Refused as exc:
            if exc.status != 503:
                raise
            await asyncio.sleep(exc.retry_after or 1)


@api_view("GET")
async def job_download(request, job_id: uuid.UUID):
    """``?format=png|webp|jpg&bg=transparent|blur|RRGGBB`` or ``&mask=1``: the file, capped by tier."""
    [job], tier, wanted = await _download_lookup(request, job_id=job_id)
    name = await _rendered(job, wanted, tier)
    stored, size = await _open(name)
    response = StreamingHttpResponse(_chunks(stored), content_type=wanted.content_type)
    response["Content-Length"] = str(size)
    response["Content-Disposition"] = downloads.content_disposition(job, wanted)
    response["Cache-Control"] = "private, no-cache"
    return response


@api_view("GET")
async def batch_download(request, batch: uuid.UUID):
    """A ZIP of every finished job of the batch, same options as a single download. It is
    streamed as each image's render becomes ready: one image's bytes in memory at a time."""
    ready, tier, wanted = await _download_lookup(request, batch=batch)
    first = await _rendered(ready[0], wanted, tier)  # a busy server refuses before the ZIP starts

    async def images():
        for index, job in enumerate(ready):
            try:
                name = first if index == 0 else await _rendered_in_turn(job, wanted, tier)
            except Refused:  # deleted since the ZIP started: left out
                continue
            yield downloads.filename(job, wanted), await _read(name)

    response = StreamingHttpResponse(downloads.zip_stream(images()), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="clearcut-images.zip"'
    response["Cache-Control"] = "private, no-cache"
    return response


# --- Limits, errors ---------------------------------------------------------------------

@api_view("GET")
@ensure_csrf_cookie
def limits_summary(request):
    """Tier, caps and quota left, for the page to state plainly; also sets the CSRF cookie."""
    key = owner_key(request.session) or ""  # a new visitor has used nothing yet
    return JsonResponse(limits.summary(key, request.user, _client_ip(request)))


def not_found(request, rest: str = ""):
    """Unknown ``/api/...`` paths answer in JSON like the rest of the API."""
    return _error("There is no such API endpoint.", 404)


def _api_error(request, code: str, message: str) -> JsonResponse | None:
    """The developer API's error (ours, or remove.bg's shape on its paths), or None elsewhere."""
    if request.path_info.startswith("/api/v1/"):
        return error_response(code, message)
    if request.path_info.startswith("/v1.0/"):
        return removebg_response(ApiError(code, message))
    return None


def bad_request(request, exception=None):
    """handler400: a body Django itself refused (too many files or fields, a foreign Host...).
    API callers get their API's JSON error, people Django's page."""
    api = _api_error(request, "invalid_request", "The request could not be read: too many fields or files, or malformed.")
    if api is not None:
        return api
    if request.path_info.startswith("/api/"):
        return _error("The upload could not be read. Please send fewer files at once and try again.", 400)
    return defaults.bad_request(request, exception)


def server_error(request):
    """handler500: never a traceback; the API's JSON for API callers."""
    api = _api_error(request, "internal_error", "Something failed on our side. Please retry.")
    if api is not None:
        return api
    if request.path_info.startswith("/api/"):
        return _error("Something went wrong on our side. Please try again.", 500)
    return defaults.server_error(request)


def csrf_failure(request, reason: str = ""):
    """CSRF_FAILURE_VIEW: JSON for the API, Django's page for forms."""
    if request.path_info.startswith("/api/"):
        return _error("Your session has expired. Please reload the page and try again.", 403)
    return html_csrf_failure(request, reason)
