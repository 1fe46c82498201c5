"""Touch-up brush strokes over a cut-out: Erase makes pixels transparent, Restore brings the
photo back.

The page paints the same strokes on its preview with the same rules (static/js/brush.js),
so what it shows while painting is what the server renders at full size. Coordinates are
pixels of the cut-out, (0, 0) its top-left corner, so pixel (row i, column j) has its
centre at (j + 0.5, i + 0.5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from .compose import CutOut

MODES = ("erase", "restore")
# Restore lifts the model's own alpha back over this share of the brush's edge (see below).
_RESTORE_LIFT = 4.0
# Exact distances cost the sum of each segment's reach; past this many times the stroke's
# box (plus EXACT_FLOOR pixels) the stroke is measured with a distance transform instead.
EXACT_BUDGET = 16
EXACT_FLOOR = 4_000_000


@dataclass(frozen=True)
class Stroke:
    """One brush stroke.

    mode: erase or restore. radius: pixels of the cut-out, > 0. hardness: 0..1, the share of
    the radius painted at full strength; beyond it the strength falls smoothly to 0 at the
    radius (at least a one-pixel ramp, so a hard brush is still anti-aliased). points: (N, 2)
    float (x, y), N >= 1; one point is a dab.
    """

    mode: Literal["erase", "restore"]
    radius: float
    hardness: float
    points: np.ndarray

    def bounds(self, width: int, height: int) -> tuple[int, int, int, int] | None:
        """(x0, y0, x1, y1) of the pixels the stroke can touch, clipped; None when none."""
        xs, ys = self.points[:, 0], self.points[:, 1]
        reach = self.radius + 1
        x0, y0 = max(0, int(np.floor(xs.min() - reach))), max(0, int(np.floor(ys.min() - reach)))
        x1, y1 = min(width, int(np.ceil(xs.max() + reach))), min(height, int(np.ceil(ys.max() + reach)))
        return (x0, y0, x1, y1) if x0 < x1 and y0 < y1 else None


def coverage(stroke: Stroke, box: tuple[int, int, int, int]) -> np.ndarray:
    """The stroke's strength (y1 - y0, x1 - x0) float32 in [0, 1] over ``box`` (x0, y0, x1, y1).

    The distance from each pixel centre to the stroke's centre line is exact, measured
    segment by segment over each segment's own reach; the page's preview measures it the
    same way. A stroke whose segments would cost more than EXACT_BUDGET times the box (many
    points piled up under a huge brush) is measured with a distance transform of the drawn
    line instead, within half a pixel.
    """
    x0, y0, x1, y1 = box
    points = stroke.points
    starts, ends = (points, points) if len(points) == 1 else (points[:-1], points[1:])
    reach = stroke.radius + 1
    lo = np.floor(np.minimum(starts, ends) - reach).astype(int)
    hi = np.ceil(np.maximum(starts, ends) + reach).astype(int)
    lo, hi = np.maximum(lo, (x0, y0)), np.minimum(hi, (x1, y1))
    cost = np.prod(np.maximum(hi - lo, 0), axis=1).sum()
    if cost > EXACT_BUDGET * (x1 - x0) * (y1 - y0) + EXACT_FLOOR:
        distance = _transform_distance(points, box)
    else:
        squared = np.full((y1 - y0, x1 - x0), np.inf, np.float32)
        for a, b, (sx0, sy0), (sx1, sy1) in zip(starts, ends, lo, hi):
            if sx0 >= sx1 or sy0 >= sy1:
                continue
            ys, xs = np.ogrid[sy0:sy1, sx0:sx1]
            part = squared[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0]
            np.minimum(part, _to_segment(xs.astype(np.float32) + 0.5, ys.astype(np.float32) + 0.5, a, b), out=part)
        distance = np.sqrt(squared)
    return strength_at(distance, stroke.radius, stroke.hardness)


def _to_segment(xs: np.ndarray, ys: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared distance from the points of the grid (xs (1, W), ys (H, 1)) to segment a-b."""
    dx, dy = float(b[0] - a[0]), float(b[1] - a[1])
    length2 = dx * dx + dy * dy
    px, py = xs - float(a[0]), ys - float(a[1])
    if length2 == 0:
        return px * px + py * py
    t = np.minimum(np.maximum((px * dx + py * dy) * (1.0 / length2), 0.0), 1.0)
    ex, ey = px - t * dx, py - t * dy
    return ex * ex + ey * ey


