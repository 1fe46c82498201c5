"""Helpers for the developer API tests: requests with a key, and checking answers against
the OpenAPI document the server publishes."""

from __future__ import annotations

import functools
import io
import json

import requests
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from remover.devapi import openapi
from tests.web.helpers import image_bytes

__all__ = ["documented", "error_code", "image_bytes", "opened", "post", "post_json"]


def post(client, path: str, key: str | None, files: dict[str, bytes] | None = None, **fields):
    """A multipart POST; ``files`` maps field names to bytes."""
    data = {name: SimpleUploadedFile(f"{name}.png", content) for name, content in (files or {}).items()}
    data.update(fields)
    headers = {"X-Api-Key": key} if key else {}
    return client.post(path, data, headers=headers)


def post_json(client, path: str, key: str | None, body) -> object:
    headers = {"X-Api-Key": key} if key else {}
    return client.post(path, json.dumps(body), content_type="application/json", headers=headers)


def opened(response) -> Image.Image:
    return Image.open(io.BytesIO(response.content))


def error_code(response) -> str:
    return response.json()["error"]["code"]


# The checks that judge an answer alone (the others re-send requests to a live server).
CONFORMANCE = [status_code_conformance, content_type_conformance, response_headers_conformance,
               response_schema_conformance]


@functools.cache
def _schema():
    return schemathesis.openapi.from_dict(openapi.document())


def documented(response, path: str, method: str):
    """Fail unless ``response`` (the test client's, or a ``requests`` one) is what the OpenAPI
    document promises for ``method path`` (status, media type, headers, body schema)."""
    path_parameters = {"id": "00000000-0000-0000-0000-000000000000"} if "{id}" in path else None
    case = _schema()[path][method.upper()].Case(path_parameters=path_parameters)
    if isinstance(response, requests.Response):
        case.validate_response(response, checks=CONFORMANCE)
        return response
    request = requests.Request(method.upper(), f"http://testserver{path}").prepare()
    headers: dict[str, list[str]] = {}
    for name, value in response.items():
        headers.setdefault(name.lower(), []).append(value)
    checked = Response(status_code=response.status_code, headers=headers, content=response.content,
                       request=request, elapsed=0.0, verify=False)
    case.validate_response(checked, checks=CONFORMANCE)
    return response
