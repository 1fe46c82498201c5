"""The remove.bg drop-in against daphne on 127.0.0.1 with the real model: two published
remove.bg client libraries (dev dependencies ``removebg`` and ``remove-bg-api``), their
endpoint pointed at the test server, get a transparent PNG from every public call; every
size value gives its promised pixel cap; errors in remove.bg's shape and status codes, as
the libraries understand them; JSON answers; format=zip composes back to the PNG.

Bounded: about twenty model runs, most on the 512x512 astronaut; the size checks on one
4.4 MP photo. Extra keys are made with ``manage.py createapikey``."""

from __future__ import annotations

import base64
import io
import zipfile

import numpy as np
import pytest
import remove_bg_api
import removebg.removebg as removebg_module
import requests
from PIL import Image
from removebg import RemoveBg as BrilamClient

from remover.web.limits import fit_megapixels
from tests.conftest import png_bytes

from .helpers import documented
from .live import live_server
from .servers import reply, serving
from .test_removebg import BAD_PARAMETERS, PROMISED

pytestmark = pytest.mark.timeout(900)
BIG = 2100  # the size checks' photo is BIG x BIG (4.41 MP): above every cap up to hd's 4 MP


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    # image_url and bg_image_url may reach this test's own image server on 127.0.0.1.
    with live_server(tmp_path_factory.mktemp("removebg-live"), pro=True,
                     CLEARCUT_API_FETCH_ALLOW_NETWORKS="127.0.0.1/32") as server:
        warm = requests.post(f"{server.base}/v1.0/removebg", headers={"X-Api-Key": server.key},
                             files={"image_file": ("tiny.png", png_bytes(np.full((8, 8, 3), 90, np.uint8)))},
                             timeout=300)
        assert warm.status_code == 200, warm.text  # the model is loaded before anything is judged
        yield server


@pytest.fixture(scope="module")
def free_key(live) -> str:
    """A free-tier key of the same (Pro) user, made as an operator would."""
    return live.daphne.manage("createapikey", "live-tests", "--tier", "free", "--name", "free").strip()


def limited_key(live, **figures: int) -> str:
    """A new key with some of its figures (daily_credits, rate_per_minute, rate_tokens) set."""
    key = live.daphne.manage("createapikey", "live-tests", "--name", "limited").strip()
    prefix = key.split("_")[1]
    assignments = ", ".join(f"{name}={value}" for name, value in figures.items())
    # rate_checked_at now: the bucket holds rate_tokens from this moment (else it counts as refilled).
    live.daphne.manage("shell", "-c", "from django.utils import timezone; from remover.devapi.models import ApiKey; "
                                      f"ApiKey.objects.filter(prefix={prefix!r}).update({assignments}, "
                                      "rate_checked_at=timezone.now())")
    return key


@pytest.fixture(scope="module")
def astronaut_png(astronaut) -> bytes:
    return png_bytes(astronaut)


@pytest.fixture
def image_server(astronaut_png):
    with serving(lambda handler, state: reply(handler, 200, astronaut_png, {"Content-Type": "image/png"})) as server:
        yield server


def assert_transparent_cut_out(data: bytes) -> None:
    """A PNG with alpha: the astronaut's face kept, the plain backdrop in the corner gone."""
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.mode == "RGBA", (image.format, image.mode)
    alpha = np.asarray(image.resize((512, 512)))[..., 3]
    assert alpha[96, 224] > 240 and alpha[:64, :64].max() < 10


def post(live, key: str | None = None, accept: str | None = None, image: bytes | None = None, **fields):
    headers = {"X-Api-Key": key or live.key} if key != "" else {}
    if accept:
        headers["Accept"] = accept
    files = {"image_file": ("photo.png", image, "image/png")} if image is not None else None
    return requests.post(f"{live.base}/v1.0/removebg", headers=headers, data=fields, files=files, timeout=300)


# --- Published clients --------------------------------------------------------------------

