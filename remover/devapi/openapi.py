"""The OpenAPI 3 document of the developer API, served at ``/api/v1/openapi.json``.

Built from the same tables the code uses (formats, error codes, documents), so the contract
tests that check every answer against it also check that the docs say what the code does.
The docs page renders :data:`PARAMETERS` too.
"""

from __future__ import annotations

from django.conf import settings

from remover.idphoto.presets import load_presets

from . import conf
from .errors import CATALOGUE, REMOVEBG
from .keys import HEADER
from .params import (
    CHANNELS,
    FORMAT_ALIAS,
    FORMATS,
    MODES,
    REMOVEBG_DEFAULT_SIZE,
    SIZE_ALIASES,
    SIZES,
    TYPE_LEVELS,
    TYPES,
)
from .webhooks import SIGNATURE_HEADER

_LENGTH = r"\d+(\.\d+)?(px|%)?"
_PERCENT = r"\d+(\.\d+)?%"
# name -> (JSON schema, description). Files only in multipart bodies. Patterns admit at least
# what the code accepts (it may refuse more: the messages say why).
PARAMETERS: dict[str, tuple[dict, str]] = {
    "image_file": ({"type": "string", "format": "binary"}, "The image, as a file (multipart/form-data)."),
    "image_file_b64": ({"type": "string"}, "The image, base64-encoded (a data: URL prefix is allowed). The whole "
                                           "request counts toward the upload limit, and base64 is 4/3 of the file."),
    "image_url": ({"type": "string"}, "The image's http(s) URL; we download it (public addresses only, "
                                      "at most 3 redirects, same byte limit as uploads)."),
    "format": ({"type": "string", "enum": [*FORMATS, FORMAT_ALIAS], "default": "auto"},
               "png, webp or jpg (or jpeg); zip: a ZIP of color.jpg (the colours) and alpha.png (the mask), as "
               "remove.bg sends; auto: png when the result has transparency, jpg when it is opaque."),
    "size": ({"type": "string", "enum": [*SIZES, *SIZE_ALIASES], "default": "auto"},
             "The largest result, never above the key's tier (free {free} MP, pro {pro} MP) nor the original: "
             "preview (also small, regular) {preview} MP, medium 1.5 MP, hd 4 MP, full (also 4k) 36 MP, 50MP "
             "50 MP; auto: the most the tier allows. In idphoto mode the document fixes the size."),
    "type": ({"type": "string", "enum": list(TYPES), "default": "auto"},
             "remove.bg's foreground type. Accepted and echoed in X-Type; one general model cuts out every kind "
             "of subject, so it does not change the result."),
    "type_level": ({"type": "string", "enum": list(TYPE_LEVELS), "default": "1"},
                   "none leaves out the X-Type header; other values are accepted as remove.bg's."),
    "bg_color": ({"type": "string", "pattern": r"^(#?([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})|[a-z]+)$"},
                 "A background colour in hex (81d4fa, #81D4FA, fff) or a CSS colour name (green); a 4th or 8th "
                 "digit pair must be ff (opaque). Default transparent."),
    "bg_image_file": ({"type": "string", "format": "binary"},
                      "A background image, scaled to cover the result (multipart/form-data)."),
    "bg_image_url": ({"type": "string"}, "A background image's http(s) URL, downloaded like image_url and "
                                         "scaled to cover the result."),
    "channels": ({"type": "string", "enum": list(CHANNELS), "default": "rgba"},
                 "rgba: the cut-out; alpha: the greyscale mask alone."),
    "crop": ({"type": "boolean", "default": False}, "Trim the result to the subject."),
    "crop_margin": ({"type": "string", "pattern": rf"^{_LENGTH}( {_LENGTH}){{0,3}}$", "default": "0"},
                    "Margin kept around the subject when cropping: pixels of the original (30, 30px, at most "
                    "500px) or percent of the subject's size (10%, at most 50%); one value, two (top and bottom, "
                    "left and right) or four (top, right, bottom, left). Past the photo's edge it is "
                    "transparent (or the background)."),
    "roi": ({"type": "string", "pattern": rf"^{_LENGTH} {_LENGTH} {_LENGTH} {_LENGTH}$", "default": "0% 0% 100% 100%"},
            "Region of interest \"x1 y1 x2 y2\" in pixels (px) or % of the photo: nothing outside it is kept."),
    "scale": ({"type": "string", "pattern": rf"^(original|{_PERCENT})$", "default": "original"},
              "The subject's size, 10% to 100% of the largest that fits the frame (the photo, or with crop the "
              "cropped frame); implies position=center unless position is given."),
    "position": ({"type": "string", "pattern": rf"^(original|center|{_PERCENT}( {_PERCENT})?)$",
                  "default": "original"},
                 "Where the subject sits in the frame: original, center, or 0% to 100% of the room left "
                 "(one value for both directions, or horizontal and vertical)."),
    "add_shadow": ({"type": "boolean", "default": False}, "A soft drop shadow under the subject (semi-transparent "
                                                          "in a transparent result)."),
    "shadow_type": ({"type": "string", "enum": ["drop", "contact"]},
                    "The shadow, drawn from the subject's alpha: drop (soft, below and to the right) or contact "
                    "(flat under the subject's bottom edge). Giving it turns the shadow on."),
    "shadow_strength": ({"type": "string", "pattern": rf"^{_PERCENT}$", "default": "50%"},
                        "The shadow's darkest opacity, 0% to 100%."),
    "canvas": ({"type": "string", "pattern": r"^(original|1:1|4:5|9:16|16:9|\d{1,5}x\d{1,5})$", "default": "original"},
               "Put the frame (the photo, or with crop the subject and its margin) on a canvas: 1:1 "
               "(marketplaces), 4:5 and 9:16 (social), 16:9, or WxH pixels (16 to 10000 a side); the smallest "
               "canvas of that shape holds it unscaled, a WxH one scales it to fit. scale and position place it; "
               "centred by default. The result is capped by size like any other."),
    "semitransparency": ({"type": "boolean", "default": True},
                         "false: every pixel is subject or background, no partial transparency (decided at full "
                         "size, so resized edges stay smooth)."),
    "mode": ({"type": "string", "enum": list(MODES), "default": "cutout"},
             "cutout: remove the background; idphoto: a passport / ID photo for preset, framed to the "
             "document's rules on its background colour."),
    "preset": ({"type": "string"}, "With mode=idphoto: the document, one of {presets}, or custom:WxHmm / custom:WxHpx."),
}
# Ours, not remove.bg's: left out of /v1.0/removebg's document (they work there too).
OWN_PARAMETERS = ("mode", "preset", "shadow_type", "shadow_strength", "canvas")
WEBHOOK_PARAMETER = ({"type": "string"}, "Called with the job's status when it finishes (asynchronous jobs "
                                         "only); signed, retried with back-off. Public addresses only.")
