"""The touch-up edit of a job: stored through /api/jobs/<id>/edit, checked, carried by every
download (formats, mask, ZIP, free and full size), removed with the job; and the crop,
canvas and shadow options of the downloads."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import timedelta

import numpy as np
import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils import timezone
from PIL import Image

from remover.engine.canvas import subject_box
from remover.models import Job
from remover.processing.jobs import purge_expired

from .helpers import image_bytes, upload

pytestmark = pytest.mark.django_db

# The stand-in model's subject is an ellipse around the middle: on 640x480 it is solid for
# |dx| < 172 and |dy| < 164 around (320, 240), and the corners are background.
ERASE = {"mode": "erase", "radius": 20, "hardness": 1, "points": [[200, 240], [320, 238], [440, 240]]}


def done_job(client, worker, **kwargs) -> dict:
    response = upload(client, **kwargs)
    assert response.status_code == 201, response.content
    worker.drain()
    return client.get(response.json()["urls"]["self"]).json()


def put_edit(client, job: dict, strokes, raw: bytes | None = None):
    body = raw if raw is not None else json.dumps({"strokes": strokes})
    return client.put(job["urls"]["edit"], data=body, content_type="application/json")


def image_of(response) -> np.ndarray:
    assert response.status_code == 200, response.content
    return np.asarray(Image.open(io.BytesIO(b"".join(response))))


def download(client, job: dict, **query) -> np.ndarray:
    return image_of(client.get(job["urls"]["download"], query))


def test_an_erase_stroke_is_stored_and_carried_by_every_download(client, worker, fake_model):
    job = done_job(client, worker)
    assert job["edit_revision"] == 0
    before = download(client, job)

    response = put_edit(client, job, [ERASE])
    assert response.status_code == 200
    assert response.json()["revision"] == 1 and len(response.json()["strokes"]) == 1
    # A reload finds the edit.
    assert client.get(job["urls"]["edit"]).json()["strokes"][0]["points"][1] == [320, 238]
    assert client.get(job["urls"]["self"]).json()["edit_revision"] == 1

    after = download(client, job)
    assert (after[228:252, 205:435, 3] == 0).all()  # under the stroke
    # Beyond the brush's reach (radius + 1 pixel) nothing changed, colours included.
    untouched = np.ones(after.shape[:2], bool)
    untouched[240 - 22:240 + 22, 200 - 22:440 + 22] = False
    np.testing.assert_array_equal(after[untouched], before[untouched])

    mask = download(client, job, mask="1")
    assert (mask[228:252, 205:435] == 0).all() and mask[150, 320] == 255
    jpg = download(client, job, format="jpg", bg="FF0000")  # the backdrop shows through the stroke
    assert jpg[240, 320, 0] > 230 and jpg[240, 320, 1] < 30
    webp = download(client, job, format="webp")
    assert webp[240, 320, 3] == 0 and webp[150, 320, 3] == 255


def test_free_and_full_size_downloads_carry_the_edit(client, worker, fake_model):
    pro = User.objects.create_user("pro", password="pw-for-tests-only")
    pro.user_permissions.add(Permission.objects.get(codename="full_resolution", content_type__app_label="remover"))
    job = done_job(client, worker, data=image_bytes(1600, 1200))
    stroke = {"mode": "erase", "radius": 40, "hardness": 1, "points": [[600, 600], [1000, 600]]}
    assert put_edit(client, job, [stroke]).status_code == 200

    free = download(client, job)
    h, w = free.shape[:2]
    assert w * h <= 1_000_000
    s = w / 1600
    assert (free[round(600 * s) - 8:round(600 * s) + 8, round(620 * s):round(980 * s), 3] == 0).all()
    assert free[round(400 * s), round(800 * s), 3] == 255

    client.force_login(User.objects.get(pk=pro.pk))  # the same session keeps its job
    full = download(client, job)
    assert full.shape[:2] == (1200, 1600)
    assert (full[570:630, 620:980, 3] == 0).all() and full[400, 800, 3] == 255


def test_the_batch_zip_carries_each_jobs_edit(client, worker, fake_model):
    first = done_job(client, worker, name="a.png")
    second = done_job(client, worker, name="b.png", batch=first["batch"])
    put_edit(client, first, [ERASE])
    response = client.get(first["urls"]["batch_download"])
    with zipfile.ZipFile(io.BytesIO(b"".join(response))) as archive:
        edited = np.asarray(Image.open(io.BytesIO(archive.read("a-cutout.png"))))
        plain = np.asarray(Image.open(io.BytesIO(archive.read("b-cutout.png"))))
    assert edited[240, 320, 3] == 0 and plain[240, 320, 3] == 255
    assert second["id"] != first["id"]


def test_restore_brings_back_the_photo_where_the_model_dropped_it(client, worker, fake_model):
    photo = image_bytes(640, 480)
    job = done_job(client, worker, data=photo)
    assert download(client, job)[40:60, 40:60, 3].max() == 0  # the model dropped the corner
    dab = {"mode": "restore", "radius": 15, "hardness": 0.5, "points": [[50, 50]]}
    assert put_edit(client, job, [dab]).status_code == 200
    restored = download(client, job)
    assert (restored[46:54, 46:54, 3] == 255).all()  # the brush's hard core (7.5 px)
    rim = restored[50, 50 + 11:50 + 15, 3]
    assert 0 < rim.min() and rim.max() < 255 and (np.diff(rim.astype(int)) < 0).all()  # a soft edge
    assert restored[50, 70, 3] == 0  # beyond the brush
    original = np.asarray(Image.open(io.BytesIO(photo)).convert("RGB"))
    assert np.abs(restored[46:54, 46:54, :3].astype(int) - original[46:54, 46:54]).max() <= 1


def test_restore_after_erase_gives_back_the_models_result(client, worker, fake_model):
    job = done_job(client, worker)
    before = download(client, job)
    restore = {**ERASE, "mode": "restore", "radius": 30, "hardness": 0.3}
    put_edit(client, job, [ERASE, restore])
    again = download(client, job)
    np.testing.assert_array_equal(again[220:260, 205:435, 3], before[220:260, 205:435, 3])


BAD_EDITS = [
    (b"{not json", "could not be read"),
    (b'{"strokes": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "could not be read"),
    ("{\"strokes\": [\"\udcff\"]}".encode("utf-8", "surrogatepass"), "could not be read"),
    (b'{"strokes": "all"}', "could not be read"),
    (b'{"strokes": [{"mode": "erase", "radius": NaN, "points": [[1, 1]]}]}', "not a number"),
    (json.dumps({"strokes": [{**ERASE, "mode": "smudge"}]}).encode(), "erase or restore"),
    (json.dumps({"strokes": [{**ERASE, "radius": 0}]}).encode(), "radius"),
    (json.dumps({"strokes": [{**ERASE, "radius": 5000}]}).encode(), "radius"),
    (json.dumps({"strokes": [{**ERASE, "radius": True}]}).encode(), "must be a number"),
    (json.dumps({"strokes": [{**ERASE, "hardness": 2}]}).encode(), "hardness"),
    (json.dumps({"strokes": [{**ERASE, "points": []}]}).encode(), "points"),
    (json.dumps({"strokes": [{**ERASE, "points": [[10, 10, 10]]}]}).encode(), "[x, y] pairs"),
    (json.dumps({"strokes": [{**ERASE, "points": [[641, 10]]}]}).encode(), "outside the 640×480 image"),
    (json.dumps({"strokes": [{**ERASE, "points": [[10, -1]]}]}).encode(), "outside the 640×480 image"),
    (json.dumps({"strokes": [{**ERASE, "points": [["1", 2]]}]}).encode(), "must be a number"),
    (json.dumps({"strokes": [ERASE] * 501}).encode(), "at most 500"),
    (json.dumps({"strokes": [{**ERASE, "points": [[1, 1]] * 5001}]}).encode(), "at most 5000"),
    (json.dumps({"strokes": [{**ERASE, "points": [[1, 1]] * 4000}] * 13}).encode(), "points in all"),
    (json.dumps({"strokes": [{**ERASE, "points": [[1.123456789, 1.123456789]] * 4000}] * 20}).encode(), "too large"),
]


@pytest.mark.parametrize("body, message", BAD_EDITS, ids=[m for _, m in BAD_EDITS])
def test_bad_edits_are_refused_and_change_nothing(client, worker, fake_model, body, message):
    job = done_job(client, worker)
    assert put_edit(client, job, [ERASE]).status_code == 200
    before = download(client, job)

    response = put_edit(client, job, None, raw=body)
    assert response.status_code == 400
    assert message in response.json()["error"]
    state = client.get(job["urls"]["edit"]).json()
    assert state["revision"] == 1 and state["strokes"][0]["points"] == ERASE["points"]
    np.testing.assert_array_equal(download(client, job), before)


def test_reset_others_and_deletion(client, worker, fake_model):
    job = done_job(client, worker)
    put_edit(client, job, [ERASE])
    # Another visitor cannot read or change it.
    stranger = Client()
    assert stranger.get(job["urls"]["edit"]).status_code == 404
    # The same answer as for a job that never existed.
    assert stranger.get(job["urls"]["edit"]).content == stranger.get(f"/api/jobs/{uuid.uuid4()}/edit").content
    assert stranger.put(job["urls"]["edit"], data=json.dumps({"strokes": []}), content_type="application/json").status_code == 404
    # Reset to the AI result.
    response = client.delete(job["urls"]["edit"])
    assert response.json() == {"revision": 2, "strokes": []}
    assert download(client, job)[240, 320, 3] == 255
    # The edit goes with its job: deleted now, or by the purge.
    put_edit(client, job, [ERASE])
    assert client.delete(job["urls"]["self"]).status_code == 204
    assert not Job.objects.filter(edit__isnull=False).exists()
    assert client.get(job["urls"]["edit"]).status_code == 404
    other = done_job(client, worker)
    put_edit(client, other, [ERASE])
    Job.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    purge_expired()
    assert not Job.objects.exists()


def test_edits_need_a_finished_job(client):
    response = upload(client)
    job = response.json()
    url = job["urls"]["self"] + "/edit"
    assert client.put(url, data=json.dumps({"strokes": []}), content_type="application/json").status_code == 409


# --- Crop, canvas, shadow ---------------------------------------------------------------

def test_square_canvas_with_margin_has_the_expected_size_and_subject_box(client, worker, fake_model):
    job = done_job(client, worker)
    plain = download(client, job)
    left, top, right, bottom = subject_box(plain[..., 3])
    square = download(client, job, crop="1", margin="20", canvas="1:1")
    side = max(right - left, bottom - top) + 40
    assert square.shape[:2] == (side, side)
    l2, t2, r2, b2 = subject_box(square[..., 3])
    assert (r2 - l2, b2 - t2) == (right - left, bottom - top)
    # The box is wider than tall: the margin left and right, centred vertically.
    assert l2 == 20 and abs(t2 - (side - (b2 - t2)) / 2) <= 1
    # The chosen point: the subject at the left edge of the room.
    left_aligned = download(client, job, crop="1", canvas="1:1", position="0,50")
    assert subject_box(left_aligned[..., 3])[0] == 0


def test_custom_canvas_and_presets_fit_the_tier(client, worker, fake_model):
    job = done_job(client, worker)
    assert download(client, job, canvas="1200x300").shape[:2] == (300, 1200)
    big = download(client, job, canvas="2000x2000")  # 4 MP: the free tier's 1 MP
    assert big.shape[:2] == (1000, 1000)
    story = download(client, job, crop="1", canvas="9:16")
    assert abs(story.shape[1] / story.shape[0] - 9 / 16) < 0.01


def test_shadow_darkens_under_the_subject_only(client, worker, fake_model):
    job = done_job(client, worker)
    query = {"crop": "1", "margin": "15%", "bg": "FFFFFF", "format": "png"}
    plain = download(client, job, **query).astype(int)
    shadow = download(client, job, **query, shadow="drop", shadow_strength="80").astype(int)
    h, w = plain.shape[:2]
    box = subject_box(download(client, job, crop="1", margin="15%")[..., 3])
    below = slice(box[3] + 2, min(h, box[3] + 12))
    assert shadow[below, w // 3:2 * w // 3].mean() < plain[below, w // 3:2 * w // 3].mean() - 20
    assert np.abs(shadow[: box[1]] - plain[: box[1]]).max() <= 1  # above the subject: unchanged
    reach = round(0.02 * max(box[2] - box[0], box[3] - box[1]))  # the blur's soft edge
    assert np.abs(shadow[:, : box[0] - reach] - plain[:, : box[0] - reach]).max() <= 1  # left of it too
    contact = download(client, job, **query, shadow="contact", shadow_strength="80").astype(int)
    assert contact[box[3]:box[3] + 3, w // 3:2 * w // 3].mean() < plain[box[3]:box[3] + 3, w // 3:2 * w // 3].mean() - 20
    assert (contact[: h // 2] == plain[: h // 2]).all()
    # On transparent the shadow is a semi-transparent layer; the mask leaves it out.
    layer = download(client, job, crop="1", margin="15%", shadow="drop", shadow_strength="80")
    assert 0 < layer[below, w // 2, 3].min() and layer[below, w // 2, 3].max() < 255
    mask = download(client, job, crop="1", margin="15%", shadow="drop", mask="1")
    assert mask[below, w // 2].max() == 0


@pytest.mark.parametrize("query, message", [
    ({"canvas": "3:2"}, "canvas must be"),
    ({"canvas": "10x10"}, "canvas must be"),
    ({"canvas": "20000x100"}, "canvas must be"),
    ({"margin": "lots"}, "margin must be"),
    ({"margin": "5000"}, "margin is at most"),
    ({"padding": "60"}, "padding must be"),
    ({"position": "50"}, "position must be"),
    ({"position": "50,nan"}, "position must be"),
    ({"shadow": "glow"}, "shadow must be"),
    ({"shadow_strength": "101"}, "shadow_strength must be"),
])
def test_bad_framing_options_are_refused(client, worker, fake_model, query, message):
    job = done_job(client, worker)
    response = client.get(job["urls"]["download"], query)
    assert response.status_code == 400 and message in response.json()["error"]
