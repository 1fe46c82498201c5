"""The developer API's endpoints under ``/api/v1/``. Authentication by ``X-Api-Key`` only:
no cookies, so no CSRF. Every answer other than an image is JSON; errors are
``{"error": {"code", "message"}}`` (remover/devapi/errors.py). remove.bg's endpoints
(remover/devapi/removebg.py) are these same views in remove.bg's manner."""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from inspect import iscoroutinefunction

from asgiref.sync import sync_to_async
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from remover.models import Job
from remover.web.limits import Tier

from . import conf, followup, openapi
from .errors import ApiError, error_response
from .keys import authenticate, key_tier
from .models import ApiJob
from .render import Output, render_result
from .settlement import refund, settle
from .status import failure, job_status
from .submission import BUSY_RETRY_SECONDS, Submitted, submit
from .usage import RateState, credits_left
from .waiting import wait_for_job

log = logging.getLogger(__name__)


def endpoint(*methods: str, errors: Callable[[ApiError], HttpResponse] = ApiError.response):
    """JSON errors for refusals and for anything unexpected, 405 for other methods, no CSRF.
    ``errors`` renders a refusal (remove.bg's endpoints answer in remove.bg's shape)."""

    def decorate(view):
        def refused(request) -> HttpResponse | None:
            followup.ensure_started()  # refunds and webhooks run wherever the API is served
            if request.method not in methods:
                response = errors(ApiError("method_not_allowed", f"Use {' or '.join(methods)} here."))
                response["Allow"] = ", ".join(methods)
                return response
            return None

        def unexpected(request) -> HttpResponse:
            log.exception("API request %s %s failed", request.method, request.path)
            return errors(ApiError("internal_error", "Something failed on our side. Please retry."))

        if iscoroutinefunction(view):
            @functools.wraps(view)
            async def wrapper(request, *args, **kwargs):
                if (response := refused(request)) is not None:
                    return response
                try:
                    return await view(request, *args, **kwargs)
                except ApiError as exc:
                    return errors(exc)
                except Exception:
                    return unexpected(request)
        else:
            @functools.wraps(view)
            def wrapper(request, *args, **kwargs):
                if (response := refused(request)) is not None:
                    return response
                try:
                    return view(request, *args, **kwargs)
                except ApiError as exc:
                    return errors(exc)
                except Exception:
                    return unexpected(request)
        return csrf_exempt(wrapper)

    return decorate


def image_headers(response: HttpResponse, output: Output, credits_charged: int) -> HttpResponse:
    """The facts about an image, on the image or on remove.bg's JSON answer that carries it."""
    response["X-Width"] = str(output.width)
    response["X-Height"] = str(output.height)
    response["X-Credits-Charged"] = str(credits_charged)
    response["Cache-Control"] = "no-store"
    if output.passed is not None:
        response["X-Idphoto-Passed"] = "true" if output.passed else "false"
    return response


def image_response(output: Output, credits_charged: int) -> HttpResponse:
    response = HttpResponse(output.data, content_type=output.content_type)
    response["Content-Disposition"] = f'inline; filename="clearcut.{output.format}"'
    return image_headers(response, output, credits_charged)


def usage_headers(response: HttpResponse, left: int, rate: RateState) -> HttpResponse:
    """What the key has left: credits today, and image requests in its rate limit."""
    response["X-Credits-Remaining"] = str(left)
    response["X-RateLimit-Limit"] = str(rate.limit)
    response["X-RateLimit-Remaining"] = str(rate.remaining)
    return response


# Rendering is CPU work on numpy arrays: off the event loop, and off Django's one thread for
# sync code, so a big render does not hold up other requests.
_render = sync_to_async(render_result, thread_sensitive=False)


# --- POST /api/v1/remove ----------------------------------------------------------------

@sync_to_async
def _forget(api_job: ApiJob, delivered: bool) -> None:
    """A synchronous job has answered (or been abandoned): its files go now, not in 24 h; an
    image that was not delivered is not charged."""
    if not delivered:
        refund(api_job)
    Job.objects.filter(pk=api_job.pk).delete()  # post_delete handlers remove the files