TEXT_ONLY = ("image_file", "bg_image_file")


def described(name: str, schema: dict, description: str) -> dict:
    """The parameter's schema with its description, the figures filled in from the settings."""
    if name == "preset":
        description = description.format(presets=", ".join(load_presets()))
    if name == "size":
        description = description.format(free=f"{settings.CLEARCUT_FREE_MEGAPIXELS:g}",
                                         pro=f"{settings.CLEARCUT_PRO_MEGAPIXELS:g}",
                                         preview=f"{conf.get('CLEARCUT_API_PREVIEW_MEGAPIXELS'):g}")
    return {**schema, "description": description}


def _request_body(with_webhook: bool = False, removebg: bool = False) -> dict:
    properties = {name: described(name, *spec) for name, spec in PARAMETERS.items()
                  if not (removebg and name in OWN_PARAMETERS)}
    if with_webhook:
        properties["webhook_url"] = described("webhook_url", *WEBHOOK_PARAMETER)
    if removebg:
        properties["size"] = {**properties["size"], "default": REMOVEBG_DEFAULT_SIZE}
    text = {name: spec for name, spec in properties.items() if name not in TEXT_ONLY}
    return {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {"type": "object", "properties": properties}},
            "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": text}},
            "application/json": {
                "schema": {"type": "object", "properties": text},
                "examples": {"tiny-png": {"summary": "An 8x8 PNG", "value": {"image_file_b64": EXAMPLE_PNG}}},
            },
        },
    }


# An 8x8 RGB PNG: the contract tests send it, so every endpoint is exercised with a real image.
EXAMPLE_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAGUlEQVR42mNkYKiQY2DARCwMcgxYweCUAABSsQI6ZfI4AwAA"
    "AABJRU5ErkJggg=="
)


def _header(description: str, schema: dict | None = None) -> dict:
    return {"description": description, "required": True, "schema": schema or {"type": "integer", "minimum": 0}}


RETRY_AFTER = _header("Seconds to wait before retrying.", {"type": "integer", "minimum": 1})


