"""The JSON API: create, status, downloads, owner isolation, refusals, quota, tiers, batches."""

from __future__ import annotations

import io
import zipfile

import cv2
import numpy as np
import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from remover.models import Job
from tests.conftest import png_bytes

from .helpers import image_bytes, upload

pytestmark = pytest.mark.django_db


def created(client, **kwargs) -> dict:
    response = upload(client, **kwargs)
    assert response.status_code == 201, response.content
    return response.json()


def open_image(response) -> Image.Image:
    return Image.open(io.BytesIO(b"".join(response)))


def pro_user() -> User:
    user = User.objects.create_user("pro", password="pw-for-tests-only")
    user.user_permissions.add(Permission.objects.get(codename="full_resolution", content_type__app_label="remover"))
    return User.objects.get(pk=user.pk)  # fresh object: permissions are cached per instance


# --- Create and status ------------------------------------------------------------------

def test_create_returns_queued_job_with_websocket_path(client):
    response = upload(client, name="../../etc/passwd Ünïcode.png")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "queued" and body["stage"] == "queued" and body["progress"] == 0
    assert body["position"] == 1
    assert body["ws"] == f"/ws/jobs/{body['id']}/"
    assert response["Location"] == f"/api/jobs/{body['id']}"
    assert body["full_size"] == [640, 480] and body["tier"] == "free"

    job = Job.objects.get(pk=body["id"])
    # The stored name comes from the job id only, never from the uploaded file's name.
    assert job.input.name == f"jobs/{job.pk}-input.png"
    assert default_storage.exists(job.input.name)
    assert job.original_name == "passwd Ünïcode.png"
    assert job.expires_at > job.created_at


def test_queue_positions_follow_upload_order(client):
    first, second = created(client), created(client)
    assert (first["position"], second["position"]) == (1, 2)
    assert client.get(f"/api/jobs/{second['id']}").json()["position"] == 2


def test_status_and_results_after_processing(client, worker, fake_model):
    job = created(client, data=image_bytes(1600, 1200))
    assert client.get(job["urls"]["self"]).json()["stage"] == "queued"
    assert client.get(f"/api/jobs/{job['id']}/preview").status_code == 409  # not ready yet

    worker.drain()

    state = client.get(job["urls"]["self"]).json()
    assert state["status"] == "done" and state["stage"] == "done" and state["progress"] == 100
    assert state["error"] is None
    assert state["full_size"] == [1600, 1200]
    # Free tier: capped at 1 MP with the aspect kept, and the page is told what Pro gives.
    w, h = state["download_size"]
    assert w * h <= 1_000_000 and abs(w / h - 4 / 3) < 0.01 and w > 1100
    assert state["pro_size"] == [1600, 1200]
    assert {"download", "preview", "original"} <= state["urls"].keys()

    preview = open_image(client.get(state["urls"]["preview"]))
    original = open_image(client.get(state["urls"]["original"]))
    assert preview.mode == "RGBA" and original.format == "JPEG"
    assert preview.size == original.size and preview.size[0] * preview.size[1] <= 1_000_000


