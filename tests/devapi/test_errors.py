"""Every error code the API can answer with: the right status, the stable code, a message a
person can act on, Retry-After where promised, and an answer the OpenAPI document allows."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest

from remover.devapi.errors import CATALOGUE
from remover.devapi.keys import create_key, revoke_key
from remover.devapi.models import ApiKey, ApiKeyUsage
from remover.models import Job
from tests.conftest import png_bytes

from .helpers import documented, error_code, image_bytes, post, post_json
from .servers import reply, serving

pytestmark = pytest.mark.django_db
REMOVE, JOBS = "/api/v1/remove", "/api/v1/jobs"
PNG = image_bytes(64, 48)


def refused(response, code: str, path: str = REMOVE, method: str = "post"):
    assert response.status_code == CATALOGUE[code][0], response.content
    assert error_code(response) == code, response.content
    assert len(response.json()["error"]["message"]) > 10
    documented(response, path, method)
    return response


@pytest.mark.parametrize("fields, code", [
    ({"format": "gif"}, "invalid_parameter"),
    ({"size": "huge"}, "invalid_parameter"),
    ({"bg_color": "blue-ish"}, "invalid_parameter"),
    ({"crop": "maybe"}, "invalid_parameter"),
    ({"crop_margin": "900px"}, "invalid_parameter"),
    ({"channels": "alpha", "bg_color": "fff"}, "invalid_parameter"),
    ({"mode": "idphoto"}, "invalid_parameter"),  # no preset
    ({"mode": "idphoto", "preset": "atlantis"}, "invalid_parameter"),
    ({"preset": "uk"}, "invalid_parameter"),  # preset without idphoto
    ({"webhook_url": "https://example.com/hook"}, "invalid_parameter"),  # webhooks are for /jobs
])
def test_bad_parameters_are_refused_before_any_work(client, key, fields, code):
    refused(post(client, REMOVE, key, files={"image_file": PNG}, **fields), code)
    assert not Job.objects.exists()
    assert ApiKeyUsage.objects.filter(credits__gt=0).count() == 0  # nothing charged


def test_missing_and_multiple_images(client, key):
    refused(post(client, REMOVE, key, size="auto"), "missing_image")
    refused(post(client, REMOVE, key, files={"image_file": PNG}, image_url="https://example.com/a.png"),
            "multiple_images")


def test_image_file_must_be_a_file(client, key):
    refused(post_json(client, REMOVE, key, {"image_file": "photo.jpg"}), "invalid_parameter")


def test_invalid_base64(client, key):
    refused(post_json(client, REMOVE, key, {"image_file_b64": "this is not base64!"}), "invalid_base64")


def test_malformed_bodies(client, key):
    headers = {"X-Api-Key": key}
    refused(client.post(REMOVE, "{not json", content_type="application/json", headers=headers), "invalid_request")
    refused(client.post(REMOVE, "[1, 2]", content_type="application/json", headers=headers), "invalid_request")
    refused(client.post(REMOVE, "hello", content_type="text/plain", headers=headers), "unsupported_media_type")


@pytest.mark.parametrize("url, code", [
    ("ftp://example.com/a.png", "invalid_url"),
    ("http://user:pw@example.com/a.png", "invalid_url"),
    ("http://", "invalid_url"),
    ("http://127.0.0.1/a.png", "url_not_allowed"),
    ("http://[::1]:8000/a.png", "url_not_allowed"),
    ("http://169.254.169.254/latest/meta-data/", "url_not_allowed"),
    ("http://10.1.2.3/a.png", "url_not_allowed"),
])
def test_image_urls_that_are_never_fetched(client, key, url, code):
    refused(post_json(client, REMOVE, key, {"image_url": url}), code)


def test_image_url_that_cannot_be_downloaded(client, key, settings):
    settings.CLEARCUT_API_FETCH_ALLOW_NETWORKS = "127.0.0.1/32"
    with serving(lambda handler, state: reply(handler, 500, b"oops")) as server:
        response = refused(post_json(client, REMOVE, key, {"image_url": server.url("/a.png")}), "url_fetch_failed")
    assert "500" in response.json()["error"]["message"]


def test_keys_missing_wrong_or_revoked(client, user):
    refused(post(client, REMOVE, None, files={"image_file": PNG}), "missing_api_key")
    refused(post(client, REMOVE, "cc_0123456789_" + "x" * 43, files={"image_file": PNG}), "invalid_api_key")
    refused(post(client, REMOVE, "not-even-the-format", files={"image_file": PNG}), "invalid_api_key")
    made = create_key(user, "soon revoked")
    revoke_key(made.key)
    response = refused(post(client, REMOVE, made.full_key, files={"image_file": PNG}), "invalid_api_key")
    assert "revoked" in response.json()["error"]["message"]
    # Right prefix, wrong secret: still just "invalid".
    forged = made.full_key[:-4] + "AAAA"
    refused(post(client, REMOVE, forged, files={"image_file": PNG}), "invalid_api_key")


def test_inactive_users_keys_stop_working(client, user, key):
    user.is_active = False
    user.save()
    refused(post(client, REMOVE, key, files={"image_file": PNG}), "invalid_api_key")


def test_quota_spent_is_402_until_midnight(client, key, drained):
    ApiKey.objects.update(daily_credits=1)
    assert post(client, REMOVE, key, files={"image_file": PNG}).status_code == 200
    response = refused(post(client, REMOVE, key, files={"image_file": PNG}), "quota_exceeded")
    assert 0 < int(response["Retry-After"]) <= 86400


def test_rate_limit_is_429_with_retry_after(client, key):
    ApiKey.objects.update(rate_per_minute=2, rate_tokens=2)
    for _ in range(2):
        assert post(client, REMOVE, key, format="gif").status_code == 400  # refused, but counted
    response = refused(post(client, REMOVE, key, files={"image_file": PNG}), "rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 30


def test_too_many_bytes_and_too_many_pixels(client, key, settings):
    settings.CLEARCUT_MAX_UPLOAD_MB = 0.01
    noise = np.random.default_rng(0).integers(0, 255, (100, 100, 3), dtype=np.uint8)
    refused(post(client, REMOVE, key, files={"image_file": png_bytes(noise)}), "file_too_large")
    refused(client.post(REMOVE, b"x" * 100_000, content_type="application/json", headers={"X-Api-Key": key}),
            "file_too_large")
    settings.CLEARCUT_MAX_UPLOAD_MB = 25
    settings.CLEARCUT_MAX_MEGAPIXELS = 0.01
    refused(post(client, REMOVE, key, files={"image_file": image_bytes(200, 200)}), "image_too_large")


def test_not_an_image(client, key):
    refused(post(client, REMOVE, key, files={"image_file": b"<html>hello</html>"}), "unsupported_image_format")
    refused(post(client, REMOVE, key, files={"image_file": b""}), "invalid_parameter")


def test_damaged_image_is_422(client, key, drained):
    truncated = PNG[: len(PNG) // 2]
    response = post(client, REMOVE, key, files={"image_file": truncated})
    refused(response, "image_unprocessable")
    assert ApiKeyUsage.objects.get().credits == 0  # a failed image is not charged


def test_failure_on_our_side_is_500(client, key, drained, fake_model, monkeypatch):
    monkeypatch.setattr(fake_model, "predict", lambda *a, **k: 1 / 0)
    refused(post(client, REMOVE, key, files={"image_file": PNG}), "internal_error")
    assert ApiKeyUsage.objects.get().credits == 0


def test_full_queue_is_503_busy(client, key, worker):
    worker.maxsize = 0
    response = refused(post(client, REMOVE, key, files={"image_file": PNG}), "busy")
    assert response["Retry-After"] == "10"
    assert not Job.objects.exists() and not ApiKeyUsage.objects.filter(credits__gt=0).exists()


def test_waiting_too_long_is_503_timeout_and_refunded(client, key, settings, fake_model):
    settings.CLEARCUT_API_SYNC_TIMEOUT = 0.3  # nobody runs the queue in this test
    response = refused(post(client, REMOVE, key, files={"image_file": PNG}), "timeout")
    assert int(response["Retry-After"]) > 0
    assert not Job.objects.exists() and ApiKeyUsage.objects.get().credits == 0


def test_wrong_method_and_unknown_endpoints(client, key):
    response = refused(client.delete(f"/api/v1/jobs/{uuid.uuid4()}/result", headers={"X-Api-Key": key}),
                       "method_not_allowed", "/api/v1/jobs/{id}/result", "get")
    assert response["Allow"] == "GET"
    response = client.get(REMOVE, headers={"X-Api-Key": key})
    assert response.status_code == 405 and response["Allow"] == "POST"
    response = client.get("/api/v1/nothing-here", headers={"X-Api-Key": key})
    assert response.status_code == 404 and error_code(response) == "not_found"


def test_jobs_of_other_keys_do_not_exist(client, key, pro_key, fake_model):
    created = post(client, JOBS, key, files={"image_file": PNG})
    job_id = created.json()["id"]
    for path in (f"/api/v1/jobs/{job_id}", f"/api/v1/jobs/{job_id}/result"):
        doc_path = path.replace(job_id, "{id}")
        refused(client.get(path, headers={"X-Api-Key": pro_key}), "not_found", doc_path, "get")
        refused(client.get(path.replace(job_id, str(uuid.uuid4())), headers={"X-Api-Key": key}), "not_found",
                doc_path, "get")


def test_result_before_the_end_is_409(client, key, fake_model):
    job_id = post(client, JOBS, key, files={"image_file": PNG}).json()["id"]
    refused(client.get(f"/api/v1/jobs/{job_id}/result", headers={"X-Api-Key": key}), "job_not_finished",
            "/api/v1/jobs/{id}/result", "get")


@pytest.mark.parametrize("content_type, code", [
    ("multipart/form-data", "invalid_request"),  # no boundary: the body cannot be parsed at all
    ("multipart/form-data; boundary=x", "missing_image"),  # parsed, and no image in it
])
def test_errors_are_json_never_html(client, key, content_type, code):
    response = client.post(REMOVE, b"--x\r\nbroken", content_type=content_type, headers={"X-Api-Key": key})
    assert response["Content-Type"] == "application/json"
    refused(response, code)


def test_every_code_in_the_catalogue_is_exercised():
    """Each code is asserted by a test above (checked on this file's text, so it holds
    whichever tests are selected or in whatever order they run)."""
    source = Path(__file__).read_text()
    asserted = {code for code in CATALOGUE if f'"{code}")' in source or f'"{code}",' in source}
    assert set(CATALOGUE) - asserted == set(), "codes without a test"