def _error(codes: list[str]) -> dict:
    lines = "; ".join(f"`{code}`: {CATALOGUE[code][1]}" for code in codes)
    response = {
        "description": lines,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if any(code in ("rate_limited", "busy", "timeout", "quota_exceeded") for code in codes):
        response["headers"] = {"Retry-After": RETRY_AFTER}
    return response


def _errors(*statuses: int) -> dict:
    by_status: dict[int, list[str]] = {}
    for code, (status, _) in CATALOGUE.items():
        if status in statuses:
            by_status.setdefault(status, []).append(code)
    return {str(status): _error(codes) for status, codes in sorted(by_status.items())}


IMAGE_CONTENT = {
    media: {"schema": {"type": "string", "format": "binary"}}
    for media in ("image/png", "image/webp", "image/jpeg", "application/zip")
}
IMAGE_HEADERS = {
    "X-Width": _header("Width of the returned image in pixels."),
    "X-Height": _header("Height of the returned image in pixels."),
    "X-Credits-Charged": _header("Credits this image cost (failed images cost nothing)."),
    "X-Idphoto-Passed": {"description": "mode=idphoto only: whether the photo passes every check of its "
                                        "document's rules (the job status has the full report).",
                         "required": False, "schema": {"type": "string", "enum": ["true", "false"]}},
}
RATE_HEADERS = {
    "X-Credits-Remaining": _header("Credits left today for this key."),
    "X-RateLimit-Limit": _header("Image requests per minute for this key."),
    "X-RateLimit-Remaining": _header("Image requests that may be sent right now."),
}
SUBMIT_ERRORS = (400, 401, 402, 405, 413, 415, 422, 429, 500, 503)
JOB_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}

JOB_STATUS = {
    "type": "object",
    "required": ["id", "status", "stage", "progress", "error", "credits_charged", "created_at", "expires_at",
                 "status_url", "result_url", "webhook", "idphoto"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "status": {"type": "string", "enum": ["queued", "running", "done", "error"]},
        "stage": {"type": "string", "description": "queued, decoding, segmenting, refining, compositing, done or "
                  "error; with mode=idphoto detecting, framing and checking instead of compositing"},
        "progress": {"type": "integer", "minimum": 0, "maximum": 100},
        "position": {"type": "integer", "minimum": 1, "nullable": True, "description": "place in the queue (1 = next)"},
        "error": {"nullable": True, "allOf": [{"$ref": "#/components/schemas/ErrorBody"}]},
        "credits_charged": {"type": "integer", "minimum": 0},
        "params": {"type": "object", "description": "the rendering parameters, as understood"},
        "created_at": {"type": "string", "format": "date-time"},
        "finished_at": {"type": "string", "format": "date-time", "nullable": True},
        "expires_at": {"type": "string", "format": "date-time", "description": "the job and its files are deleted then"},
        "status_url": {"type": "string"},
        "result_url": {"type": "string", "nullable": True, "description": "set once the job is done"},
        "idphoto": {
            "type": "object", "nullable": True,
            "description": "mode=idphoto only: the document and, once done, its compliance report",
            "required": ["preset", "passed", "report"],
            "properties": {
                "preset": {"type": "string"},
                "passed": {"type": "boolean", "nullable": True, "description": "every check passed"},
                "report": {"type": "object", "nullable": True,
                           "description": "each check with its measured value and allowed range"},
            },
        },
        "webhook": {
            "type": "object", "nullable": True,
            "required": ["url", "state", "attempts"],
            "properties": {
                "url": {"type": "string"},
                "state": {"type": "string", "enum": ["pending", "delivered", "failed"]},
                "attempts": {"type": "integer", "minimum": 0},
            },
        },
    },
}


# --- remove.bg's paths ------------------------------------------------------------------

