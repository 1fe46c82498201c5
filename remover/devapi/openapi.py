"""The OpenAPI 3 document of the developer API, served at ``/api/v1/openapi.json``.

Built from the same tables the code uses (formats, error codes, documents), so the contract
tests that check every answer against it also check that the docs say what the code does.
The docs page renders :data:`PARAMETERS` too.
"""

from __future__ import annotations

from django.conf import settings

from remover.idphoto.presets import load_presets

from . import conf
from .errors import CATALOGUE
from .keys import HEADER
from .params import CHANNELS, FORMAT_ALIAS, FORMATS, MODES, SIZES
from .webhooks import SIGNATURE_HEADER

# name -> (JSON schema, description). Files only in multipart bodies.
PARAMETERS: dict[str, tuple[dict, str]] = {
    "image_file": ({"type": "string", "format": "binary"}, "The image, as a file (multipart/form-data)."),
    "image_file_b64": ({"type": "string"}, "The image, base64-encoded (a data: URL prefix is allowed). The whole "
                                           "request counts toward the upload limit, and base64 is 4/3 of the file."),
    "image_url": ({"type": "string"}, "The image's http(s) URL; we download it (public addresses only, "
                                      "at most 3 redirects, same byte limit as uploads)."),
    "format": ({"type": "string", "enum": [*FORMATS, FORMAT_ALIAS], "default": "auto"},
               "png, webp or jpg (or jpeg); auto: png when the result has transparency, jpg when it is opaque."),
    "size": ({"type": "string", "enum": list(SIZES), "default": "auto"},
             "preview: at most 0.25 MP; full and auto: the largest size the key's tier allows "
             "(free 1 MP, pro 36 MP), never above the original. In idphoto mode the document fixes the size."),
    "bg_color": ({"type": "string", "pattern": "^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"},
                 "A background colour in hex (81d4fa, #81D4FA, fff); default transparent."),
    "bg_image_file": ({"type": "string", "format": "binary"},
                      "A background image, scaled to cover the result (multipart/form-data)."),
    "channels": ({"type": "string", "enum": list(CHANNELS), "default": "rgba"},
                 "rgba: the cut-out; alpha: the greyscale mask alone."),
    "crop": ({"type": "boolean", "default": False}, "Trim the result to the subject."),
    "crop_margin": ({"type": "string", "pattern": r"^\d+(\.\d+)?(px|%)?$", "default": "0"},
                    "Margin kept around the subject when cropping: pixels of the original (30, 30px, at most "
                    "500px) or percent of the subject's size (10%, at most 50%). Past the photo's edge it is "
                    "transparent (or the background)."),
    "mode": ({"type": "string", "enum": list(MODES), "default": "cutout"},
             "cutout: remove the background; idphoto: a passport / ID photo for preset, framed to the "
             "document's rules on its background colour."),
    "preset": ({"type": "string"}, "With mode=idphoto: the document, one of {presets}, or custom:WxHmm / custom:WxHpx."),
}
WEBHOOK_PARAMETER = ({"type": "string"}, "Called with the job's status when it finishes (asynchronous jobs "
                                         "only); signed, retried with back-off. Public addresses only.")
TEXT_ONLY = ("image_file", "bg_image_file")


def _described(name: str, schema: dict, description: str) -> dict:
    if name == "preset":
        description = description.format(presets=", ".join(load_presets()))
    return {**schema, "description": description}


def _request_body(with_webhook: bool) -> dict:
    properties = {name: _described(name, *spec) for name, spec in PARAMETERS.items()}
    if with_webhook:
        properties["webhook_url"] = _described("webhook_url", *WEBHOOK_PARAMETER)
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
    media: {"schema": {"type": "string", "format": "binary"}} for media in ("image/png", "image/webp", "image/jpeg")
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
                "Errors are JSON `{\"error\": {\"code\", \"message\"}}` with stable codes."
            ),
            "license": {"name": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": HEADER}},
            "schemas": {
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