@sync_to_async
def _finished(api_job: ApiJob, job: Job) -> tuple[ApiJob, int, Tier]:
    """Settle the ended job; credits left and the key's tier (a permission lookup) for the answer."""
    api_job.job = job
    settle(api_job)
    return api_job, credits_left(api_job.key), key_tier(api_job.key)


@dataclass(frozen=True)
class Answered:
    output: Output
    api_job: ApiJob
    credits_left: int
    rate: RateState


async def answer_now(request, default_size: str = "auto") -> Answered:
    """Queue the request's image like any job, wait for it, and render it (the synchronous
    endpoints: ours and remove.bg's)."""
    submitted: Submitted = await sync_to_async(submit)(request, synchronous=True, default_size=default_size)
    api_job = submitted.api_job
    delivered = False
    try:
        job = await wait_for_job(api_job.pk, timeout=conf.get("CLEARCUT_API_SYNC_TIMEOUT"))
        if job is None:
            raise ApiError("internal_error", "The image was deleted before it was processed. Please retry.")
        api_job, left, tier = await _finished(api_job, job)
        if job.status == Job.Status.ERROR:
            raise failure(job)
        output = await _render(job, api_job, tier)
        delivered = True
    except TimeoutError:
        raise ApiError("timeout", "The image waited too long in the queue. Please retry, or use POST /api/v1/jobs.",
                       retry_after=BUSY_RETRY_SECONDS)
    finally:
        # Also when the client hangs up (the view is cancelled): the job is not needed any more.
        await asyncio.shield(_forget(api_job, delivered))
    return Answered(output=output, api_job=api_job, credits_left=left, rate=submitted.rate)


@endpoint("POST")
async def remove(request):
    """Synchronous: the image in the answer."""
    answered = await answer_now(request)
    response = image_response(answered.output, answered.api_job.credits)
    return usage_headers(response, answered.credits_left, answered.rate)


# --- /api/v1/jobs -----------------------------------------------------------------------

@endpoint("POST")
def create_job(request):
    """Asynchronous: 202 with the job's status; the result and a webhook follow."""
    submitted = submit(request, synchronous=False)
    response = JsonResponse(job_status(submitted.api_job), status=202)
    response["Location"] = reverse("devapi-job", args=[submitted.api_job.pk])
    return usage_headers(response, submitted.credits_left, submitted.rate)


def _own_job(request, job_id: uuid.UUID) -> ApiJob:
    """The job if the key that asks created it; anyone else's job does not exist (404)."""
    key = authenticate(request.headers)
    api_job = (ApiJob.objects.select_related("job", "key__user").filter(pk=job_id, key=key, synchronous=False).first())
    if api_job is None:
        raise ApiError("not_found", "There is no such job for this API key (results are kept 24 hours).")
    settle(api_job)
    return api_job


def _own_job_and_tier(request, job_id: uuid.UUID) -> tuple[ApiJob, Tier]:
    api_job = _own_job(request, job_id)
    return api_job, key_tier(api_job.key)


@endpoint("GET", "DELETE")
def job_detail(request, job_id: uuid.UUID):
    """``GET``: status. ``DELETE``: delete the job and its files now."""
    api_job = _own_job(request, job_id)
    if request.method == "DELETE":
        api_job.job.delete()
        return HttpResponse(status=204)
    return JsonResponse(job_status(api_job))


@endpoint("GET")
async def job_result(request, job_id: uuid.UUID):
    """The finished job's image, rendered with the parameters it was submitted with."""
    api_job, tier = await sync_to_async(_own_job_and_tier)(request, job_id)
    job = api_job.job
    if job.status == Job.Status.ERROR:
        raise failure(job)
    if job.status != Job.Status.DONE:
        raise ApiError("job_not_finished", f"The job is {job.status} ({job.stage}, {job.progress}%).")
    output = await _render(job, api_job, tier)
    return image_response(output, api_job.credits)


# --- Documents --------------------------------------------------------------------------

@endpoint("GET")
def openapi_document(request):
    return JsonResponse(openapi.document(), json_dumps_params={"indent": 1})


@csrf_exempt  # any method: the answer is the same 404
def not_found(request, rest: str = ""):
    return error_response("not_found", "There is no such API endpoint. See /api/v1/openapi.json.")
