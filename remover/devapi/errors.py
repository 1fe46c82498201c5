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
    """An answer other than success. ``str()`` is the human message."""

    def __init__(self, code: str, message: str, retry_after: float | None = None):
        if code not in CATALOGUE:
            raise ValueError(f"unknown API error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after

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