def test_the_removebg_library_gets_a_transparent_png_from_each_call(live, monkeypatch, tmp_path, astronaut_png,
                                                                    image_server):
    """``removebg`` sends size=regular, its default, to /v1.0/removebg: the very first call
    that used to fail here."""
    monkeypatch.setattr(removebg_module, "API_ENDPOINT", f"{live.base}/v1.0/removebg")
    client = BrilamClient(live.key, str(tmp_path / "removebg-errors.log"))
    photo = tmp_path / "astronaut.png"
    photo.write_bytes(astronaut_png)

    client.remove_background_from_img_file(str(photo))
    client.remove_background_from_img_url(image_server.url("/astronaut.png"), new_file_name=str(tmp_path / "url.png"))
    client.remove_background_from_base64_img(base64.b64encode(astronaut_png).decode(),
                                             new_file_name=str(tmp_path / "b64.png"))
    for result in (tmp_path / "astronaut.png_no_bg.png", tmp_path / "url.png", tmp_path / "b64.png"):
        assert_transparent_cut_out(result.read_bytes())
        assert Image.open(result).size == (500, 500)  # regular = preview: 0.25 MP


def test_the_remove_bg_api_library_gets_a_transparent_png_from_each_call(live, monkeypatch, tmp_path,
                                                                         astronaut_png, image_server):
    monkeypatch.setattr(remove_bg_api, "API_URL", f"{live.base}/v1.0")
    client = remove_bg_api.RemoveBg(live.key)  # reads the account at once
    balance = client.account.balance()
    assert 0 < balance < 100000  # this key's credits, less the images of the tests before

    assert_transparent_cut_out(client.remove_bg_bytes(astronaut_png))
    photo = tmp_path / "astronaut.png"
    photo.write_bytes(astronaut_png)
    assert client.remove_bg_file(str(photo), out_path=str(tmp_path / "file.png"), raw=False) == str(tmp_path / "file.png")
    assert_transparent_cut_out((tmp_path / "file.png").read_bytes())
    assert_transparent_cut_out(client.remove_bg_url(image_server.url("/astronaut.png")))
    assert_transparent_cut_out(client.remove_bg_base64(base64.b64encode(astronaut_png).decode()))
    assert client.account.balance() == balance - 4  # kept locally from X-Credits-Charged
    client.account.refresh_balance()
    assert client.account.balance() == balance - 4  # and the server agrees

    assert client.account.get_balance_dict() == {"total": balance - 4, "subscription": balance - 4, "payg": 0,
                                                 "enterprise": 0}
    assert client.account.free_api_calls() == 0
    assert client.account.get_all_info()["data"]["attributes"]["clearcut"]["tier"] == "pro"
    client.change_api_key("cc_0123456789_" + "x" * 43)
    with pytest.raises(remove_bg_api.Errors.ApiErrorCode403):
        client.account.refresh_balance()
    with pytest.raises(remove_bg_api.Errors.ApiErrorCode403):
        client.remove_bg_bytes(astronaut_png)


def test_the_remove_bg_api_library_understands_our_400_402_and_429(live, monkeypatch, astronaut_png):
    monkeypatch.setattr(remove_bg_api, "API_URL", f"{live.base}/v1.0")
    with pytest.raises(remove_bg_api.Errors.ApiErrorCode400):
        remove_bg_api.RemoveBg(live.key).remove_bg_bytes(astronaut_png, size="huge")
    with pytest.raises(remove_bg_api.Errors.ApiErrorCode402):
        remove_bg_api.RemoveBg(limited_key(live, daily_credits=0)).remove_bg_bytes(astronaut_png)
    slow = remove_bg_api.RemoveBg(limited_key(live, rate_per_minute=1, rate_tokens=0))
    with pytest.raises(remove_bg_api.Errors.ApiErrorCode429):
        slow.remove_bg_bytes(astronaut_png)


# --- Sizes --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def big_photo(astronaut) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(astronaut).resize((BIG, BIG), Image.Resampling.BICUBIC).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@pytest.mark.parametrize("size", ["auto", *PROMISED])
def test_each_size_gives_its_promised_pixel_cap(live, big_photo, size):
    response = post(live, size=size, format="jpg", bg_color="fff", image=big_photo)
    assert response.status_code == 200, response.text
    cap = min(PROMISED.get(size, 36.0), 36.0)  # the Pro tier allows 36 MP
    width, height = int(response.headers["X-Width"]), int(response.headers["X-Height"])
    assert Image.open(io.BytesIO(response.content)).size == (width, height)
    assert width * height <= cap * 1e6
    assert (width, height) == fit_megapixels(BIG, BIG, cap)  # the cap, not less: never smaller than promised


