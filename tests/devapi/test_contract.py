"""Contract tests against daphne on 127.0.0.1 with the real model: schemathesis sends
schema-generated requests (and the document's examples) to every operation and checks every
answer against the OpenAPI document; then the main flows, each answer checked the same way.

Bounded: a few dozen generated requests per operation, almost all refused before any model
work; the model runs for the examples and the flows only (a handful of images)."""

from __future__ import annotations

import io
import json
import socket
import threading
import time

import numpy as np
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from PIL import Image
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from remover.devapi import openapi, webhooks
from tests.conftest import png_bytes
from tests.live_server import read_json_answer

from .helpers import documented
from .live import live_server
from .servers import reply, serving

pytestmark = pytest.mark.timeout(600)
URL_FIELDS = ("image_url", "bg_image_url", "webhook_url")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection, ignored_auth, unsupported_method]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    environment = {
        "CLEARCUT_API_WEBHOOK_ALLOW_NETWORKS": "127.0.0.1/32",  # the test's receiver; image_url stays public-only
        "CLEARCUT_API_WEBHOOK_RETRY_SECONDS": "1",
        "CLEARCUT_API_FOLLOWUP_POLL_SECONDS": "0.2",
    }
    with live_server(tmp_path_factory.mktemp("devapi-live"), **environment) as server:
        # Warm up: the first connection starts the worker, which loads the model; the timing
        # checks below must not measure that.
        warm = requests.post(f"{server.base}/api/v1/remove", headers={"X-Api-Key": server.key},
                             json={"image_file_b64": openapi.EXAMPLE_PNG}, timeout=300)
        assert warm.status_code == 200, warm.text
        yield server


# The document the server publishes, built in-process (Django is set up before collection);
# test_the_served_document_is_this_one checks that the server sends exactly this.
schema = schemathesis.openapi.from_dict(openapi.document())
# Image submissions: the document's examples (a real image each) and generated invalid
# requests. Generated valid ones would each cost a model run (1-3 s here) and cover nothing
# the examples and the flows below do not; the test-client suite checks them in-process.
submissions = schemathesis.openapi.from_dict(openapi.document()).include(method="POST")
submissions.config.generation.update(modes=[GenerationMode.NEGATIVE])


def test_the_served_document_is_this_one(live):
    served = requests.get(f"{live.base}/api/v1/openapi.json", timeout=60).json()
    assert served == json.loads(json.dumps(openapi.document()))


def offline(body):
    """Generated URLs must not make the server resolve names or reach any host: every URL
    becomes a loopback address, which image_url refuses without connecting (a webhook to it
    is tried on 127.0.0.1 port 9, where nothing listens)."""
    if isinstance(body, dict):
        for name in URL_FIELDS:
            if isinstance(body.get(name), str) and "://" in body[name]:
                body[name] = "http://127.0.0.1:9/generated"
    return body


def call_and_check(case, live) -> None:
    case.body = offline(case.body)
    if case.media_type == "multipart/form-data" and not case.body:
        # A multipart body without a single part is refused by daphne's HTTP layer (Twisted)
        # with a bare 400 before the application sees it.
        response = case.call(base_url=live.base, headers={"X-Api-Key": live.key}, timeout=30)
        assert response.status_code == 400
        return
    checks = CHECKS
    if case.meta.generation.mode is GenerationMode.NEGATIVE and case.media_type == "multipart/form-data":
        # Multipart fields are all text: a "wrong type" mutation is sent as the same text as a
        # valid value, so the server cannot (and need not) tell it from valid data.
        checks = [check for check in CHECKS if check is not negative_data_rejection]
    case.call_and_validate(base_url=live.base, headers={"X-Api-Key": live.key}, checks=checks, timeout=120)


# Image submissions are few: each valid image costs a model run (1-3 s here); the rest is cheap.
@submissions.parametrize()
@settings(max_examples=20, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_submissions_match_the_document(case, live):
    call_and_check(case, live)


@schema.exclude(method="POST").parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_reads_match_the_document(case, live):
    call_and_check(case, live)


def test_synchronous_removal_over_http_without_blocking_the_server(live, astronaut):
    answers: dict[str, requests.Response] = {}

    def remove():
        answers["remove"] = requests.post(f"{live.base}/api/v1/remove", headers={"X-Api-Key": live.key},
                                          files={"image_file": ("astronaut.png", png_bytes(astronaut), "image/png")},
                                          timeout=120)

    worker = threading.Thread(target=remove)
    worker.start()
    # While that request waits for the model, the server answers others at once.
    quick = []
    while worker.is_alive():
        started = time.monotonic()
        assert requests.get(f"{live.base}/api/v1/openapi.json", timeout=10).status_code == 200
        quick.append(time.monotonic() - started)
        time.sleep(0.1)
    worker.join()
    response = documented(answers["remove"], "/api/v1/remove", "post")
    assert response.status_code == 200, response.text
    image = Image.open(io.BytesIO(response.content))
    assert image.mode == "RGBA" and image.size == (512, 512)
    alpha = np.asarray(image)[..., 3]
    assert alpha[96, 224] > 240 and alpha[:64, :64].max() < 10  # face kept, backdrop gone
    # A blocked event loop would hold these until the image was done (seconds); they are not.
    assert len(quick) >= 3 and max(quick) < 3.0 and sorted(quick)[len(quick) // 2] < 1.0


def test_job_with_a_webhook_that_fails_once(live, astronaut):
    def first_fails(handler, state):
        reply(handler, 503 if len(state.requests) == 1 else 200, b"ok")

    with serving(first_fails) as receiver:
        created = requests.post(
            f"{live.base}/api/v1/jobs", headers={"X-Api-Key": live.key},
            data={"webhook_url": receiver.url("/clearcut"), "format": "jpg", "bg_color": "ffffff", "size": "preview"},
            files={"image_file": ("astronaut.png", png_bytes(astronaut), "image/png")}, timeout=30,
        )
        documented(created, "/api/v1/jobs", "post")
        assert created.status_code == 202, created.text
        job = created.json()
        deadline = time.monotonic() + 120
        while len(receiver.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
    assert len(receiver.requests) == 2, live.daphne.log()[-3000:]
    for seen in receiver.requests:
        assert webhooks.verify(live.webhook_secret, seen.headers["x-clearcut-signature"], seen.body)
    event = json.loads(receiver.requests[1].body)
    assert event["job"]["id"] == job["id"] and event["job"]["status"] == "done"

    status = documented(requests.get(f"{live.base}{job['status_url']}", headers={"X-Api-Key": live.key}, timeout=10),
                        "/api/v1/jobs/{id}", "get").json()
    assert status["webhook"] == {"url": receiver.url("/clearcut"), "state": "delivered", "attempts": 2}
    result = documented(requests.get(f"{live.base}{status['result_url']}", headers={"X-Api-Key": live.key}, timeout=60),
                        "/api/v1/jobs/{id}/result", "get")
    assert result.headers["Content-Type"] == "image/jpeg"
    assert int(result.headers["X-Width"]) * int(result.headers["X-Height"]) <= 250_000


def test_a_body_over_the_limit_is_refused_as_it_arrives_in_the_api_shape(live):
    """daphne answers 413 from the declared length, before reading the body (remover/web/bodylimit.py)."""
    host, port = live.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(f"POST /api/v1/remove HTTP/1.1\r\nHost: {host}\r\nX-Api-Key: {live.key}\r\n"
                    "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 900000000\r\n\r\n".encode())
        status, body = read_json_answer(raw)
    assert status == 413
    assert body["error"]["code"] == "file_too_large"