def test_download_png_has_alpha_and_free_cap(client, worker, fake_model):
    job = created(client, data=image_bytes(1600, 1200), name="Holiday photo.png")
    worker.drain()

    response = client.get(f"/api/jobs/{job['id']}/download?format=png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'attachment; filename="holiday-photo-cutout.png"'
    image = open_image(response)
    assert image.mode == "RGBA"
    assert image.size[0] * image.size[1] <= 1_000_000
    alpha = np.asarray(image)[..., 3]
    h, w = alpha.shape
    assert alpha[h // 2, w // 2] == 255  # the subject
    assert alpha[5, 5] == 0  # the background corner


def test_download_formats_and_backgrounds(client, worker, fake_model):
    job = created(client, data=image_bytes(400, 300))
    worker.drain()
    url = f"/api/jobs/{job['id']}/download"

    green = open_image(client.get(url, {"format": "jpg", "bg": "00FF00"}))
    assert green.format == "JPEG" and green.mode == "RGB"
    r, g, b = np.asarray(green)[3, 3]
    assert g > 230 and r < 30 and b < 30

    white_jpg = open_image(client.get(url, {"format": "jpg"}))  # JPEG has no alpha: white
    assert np.asarray(white_jpg)[3, 3].min() > 240

    webp = open_image(client.get(url, {"format": "webp", "bg": "transparent"}))
    assert webp.format == "WEBP" and webp.mode == "RGBA" and np.asarray(webp)[3, 3, 3] == 0

    mask_response = client.get(url, {"mask": "1"})
    assert mask_response["Content-Disposition"].endswith('-mask.png"')
    mask = open_image(mask_response)
    assert mask.mode == "L" and np.asarray(mask)[150, 200] == 255 and np.asarray(mask)[3, 3] == 0

    # The blur backdrop is the photo itself, blurred (sigma 2% of the long side): 4-pixel stripes
    # of red vanish, the green and blue gradients stay where they were.
    y, x = np.mgrid[0:300, 0:400]
    photo = np.dstack(((x // 4) % 2 * 255, x * 255 // 399, y * 255 // 299)).astype(np.uint8)
    blur_url = f"/api/jobs/{created(client, data=png_bytes(photo))['id']}/download"
    worker.drain()
    blur = open_image(client.get(blur_url, {"bg": "blur"}))
    assert blur.mode == "RGB" and blur.size == (400, 300)
    background = np.asarray(open_image(client.get(blur_url, {"mask": "1"}))) == 0
    expected = cv2.GaussianBlur(photo, (0, 0), 0.02 * 400).astype(int)
    assert np.abs(np.asarray(blur, dtype=int) - expected)[background].mean() < 2


def test_upload_options_become_download_defaults(client, worker, fake_model):
    job = created(client, format="jpg", bg="#FF0000")
    worker.drain()
    image = open_image(client.get(f"/api/jobs/{job['id']}/download"))
    r, g, b = np.asarray(image)[3, 3]  # a background corner: the red chosen at upload
    assert image.format == "JPEG" and r > 230 and g < 30 and b < 30


@pytest.mark.parametrize(
    "query, message",
    [({"format": "gif"}, "Unknown download format"), ({"bg": "../../secret.jpg"}, "Unknown background")],
)
def test_bad_download_options_are_refused(client, worker, fake_model, query, message):
    job = created(client)
    worker.drain()
    response = client.get(f"/api/jobs/{job['id']}/download", query)
    assert response.status_code == 400 and message in response.json()["error"]


def test_download_before_done_is_a_conflict(client):
    job = created(client)
    response = client.get(f"/api/jobs/{job['id']}/download")
    assert response.status_code == 409
    assert response.json() == {"error": "This image is still being processed."}


def test_pro_tier_downloads_full_resolution(client, worker, fake_model):
    client.force_login(pro_user())
    job = created(client, data=image_bytes(1600, 1200))
    worker.drain()
    state = client.get(job["urls"]["self"]).json()
    assert state["tier"] == "pro" and state["download_size"] == [1600, 1200]
    assert open_image(client.get(f"/api/jobs/{job['id']}/download")).size == (1600, 1200)


def test_signed_in_without_permission_is_free_tier(client, worker, fake_model):
    client.force_login(User.objects.create_user("free", password="pw-for-tests-only"))
    job = created(client, data=image_bytes(1600, 1200))
    worker.drain()
    assert client.get(job["urls"]["self"]).json()["tier"] == "free"
    size = open_image(client.get(f"/api/jobs/{job['id']}/download")).size
    assert size[0] * size[1] <= 1_000_000


def test_pro_cap_applies_to_huge_images(client, settings, worker, fake_model):
    settings.CLEARCUT_PRO_MEGAPIXELS = 0.5
    client.force_login(pro_user())
    job = created(client, data=image_bytes(1000, 1000))
    worker.drain()
    assert client.get(job["urls"]["self"]).json()["download_size"] == [707, 707]


# --- Owner isolation ---------------------------------------------------------------------

def test_other_visitors_get_404_for_everything(client, worker, fake_model):
    job = created(client)
    worker.drain()
    stranger = Client()
    stranger.get("/api/limits")  # a session of their own
    for url in (
        f"/api/jobs/{job['id']}",
        f"/api/jobs/{job['id']}/download",
        f"/api/jobs/{job['id']}/preview",
        f"/api/jobs/{job['id']}/original",
        f"/api/batches/{job['batch']}/download",
    ):
        response = stranger.get(url)
        assert response.status_code == 404, url
        assert "error" in response.json()
    assert stranger.delete(f"/api/jobs/{job['id']}").status_code == 404
    assert Job.objects.filter(pk=job["id"]).exists()
    assert client.get(f"/api/jobs/{job['id']}").status_code == 200


def test_signed_in_user_keeps_jobs_made_before_sign_in_and_loses_them_on_sign_out(client):
    job = created(client)
    client.force_login(User.objects.create_user("someone", password="pw-for-tests-only"))
    assert client.get(f"/api/jobs/{job['id']}").status_code == 200
    client.post("/accounts/logout/")
    assert client.get(f"/api/jobs/{job['id']}").status_code == 404


def test_a_users_jobs_follow_them_to_another_browser(client):
    user = User.objects.create_user("traveller", password="pw-for-tests-only")
    client.force_login(user)
    job = created(client)
    other_browser = Client()
    other_browser.force_login(user)
    assert other_browser.get(f"/api/jobs/{job['id']}").status_code == 200


# --- Refused uploads -----------------------------------------------------------------------

ACCEPTED = "JPEG, PNG, WebP, HEIC/HEIF, TIFF, BMP or GIF"


@pytest.mark.parametrize(
    "data, name, status, message",
    [
        (b"", "empty.jpg", 400, "This file is empty"),
        (b"hello, this is not a photo", "notes.jpg", 415, ACCEPTED),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><rect width='9' height='9'/></svg>", "logo.jpg", 415, ACCEPTED),
        (b"<html><script>alert(1)</script></html>", "page.png", 415, ACCEPTED),
    ],
)
def test_non_images_are_refused_with_a_message(client, data, name, status, message):
    response = upload(client, data=data, name=name)
    assert response.status_code == status
    assert message in response.json()["error"]
    assert not Job.objects.exists()


@pytest.mark.parametrize("fmt, name", [
    ("JPEG", "a.jpg"), ("PNG", "a.png"), ("WEBP", "a.webp"), ("HEIF", "a.heic"),
    ("TIFF", "a.tif"), ("BMP", "a.bmp"), ("GIF", "a.gif"),
])
def test_every_accepted_format_is_taken(client, fmt, name):
    response = upload(client, data=image_bytes(64, 48, fmt), name=name, content_type="application/octet-stream")
    assert response.status_code == 201, response.content
    assert response.json()["full_size"] == [64, 48]
    stored = Job.objects.get(pk=response.json()["id"]).input.name
    assert stored.endswith("-input." + {"JPEG": "jpg", "HEIF": "heic", "TIFF": "tif"}.get(fmt, fmt.lower()))


def test_sizes_are_upright_for_rotated_phone_photos(client, worker, fake_model):
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view": a portrait photo stored as landscape
    buf = io.BytesIO()
    Image.open(io.BytesIO(image_bytes(64, 48))).save(buf, "JPEG", exif=exif)
    job = created(client, data=buf.getvalue(), name="portrait.jpg")
    assert job["full_size"] == [48, 64]
    worker.drain()
    assert client.get(job["urls"]["self"]).json()["full_size"] == [48, 64]
    assert open_image(client.get(f"/api/jobs/{job['id']}/original")).size == (48, 64)


def test_unsupported_image_format_names_the_accepted_ones(client):
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(buf, "ICO")
    response = upload(client, data=buf.getvalue(), name="favicon.ico")
    assert response.status_code == 415
    assert response.json()["error"] == f"ICO files are not supported. Please upload a {ACCEPTED} file."


def test_missing_file_is_refused(client):
    response = client.post("/api/jobs", {"bg": "blur"})
    assert response.status_code == 400 and response.json() == {"error": "Please choose an image to upload."}


def test_too_many_pixels_is_refused_from_the_header(client):
    buf = io.BytesIO()
    Image.new("1", (8000, 7000)).save(buf, "PNG")  # 56 MP, a few kilobytes
    response = upload(client, data=buf.getvalue())
    assert response.status_code == 413
    assert "8000×7000" in response.json()["error"] and "50 MP" in response.json()["error"]


def test_too_many_bytes_is_refused(client, settings):
    settings.CLEARCUT_MAX_UPLOAD_MB = 0.1
    response = upload(client, data=image_bytes(640, 480, "BMP"), name="big.bmp")
    assert response.status_code == 413
    assert "the limit is 0.1 MB" in response.json()["error"]


def test_declared_length_over_the_limit_is_refused_before_parsing(client, settings):
    settings.CLEARCUT_MAX_UPLOAD_MB = 1
    response = client.post("/api/jobs", data=b"x" * 10, content_type="application/octet-stream",
                           CONTENT_LENGTH=str(5 * 1024 * 1024))
    assert response.status_code == 413 and "limit is 1 MB" in response.json()["error"]


def test_damaged_image_ends_as_job_error_not_server_error(client, worker, fake_model):
    whole = image_bytes(640, 480, "JPEG")
    job = created(client, data=whole[: len(whole) // 3], name="cut-short.jpg", content_type="image/jpeg")
    worker.drain()
    state = client.get(job["urls"]["self"]).json()
    assert state["status"] == "error" and state["stage"] == "error"
    assert state["error"] == "This image file is damaged or incomplete, so it could not be read."
    download = client.get(f"/api/jobs/{job['id']}/download")
    assert download.status_code == 409 and download.json()["error"] == state["error"]


def test_bad_option_values_are_refused(client):
    assert upload(client, bg="chartreuse-ish").status_code == 400
    response = upload(client, batch="not-a-uuid")
    assert response.status_code == 400 and "batch" in response.json()["error"]
    assert not Job.objects.exists()


# --- Quota, batches, queue -----------------------------------------------------------------

def test_daily_quota_per_session(client, settings):
    settings.CLEARCUT_DAILY_QUOTA = 2
    first = created(client)
    created(client)
    client.delete(f"/api/jobs/{first['id']}")  # deleting does not give the quota back
    response = upload(client)
    assert response.status_code == 429
    assert response.json()["error"] == "Today's limit of 2 images for you is used up. It resets at midnight UTC."
    assert 0 < int(response["Retry-After"]) <= 86400
    assert client.get("/api/limits").json()["quota_left_today"] == 0


def test_daily_quota_per_ip_spans_sessions(settings):
    settings.CLEARCUT_DAILY_QUOTA_PER_IP = 3
    alice, bob, elsewhere = Client(), Client(), Client(REMOTE_ADDR="203.0.113.9")
    created(alice), created(alice), created(bob)
    response = upload(bob)
    assert response.status_code == 429 and "for this network" in response.json()["error"]
    assert upload(elsewhere).status_code == 201


def test_ipv6_quota_counts_the_whole_64(settings):
    settings.CLEARCUT_DAILY_QUOTA_PER_IP = 1
    created(Client(REMOTE_ADDR="2001:db8:1:2::10"))
    response = upload(Client(REMOTE_ADDR="2001:db8:1:2:ffff::99"))  # same /64: same household
    assert response.status_code == 429
    assert upload(Client(REMOTE_ADDR="2001:db8:1:3::10")).status_code == 201


def test_pro_users_have_their_own_quota(client, settings):
    settings.CLEARCUT_DAILY_QUOTA = settings.CLEARCUT_DAILY_QUOTA_PER_IP = 1
    settings.CLEARCUT_PRO_DAILY_QUOTA = 3
    client.force_login(pro_user())
    for _ in range(3):
        created(client)
    assert upload(client).status_code == 429


def test_batch_groups_uploads_and_downloads_as_zip(client, settings, worker, fake_model):
    settings.CLEARCUT_BATCH_MAX_FILES = 2
    first = created(client, name="a.png")
    second = created(client, name="a.png", batch=first["batch"])
    assert second["batch"] == first["batch"]
    response = upload(client, batch=first["batch"])
    assert response.status_code == 400 and "at most 2 images" in response.json()["error"]
    assert created(client)["batch"] != first["batch"]  # no batch id: a new batch

    assert client.get(first["urls"]["batch_download"]).status_code == 409  # nothing finished yet
    worker.drain()
    response = client.get(first["urls"]["batch_download"], {"format": "png"})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response)))
    assert sorted(archive.namelist()) == ["a-cutout-2.png", "a-cutout.png"]
    assert Image.open(io.BytesIO(archive.read("a-cutout.png"))).mode == "RGBA"


def test_full_queue_answers_busy_and_keeps_nothing(client, settings, monkeypatch):
    from remover.processing import worker as worker_module

    monkeypatch.setattr(worker_module, "_worker", worker_module.InProcessWorker(maxsize=1, sweep_seconds=300))
    created(client)
    response = upload(client)
    assert response.status_code == 503
    assert response.json()["error"] == "The server is busy right now. Please try again in a moment."
    assert response["Retry-After"] == "10"
    assert Job.objects.count() == 1
    assert client.get("/api/limits").json()["quota_left_today"] == settings.CLEARCUT_DAILY_QUOTA - 1


# --- Delete now, CSRF, misc ------------------------------------------------------------------

def test_delete_now_removes_files_and_row(client, worker, fake_model):
    job = created(client)
    worker.drain()
    stored = [f.name for f in Job.objects.get(pk=job["id"]).stored_files()]
    assert len(stored) == 4 and all(default_storage.exists(name) for name in stored)

    response = client.delete(f"/api/jobs/{job['id']}")
    assert response.status_code == 204
    assert not Job.objects.filter(pk=job["id"]).exists()
    assert not any(default_storage.exists(name) for name in stored)
    assert client.get(f"/api/jobs/{job['id']}").status_code == 404


def test_csrf_is_enforced_with_a_json_answer():
    browser = Client(enforce_csrf_checks=True)
    refused = upload(browser)
    assert refused.status_code == 403
    assert refused.json() == {"error": "Your session has expired. Please reload the page and try again."}

    token = browser.get("/api/limits").cookies["csrftoken"].value
    response = browser.post(
        "/api/jobs",
        {"image": SimpleUploadedFile("p.png", image_bytes(64, 48), "image/png")},
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 201


def test_limits_state_the_caps(client, settings):
    settings.CLEARCUT_DAILY_QUOTA = 5
    limits = client.get("/api/limits").json()
    assert limits == {
        "tier": "free",
        "download_megapixels": settings.CLEARCUT_FREE_MEGAPIXELS,
        "free_megapixels": settings.CLEARCUT_FREE_MEGAPIXELS,
        "pro_megapixels": settings.CLEARCUT_PRO_MEGAPIXELS,
        "max_upload_mb": settings.CLEARCUT_MAX_UPLOAD_MB,
        "max_megapixels": settings.CLEARCUT_MAX_MEGAPIXELS,
        "accepted_formats": ACCEPTED,
        "batch_max_files": settings.CLEARCUT_BATCH_MAX_FILES,
        "retention_hours": settings.CLEARCUT_RETENTION_HOURS,
        "quota_left_today": 5,
    }
    created(client)
    assert client.get("/api/limits").json()["quota_left_today"] == 4


def test_wrong_method_and_unknown_path_answer_in_json(client):
    response = client.get("/api/jobs")
    assert response.status_code == 405 and response["Allow"] == "POST" and "error" in response.json()
    response = client.get("/api/nothing/here")
    assert response.status_code == 404 and response.json() == {"error": "There is no such API endpoint."}
