"""Framing on real pixels: crop to the subject, canvas presets and placement, shadows."""

import numpy as np
import pytest
from skimage import data

from remover.engine import compose
from remover.engine.canvas import (
    Framing, Placement, canvas_size, crop_to_subject, frame, place, plan, shadow_layer, subject_box, with_shadow,
)
from remover.engine.compose import CutOut


def _subject(width=300, height=200, box=(100, 40, 160, 140)) -> CutOut:
    """The astronaut's colours with an opaque rectangle of subject at ``box`` and a soft rim."""
    foreground = np.ascontiguousarray(data.astronaut()[:height, :width])
    alpha = np.zeros((height, width), np.uint8)
    left, top, right, bottom = box
    alpha[top:bottom, left:right] = 255
    alpha[top - 2:top, left:right] = 8  # haze below SUBJECT_ALPHA: not part of the box
    return CutOut(foreground=foreground, alpha=alpha)


def test_subject_box_ignores_faint_haze():
    assert subject_box(_subject().alpha) == (100, 40, 160, 140)
    assert subject_box(np.zeros((5, 5), np.uint8)) is None


def test_crop_to_subject_px_and_percent_margins():
    cutout = _subject()
    px = crop_to_subject(cutout, 10, "px")
    assert px.size == (80, 120)
    assert subject_box(px.alpha) == (10, 10, 70, 110)
    np.testing.assert_array_equal(px.foreground[10:110, 10:70], cutout.foreground[40:140, 100:160])
    pct = crop_to_subject(cutout, 50, "%")  # 30 px left/right (of 60), 50 px top/bottom (of 100)
    assert pct.size == (120, 200)
    # The margin reaches 10 px above the photo: those rows are transparent.
    assert pct.alpha[:10].max() == 0
    empty = CutOut(foreground=cutout.foreground, alpha=np.zeros_like(cutout.alpha))
    assert crop_to_subject(empty, 10, "px") is empty


@pytest.mark.parametrize("preset, aspect", [("1:1", 1.0), ("4:5", 0.8), ("9:16", 9 / 16), ("16:9", 16 / 9)])
@pytest.mark.parametrize("padding", [0.0, 10.0])
def test_aspect_presets_hold_the_content_unscaled(preset, aspect, padding):
    content = (123, 77)
    width, height = canvas_size(content, preset, padding)
    assert abs(width / height - aspect) < 0.02
    placement = plan(content, (width, height), padding=padding)
    x, y, w, h = placement.box
    assert abs(w - 123) <= 1 and abs(h - 77) <= 1  # not shrunk
    assert 0 <= x and x + w <= width and 0 <= y and y + h <= height


def test_original_and_custom_canvases():
    assert canvas_size((40, 60), "original") == (40, 60)
    assert canvas_size((40, 60), "original", padding=10) == (50, 70)  # 5 px = 10% of the short side 50
    assert canvas_size((40, 60), "custom", custom=(500, 300)) == (500, 300)
    with pytest.raises(ValueError):
        canvas_size((40, 60), "custom")
    with pytest.raises(ValueError):
        canvas_size((40, 60), "3:2")


def test_plan_centres_positions_pads_and_scales():
    assert plan((100, 50), (200, 200)).box == (0, 50, 200, 100)  # enlarged to fit, centred
    assert plan((100, 50), (200, 200), position=(0.5, 0.0)).box == (0, 0, 200, 100)
    assert plan((100, 50), (200, 200), position=(1.0, 1.0)).box == (0, 100, 200, 100)
    assert plan((100, 50), (200, 200), padding=10).box == (20, 60, 160, 80)
    # remove.bg's scale: the subject at 50% of what fits, in the bottom right corner.
    assert plan((100, 50), (200, 200), scale=0.5, position=(1.0, 1.0)).box == (100, 150, 100, 50)
    with pytest.raises(ValueError):
        plan((1, 1), (10, 10), scale=1.5)
    with pytest.raises(ValueError):
        plan((1, 1), (10, 10), padding=45)


