"""POST /api/v1/remove with the editor's framing options: canvas presets and sizes, and the
shadow's type and strength (remover/engine/canvas.py), documented in the OpenAPI document."""

from __future__ import annotations

import numpy as np
import pytest

from remover.engine.canvas import subject_box

from .helpers import documented, error_code, image_bytes, opened, post

pytestmark = pytest.mark.django_db
REMOVE = "/api/v1/remove"


def removed(client, key, **fields) -> np.ndarray:
    response = documented(post(client, REMOVE, key, files={"image_file": image_bytes(640, 480)}, **fields), REMOVE, "post")
    assert response.status_code == 200, response.content
    return np.asarray(opened(response))


def test_square_canvas_around_the_cropped_subject(client, key, drained):
    plain = removed(client, key, format="png")
    left, top, right, bottom = subject_box(plain[..., 3])
    square = removed(client, key, format="png", crop="true", crop_margin="20px", canvas="1:1")
    side = max(right - left, bottom - top) + 40
    assert square.shape[:2] == (side, side)
    l2, t2, r2, b2 = subject_box(square[..., 3])
    assert (r2 - l2, b2 - t2) == (right - left, bottom - top)
    assert abs(t2 - (side - (b2 - t2)) / 2) <= 1 and l2 == 20


def test_custom_canvas_size_and_position(client, key, drained):
    wide = removed(client, key, format="png", crop="true", canvas="800x400", position="0% 50%")
    assert wide.shape[:2] == (400, 800)
    left, top, right, bottom = subject_box(wide[..., 3])
    assert left == 0 and bottom - top >= 398  # fitted to the height, at the left


def test_contact_shadow_with_strength_darkens_under_the_subject(client, key, drained):
    fields = {"format": "png", "crop": "true", "crop_margin": "15%", "bg_color": "fff"}
    plain = removed(client, key, **fields).astype(int)
    shadow = removed(client, key, **fields, shadow_type="contact", shadow_strength="80%").astype(int)
    box = subject_box(removed(client, key, format="png", crop="true", crop_margin="15%")[..., 3])
    width = box[2] - box[0]
    floor = (slice(box[3], box[3] + 4), slice(box[0] + width // 3, box[2] - width // 3))
    assert shadow[floor].mean() < plain[floor].mean() - 20
    assert np.abs(shadow[: box[1] + (box[3] - box[1]) // 2] - plain[: box[1] + (box[3] - box[1]) // 2]).max() <= 1
    weak = removed(client, key, **fields, shadow_type="contact", shadow_strength="20%").astype(int)
    assert plain[floor].mean() - 20 > weak[floor].mean() > shadow[floor].mean()


@pytest.mark.parametrize("fields", [
    {"canvas": "3:2"}, {"canvas": "10x10"}, {"canvas": "1:1 "}, {"shadow_type": "glow"},
    {"shadow_strength": "150%"}, {"shadow_strength": "0.5"},
])
def test_bad_canvas_and_shadow_values_are_refused(client, key, drained, fields):
    response = documented(post(client, REMOVE, key, files={"image_file": image_bytes(64, 64)}, **fields), REMOVE, "post")
    assert response.status_code == 400 and error_code(response) == "invalid_parameter"