def _removebg_errors(*statuses: int) -> dict:
    by_status: dict[int, list[str]] = {}
    for code, (status, removebg_code, _) in REMOVEBG.items():
        if status in statuses and removebg_code not in by_status.get(status, []):
            by_status.setdefault(status, []).append(removebg_code)
    responses = {}
    for status, codes in sorted(by_status.items()):
        response = {"description": "remove.bg's error shape. Codes: " + ", ".join(f"`{c}`" for c in codes) +
                                   (" and finer ones such as `invalid_size`, `roi_exceeds_bounds`, "
                                    "`multiple_bg_sources`" if status == 400 else "") + ".",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RemoveBgErrors"}}}}
        if status in (429, 503):
            response["headers"] = {"Retry-After": RETRY_AFTER}
        responses[str(status)] = response
    return responses


def _optional(description: str, schema: dict | None = None) -> dict:
    return {"description": description, "required": False, "schema": schema or {"type": "integer", "minimum": 0}}


REMOVEBG_HEADERS = {
    **{name: spec for name, spec in IMAGE_HEADERS.items() if name != "X-Idphoto-Passed"},
    "X-Type": _optional("The type parameter as sent (other for auto: we do not classify); absent with "
                        "type_level=none.", {"type": "string", "enum": [*TYPES[1:], "other"]}),
    "X-Foreground-Top": _optional("Top of the subject's box in the result, in pixels (absent without a subject)."),
    "X-Foreground-Left": _optional("Left of the subject's box in the result, in pixels."),
    "X-Foreground-Width": _optional("Width of the subject's box in the result, in pixels."),
    "X-Foreground-Height": _optional("Height of the subject's box in the result, in pixels."),
    **RATE_HEADERS,
}
REMOVEBG_SCHEMAS = {
    "RemoveBgErrors": {
        "type": "object", "required": ["errors"],
        "properties": {"errors": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["title", "code", "detail"],
            "properties": {"title": {"type": "string"}, "code": {"type": "string"}, "detail": {"type": "string"}},
        }}},
    },
    "RemoveBgResult": {
        "type": "object", "required": ["data"],
        "properties": {"data": {
            "type": "object",
            "required": ["result_b64", "foreground_top", "foreground_left", "foreground_width", "foreground_height"],
            "properties": {
                "result_b64": {"type": "string", "description": "the result file (image or ZIP), base64"},
                **{f"foreground_{side}": {"type": "integer", "minimum": 0}
                   for side in ("top", "left", "width", "height")},
            },
        }},
    },
    "RemoveBgAccount": {
        "type": "object", "required": ["data"],
        "properties": {"data": {"type": "object", "required": ["attributes"], "properties": {"attributes": {
            "type": "object", "required": ["credits", "api", "clearcut"],
            "properties": {
                "credits": {
                    "type": "object", "required": ["total", "subscription", "payg", "enterprise"],
                    "description": "total and subscription: the credits left today (they renew at midnight UTC)",
                    "properties": {name: {"type": "number", "minimum": 0}
                                   for name in ("total", "subscription", "payg", "enterprise")},
                },
                "api": {"type": "object", "required": ["free_calls", "sizes"],
                        "properties": {"free_calls": {"type": "integer", "minimum": 0},
                                       "sizes": {"type": "string", "enum": ["all"]}}},
                "clearcut": {
                    "type": "object", "description": "this key's limits, which remove.bg's shape has no field for",
                    "required": ["tier", "max_megapixels", "daily_credits", "credits_renew_at", "rate_per_minute",
                                 "max_upload_mb"],
                    "properties": {
                        "tier": {"type": "string", "enum": ["free", "pro"]},
                        "max_megapixels": {"type": "number"},
                        "daily_credits": {"type": "integer", "minimum": 0},
                        "credits_renew_at": {"type": "string", "format": "date-time"},
                        "rate_per_minute": {"type": "integer", "minimum": 0},
                        "max_upload_mb": {"type": "number"},
                    },
                },
            },
        }}}},
    },
}


def _removebg_paths(security: list) -> dict:
    return {
        "/v1.0/removebg": {
            "post": {
                "operationId": "removebgRemoveBackground",
                "summary": "remove.bg's endpoint: point a remove.bg client at this host",
                "description": (
                    "The same keys, credits, rate limits and queue as /api/v1/remove, in remove.bg's manner: size "
                    f"defaults to {REMOVEBG_DEFAULT_SIZE}; the answer carries X-Type and X-Foreground-*, and is "
                    "JSON with the file in base64 when the request's Accept names application/json; errors are "
                    "remove.bg's {\"errors\": [{\"title\", \"code\", \"detail\"}]} with its status codes (403 for "
                    "the key, 402 without credits, 429 with Retry-After, 400 for the rest)."
                ),
                "security": security,
                "requestBody": _request_body(removebg=True),
                "responses": {
                    "200": {"description": "The result: the file, or JSON.", "headers": REMOVEBG_HEADERS,
                            "content": {**IMAGE_CONTENT, "application/json": {
                                "schema": {"$ref": "#/components/schemas/RemoveBgResult"}}}},
                    **_removebg_errors(400, 402, 403, 405, 429, 500, 503),
                },
            },
        },
        "/v1.0/account": {
            "get": {
                "operationId": "removebgAccount",
                "summary": "remove.bg's account endpoint: this key's credits and limits",
                "security": security,
                "responses": {
                    "200": {"description": "remove.bg's account shape.", "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/RemoveBgAccount"}}}},
                    **_removebg_errors(403, 405, 500),
                },
            },
        },
    }


