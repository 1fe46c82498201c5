"""Metrics used by every benchmark.

Alpha maps are (H, W) float in [0, 1]; colour images (H, W, 3) uint8 sRGB unless said otherwise.
"""

from __future__ import annotations

import cv2
import numpy as np

EDGE_RADIUS = 10
# What the user sees: the cut-out on white, on black and on a saturated blue.
BACKDROPS = {"white": (255, 255, 255), "black": (0, 0, 0), "blue": (0, 0, 255)}
# Photo pixels with less CIELAB chroma than this have no hue worth keeping (greys).
HUE_MIN_CHROMA = 10.0


def edge_band(truth: np.ndarray, radius: int = EDGE_RADIUS) -> np.ndarray:
    """(H, W) bool: within ``radius`` px of the truth's 0.5 boundary, or where the truth is fractional."""
    inside = (truth >= 0.5).astype(np.uint8)
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    ring = cv2.dilate(inside, disk) != cv2.erode(inside, disk)
    return ring | ((truth > 0) & (truth < 1))


def alpha_metrics(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """MAE, IoU at 0.5 and MAE inside the edge band."""
    err = np.abs(pred.astype(np.float64) - truth)
    inter = np.logical_and(pred >= 0.5, truth >= 0.5).sum()
    union = np.logical_or(pred >= 0.5, truth >= 0.5).sum()
    band = edge_band(truth)
    return {
        "mae": float(err.mean()),
        "iou": float(inter / union) if union else 1.0,
        "edge_mae": float(err[band].mean()) if band.any() else 0.0,
    }


def reference_foreground(photo: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """The subject's colours under the true alpha: pymatting's solver at full resolution -> (H, W, 3) float32 0-255.

    An independent estimator (not the engine's), so the reference does not favour our method.
    """
    from pymatting import estimate_foreground_ml

    fg = estimate_foreground_ml(photo.astype(np.float64) / 255.0, truth.astype(np.float64))
    return (np.clip(fg, 0.0, 1.0) * 255.0).astype(np.float32)


def _composite(colour: np.ndarray, alpha: np.ndarray, backdrop: tuple[int, int, int]) -> np.ndarray:
    a = alpha[..., None]
    return colour * a + np.asarray(backdrop, np.float32) * (1.0 - a)


def _hue(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3) float 0-255 sRGB -> CIELAB hue angle (radians) and chroma per pixel."""
    lab = cv2.cvtColor((rgb.reshape(-1, 1, 3) / 255.0).astype(np.float32), cv2.COLOR_RGB2Lab).reshape(-1, 3)
    return np.arctan2(lab[:, 2], lab[:, 1]), np.hypot(lab[:, 1], lab[:, 2])


def composite_metrics(rgba: np.ndarray, photo: np.ndarray, truth: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """What the user sees: a cut-out (its own (H, W, 4) uint8 colours and alpha) against the truth.

    ``reference`` is :func:`reference_foreground` of ``photo`` under ``truth``. The cut-out
    and the reference are each composited on every backdrop in BACKDROPS; the result is the
    mean absolute difference in levels 0-255 over all backdrops and channels, on the whole
    image (``comp``) and in the edge band (``comp_edge``). ``hue_shift`` is how far the
    cut-out's colours turn from the photo's own where the true alpha is >= 0.5 (mean CIELAB
    hue difference in degrees over the photo's coloured pixels, weighted by the cut-out's
    alpha, since that is how much of each colour the user sees); ``ref_hue_shift`` is the
    same for the reference, what correct decontamination turns by.
    """
    colour, alpha = rgba[..., :3].astype(np.float32), rgba[..., 3].astype(np.float32) / 255.0
    band = edge_band(truth)
    errors = [np.abs(_composite(colour, alpha, b) - _composite(reference, truth, b)).mean(axis=2)
              for b in BACKDROPS.values()]
    err = np.mean(errors, axis=0)
    inside = truth >= 0.5
    own_hue, own_chroma = _hue(photo[inside].astype(np.float32))
    coloured = own_chroma >= HUE_MIN_CHROMA

    def hue_shift(rgb: np.ndarray, weight: np.ndarray) -> float:
        hue, _ = _hue(rgb)
        turn = np.degrees(np.abs(np.angle(np.exp(1j * (hue - own_hue)))))[coloured]
        w = weight[coloured]
        return float((turn * w).sum() / w.sum()) if w.sum() > 0 else 0.0

    return {
        "comp": float(err.mean()),
        "comp_edge": float(err[band].mean()) if band.any() else 0.0,
        "hue_shift": hue_shift(colour[inside], alpha[inside]),
        "ref_hue_shift": hue_shift(reference[inside], truth[inside]),
    }
