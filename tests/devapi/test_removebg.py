"""remove.bg's endpoints (/v1.0/removebg, /v1.0/account) through the Django test client with
the fast stand-in model, and remove.bg's parameters rendered on made-up cut-outs: what each
value does to the pixels, exactly. The same against daphne and real clients:
test_removebg_live.py."""

from __future__ import annotations

import base64
import io
import json
import zipfile

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from remover.devapi import openapi
from remover.devapi.errors import CATALOGUE, REASON_TITLES, ApiError, removebg_error
from remover.devapi.errors import REMOVEBG as TRANSLATIONS
from remover.devapi.models import ApiKey, ApiKeyUsage
from remover.devapi.params import SIZE_ALIASES, SIZES, Params, parse_params
from remover.devapi.render import output_megapixels, render_cutout
from remover.engine.canvas import subject_box
from remover.engine.compose import CutOut
from remover.models import Job
from remover.web.limits import Tier

from .helpers import documented, image_bytes, opened, post, post_json
from .servers import reply, serving

pytestmark = pytest.mark.django_db
REMOVEBG, ACCOUNT = "/v1.0/removebg", "/v1.0/account"
FREE, PRO = Tier("free", 1.0), Tier("pro", 36.0)
# What each size value promises (megapixels), before the tier's own cap.
PROMISED = {"preview": 0.25, "small": 0.25, "regular": 0.25, "medium": 1.5, "hd": 4.0, "full": 36.0, "4k": 36.0,
            "50MP": 50.0}


def refused(response, status: int, code: str):
    """remove.bg's error shape, status and code, and an answer the OpenAPI document allows."""
    assert response.status_code == status, response.content
    body = response.json()
    assert list(body) == ["errors"] and len(body["errors"]) == 1
    error = body["errors"][0]
    assert set(error) == {"title", "code", "detail"} and error["code"] == code, error
    assert len(error["title"]) > 5 and len(error["detail"]) > 10
    path, method = response.request["PATH_INFO"], response.request["REQUEST_METHOD"].lower()
    if method in openapi.document()["paths"].get(path, {}):
        documented(response, path, method)
    return error


def cutout(width: int, height: int, box: tuple[int, int, int, int]) -> CutOut:
    """An opaque red rectangle (left, top, right, bottom) on nothing."""
    alpha = np.zeros((height, width), np.uint8)
    left, top, right, bottom = box
    alpha[top:bottom, left:right] = 255
    foreground = np.zeros((height, width, 3), np.uint8)
    foreground[..., 0] = 200
    return CutOut(foreground=foreground, alpha=alpha)


def params(**fields) -> Params:
    return parse_params(fields, has_bg_image=False, tier=PRO)


def rendered_alpha(made: CutOut, tier: Tier = PRO, **fields) -> np.ndarray:
    output = render_cutout(made, params(**fields), tier)
    return np.asarray(Image.open(io.BytesIO(output.data)))[..., 3]


# --- The endpoints ------------------------------------------------------------------------

def test_removebg_path_gives_a_transparent_png_with_remove_bgs_headers(client, key, drained):
    response = documented(post(client, REMOVEBG, key, files={"image_file": image_bytes(1000, 800)}), REMOVEBG, "post")
    assert response.status_code == 200, response.content
    image = opened(response)
    assert response["Content-Type"] == "image/png" and image.mode == "RGBA"
    # No size: remove.bg's default, preview (0.25 MP).
    assert image.size == (559, 447) and (response["X-Width"], response["X-Height"]) == ("559", "447")
    assert response["X-Type"] == "other" and response["X-Credits-Charged"] == "1"
    box = subject_box(np.asarray(image)[..., 3])
    assert (int(response["X-Foreground-Left"]), int(response["X-Foreground-Top"]),
            int(response["X-Foreground-Width"]), int(response["X-Foreground-Height"])) == (
        box[0], box[1], box[2] - box[0], box[3] - box[1])
    alpha = np.asarray(image)[..., 3]
    assert alpha[223, 279] == 255 and alpha[3, 3] == 0
    assert not Job.objects.exists()  # answered, so gone, as on /api/v1/remove