def test_place_puts_the_resized_cutout_in_its_box():
    cutout = crop_to_subject(_subject(), 0, "px")  # 60x100, opaque
    placed = place(cutout, Placement(canvas=(100, 100), box=(35, 25, 30, 50)))
    assert placed.size == (100, 100)
    assert placed.alpha[25:75, 35:65].min() == 255
    assert placed.alpha.sum() == 255 * 30 * 50
    # Colours come along, shrunk by area averaging.
    small = cutout.resized(30, 50)
    np.testing.assert_array_equal(placed.foreground[25:75, 35:65], small.foreground)


def test_square_preset_with_margin_gives_the_expected_size_and_subject_box():
    framing = Framing(crop=True, margin=20, margin_unit="px", canvas="1:1")
    squared = frame(_subject(), framing, max_megapixels=50)
    # Subject 60x100 + 20 px each side = 100x140, on the smallest square that holds it.
    assert squared.size == (140, 140)
    assert subject_box(squared.alpha) == (40, 20, 100, 120)
    # Capped downloads are the same layout scaled down.
    capped = frame(_subject(), framing, max_megapixels=70 * 70 / 1e6)
    assert capped.size == (70, 70)
    assert subject_box(capped.alpha) == (20, 10, 50, 60)


def test_default_framing_only_resizes():
    cutout = _subject()
    assert frame(cutout, Framing(), 50) is cutout
    small = frame(cutout, Framing(), 150 * 100 / 1e6)
    assert small.size == (150, 100)


def _on_white(cutout: CutOut) -> np.ndarray:
    return np.asarray(compose.solid(cutout, (255, 255, 255))).astype(int)


def test_drop_shadow_darkens_under_the_subject_and_nowhere_else():
    cutout = crop_to_subject(_subject(), 40, "px")  # 140x180, subject at (40, 40)-(100, 140)
    shadowed = with_shadow(cutout, "drop", 0.6)
    plain, dark = _on_white(cutout), _on_white(shadowed)
    # The subject itself is untouched.
    np.testing.assert_array_equal(dark[40:140, 40:100], plain[40:140, 40:100])
    # Just below and right of the subject: darker than white.
    assert dark[142:146, 60:100].mean() < 235
    assert dark[60:120, 102:106].mean() < 235
    # Above and left of the subject, and in the far corners: white as before.
    assert (dark[:30] == 255).all() and (dark[:, :30] == 255).all()
    # Transparent output: the shadow is a semi-transparent black layer.
    below = shadowed.alpha[142:146, 60:100]
    assert 0 < below.min() and below.max() < 255
    assert (shadowed.alpha[:30] == 0).all()


def test_contact_shadow_sits_on_the_bottom_edge():
    cutout = crop_to_subject(_subject(), 30, "px")  # subject at (30, 30)-(90, 130)
    layer = shadow_layer(cutout.alpha, "contact", 0.8)
    assert layer.max() <= 0.8 + 1e-6
    rows = layer.max(axis=1)
    assert rows[128:134].max() > 0.3  # the floor line under the subject
    assert rows[:110].max() < 0.01  # nothing on the upper part of the subject or above it
    dark = _on_white(with_shadow(cutout, "contact", 0.8))
    assert dark[131:134, 40:80].mean() < 200
    assert (dark[:100, :25] == 255).all()


def test_shadow_strength_scales_and_bad_values_are_refused():
    alpha = crop_to_subject(_subject(), 40, "px").alpha
    half, full = shadow_layer(alpha, "drop", 0.5), shadow_layer(alpha, "drop", 1.0)
    np.testing.assert_allclose(half * 2, full, atol=1e-6)
    assert not shadow_layer(alpha, "drop", 0.0).any()
    with pytest.raises(ValueError):
        shadow_layer(alpha, "glow", 0.5)
    with pytest.raises(ValueError):
        shadow_layer(alpha, "drop", 2.0)


def test_shadow_looks_the_same_at_preview_and_full_size():
    """The shadow's lengths follow the subject, so a smaller render is the same picture."""
    big = crop_to_subject(_subject(600, 400, (200, 80, 320, 280)), 80, "px")
    small = big.resized(big.size[0] // 2, big.size[1] // 2)
    a_big = with_shadow(big, "drop", 0.7).resized(*small.size).alpha.astype(int)
    a_small = with_shadow(small, "drop", 0.7).alpha.astype(int)
    assert np.abs(a_big - a_small).mean() < 2
