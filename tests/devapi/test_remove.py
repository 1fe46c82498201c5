"""POST /api/v1/remove through the Django test client, with the fast stand-in model: inputs
(file, base64, JSON, form), parameters, tier caps, headers, and that nothing is kept."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from django.core.files.storage import default_storage
from PIL import Image

from remover.models import ApiJob, ApiKeyUsage, Job

from .helpers import documented, image_bytes, opened, post, post_json

pytestmark = pytest.mark.django_db
REMOVE = "/api/v1/remove"


def test_file_upload_gives_a_transparent_png_with_its_headers(client, key, drained):
    response = documented(post(client, REMOVE, key, files={"image_file": image_bytes(640, 480)}), REMOVE, "post")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "image/png"
    image = opened(response)
    assert image.mode == "RGBA" and image.size == (640, 480)
    assert (response["X-Width"], response["X-Height"]) == ("640", "480")
    assert response["X-Credits-Charged"] == "1"
    assert response["X-Credits-Remaining"] == "49"
    assert response["X-RateLimit-Limit"] == "10" and response["X-RateLimit-Remaining"] == "9"
    alpha = np.asarray(image)[..., 3]
    assert alpha[240, 320] == 255 and alpha[5, 5] == 0  # the stand-in model's subject is the middle


def test_nothing_is_kept_after_the_answer(client, key, drained, settings):
    post(client, REMOVE, key, files={"image_file": image_bytes(320, 240)}, bg_color="fff")
    assert not Job.objects.exists() and not ApiJob.objects.exists()
    _, files = default_storage.listdir("jobs")
    assert files == []


def test_base64_in_json_with_a_colour_gives_a_jpeg(client, key, drained):
    body = {"image_file_b64": base64.b64encode(image_bytes(300, 200)).decode(), "bg_color": "#00FF00"}
    response = documented(post_json(client, REMOVE, key, body), REMOVE, "post")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    pixels = np.asarray(opened(response).convert("RGB")).astype(int)
    assert abs(pixels[3, 3] - [0, 255, 0]).max() < 12  # the backdrop is the colour
    assert pixels[100, 150, 1] < 200  # the subject is not


def test_data_url_in_a_form_urlencoded_body(client, key, drained):
    data_url = "data:image/png;base64," + base64.b64encode(image_bytes(64, 64)).decode()
    response = client.post(REMOVE, f"format=webp&image_file_b64={data_url.replace('+', '%2B')}",
                           content_type="application/x-www-form-urlencoded", headers={"X-Api-Key": key})
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "image/webp" and opened(response).format == "WEBP"


def test_alpha_channel_gives_the_mask_alone(client, key, drained):
    response = post(client, REMOVE, key, files={"image_file": image_bytes(200, 100)}, channels="alpha")
    image = opened(response)
    assert image.mode == "L" and image.size == (200, 100) and response["Content-Type"] == "image/png"
    mask = np.asarray(image)
    assert mask[50, 100] == 255 and mask[3, 3] == 0  # the stand-in model's subject is the middle


def test_background_image_is_scaled_to_cover(client, key, drained):
    scene = image_bytes(50, 50, colour=(200, 10, 10))
    response = post(client, REMOVE, key, files={"image_file": image_bytes(400, 300), "bg_image_file": scene})
    image = opened(response)
    assert image.mode == "RGB" and image.size == (400, 300)
    assert np.asarray(image)[2, 2, 0] > 150  # the red scene shows in the corner


def test_crop_trims_to_the_subject_with_a_margin(client, key, drained):
    plain = opened(post(client, REMOVE, key, files={"image_file": image_bytes(600, 400)}, crop="true"))
    padded = opened(post(client, REMOVE, key, files={"image_file": image_bytes(600, 400)}, crop="true",
                         crop_margin="20px"))
    assert plain.width < 600 and plain.height < 400
    assert padded.size == (plain.width + 40, plain.height + 40)
    alpha = np.asarray(plain)[..., 3]
    assert alpha[0].max() > 0 and alpha[:, 0].max() > 0  # the subject touches the trimmed edges


def test_free_keys_are_capped_at_one_megapixel_and_preview_is_smaller(client, key, drained):
    full = post(client, REMOVE, key, files={"image_file": image_bytes(1600, 1200)}, size="full")
    assert int(full["X-Width"]) * int(full["X-Height"]) <= 1_000_000
    assert int(full["X-Width"]) / int(full["X-Height"]) == pytest.approx(4 / 3, abs=0.01)
    preview = post(client, REMOVE, key, files={"image_file": image_bytes(1600, 1200)}, size="preview")
    assert int(preview["X-Width"]) * int(preview["X-Height"]) <= 250_000


def test_pro_keys_get_full_resolution(client, pro_key, drained):
    response = post(client, REMOVE, pro_key, files={"image_file": image_bytes(1600, 1200)}, size="full")
    assert opened(response).size == (1600, 1200)


def test_a_pro_key_of_a_user_who_lost_pro_is_capped(client, pro_key, pro_user, drained):
    pro_user.user_permissions.clear()
    response = post(client, REMOVE, pro_key, files={"image_file": image_bytes(1600, 1200)})
    assert int(response["X-Width"]) * int(response["X-Height"]) <= 1_000_000


def test_transparent_jpeg_goes_on_white(client, key, drained):
    response = post(client, REMOVE, key, files={"image_file": image_bytes(200, 200)}, format="jpeg")
    image = opened(response)
    assert image.format == "JPEG"
    assert np.asarray(image)[2, 2].min() > 245


def test_grey_png_upload_is_accepted(client, key, drained):
    buffer = io.BytesIO()
    Image.new("L", (120, 90), 128).save(buffer, "PNG")
    assert post(client, REMOVE, key, files={"image_file": buffer.getvalue()}).status_code == 200


def test_a_damaged_background_is_422_and_not_charged(client, key, drained):
    scene = image_bytes(300, 300)
    response = post(client, REMOVE, key, files={"image_file": image_bytes(200, 150), "bg_image_file": scene[:300]})
    assert response.status_code == 422 and response.json()["error"]["code"] == "image_unprocessable"
    assert "background" in response.json()["error"]["message"]
    assert ApiKeyUsage.objects.get().credits == 0
