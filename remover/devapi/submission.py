"""Turning an API request into a queued job: the same :func:`remover.processing.jobs.create_job` and
worker queue as the site's uploads, with the API's own record beside the job.

Runs in a worker thread of the web server (never on its event loop): it parses the body and
may download ``image_url``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.utils import timezone

from remover.processing import jobs, worker

from . import webhooks
from .errors import ApiError
from .inputs import (
    background_sources,
    check_declared_length,
    inspect,
    read_background,
    read_fields,
    read_image,
)
from .keys import authenticate, key_tier
from .models import ApiJob, ApiKey, WebhookDelivery
from .params import field_text, parse_params, roi_box
from .settlement import refund
from .usage import RateState, consume_credit, refund_credit, take_rate_token

BUSY_RETRY_SECONDS = 10
BUSY_MESSAGE = "The server is busy right now. Please retry in a moment."


@dataclass(frozen=True)
class Submitted:
    api_job: ApiJob
    credits_left: int
    rate: RateState


def owner_key(key: ApiKey) -> str:
    # Never a browser session's owner token (those are hex): no page can see API jobs by it.
    return f"apikey:{key.prefix}"


def submit(request, synchronous: bool, default_size: str = "auto") -> Submitted:
    """Check everything, charge one credit, create the job and queue it. ``default_size``:
    the size when the request names none (remove.bg's endpoint defaults to preview)."""
    key = authenticate(request.headers)
    check_declared_length(request.META)
    rate = take_rate_token(key)
    fields, files = read_fields(request)
    params = parse_params(fields, has_bg_image=bool(background_sources(fields, files)), tier=key_tier(key),
                          default_size=default_size)
    webhook_url = field_text(fields, "webhook_url")
    if webhook_url and synchronous:
        raise ApiError("invalid_parameter", "webhook_url is for POST /api/v1/jobs; this endpoint answers with the image.",
                       reason="invalid_webhook_url")
    if webhook_url:
        webhook_url = webhooks.check_url(webhook_url)
    image = read_image(fields, files)
    info = inspect(image)
    if params.roi is not None:
        roi_box(params.roi, info.width, info.height)  # refused now rather than after the model ran
    background = read_background(fields, files)
    background_info = inspect(background, "background image") if background is not None else None
    if not worker.get_worker().has_room():
        raise ApiError("busy", BUSY_MESSAGE, retry_after=BUSY_RETRY_SECONDS)

    credits_left = consume_credit(key)
    job = api_job = None
    try:
        options = {"mode": params.mode, "preset": params.preset} if params.mode == "idphoto" else {}
        job = jobs.create_job(image, info, owner_key=owner_key(key), user=key.user,
                              ip=request.META.get("REMOTE_ADDR") or None, batch=uuid.uuid4(), options=options)
        api_job = ApiJob(job=job, key=key, params=params.to_json(), synchronous=synchronous,
                         background_extension=background_info.extension if background_info else "")
        if background is not None:
            api_job.background.save("background", background, save=False)
        api_job.save()
        if webhook_url:
            WebhookDelivery.objects.create(api_job=api_job, url=webhook_url, next_attempt_at=timezone.now())
    except BaseException:
        if api_job is not None and api_job.background and api_job._state.adding:
            api_job.background.delete(save=False)
        if job is not None:
            job.delete()  # with its API record and their files
        refund_credit(key, timezone.now().date())
        raise
    try:
        worker.enqueue(job.pk)
    except worker.QueueFull:  # filled up since has_room(): undo, as if never accepted
        refund(api_job)
        job.delete()
        raise ApiError("busy", BUSY_MESSAGE, retry_after=BUSY_RETRY_SECONDS)
    return Submitted(api_job=api_job, credits_left=credits_left, rate=rate)