def test_sizes_stay_within_a_free_keys_tier(live, free_key, big_photo):
    """hd promises 4 MP; a free key's tier allows 1 MP (every value and tier: test_removebg.py)."""
    response = post(live, free_key, size="hd", format="jpg", bg_color="fff", image=big_photo)
    assert response.status_code == 200, response.text
    assert (int(response.headers["X-Width"]), int(response.headers["X-Height"])) == fit_megapixels(BIG, BIG, 1.0)


# --- Answers ------------------------------------------------------------------------------

def test_json_answer_carries_the_image_and_its_facts(live, astronaut_png):
    response = documented(post(live, accept="application/json", image=astronaut_png, size="full", type="person"),
                          "/v1.0/removebg", "post")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    data = response.json()["data"]
    assert_transparent_cut_out(base64.b64decode(data["result_b64"]))
    assert response.headers["X-Type"] == "person" and response.headers["X-Width"] == "512"
    assert 0 < data["foreground_width"] <= 512 and 0 < data["foreground_height"] <= 512
    assert [data[f"foreground_{side}"] for side in ("top", "left", "width", "height")] == [
        int(response.headers[f"X-Foreground-{side}"]) for side in ("Top", "Left", "Width", "Height")]


def test_zip_unpacks_to_a_jpeg_and_an_alpha_png_that_compose_back_to_the_png(live, astronaut_png):
    png = documented(post(live, image=astronaut_png, size="full", format="png"), "/v1.0/removebg", "post")
    packed = documented(post(live, image=astronaut_png, size="full", format="zip"), "/v1.0/removebg", "post")
    assert packed.status_code == 200 and packed.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(packed.content)) as archive:
        colour = Image.open(io.BytesIO(archive.read("color.jpg")))
        alpha = Image.open(io.BytesIO(archive.read("alpha.png")))
    assert (colour.format, alpha.format, alpha.mode) == ("JPEG", "PNG", "L")
    composed = np.dstack((np.asarray(colour.convert("RGB")), np.asarray(alpha)))
    expected = np.asarray(Image.open(io.BytesIO(png.content)))
    assert composed.shape == expected.shape == (512, 512, 4)
    assert np.array_equal(composed[..., 3], expected[..., 3])  # the same mask, exactly
    seen = expected[..., 3] > 0
    difference = np.abs(composed[..., :3].astype(int) - expected[..., :3].astype(int))[seen]
    assert difference.mean() < 3.0 and np.percentile(difference, 99) < 20  # JPEG's loss only


# --- Errors -------------------------------------------------------------------------------

def removebg_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    errors = response.json()["errors"]
    assert len(errors) == 1 and set(errors[0]) == {"title", "code", "detail"} and errors[0]["code"] == code
    return errors[0]


@pytest.mark.parametrize("fields, code", BAD_PARAMETERS)
def test_bad_parameters_are_400_in_remove_bgs_shape(live, fields, code):
    photo = png_bytes(np.full((48, 64, 3), 120, np.uint8))
    removebg_error(documented(post(live, image=photo, **fields), "/v1.0/removebg", "post"), 400, code)


def test_image_and_key_errors_in_remove_bgs_shape(live, astronaut_png):
    removebg_error(post(live, size="auto"), 400, "missing_source")
    removebg_error(post(live, image=b"<html>not an image</html>"), 400, "invalid_file_type")
    removebg_error(post(live, image=astronaut_png[:2000]), 400, "failed_to_read_image")
    removebg_error(post(live, image_url="http://10.1.2.3/a.png"), 400, "invalid_image_url")
    removebg_error(post(live, "", image=astronaut_png), 403, "auth_failed")
    removebg_error(post(live, "cc_0123456789_" + "x" * 43, image=astronaut_png), 403, "auth_failed")
    removebg_error(requests.get(f"{live.base}/v1.0/account", timeout=30), 403, "auth_failed")
    removebg_error(post(live, limited_key(live, daily_credits=0), image=astronaut_png), 402, "insufficient_credits")
    limited = post(live, limited_key(live, rate_per_minute=1, rate_tokens=0), image=astronaut_png)
    removebg_error(limited, 429, "rate_limit_exceeded")
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    wrong_method = requests.get(f"{live.base}/v1.0/removebg", headers={"X-Api-Key": live.key}, timeout=30)
    removebg_error(wrong_method, 405, "method_not_allowed")
    removebg_error(requests.get(f"{live.base}/v1.0/nothing", timeout=30), 404, "not_found")