def test_accept_json_gives_the_image_in_base64_with_the_same_facts(client, key, drained):
    response = client.post(REMOVEBG, {"image_file_b64": base64.b64encode(image_bytes(300, 200)).decode(),
                                      "size": "full", "type": "product"},
                           headers={"X-Api-Key": key, "Accept": "application/json"})
    documented(response, REMOVEBG, "post")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    data = response.json()["data"]
    image = Image.open(io.BytesIO(base64.b64decode(data["result_b64"])))
    assert image.format == "PNG" and image.size == (300, 200) == (int(response["X-Width"]), int(response["X-Height"]))
    assert [data[f"foreground_{side}"] for side in ("left", "top", "width", "height")] == [
        int(response[f"X-Foreground-{side}"]) for side in ("Left", "Top", "Width", "Height")]
    assert response["X-Type"] == "product"


@pytest.mark.parametrize("accept, json_answer", [
    ("application/json", True), ("image/*, application/json;q=0.5", True), ("*/*", False), ("image/png", False),
])
def test_json_only_when_the_client_names_it(client, key, drained, accept, json_answer):
    response = client.post(REMOVEBG, {"image_file": SimpleUploadedFile("a.png", image_bytes(64, 64))},
                           headers={"X-Api-Key": key, "Accept": accept})
    assert (response["Content-Type"] == "application/json") is json_answer


def test_json_and_form_bodies_and_type_level_none(client, key, drained):
    b64 = base64.b64encode(image_bytes(120, 80)).decode()
    as_json = post_json(client, REMOVEBG, key, {"image_file_b64": b64, "type_level": "none", "bg_color": "green"})
    assert as_json.status_code == 200 and as_json["Content-Type"] == "image/jpeg"
    assert "X-Type" not in as_json
    assert np.abs(np.asarray(opened(as_json))[2, 2].astype(int) - [0, 128, 0]).max() < 12
    as_form = client.post(REMOVEBG, f"format=webp&image_file_b64={b64.replace('+', '%2B')}",
                          content_type="application/x-www-form-urlencoded", headers={"X-Api-Key": key})
    assert as_form.status_code == 200 and opened(as_form).format == "WEBP"


