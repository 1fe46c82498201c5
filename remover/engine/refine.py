"""Full-resolution alpha and edge colour decontamination.

The model predicts at 1024x1024. Here the prediction is brought to the photo's size as
soft alpha, and the foreground colour is re-estimated where alpha is fractional, so that
hair over a green wall does not keep a green fringe when placed on a new background.
"""

from __future__ import annotations

import cv2
import numpy as np

from .segmenter import resize_probabilities

# Pixels with alpha strictly between these are "edge"; outside, the observed colour is the
# foreground colour (alpha ~ 1) or does not matter (alpha ~ 0).
EDGE_LOW = 1.0 / 255.0
EDGE_HIGH = 254.0 / 255.0


def full_resolution_alpha(prob: np.ndarray, width: int, height: int) -> np.ndarray:
    """(S, S) probabilities -> (height, width) float32 alpha in [0, 1]."""
    return resize_probabilities(prob, width, height)


def edge_band(alpha: np.ndarray, radius: int = 2) -> np.ndarray:
    """(H, W) bool: fractional alpha, widened by ``radius`` pixels."""
    band = ((alpha > EDGE_LOW) & (alpha < EDGE_HIGH)).astype(np.uint8)
    if radius > 0:
        band = cv2.dilate(band, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1)))
    return band.astype(bool)


def _box_mean(values: np.ndarray, weights: np.ndarray, radius: int) -> np.ndarray:
    """Weighted box-filter mean of (H, W, C) ``values`` under (H, W) ``weights``."""
    k = (2 * radius + 1, 2 * radius + 1)
    num = cv2.blur(values * weights[..., None], k, borderType=cv2.BORDER_REFLECT)
    den = cv2.blur(weights, k, borderType=cv2.BORDER_REFLECT)
    return num / np.maximum(den, 1e-5)[..., None]


def _blur_fusion_step(
    image: np.ndarray, fg: np.ndarray, bg: np.ndarray, alpha: np.ndarray, radius: int
) -> tuple[np.ndarray, np.ndarray]:
    """One pass of approximate foreground estimation (Forte & Pitié, ICIP 2021).

    Local means of F and B weighted by alpha and 1 - alpha, then a correction that makes
    alpha * F + (1 - alpha) * B reproduce the observed colour.
    """
    f_mean = _box_mean(fg, alpha, radius)
    b_mean = _box_mean(bg, 1.0 - alpha, radius)
    a = alpha[..., None]
    residual = image - a * f_mean - (1.0 - a) * b_mean
    return np.clip(f_mean + a * residual, 0.0, 1.0), np.clip(b_mean + (1.0 - a) * residual, 0.0, 1.0)


def estimate_foreground(image: np.ndarray, alpha: np.ndarray, tile: int = 1024) -> np.ndarray:
    """Foreground colours for (H, W, 3) uint8 ``image`` under (H, W) float ``alpha`` in [0, 1].

    Returns (H, W, 3) uint8 equal to the input away from the edges. The estimate runs only
    on tiles that contain edge pixels, each with a margin wide enough for the large blur,
    so a 24 MP photo costs work in proportion to its outline, not its area.
    """
    out = image.copy()
    band = edge_band(alpha)
    if not band.any():
        return out
    height, width = alpha.shape
    margin = 96  # covers the first pass's 90 px window
    for y0 in range(0, height, tile):
        for x0 in range(0, width, tile):
            y1, x1 = min(y0 + tile, height), min(x0 + tile, width)
            tile_band = band[y0:y1, x0:x1]
            if not tile_band.any():
                continue
            py0, px0 = max(y0 - margin, 0), max(x0 - margin, 0)
            py1, px1 = min(y1 + margin, height), min(x1 + margin, width)
            img = image[py0:py1, px0:px1].astype(np.float32) / 255.0
            a = alpha[py0:py1, px0:px1].astype(np.float32)
            fg, bg = _blur_fusion_step(img, img, img, a, 90)
            fg, _ = _blur_fusion_step(img, fg, bg, a, 6)
            inner = fg[y0 - py0:y1 - py0, x0 - px0:x1 - px0]
            dest = out[y0:y1, x0:x1]
            dest[tile_band] = (inner[tile_band] * 255.0 + 0.5).astype(np.uint8)
    return out
