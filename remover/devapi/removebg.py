"""remove.bg's own endpoints, so that a remove.bg client works by changing the host name:
``POST /v1.0/removebg`` and ``GET /v1.0/account``.

The same keys, credits, rate limits and job queue as ``/api/v1/remove`` (this is the same
submission and rendering, remover/devapi/views.py); what differs is remove.bg's manner:
``size`` defaults to preview, the answer carries ``X-Type`` and ``X-Foreground-*`` (or is
JSON with the image in base64 when the client accepts only JSON), and errors are
``{"errors": [{"title", "code", "detail"}]}`` with remove.bg's status codes
(remover/devapi/errors.py).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .errors import ApiError, removebg_response
from .keys import authenticate, key_tier
from .params import REMOVEBG_DEFAULT_SIZE, Params
from .render import Output
from .usage import credits_left
from .views import answer_now, endpoint, image_headers, image_response, usage_headers

JSON = "application/json"


def wants_json(accept: str) -> bool:
    """remove.bg answers JSON when the client asks for it by name (``*/*`` gets the image)."""
    return any(part.split(";")[0].strip().lower() == JSON for part in accept.split(","))


def foreground_type(params: Params) -> str | None:
    """X-Type: the type the client gave (we do not classify: auto is "other"); none with type_level=none."""
    if params.type_level == "none":
        return None
    return "other" if params.type == "auto" else params.type


def _json_answer(output: Output) -> JsonResponse:
    left, top, width, height = output.foreground or (0, 0, 0, 0)
    return JsonResponse({"data": {
        "result_b64": base64.b64encode(output.data).decode("ascii"),
        "foreground_top": top, "foreground_left": left, "foreground_width": width, "foreground_height": height,
    }})


@endpoint("POST", errors=removebg_response)
async def remove(request):
    """remove.bg's ``POST /v1.0/removebg``: the image (or JSON) in the answer."""
    answered = await answer_now(request, default_size=REMOVEBG_DEFAULT_SIZE)
    output = answered.output
    if wants_json(request.headers.get("Accept", "")):
        response = image_headers(_json_answer(output), output, answered.api_job.credits)
    else:
        response = image_response(output, answered.api_job.credits)
    kind = foreground_type(Params.from_json(answered.api_job.params))
    if kind is not None:
        response["X-Type"] = kind
    if output.foreground is not None:
        for name, value in zip(("Left", "Top", "Width", "Height"), output.foreground):
            response[f"X-Foreground-{name}"] = str(value)
    return usage_headers(response, answered.credits_left, answered.rate)


def _next_midnight() -> str:
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    return datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=UTC).isoformat()


@endpoint("GET", errors=removebg_response)
def account(request):
    """remove.bg's ``GET /v1.0/account``: the key's credits in remove.bg's shape, and its limits.

    ``credits.total`` (and ``subscription``, as they renew daily) are the credits left today;
    there is no pay-as-you-go balance, and no call is free, so ``api.free_calls`` is 0.
    ``clearcut`` adds what remove.bg has no field for.
    """
    key = authenticate(request.headers)
    left, tier = credits_left(key), key_tier(key)
    return JsonResponse({"data": {"attributes": {
        "credits": {"total": left, "subscription": left, "payg": 0, "enterprise": 0},
        "api": {"free_calls": 0, "sizes": "all"},
        "clearcut": {
            "tier": tier.name,
            "max_megapixels": tier.max_megapixels,
            "daily_credits": key.daily_credits,
            "credits_renew_at": _next_midnight(),
            "rate_per_minute": key.rate_per_minute,
            "max_upload_mb": settings.CLEARCUT_MAX_UPLOAD_MB,
        },
    }}})


@csrf_exempt  # any method: the answer is the same 404
def not_found(request, rest: str = "") -> HttpResponse:
    return removebg_response(ApiError("not_found", "remove.bg's endpoints here are POST /v1.0/removebg and "
                                                   "GET /v1.0/account. See /api/v1/openapi.json."))
