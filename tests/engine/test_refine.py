"""Full-resolution alpha and colour-safe decontamination on generated pixels (no model)."""

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from remover.engine.refine import (
    BLOCK,
    boundary_windows,
    estimate_foreground,
    full_resolution_alpha,
    refine_boundary,
    snap_sure,
)


def _hue_degrees(rgb: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor((rgb.reshape(-1, 1, 3) / 255.0).astype(np.float32), cv2.COLOR_RGB2Lab).reshape(-1, 3)
    return np.degrees(np.arctan2(lab[:, 2], lab[:, 1]))


def _green_subject_on_grass():
    """A bright green disc with a soft rim on darker, textured green grass: the same hue."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:120, 0:240]
    radius = np.hypot(yy - 60, xx - 120)
    subject = np.array([60, 200, 40], np.float32)
    grass = np.array([30, 110, 20], np.float32) * (0.8 + 0.4 * rng.random((120, 240, 1)))
    return radius, subject, grass


def test_a_subject_coloured_like_its_background_keeps_its_colour():
    radius, subject, grass = _green_subject_on_grass()
    # The model's alpha is soft over the outer 25 px of a disc that is in truth solid (as
    # over a doll's green hair on grass): the colours there are all subject.
    solid = radius < 50
    observed = np.where(solid[..., None], subject, grass).astype(np.uint8)
    alpha = np.clip((50 - radius) / 25, 0, 1).astype(np.float32)
    fg = estimate_foreground(observed, alpha)
    rim = solid & (alpha > 0.05) & (alpha < 1)
    assert rim.sum() > 2000
    assert np.abs(fg[rim].astype(float) - subject).max() <= 2  # not darkened, not turned
    # With a true soft edge the mix is undone and the hue is the subject's.
    mixed = (alpha[..., None] * subject + (1 - alpha[..., None]) * grass + 0.5).astype(np.uint8)
    fg = estimate_foreground(mixed, alpha)
    soft = (alpha >= 0.3) & (alpha < 1)
    turn = np.abs(_hue_degrees(fg[soft].astype(np.float32)) - _hue_degrees(subject[None]))
    assert turn.max() < 2.0
    assert np.abs(fg[soft].astype(float) - subject).mean() < 0.2 * np.abs(mixed[soft].astype(float) - subject).mean()


def test_colours_are_left_alone_without_sure_background_nearby():
    # Alpha is fractional everywhere: there is no sure background to say what to remove.
    rng = np.random.default_rng(1)
    image = (rng.random((64, 64, 3)) * 255).astype(np.uint8)
    alpha = np.full((64, 64), 0.5, np.float32)
    assert (estimate_foreground(image, alpha) == image).all()


def test_large_photo_alpha_is_bicubic_in_the_band_and_exact_where_sure():
    yy, xx = np.mgrid[0:96, 0:128].astype(np.float32)
    prob = np.clip((30 - np.hypot(yy - 48, xx - 64)) / 3 + 0.5, 0, 1).astype(np.float32)
    width, height = 1000, 750  # neither a multiple of BLOCK
    assert width % BLOCK and height % BLOCK
    alpha = full_resolution_alpha(prob, width, height)
    bicubic = F.interpolate(torch.from_numpy(prob)[None, None], size=(height, width), mode="bicubic",
                            align_corners=False)[0, 0].clamp(0, 1).numpy()
    assert alpha.shape == (height, width) and alpha.dtype == np.float32
    assert np.abs(alpha - bicubic).max() < 0.01
    assert ((alpha > 0.05) & (alpha < 0.95)).sum() > 1000  # soft, not a step
    assert alpha[:100, :100].max() == 0.0 and alpha[360:390, 480:520].min() == 1.0


def test_boundary_tiles_change_only_the_unsure_band():
    yy, xx = np.mgrid[0:600, 0:900].astype(np.float32)
    alpha = np.clip((200 - np.hypot(yy - 300, xx - 450)) / 8 + 0.5, 0, 1).astype(np.float32)
    image = np.zeros((600, 900, 3), np.uint8)
    shown = []

    def noisy_model(windows):
        shown.extend(w.shape for w in windows)
        rng = np.random.default_rng(2)
        return [rng.random(w.shape[:2]).astype(np.float32) for w in windows]

    refined = refine_boundary(image, alpha, noisy_model, tile=128)
    sure = (alpha == 0.0) | (alpha == 1.0)
    assert sure.sum() > 0.8 * alpha.size
    np.testing.assert_array_equal(refined[sure], alpha[sure])  # the tiles' answer is ignored where the map is sure
    band = ~sure
    assert np.abs(refined[band] - alpha[band]).mean() > 0.01  # and used in the band
    assert refined.min() >= 0.0 and refined.max() <= 1.0
    # Windows follow the outline: tile-sized, inside the photo, far fewer than the whole grid.
    windows = boundary_windows(alpha, 128)
    assert shown and all(shape == (128, 128, 3) for shape in shown) and len(shown) == len(windows)
    assert all(0 <= top <= 600 - 128 and 0 <= left <= 900 - 128 for top, left, _, _ in windows)
    assert len(windows) < 0.6 * (600 // 96 + 1) * (900 // 96 + 1)
    # A map with no unsure pixel needs no tile.
    assert boundary_windows((alpha > 0.5).astype(np.float32), 128) == []


def test_haze_is_cleared_and_soft_edges_kept():
    prob = np.full((40, 100), 0.03, np.float32)  # a faint veil the model leaves over the background
    prob[:, 50:] = np.linspace(0.0, 1.0, 50, dtype=np.float32)  # a soft edge
    prob[10:30, 80:] = 0.97  # a slight softness inside the subject
    snapped = snap_sure(prob)
    assert snapped.dtype == np.float32 and (snapped[:, :50] == 0.0).all() and (snapped[10:30, 80:] == 1.0).all()
    ramp = snapped[0, 50:]
    assert (np.diff(ramp) >= 0).all() and abs(float(np.interp(0.5, prob[0, 50:], ramp)) - 0.5) < 1e-6
    assert ((ramp > 0.1) & (ramp < 0.9)).sum() >= 0.8 * ((prob[0, 50:] > 0.1) & (prob[0, 50:] < 0.9)).sum()
