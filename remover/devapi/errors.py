"""Every error the developer API returns: a stable ``code``, its HTTP status, and the JSON body
``{"error": {"code": ..., "message": ...}}``.

Codes are part of the API contract (clients branch on them; the OpenAPI document lists them):
add new ones, never rename. Messages are for people and may change.
"""

from __future__ import annotations

import math

from django.http import JsonResponse

# code -> (status, what it means; shown in the docs).
CATALOGUE: dict[str, tuple[int, str]] = {
    "invalid_request": (400, "The request body could not be read (malformed multipart or JSON)."),
    "invalid_parameter": (400, "A parameter has a value we do not accept; the message names it."),
    "missing_image": (400, "None of image_file, image_file_b64 or image_url was given."),
    "multiple_images": (400, "More than one of image_file, image_file_b64 and image_url was given."),
    "invalid_base64": (400, "image_file_b64 is not valid base64."),
    "invalid_url": (400, "The URL is malformed, not http(s), or carries a user name or password."),
    "url_not_allowed": (400, "The URL leads to a private, loopback, link-local or otherwise reserved address."),
    "missing_api_key": (401, "No X-Api-Key header."),
    "invalid_api_key": (401, "The key is unknown or was revoked."),
    "quota_exceeded": (402, "The key's credits for today are used up; they renew at midnight UTC."),
    "not_found": (404, "No such job for this key (or no such endpoint)."),
    "method_not_allowed": (405, "This endpoint does not take that HTTP method."),
    "job_not_finished": (409, "The job has not finished yet; poll its status or wait for the webhook."),
    "file_too_large": (413, "The image (or the request) is larger than the byte limit."),
    "image_too_large": (413, "The image has more pixels than the limit."),
    "unsupported_media_type": (415, "The request body is not multipart/form-data, form-urlencoded or JSON."),
    "unsupported_image_format": (415, "The file is not an image format we read."),
    "url_fetch_failed": (422, "The image at image_url could not be downloaded."),
    "image_unprocessable": (422, "The image is damaged, or the chosen mode cannot use it (no face for an ID photo)."),
    "rate_limited": (429, "Too many requests for this key; wait for the seconds in Retry-After."),
    "internal_error": (500, "Something failed on our side; the request can be retried."),
    "busy": (503, "The queue is full; retry after the seconds in Retry-After."),
    "timeout": (503, "The image waited too long in the queue; retry, or use the asynchronous jobs endpoint."),
}


class ApiError(Exception):
    """An answer other than success. ``str()`` is the human message.

    ``reason``: optionally, the finer cause in remove.bg's vocabulary (``invalid_size``,
    ``multiple_bg_sources``, ...), which its drop-in endpoints answer with
    (remover/devapi/removebg.py); our own answers keep the catalogue's code.
    """

    def __init__(self, code: str, message: str, retry_after: float | None = None, reason: str | None = None):
        if code not in CATALOGUE:
            raise ValueError(f"unknown API error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.reason = reason

    @property
    def status(self) -> int:
        return CATALOGUE[self.code][0]

    def response(self) -> JsonResponse:
        return error_response(self.code, self.message, self.retry_after)


def error_response(code: str, message: str, retry_after: float | None = None) -> JsonResponse:
    response = JsonResponse({"error": {"code": code, "message": message}}, status=CATALOGUE[code][0])
    if retry_after is not None:
        response["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return response


# --- remove.bg's shape, for its drop-in endpoints (/v1.0/...) -----------------------------

# code -> (status, remove.bg's code, title). remove.bg answers 400 for anything wrong with the
# request or the image, 402 without credits, 403 for the key, 429 for the rate limit.
REMOVEBG: dict[str, tuple[int, str, str]] = {
    "invalid_request": (400, "invalid_request", "Invalid request body"),
    "invalid_parameter": (400, "invalid_parameters", "Invalid parameters"),
    "missing_image": (400, "missing_source", "No image given"),
    "multiple_images": (400, "multiple_sources", "Multiple image sources given"),
    "invalid_base64": (400, "invalid_image_file_b64", "Invalid base64 image"),
    "invalid_url": (400, "invalid_image_url", "Invalid image_url"),
    "url_not_allowed": (400, "invalid_image_url", "Invalid image_url"),
    "missing_api_key": (403, "auth_failed", "Missing API Key"),
    "invalid_api_key": (403, "auth_failed", "Invalid API Key"),
    "quota_exceeded": (402, "insufficient_credits", "Insufficient credits"),
    "not_found": (404, "not_found", "Not found"),
    "method_not_allowed": (405, "method_not_allowed", "Method not allowed"),
    "job_not_finished": (409, "job_not_finished", "Job not finished"),
    "file_too_large": (400, "file_too_large", "File too large"),
    "image_too_large": (400, "resolution_too_high", "Image resolution too high"),
    "unsupported_media_type": (400, "invalid_request", "Unsupported request body"),
    "unsupported_image_format": (400, "invalid_file_type", "Invalid file type"),
    "url_fetch_failed": (400, "failed_image_download", "Failed to download image"),
    "image_unprocessable": (400, "failed_to_read_image", "Failed to read image"),
    "rate_limited": (429, "rate_limit_exceeded", "Rate limit exceeded"),
    "internal_error": (500, "internal_error", "Internal error"),
    "busy": (503, "busy", "Server busy"),
    "timeout": (503, "timeout", "Timed out in the queue"),
}
# Titles of the finer reasons that are not "invalid_<parameter>".
REASON_TITLES = {
    "multiple_bg_sources": "Multiple background sources given",
    "roi_exceeds_bounds": "ROI exceeds image bounds",
    "roi_region_empty": "ROI region is empty",
    "invalid_image_url": "Invalid image_url",
    "failed_image_download": "Failed to download image",
    "invalid_bg_image_url": "Invalid bg_image_url",
    "failed_bg_download": "Failed to download background image",
    "failed_to_read_image": "Failed to read image",
}


def removebg_error(exc: ApiError) -> tuple[int, dict]:
    """(status, one entry of remove.bg's ``errors`` list) for ``exc``."""
    status, code, title = REMOVEBG[exc.code]
    if exc.reason:
        code = exc.reason
        title = REASON_TITLES.get(code) or f"Invalid value for parameter '{code.removeprefix('invalid_')}'"
    return status, {"title": title, "code": code, "detail": exc.message}


def removebg_response(exc: ApiError) -> JsonResponse:
    """``{"errors": [{"title", "code", "detail"}]}`` with remove.bg's status code."""
    status, error = removebg_error(exc)
    response = JsonResponse({"errors": [error]}, status=status)
    if exc.retry_after is not None:
        response["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    return response
