"""Touch-up strokes on real pixels: brush profile and distances, erase, restore."""

import numpy as np
import pytest
from skimage import data

from remover.engine import brush
from remover.engine.brush import Stroke, apply_strokes, coverage, strength_at
from remover.engine.compose import CutOut


def brute_distance(stroke: Stroke, box) -> np.ndarray:
    """Distance from every pixel centre of ``box`` to every segment, the slow obvious way."""
    x0, y0, x1, y1 = box
    ys, xs = np.mgrid[y0:y1, x0:x1] + 0.5
    points = stroke.points
    segments = [(points[0], points[0])] if len(points) == 1 else list(zip(points[:-1], points[1:]))
    best = np.full(xs.shape, np.inf)
    for a, b in segments:
        d = b - a
        length2 = d @ d
        t = np.clip(((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / length2, 0, 1) if length2 else 0
        best = np.minimum(best, np.hypot(xs - (a[0] + t * d[0]), ys - (a[1] + t * d[1])))
    return best


def scribble(radius: float, turns: float = 3.0) -> np.ndarray:
    """A stroke that crosses itself, sampled every quarter radius like the page does."""
    t = np.linspace(0, 2 * np.pi * turns, int(400 * turns / (radius / 4)))
    return np.stack([100 + 70 * np.sin(1.3 * t), 100 + 50 * np.cos(2.1 * t)], axis=1)


@pytest.mark.parametrize("radius, hardness", [(20, 0.0), (8, 0.5), (3, 1.0)])
def test_coverage_follows_the_exact_distance(radius, hardness):
    stroke = Stroke("erase", radius, hardness, scribble(radius))
    box = stroke.bounds(220, 220)
    expected = strength_at(brute_distance(stroke, box), radius, hardness)
    np.testing.assert_allclose(coverage(stroke, box), expected, atol=1e-4)


def test_a_dab_and_the_brush_profile():
    dab = Stroke("erase", 10, 0.5, np.array([[50.0, 60.0]]))
    c = coverage(dab, dab.bounds(100, 100))  # box (39, 49)-(62, 72)
    assert c[60 - 49, 50 - 39] == 1.0  # within hardness x radius of the centre: full strength
    assert c[60 - 49, 50 - 39 + 9] == pytest.approx(strength_at(np.hypot(9.5, 0.5), 10, 0.5), rel=1e-4)  # centres at +0.5
    assert 0 < c[60 - 49, 50 - 39 + 8] < 1  # the soft edge
    assert c[0, 0] == 0
    hard = strength_at(np.array([8.9, 9.5, 10.5]), 10, 1.0)
    assert hard[0] == 1 and 0 < hard[1] < 1 and hard[2] == 0  # one anti-aliased pixel


def test_many_points_under_a_huge_brush_use_the_transform_within_half_a_pixel(monkeypatch):
    stroke = Stroke("erase", 30, 0.0, scribble(30, turns=1.0))
    box = stroke.bounds(220, 220)
    monkeypatch.setattr(brush, "EXACT_FLOOR", 0)
    monkeypatch.setattr(brush, "EXACT_BUDGET", 0)
    fast = coverage(stroke, box)
    exact = brute_distance(stroke, box)
    # The profile falls from 1 to 0 over 30 px: half a pixel is at most 1/20 of strength.
    np.testing.assert_allclose(fast, strength_at(exact, 30, 0.0), atol=0.05)


def _photo_cutout() -> tuple[CutOut, np.ndarray]:
    photo = np.ascontiguousarray(data.astronaut()[:200, :200])
    alpha = np.zeros((200, 200), np.uint8)
    alpha[50:150, 50:150] = 255
    alpha[50:150, 45:50] = 128  # a soft edge of the model's, left side
    foreground = photo.copy()
    foreground[..., 0] = 10  # decontaminated colours differ from the photo's
    return CutOut(foreground=foreground, alpha=alpha), photo


def test_erase_clears_under_the_stroke_once_and_nowhere_else():
    ai, photo = _photo_cutout()
    stroke = Stroke("erase", 6, 1.0, np.array([[60.0, 100.0], [100.0, 100.0], [60.0, 100.0], [140.0, 100.0]]))
    out = apply_strokes(ai, [stroke], None)
    assert (out.alpha[96:105, 60:141] == 0).all()
    untouched = np.ones((200, 200), bool)
    untouched[92:109, 52:148] = False
    np.testing.assert_array_equal(out.alpha[untouched], ai.alpha[untouched])
    np.testing.assert_array_equal(out.foreground, ai.foreground)  # erasing changes alpha only
    soft = apply_strokes(ai, [Stroke("erase", 6, 0.0, np.array([[100.0, 60.0]]))], None)
    edge = soft.alpha[60, 100:108].astype(int)
    assert edge[0] < 30 and (np.diff(edge) >= 0).all() and edge[-1] == 255  # one pass, a soft rim


def test_restore_brings_back_the_photo_and_the_models_soft_edge():
    ai, photo = _photo_cutout()
    erased = Stroke("erase", 12, 1.0, np.array([[40.0, 100.0], [70.0, 100.0]]))
    back = Stroke("restore", 12, 1.0, np.array([[40.0, 100.0], [70.0, 100.0]]))
    out = apply_strokes(ai, [erased, back], photo)
    # Inside the subject: as the model had it, its colours included.
    np.testing.assert_array_equal(out.alpha[95:106, 55:70], ai.alpha[95:106, 55:70])
    np.testing.assert_array_equal(out.foreground[95:106, 55:70], ai.foreground[95:106, 55:70])
    # Where the model said background, the brush brings back the photo itself, opaque.
    assert (out.alpha[95:106, 32:44] == 255).all()
    assert np.abs(out.foreground[95:106, 32:44].astype(int) - photo[95:106, 32:44]).max() <= 1
    with pytest.raises(ValueError):
        apply_strokes(ai, [back], None)


def test_restore_with_a_soft_brush_fades_out():
    ai, photo = _photo_cutout()
    out = apply_strokes(ai, [Stroke("restore", 15, 0.0, np.array([[20.0, 20.0]]))], photo)
    row = out.alpha[20, 20:36].astype(int)
    assert row[0] > 250 and row[-1] == 0 and (np.diff(row) <= 0).all() and 0 < row[10] < 255