def document() -> dict:
    preview_mp = conf.get("CLEARCUT_API_PREVIEW_MEGAPIXELS")
    security = [{"ApiKey": []}]
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Clearcut developer API",
            "version": "1.0.0",
            "description": (
                "Remove image backgrounds from your own code. Send your key in the "
                f"`{HEADER}` header. Uploads up to {settings.CLEARCUT_MAX_UPLOAD_MB:g} MB and "
                f"{settings.CLEARCUT_MAX_MEGAPIXELS:g} MP; size=preview gives at most {preview_mp:g} MP. "
                "Errors are JSON `{\"error\": {\"code\", \"message\"}}` with stable codes. "
                "Coming from remove.bg? Point your remove.bg client at this host: /v1.0/removebg and "
                "/v1.0/account answer as remove.bg's do."
            ),
            "license": {"name": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": HEADER}},
            "schemas": {
                **REMOVEBG_SCHEMAS,
                "ErrorBody": {
                    "type": "object", "required": ["code", "message"],
                    "properties": {"code": {"type": "string", "enum": list(CATALOGUE)}, "message": {"type": "string"}},
                },
                "Error": {
                    "type": "object", "required": ["error"],
                    "properties": {"error": {"$ref": "#/components/schemas/ErrorBody"}},
                },
                "JobStatus": JOB_STATUS,
                "WebhookEvent": {
                    "type": "object", "required": ["event", "job"],
                    "properties": {"event": {"type": "string", "enum": ["job.finished"]},
                                   "job": {"$ref": "#/components/schemas/JobStatus"}},
                },
            },
        },
        "paths": {
            "/api/v1/remove": {
                "post": {
                    "operationId": "removeBackground",
                    "summary": "Remove the background and answer with the image (synchronous)",
                    "security": security,
                    "requestBody": _request_body(with_webhook=False),
                    "responses": {
                        "200": {"description": "The result image.", "headers": {**IMAGE_HEADERS, **RATE_HEADERS},
                                "content": IMAGE_CONTENT},
                        **_errors(*SUBMIT_ERRORS),
                    },
                },
            },
            "/api/v1/jobs": {
                "post": {
                    "operationId": "createJob",
                    "summary": "Queue an image (asynchronous); poll its status or receive a webhook",
                    "security": security,
                    "requestBody": _request_body(with_webhook=True),
                    "responses": {
                        "202": {
                            "description": "Queued.",
                            "headers": {"Location": _header("The job's status URL.", {"type": "string"}), **RATE_HEADERS},
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobStatus"}}},
                            "links": {
                                "status": {"operationId": "getJob", "parameters": {"id": "$response.body#/id"}},
                                "result": {"operationId": "getJobResult", "parameters": {"id": "$response.body#/id"}},
                            },
                        },
                        **_errors(*SUBMIT_ERRORS),
                    },
                    "callbacks": {
                        "jobFinished": {
                            "{$request.body#/webhook_url}": {
                                "post": {
                                    "summary": "The job finished (done or error)",
                                    "description": (
                                        f"`{SIGNATURE_HEADER}: t=<unix time>,v1=<hex HMAC-SHA256 of \"<t>.<body>\" "
                                        "with the key's webhook secret>`. Answer 2xx; anything else is retried "
                                        "with back-off."
                                    ),
                                    "parameters": [{"name": SIGNATURE_HEADER, "in": "header", "required": True,
                                                    "schema": {"type": "string"}}],
                                    "requestBody": {"required": True, "content": {"application/json": {
                                        "schema": {"$ref": "#/components/schemas/WebhookEvent"}}}},
                                    "responses": {"2XX": {"description": "Received."}},
                                },
                            },
                        },
                    },
                },
            },
            "/api/v1/jobs/{id}": {
                "parameters": [JOB_ID],
                "get": {
                    "operationId": "getJob",
                    "summary": "A job's status",
                    "security": security,
                    "responses": {
                        "200": {"description": "The job.",
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobStatus"}}}},
                        **_errors(401, 404, 405, 500),
                    },
                },
                "delete": {
                    "operationId": "deleteJob",
                    "summary": "Delete a job and its files now",
                    "security": security,
                    "responses": {"204": {"description": "Deleted."}, **_errors(401, 404, 405, 500)},
                },
            },
            "/api/v1/jobs/{id}/result": {
                "parameters": [JOB_ID],
                "get": {
                    "operationId": "getJobResult",
                    "summary": "A finished job's image, rendered with its parameters",
                    "security": security,
                    "responses": {
                        "200": {"description": "The result image.", "headers": IMAGE_HEADERS, "content": IMAGE_CONTENT},
                        **_errors(401, 404, 405, 409, 422, 500),
                    },
                },
            },
            **_removebg_paths(security),
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI 3 document.",
                                          "content": {"application/json": {"schema": {"type": "object"}}}}},
                },
            },
        },
    }