def test_zip_holds_a_jpeg_and_an_alpha_png_that_compose_back_to_the_png(client, key, drained):
    photo = image_bytes(400, 300)
    png = opened(post(client, REMOVEBG, key, files={"image_file": photo}, size="full"))
    packed = documented(post(client, REMOVEBG, key, files={"image_file": photo}, size="full", format="zip"),
                        REMOVEBG, "post")
    assert packed["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(packed.content)) as archive:
        assert sorted(archive.namelist()) == ["alpha.png", "color.jpg"]
        colour = Image.open(io.BytesIO(archive.read("color.jpg")))
        alpha = Image.open(io.BytesIO(archive.read("alpha.png")))
    assert (colour.format, colour.mode, alpha.format, alpha.mode) == ("JPEG", "RGB", "PNG", "L")
    assert colour.size == alpha.size == png.size == (400, 300)
    expected = np.asarray(png)
    assert np.array_equal(np.asarray(alpha), expected[..., 3])
    seen = expected[..., 3] > 0  # colours only count where something is seen
    difference = np.abs(np.asarray(colour).astype(int) - expected[..., :3].astype(int))[seen]
    assert difference.mean() < 2.0 and np.percentile(difference, 99) < 12


def test_background_from_a_url(client, key, drained, settings):
    settings.CLEARCUT_API_FETCH_ALLOW_NETWORKS = "127.0.0.1/32"
    scene = image_bytes(50, 50, colour=(200, 10, 10))
    with serving(lambda handler, state: reply(handler, 200, scene, {"Content-Type": "image/png"})) as server:
        response = post(client, REMOVEBG, key, files={"image_file": image_bytes(200, 150)},
                        bg_image_url=server.url("/scene.png"))
    assert response.status_code == 200, response.content
    assert opened(response).mode == "RGB" and np.asarray(opened(response))[2, 2, 0] > 150


def test_account_reports_credits_and_limits_in_remove_bgs_shape(client, key, drained):
    post(client, REMOVEBG, key, files={"image_file": image_bytes(64, 64)})
    response = documented(client.get(ACCOUNT, headers={"X-Api-Key": key}), ACCOUNT, "get")
    attributes = response.json()["data"]["attributes"]
    assert attributes["credits"] == {"total": 49, "subscription": 49, "payg": 0, "enterprise": 0}
    assert attributes["api"] == {"free_calls": 0, "sizes": "all"}
    assert attributes["clearcut"]["tier"] == "free" and attributes["clearcut"]["daily_credits"] == 50
    assert attributes["clearcut"]["rate_per_minute"] == 10 and attributes["clearcut"]["max_megapixels"] == 1


def test_the_same_credits_and_rate_limit_as_our_own_endpoint(client, key, drained):
    assert post(client, "/api/v1/remove", key, files={"image_file": image_bytes(64, 64)}).status_code == 200
    response = post(client, REMOVEBG, key, files={"image_file": image_bytes(64, 64)})
    assert response["X-Credits-Remaining"] == "48" and response["X-RateLimit-Remaining"] == "8"
    assert ApiKeyUsage.objects.get().credits == 2


# --- Errors, in remove.bg's shape ---------------------------------------------------------

PNG = image_bytes(64, 48)


# Refused before any work; also sent to daphne by test_removebg_live.py.
BAD_PARAMETERS = [
    ({"size": "huge"}, "invalid_size"),
    ({"format": "gif"}, "invalid_format"),
    ({"type": "spaceship"}, "invalid_type"),
    ({"type_level": "3"}, "invalid_type_level"),
    ({"channels": "rgb"}, "invalid_channels"),
    ({"channels": "alpha", "format": "zip"}, "invalid_channels"),
    ({"bg_color": "not-a-colour"}, "invalid_bg_color"),
    ({"bg_color": "81d4fa77"}, "invalid_bg_color"),
    ({"bg_color": "fff", "bg_image_url": "https://example.com/a.png"}, "multiple_bg_sources"),
    ({"crop": "yes"}, "invalid_crop"),
    ({"crop_margin": "10px 20px 30px"}, "invalid_crop_margin"),
    ({"crop_margin": "60%"}, "invalid_crop_margin"),
    ({"roi": "0 0 100"}, "invalid_roi"),
    ({"roi": "0% 0% 120% 100%"}, "invalid_roi"),
    ({"roi": "0 0 65px 10px"}, "roi_exceeds_bounds"),  # the photo is 64x48
    ({"roi": "30px 10px 30px 40px"}, "roi_region_empty"),
    ({"scale": "5%"}, "invalid_scale"),
    ({"scale": "half"}, "invalid_scale"),
    ({"position": "left"}, "invalid_position"),
    ({"position": "10% 20% 30%"}, "invalid_position"),
    ({"add_shadow": "1"}, "invalid_add_shadow"),
    ({"semitransparency": "no"}, "invalid_semitransparency"),
    ({"image_url": "https://example.com/a.png"}, "multiple_sources"),
    ({"bg_image_url": "http://169.254.169.254/a.png"}, "invalid_bg_image_url"),  # never fetched
]


@pytest.mark.parametrize("fields, code", BAD_PARAMETERS)
def test_bad_parameters_in_remove_bgs_words(client, key, fields, code):
    error = refused(post(client, REMOVEBG, key, files={"image_file": PNG}, **fields), 400, code)
    if code in REASON_TITLES:
        assert error["title"] == REASON_TITLES[code]
    elif code.removeprefix("invalid_") in fields:
        assert error["title"] == f"Invalid value for parameter '{code.removeprefix('invalid_')}'"
    assert not ApiKeyUsage.objects.filter(credits__gt=0).exists()  # nothing charged


def test_image_problems_are_400s_in_remove_bgs_words(client, key, drained, settings):
    refused(post(client, REMOVEBG, key), 400, "missing_source")
    refused(post_json(client, REMOVEBG, key, {"image_file_b64": "not base64!"}), 400, "invalid_image_file_b64")
    refused(post_json(client, REMOVEBG, key, {"image_url": "http://10.0.0.1/a.png"}), 400, "invalid_image_url")
    refused(post(client, REMOVEBG, key, files={"image_file": b"<html>hello</html>"}), 400, "invalid_file_type")
    refused(post(client, REMOVEBG, key, files={"image_file": PNG[: len(PNG) // 2]}), 400, "failed_to_read_image")
    refused(client.post(REMOVEBG, "x", content_type="text/plain", headers={"X-Api-Key": key}), 400, "invalid_request")
    settings.CLEARCUT_MAX_MEGAPIXELS = 0.001
    refused(post(client, REMOVEBG, key, files={"image_file": PNG}), 400, "resolution_too_high")
    settings.CLEARCUT_MAX_UPLOAD_MB = 0.0001  # 104 bytes
    refused(post(client, REMOVEBG, key, files={"image_file": PNG}), 400, "file_too_large")


def test_failed_download_of_an_image_or_a_background(client, key, settings):
    settings.CLEARCUT_API_FETCH_ALLOW_NETWORKS = "127.0.0.1/32"
    with serving(lambda handler, state: reply(handler, 404, b"gone")) as server:
        refused(post_json(client, REMOVEBG, key, {"image_url": server.url("/a.png")}), 400, "failed_image_download")
        error = refused(post(client, REMOVEBG, key, files={"image_file": PNG}, bg_image_url=server.url("/b.png")),
                        400, "failed_bg_download")
    assert "bg_image_url" in error["detail"] and "404" in error["detail"]


def test_keys_credits_and_rate_limit_answer_403_402_429(client, key, drained):
    refused(post(client, REMOVEBG, None, files={"image_file": PNG}), 403, "auth_failed")
    refused(post(client, REMOVEBG, "cc_0123456789_" + "x" * 43, files={"image_file": PNG}), 403, "auth_failed")
    refused(client.get(ACCOUNT), 403, "auth_failed")
    ApiKey.objects.update(daily_credits=0)
    response = post(client, REMOVEBG, key, files={"image_file": PNG})
    refused(response, 402, "insufficient_credits")
    ApiKey.objects.update(rate_per_minute=1, rate_tokens=0)
    response = post(client, REMOVEBG, key, files={"image_file": PNG})
    refused(response, 429, "rate_limit_exceeded")
    assert 1 <= int(response["Retry-After"]) <= 60


def test_other_methods_and_paths(client, key):
    response = client.get(REMOVEBG, headers={"X-Api-Key": key})
    refused(response, 405, "method_not_allowed")
    assert response["Allow"] == "POST"
    refused(client.post(ACCOUNT, headers={"X-Api-Key": key}), 405, "method_not_allowed")
    refused(client.get("/v1.0/improve", headers={"X-Api-Key": key}), 404, "not_found")


def test_our_own_api_keeps_its_shape_for_the_same_refusals(client, key):
    response = post(client, "/api/v1/remove", key, files={"image_file": PNG}, size="huge")
    assert response.status_code == 400 and response.json() == {"error": {
        "code": "invalid_parameter", "message": response.json()["error"]["message"]}}
    assert post(client, "/api/v1/remove", None, files={"image_file": PNG}).status_code == 401


def test_every_code_of_ours_has_a_remove_bg_translation():
    assert set(TRANSLATIONS) == set(CATALOGUE)
    for code, (status, _, _) in TRANSLATIONS.items():
        assert status in (400, 402, 403, 404, 405, 409, 429, 500, 503)
        assert removebg_error(ApiError(code, "a message for people"))[0] == status


# --- What each parameter does to the pixels ----------------------------------------------

@pytest.mark.parametrize("size", [*SIZES, *SIZE_ALIASES])
def test_each_size_is_its_promised_cap_within_the_tier(size):
    chosen = params(size=size)
    for tier in (FREE, PRO, Tier("pro", 60.0)):
        promised = PROMISED.get(size, tier.max_megapixels)  # auto: the tier's own
        assert output_megapixels(chosen, tier) == min(promised, tier.max_megapixels)


@pytest.mark.parametrize("size, tier, expected", [
    ("preview", PRO, (612, 408)), ("medium", PRO, (1500, 1000)), ("hd", PRO, (2449, 1632)),
    ("full", PRO, (3000, 2000)), ("hd", FREE, (1224, 816)), ("auto", FREE, (1224, 816)),
])
def test_sizes_on_a_6_megapixel_cut_out(size, tier, expected):
    output = render_cutout(cutout(3000, 2000, (1000, 500, 2000, 1500)), params(size=size), tier)
    assert (output.width, output.height) == expected
    assert output.width * output.height <= output_megapixels(params(size=size), tier) * 1e6


def test_roi_keeps_nothing_outside_it():
    made = cutout(200, 100, (20, 20, 180, 80))
    alpha = rendered_alpha(made, roi="50px 0px 50% 100%")
    assert alpha[:, 50:100].min() == 0 and alpha[20:80, 50:100].min() == 255
    assert alpha[:, :50].max() == 0 and alpha[:, 100:].max() == 0


def test_semitransparency_false_leaves_no_partial_alpha_at_full_size():
    made = cutout(100, 100, (20, 20, 80, 80))
    made.alpha[20:80, 20:30] = 100  # a see-through edge
    made.alpha[20:80, 30:40] = 200
    soft = rendered_alpha(made)
    hard = rendered_alpha(made, semitransparency="false")
    assert set(np.unique(soft)) == {0, 100, 200, 255}
    assert set(np.unique(hard)) == {0, 255}
    assert hard[50, 25] == 0 and hard[50, 35] == 255


def test_crop_margin_with_two_and_four_values():
    made = cutout(300, 200, (100, 50, 200, 150))  # a 100x100 subject
    one = render_cutout(made, params(crop=True, crop_margin="10px"), PRO)
    two = render_cutout(made, params(crop=True, crop_margin="10px 20%"), PRO)
    four = render_cutout(made, params(crop=True, crop_margin="5px 10px 15px 20px"), PRO)
    assert (one.width, one.height) == (120, 120)
    assert (two.width, two.height) == (140, 120)
    assert (four.width, four.height) == (130, 120)
    assert four.foreground == (20, 5, 100, 100)  # left 20, top 5


def test_scale_and_position_place_the_subject_on_the_photos_frame():
    made = cutout(400, 200, (300, 20, 360, 80))  # 60x60 subject, upper right
    centred = render_cutout(made, params(scale="50%"), PRO)
    assert (centred.width, centred.height) == (400, 200)
    assert centred.foreground == (150, 50, 100, 100)  # half of the largest fit (200x200), centred
    corner = render_cutout(made, params(scale="100%", position="0% 100%"), PRO)
    assert corner.foreground == (0, 0, 200, 200)
    moved = render_cutout(made, params(position="0% 100%"), PRO)
    assert moved.foreground == (0, 140, 60, 60)  # its own size, bottom left
    kept = render_cutout(made, params(scale="original", position="original"), PRO)
    assert kept.foreground == (300, 20, 60, 60)


def test_scale_within_a_cropped_frame():
    made = cutout(400, 200, (100, 50, 200, 150))
    output = render_cutout(made, params(crop=True, crop_margin="50px", scale="50%", position="100% 100%"), PRO)
    assert (output.width, output.height) == (200, 200)
    assert output.foreground == (125, 125, 50, 50)  # the frame's content at half size, bottom right


def test_add_shadow_darkens_below_the_subject_only():
    made = cutout(300, 300, (100, 60, 200, 200))
    plain = rendered_alpha(made)
    shadowed = render_cutout(made, params(add_shadow="true"), PRO)
    alpha = np.asarray(Image.open(io.BytesIO(shadowed.data)))[..., 3]
    assert np.array_equal(alpha[60:200, 100:200], plain[60:200, 100:200])  # the subject is unchanged
    assert 20 < alpha[205, 150] < 255 and plain[205, 150] == 0  # a see-through shadow below it
    assert alpha[30, 150] == 0 and alpha[150, 40] == 0  # nothing above or far left
    assert shadowed.foreground == (100, 60, 100, 140)  # the subject's box, not the shadow's


def test_stored_parameters_of_an_earlier_version_still_render():
    """A job stored before per-side margins (jobs live 24 hours) renders as it was asked."""
    stored = {**Params().to_json(), "crop": True}
    del stored["crop_margin"]
    stored.update(margin=10.0, margin_unit="px")
    assert Params.from_json(stored).crop_margin == ((10.0, "px"),) * 4
    again = Params.from_json(json.loads(json.dumps(params(crop="true", roi="0 0 10% 10%").to_json())))
    assert again == params(crop="true", roi="0 0 10% 10%")


def test_the_docs_page_and_the_openapi_document_say_point_your_client_here(client):
    page = client.get("/developers/").content.decode()
    assert "point your client at this host" in page and "http://testserver/v1.0/removebg" in page
    assert "{" + "free}" not in page and "{" + "presets}" not in page  # every description filled in
    document = openapi.document()
    assert "Point your remove.bg client at this host" in document["info"]["description"]
    body = document["paths"]["/v1.0/removebg"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["properties"]["size"]["default"] == "preview" and "mode" not in body["properties"]