def _transform_distance(points: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """Distance to the centre line drawn at 1/16 pixel precision: one pass, within half a pixel."""
    x0, y0, x1, y1 = box
    shift = 4
    line = np.full((y1 - y0, x1 - x0), 255, np.uint8)
    # Pixel centres sit at +0.5: the line is drawn in pixel-index coordinates.
    local = np.clip(np.round((points - (x0 + 0.5, y0 + 0.5)) * (1 << shift)), 0, None).astype(np.int32)
    if len(local) == 1:
        cv2.circle(line, tuple(int(v) for v in local[0]), 0, 0, 1, cv2.LINE_8, shift)
    else:
        cv2.polylines(line, [local.reshape(-1, 1, 2)], False, 0, 1, cv2.LINE_8, shift)
    if line.all():  # drawn just outside the box: its nearest pixel stands in
        nearest = np.clip(np.round(points[0] - (x0 + 0.5, y0 + 0.5)), 0, (x1 - x0 - 1, y1 - y0 - 1)).astype(int)
        line[nearest[1], nearest[0]] = 0
    return cv2.distanceTransform(line, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def strength_at(distance: np.ndarray, radius: float, hardness: float) -> np.ndarray:
    """The brush profile: 1 up to ``hardness`` x radius, a smoothstep down to 0 at the radius."""
    ramp = max(1.0, radius * (1.0 - hardness))
    t = np.clip((radius - distance) / ramp, 0.0, 1.0).astype(np.float32)
    return t * t * (3.0 - 2.0 * t)


def apply_strokes(ai: CutOut, strokes: Sequence[Stroke], photo: np.ndarray | None) -> CutOut:
    """The AI result ``ai`` with ``strokes`` applied in order.

    Erase: alpha x (1 - strength). Restore: alpha becomes at least the brush's strength, and at
    least the model's own alpha (its probability map at full size) where the brush reaches,
    so restoring over an edge brings back the model's soft edge rather than a hard cut. The
    colour that comes back is the photo's, blended with the model's decontaminated edge
    colour where the model's alpha is the larger. ``photo`` is the (H, W, 3) uint8 original,
    needed only when a stroke restores.
    """
    height, width = ai.alpha.shape
    # 8-bit between strokes, floats only over one stroke's box: a 49 MP cut-out is not held as
    # floats (the page rounds after each stroke as well).
    alpha, foreground = ai.alpha.copy(), ai.foreground.copy()
    for stroke in strokes:
        box = stroke.bounds(width, height)
        if box is None:
            continue
        x0, y0, x1, y1 = box
        c = coverage(stroke, box)
        a = alpha[y0:y1, x0:x1].astype(np.float32) / 255.0
        if stroke.mode == "erase":
            alpha[y0:y1, x0:x1] = _to_u8(a * (1.0 - c))
            continue
        if photo is None:
            raise ValueError("restore strokes need the original photo")
        model = ai.alpha[y0:y1, x0:x1].astype(np.float32) / 255.0
        restored = np.maximum(np.maximum(a, c), model * np.minimum(1.0, _RESTORE_LIFT * c))
        gained = restored - a
        # Where the brush brings more than the model had, the photo's own pixel; else the model's colour.
        from_photo = np.clip((c - model) * _RESTORE_LIFT, 0.0, 1.0)[..., None]
        colour = ai.foreground[y0:y1, x0:x1] * (1.0 - from_photo) + photo[y0:y1, x0:x1] * from_photo
        # Premultiplied: the old colour keeps its share of the alpha, the new one adds the rest.
        fg = foreground[y0:y1, x0:x1]
        mixed = (fg * a[..., None] + colour * gained[..., None]) / np.maximum(restored, 1e-6)[..., None]
        fg[...] = np.where((gained > 0)[..., None], _to_u8(mixed / 255.0), fg)
        alpha[y0:y1, x0:x1] = _to_u8(restored)
    return CutOut(foreground=foreground, alpha=alpha)


def _to_u8(values: np.ndarray) -> np.ndarray:
    """[0, 1] floats -> 0..255, rounded to the nearest level."""
    return np.clip(values * 255.0 + 0.5, 0, 255).astype(np.uint8)
