"""What an API request brings: its fields (multipart, form-urlencoded or JSON) and its image,
as a file, base64 text or a URL that we download safely (remover/devapi/fetch.py)."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
)
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.http import QueryDict
from django.http.multipartparser import MultiPartParserError

from remover.web import limits
from remover.web.limits import Refused, UploadInfo

from . import conf
from .addresses import AddressPolicy
from .errors import ApiError
from .fetch import Fetcher
from .params import FIELD_NAMES, field_text

IMAGE_SOURCES = ("image_file", "image_file_b64", "image_url")
_DATA_URL = re.compile(r"^data:[\w.+/-]*;base64,", re.IGNORECASE)


def _base64_length(size: int) -> int:
    return 4 * math.ceil(size / 3)


def max_body_bytes() -> int:
    """The largest body we read: the site's request limit (daphne enforces the same one as the
    body arrives, see remover/web/bodylimit.py). Base64 counts as sent, 4/3 of the image."""
    return limits.max_request_bytes()


def check_declared_length(meta: Mapping) -> None:
    """Refuse from Content-Length alone, before any of the body is parsed."""
    try:
        declared = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return  # the parsers judge the body itself
    if declared > max_body_bytes():
        raise ApiError("file_too_large", f"The request is {declared / 1e6:.1f} MB; images are limited to "
                                         f"{limits.max_upload_bytes() / 1e6:.1f} MB each.")


def _read_capped(request) -> bytes:
    cap = max_body_bytes()
    body = request.read(cap + 1)
    if len(body) > cap:
        raise ApiError("file_too_large", "The request body is too large.")
    return body


def read_fields(request) -> tuple[Mapping, Mapping]:
    """(fields, files) of a POST body; files only come with multipart."""
    content_type = request.content_type
    try:
        if content_type == "multipart/form-data":
            return request.POST, request.FILES
        if content_type == "application/x-www-form-urlencoded":
            return QueryDict(_read_capped(request), encoding=request.encoding or "utf-8"), {}
        if content_type == "application/json":
            data = json.loads(_read_capped(request) or b"{}")
            if not isinstance(data, dict):
                raise ApiError("invalid_request", "A JSON body must be an object of parameters.")
            nulls = [name for name in FIELD_NAMES if name in data and data[name] is None]
            if nulls:
                raise ApiError("invalid_parameter", f"{nulls[0]} is null; leave it out instead.",
                               reason=f"invalid_{nulls[0]}")
            return data, {}
    except RequestDataTooBig:
        raise ApiError("file_too_large", "A text field of this form is larger than 2.5 MB: send the image "
                                         "as image_file, or as image_file_b64 in a JSON body.")
    except TooManyFieldsSent:
        raise ApiError("invalid_request", "The request has too many fields.")
    except (MultiPartParserError, BadRequest, SuspiciousOperation):
        raise ApiError("invalid_request", "The multipart body could not be read.")
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: thousands of nested [
        raise ApiError("invalid_request", "The JSON body could not be read.")
    raise ApiError("unsupported_media_type",
                   "Send multipart/form-data, application/x-www-form-urlencoded or application/json.")


def _present(fields: Mapping, files: Mapping, name: str) -> bool:
    return name in files or name in fields


def image_fetcher() -> Fetcher:
    return Fetcher(
        policy=AddressPolicy.allowing(conf.csv_list("CLEARCUT_API_FETCH_ALLOW_NETWORKS")),
        max_bytes=limits.max_upload_bytes(),
        timeout=conf.get("CLEARCUT_API_FETCH_TIMEOUT"),
        deadline=conf.get("CLEARCUT_API_FETCH_DEADLINE"),
        max_redirects=conf.get("CLEARCUT_API_FETCH_MAX_REDIRECTS"),
    )


def read_image(fields: Mapping, files: Mapping, fetcher: Fetcher | None = None) -> UploadedFile:
    """The one image of the request, whichever way it came; not yet checked as an image."""
    given = [name for name in IMAGE_SOURCES if _present(fields, files, name)]
    if not given:
        raise ApiError("missing_image", "Send the image as image_file, image_file_b64 or image_url.")
    if len(given) > 1:
        raise ApiError("multiple_images", f"Send one image only; this request has {' and '.join(given)}.")
    source = given[0]
    if source == "image_file":
        if "image_file" not in files:
            raise ApiError("invalid_parameter", "image_file must be a file in a multipart/form-data body.")
        return files["image_file"]
    text = fields.get(source)
    if not isinstance(text, str):
        raise ApiError("invalid_parameter", f"{source} must be a string.")
    if source == "image_file_b64":
        return SimpleUploadedFile("image", decode_base64(text))
    return download(text, fetcher or image_fetcher())


def decode_base64(text: str) -> bytes:
    text = re.sub(r"\s+", "", _DATA_URL.sub("", text.strip(), count=1))
    if len(text) > _base64_length(limits.max_upload_bytes()):
        raise ApiError("file_too_large", f"The image is larger than {limits.max_upload_bytes() / 1e6:.1f} MB.")
    text = text.replace("-", "+").replace("_", "/")  # the URL-safe alphabet too
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ApiError("invalid_base64", "image_file_b64 is not valid base64.")


# remove.bg's reasons for a URL that is refused or fails, by the field that named it.
_URL_REASONS = {
    "image_url": {"invalid_url": "invalid_image_url", "url_not_allowed": "invalid_image_url",
                  "url_fetch_failed": "failed_image_download"},
    "bg_image_url": {"invalid_url": "invalid_bg_image_url", "url_not_allowed": "invalid_bg_image_url",
                     "url_fetch_failed": "failed_bg_download"},
}


def download(url: str, fetcher: Fetcher, field: str = "image_url") -> UploadedFile:
    try:
        response = fetcher.request(url)
        if not 200 <= response.status < 300:
            host = urlsplit(response.url).hostname
            raise ApiError("url_fetch_failed", f"{host} answered HTTP {response.status} for {field}.")
    except ApiError as exc:
        named = exc.message if field == "image_url" else f"{field}: {exc.message}"
        raise ApiError(exc.code, named, exc.retry_after, exc.reason or _URL_REASONS[field].get(exc.code)) from None
    name = PurePosixPath(urlsplit(response.url).path).name or "image"
    return SimpleUploadedFile(name, response.body)


def background_sources(fields: Mapping, files: Mapping) -> list[str]:
    """Which of bg_image_file and bg_image_url came (bg_color is a rendering parameter)."""
    return [name for name in ("bg_image_file", "bg_image_url") if _present(fields, files, name)]


def read_background(fields: Mapping, files: Mapping, fetcher: Fetcher | None = None) -> UploadedFile | None:
    """The background image, from a file or downloaded from bg_image_url; not yet checked."""
    sources = background_sources(fields, files)
    if len(sources) > 1:
        raise ApiError("invalid_parameter", "Give one background: bg_color, bg_image_file or bg_image_url.",
                       reason="multiple_bg_sources")
    if "bg_image_file" in files:
        return files["bg_image_file"]
    if "bg_image_file" in fields:
        raise ApiError("invalid_parameter", "bg_image_file must be a file in a multipart/form-data body.",
                       reason="invalid_bg_image_file")
    url = field_text(fields, "bg_image_url")
    return download(url, fetcher or image_fetcher(), "bg_image_url") if url is not None else None


def inspect(upload: UploadedFile, label: str = "image") -> UploadInfo:
    """Size and format checks shared with the site's uploads (remover/web/limits.py)."""
    if not upload.size:
        raise ApiError("invalid_parameter", f"The {label} is empty.")
    try:
        limits.check_upload_size(upload.size)
    except Refused as exc:
        raise ApiError("file_too_large", str(exc))
    try:
        return limits.inspect_upload(upload)
    except Refused as exc:
        code = {413: "image_too_large", 415: "unsupported_image_format"}.get(exc.status, "image_unprocessable")
        raise ApiError(code, str(exc))
