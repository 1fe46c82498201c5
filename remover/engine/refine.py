"""Full-resolution alpha and colour-safe edge decontamination, at a cost that grows with the outline.

The model predicts at 1024 px. Here the prediction is brought to the photo's size as soft
alpha, and the foreground colour is re-estimated where alpha is fractional, so that hair
over a green wall does not keep a green fringe when placed on a new background, while green
hair keeps its green. Everything sure (alpha 0 or 1) is filled by whole-array operations;
interpolation and colour work run only in the boundary band.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F

# Pixels with alpha strictly between these are "edge"; outside, the observed colour is the
# foreground colour (alpha ~ 1) or does not matter (alpha ~ 0).
EDGE_LOW = 1.0 / 255.0
EDGE_HIGH = 254.0 / 255.0
# A model probability this close to 0 or 1 stays 0 or 255 after interpolation and rounding.
SURE = 0.5 / 255.0
# Side of the full-resolution blocks in which the band is interpolated.
BLOCK = 64
# Model probabilities up to SNAP_LOW are a faint haze over the background, from SNAP_HIGH a
# slight softness inside the subject, not transparency (``snap_sure``). Chosen on the tune
# halves over (0.01, 0.99), (0.02, 0.98) and (0.1, 0.9) by the alpha-matting edge error.
SNAP_LOW, SNAP_HIGH = 0.05, 0.95
# How far a colour may be pushed away from the background: the compositing equation's
# factor (1 - a) / a, capped at its value for a = 1 / (1 + MAX_PUSH). Where alpha is lower
# the edge is faint and the exact solve mostly amplifies noise.
MAX_PUSH = 3.0
# Neighbourhoods for the sure colours: stack-blur window sides, in pixels of the working
# copy, from local to wide (stack blur costs the same at every width).
_WINDOWS = (5, 9, 17, 33, 65, 129)
# Points per row when sampling with remap, whose rows must stay below 32767 pixels.
_SAMPLE_ROW = 4096
# Below this share of sure pixels in the widest window, the estimate is unsure.
_BACKGROUND_SUPPORT = 0.01
# Subject and background colours closer than this (levels, Euclidean) cannot tell a mix from either.
MIN_CONTRAST = 12.0


def snap_sure(prob: np.ndarray, low: float = SNAP_LOW, high: float = SNAP_HIGH) -> np.ndarray:
    """(h, w) probabilities in [0, 1] -> float32 alpha in [0, 1]: 0 up to ``low``, 1 from ``high``, linear between.

    The haze would show as a veil over any new background; on the tune halves snapping it
    lowered the MAE on both sets and the alpha-matting edge error (BENCHMARKS.md).
    """
    return np.clip((prob - low) * (1.0 / (high - low)), 0.0, 1.0).astype(np.float32, copy=False)


def full_resolution_alpha(prob: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bring a (h, w) probability map to the photo's (height, width) as soft float32 alpha in [0, 1].

    Shrinking is antialiased bilinear (an area average). Enlarging is bicubic, clipped:
    on the alpha-matting set, with the mask brought back from 1/4 and 1/8 scale, bicubic
    kept the edge band 3-5% closer to the truth than bilinear, while a guided-filter
    upsampler steered by the photo was worse than both (bench/upsampling.py). When
    enlarging, only BLOCK-sized blocks near unsure model pixels are interpolated; the
    rest is the nearest sure value, which is what bicubic gives there.
    """
    h, w = prob.shape
    prob = np.ascontiguousarray(prob, dtype=np.float32)
    if width <= w and height <= h:
        t = torch.from_numpy(prob)[None, None]
        out = F.interpolate(t, size=(height, width), mode="bilinear", align_corners=False, antialias=True)
        return out[0, 0].clamp_(0.0, 1.0).numpy()
    alpha = cv2.resize((prob >= 0.5).astype(np.float32), (width, height), interpolation=cv2.INTER_NEAREST)
    by, bx = np.nonzero(_blocks_to_interpolate(prob, width, height))
    steps = np.arange(BLOCK)
    for chunk in range(0, by.size, 256):  # remap's output must stay below 32767 rows
        rows = np.minimum(by[chunk:chunk + 256, None] * BLOCK + steps, height - 1)  # (n, BLOCK)
        cols = np.minimum(bx[chunk:chunk + 256, None] * BLOCK + steps, width - 1)
        n = rows.shape[0]
        src_y = ((rows + 0.5) * (h / height) - 0.5).astype(np.float32)
        src_x = ((cols + 0.5) * (w / width) - 0.5).astype(np.float32)
        map_x = np.broadcast_to(src_x[:, None, :], (n, BLOCK, BLOCK)).reshape(n * BLOCK, BLOCK)
        map_y = np.broadcast_to(src_y[:, :, None], (n, BLOCK, BLOCK)).reshape(n * BLOCK, BLOCK)
        values = cv2.remap(prob, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
        alpha[rows[:, :, None], cols[:, None, :]] = np.clip(values, 0.0, 1.0).reshape(n, BLOCK, BLOCK)
    return alpha


def _blocks_to_interpolate(prob: np.ndarray, width: int, height: int) -> np.ndarray:
    """(ceil(height / BLOCK), ceil(width / BLOCK)) bool: blocks whose bicubic support is not all sure and alike.

    Bicubic reads coarse pixels floor(s) - 1 .. floor(s) + 2 around each source position s;
    a block where all of them are sure background (or all sure subject) comes out 0 (or 1).
    """
    h, w = prob.shape

    def support(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray]:
        first = np.arange(0, n_out, BLOCK)
        last = np.minimum(first + BLOCK, n_out) - 1
        lo = np.floor((first + 0.5) * (n_in / n_out) - 0.5).astype(int) - 1
        hi = np.floor((last + 0.5) * (n_in / n_out) - 0.5).astype(int) + 3  # exclusive
        return np.clip(lo, 0, n_in), np.clip(hi, 0, n_in)

    (y0, y1), (x0, x1) = support(height, h), support(width, w)
    area = (y1 - y0)[:, None] * (x1 - x0)[None, :]

    def count(mask: np.ndarray) -> np.ndarray:
        table = cv2.integral(mask.astype(np.uint8))
        return table[y1][:, x1] - table[y0][:, x1] - table[y1][:, x0] + table[y0][:, x0]

    return (count(prob <= SURE) < area) & (count(prob >= 1.0 - SURE) < area)


def boundary_windows(alpha: np.ndarray, tile: int) -> list[tuple[int, int, int, int]]:
    """Where to look again: (top, left, core_top, core_left) of tile x tile windows along the band.

    The photo is cut into cores of ``tile`` minus a margin of tile / 8 on each side; each
    core holding unsure alpha gets a window around it (shifted inside the photo), so the
    model sees context past the core's edge. The cost follows the outline's length.
    """
    height, width = alpha.shape
    margin = tile // 8
    core = tile - 2 * margin
    unsure = ((alpha > SURE) & (alpha < 1.0 - SURE)).astype(np.uint8)
    table = cv2.integral(unsure)
    windows = []
    for core_top in range(0, height, core):
        for core_left in range(0, width, core):
            bottom, right = min(core_top + core, height), min(core_left + core, width)
            if table[bottom, right] - table[core_top, right] - table[bottom, core_left] + table[core_top, core_left]:
                top = min(max(core_top - margin, 0), height - tile)
                left = min(max(core_left - margin, 0), width - tile)
                windows.append((top, left, core_top, core_left))
    return windows


def refine_boundary(
    image: np.ndarray,
    alpha: np.ndarray,
    predict_windows: Callable[[Sequence[np.ndarray]], list[np.ndarray]],
    tile: int,
) -> np.ndarray:
    """Full-resolution detail for photos larger than the model's canvas.

    ``image`` (H, W, 3) uint8 and its (H, W) float alpha in [0, 1] from the global pass
    (``full_resolution_alpha``), both at least ``tile`` on each side. Windows along the
    boundary (``boundary_windows``) go through ``predict_windows`` at the photo's own
    resolution, and each core's answer t is fused with the global alpha g as
    ``g + w (t - g)``, w = 1 - |2g - 1|: where the global pass is sure (g = 0 or 1) nothing
    changes, so what is subject comes from the global pass and the detail of the outline
    from the tiles (on the tune half this weight beat its square root and adding only the
    tiles' high frequencies). Returns (H, W) float32.
    """
    windows = boundary_windows(alpha, tile)
    if not windows:
        return alpha
    margin = tile // 8
    core = tile - 2 * margin
    out = alpha.copy()
    answers = predict_windows([image[top:top + tile, left:left + tile] for top, left, _, _ in windows])
    for (top, left, core_top, core_left), answer in zip(windows, answers):
        rows = slice(core_top, min(core_top + core, alpha.shape[0]))
        cols = slice(core_left, min(core_left + core, alpha.shape[1]))
        g = alpha[rows, cols]
        t = answer[rows.start - top:rows.stop - top, cols.start - left:cols.stop - left]
        out[rows, cols] = g + (1.0 - np.abs(2.0 * g - 1.0)) * (t - g)
    return out


def _sample_bilinear(grid: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Values of (h, w, C) float32 ``grid`` (C <= 4) at N fractional points -> (N, C) float32, edges clamped."""
    n = x.size
    rows = -(-n // _SAMPLE_ROW)
    map_x = np.zeros(rows * _SAMPLE_ROW, np.float32)
    map_y = np.zeros(rows * _SAMPLE_ROW, np.float32)
    map_x[:n], map_y[:n] = x, y
    values = cv2.remap(grid, map_x.reshape(rows, _SAMPLE_ROW), map_y.reshape(rows, _SAMPLE_ROW),
                       cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return values.reshape(rows * _SAMPLE_ROW, grid.shape[2])[:n]


def _nearby_mean(small: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Mean colour of the ``weight`` > 0 pixels near each position of (h, w, 3) float ``small``.

    Normalised averaging in the narrowest of _WINDOWS with enough support. Returns (h, w, 4) float32: colour 0-255 and the support in [0, 1], low where
    none of those pixels is near (then the colour is not to be trusted).
    """
    h, w = weight.shape
    colour = np.zeros((h, w, 3), np.float32)
    support = np.zeros((h, w), np.float32)
    pending = np.ones((h, w), bool)
    weighted = small * weight[..., None]
    for side in _WINDOWS:
        den = cv2.stackBlur(weight, (side, side))
        num = cv2.stackBlur(weighted, (side, side))
        take = pending & ((den >= _BACKGROUND_SUPPORT) | (side == _WINDOWS[-1]))
        colour[take] = num[take] / np.maximum(den[take], 1e-6)[:, None]
        support[take] = den[take]
        pending &= ~take
    return np.dstack((colour, np.clip(support / _BACKGROUND_SUPPORT, 0.0, 1.0)))


def _cells(plane: np.ndarray, factor: int) -> np.ndarray:
    """(H, W, ...) -> (ceil(H / factor), ceil(W / factor), ...) area means; the ragged edge is repeated."""
    height, width = plane.shape[:2]
    pad_y, pad_x = -height % factor, -width % factor
    if pad_y or pad_x:
        plane = cv2.copyMakeBorder(plane, 0, pad_y, 0, pad_x, cv2.BORDER_REPLICATE)
    size = ((width + pad_x) // factor, (height + pad_y) // factor)
    return cv2.resize(plane, size, interpolation=cv2.INTER_AREA)  # integer factor: OpenCV's fast path


def sure_colours(image: np.ndarray, alpha: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The colours of sure background and sure subject near each cell of ``factor`` x ``factor`` pixels.

    ``image`` (H, W, 3) uint8, ``alpha`` (H, W) float in [0, 1]. A cell is sure background
    only if every pixel in it has alpha below EDGE_LOW, sure subject only if every one is
    above EDGE_HIGH, so the two estimates never mix. Returns the background and subject
    colours, (h, w, 4) float32 each (``_nearby_mean``), and (h, w) bool: the cells that are
    neither, where every edge pixel lies.
    """
    small = _cells(image, factor).astype(np.float32)
    clear = _cells((alpha < EDGE_LOW).view(np.uint8) * np.uint8(255), factor) == 255
    solid = _cells((alpha > EDGE_HIGH).view(np.uint8) * np.uint8(255), factor) == 255
    # Keeping a margin from the edge as well (eroding the background mask) was worse on the tune half.
    background = _nearby_mean(small, clear.astype(np.float32))
    subject = _nearby_mean(small, solid.astype(np.float32))
    return background, subject, ~(clear | solid)


def _edge_pixels(alpha: np.ndarray, cells: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the pixels with EDGE_LOW < alpha < EDGE_HIGH, searched in ``cells`` only."""
    height, width = alpha.shape
    cy, cx = np.nonzero(cells)
    steps = np.arange(factor)
    rows = (cy[:, None] * factor + steps)[:, :, None]  # (n, factor, 1); past the photo in ragged cells
    cols = (cx[:, None] * factor + steps)[:, None, :]
    values = alpha[np.minimum(rows, height - 1), np.minimum(cols, width - 1)]
    edge = (values > EDGE_LOW) & (values < EDGE_HIGH) & (rows < height) & (cols < width)
    return np.broadcast_to(rows, edge.shape)[edge], np.broadcast_to(cols, edge.shape)[edge]


def estimate_foreground(image: np.ndarray, alpha: np.ndarray, work_pixels: int = 150_000) -> np.ndarray:
    """Foreground colours for (H, W, 3) uint8 ``image`` under (H, W) float ``alpha`` in [0, 1].

    An edge pixel's observed colour is ``I = a F + (1 - a) B``. The background B is estimated
    on a copy of about ``work_pixels`` pixels from sure background only (``sure_colours``:
    the subject's own colours never enter it), and F is then solved per edge pixel at full
    resolution: ``F = I + (1 - a) / a (I - B)``, which moves a colour only away from its
    background. The move is bounded by what alpha explains and by what the colour itself
    shows (its place between B and the nearby sure subject colour: a colour already like
    the subject's is not moved, whatever alpha says), capped (MAX_PUSH), scaled down where
    no sure background is near (colours are left alone there), and shortened along its own
    direction to stay within 0-255 rather than clipped per channel, which would turn the
    hue. A subject whose colour equals its background's keeps it.
    Only the cells of the working copy that hold edge pixels are searched, so the cost
    grows with the outline. Returns (H, W, 3) uint8, equal to the input where alpha is 0 or 1.
    """
    out = image.copy()
    height, width = alpha.shape
    factor = max(1, min(height, width, int(np.ceil((height * width / work_pixels) ** 0.5))))
    background, subject, cells = sure_colours(image, alpha, factor)
    ys, xs = _edge_pixels(alpha, cells, factor)
    if ys.size == 0:
        return out
    sx, sy = (xs + 0.5) / factor - 0.5, (ys + 0.5) / factor - 0.5
    background, subject = _sample_bilinear(background, sx, sy), _sample_bilinear(subject, sx, sy)
    bg, trust, known = background[:, :3], background[:, 3:], subject[:, 3:]

    a = alpha[ys, xs].astype(np.float32)[:, None]
    observed = image[ys, xs].astype(np.float32)
    # How much subject the colour itself shows: observed projected onto background -> subject;
    # where no subject colour is near, or it is too like the background to tell, alpha alone.
    span = subject[:, :3] - bg
    length2 = (span * span).sum(axis=1, keepdims=True)
    projected = ((observed - bg) * span).sum(axis=1, keepdims=True) / np.maximum(length2, 1e-6)
    shown = np.where(length2 > MIN_CONTRAST**2, known * projected + (1.0 - known) * a, 1.0)
    shown = np.clip(np.maximum(shown, a), 1.0 / (1.0 + MAX_PUSH), 1.0)
    move = (1.0 - shown) / shown * trust * (observed - bg)
    with np.errstate(divide="ignore", invalid="ignore"):
        room = np.where(move > 0, (255.0 - observed) / move, np.where(move < 0, -observed / move, np.inf))
    fg = observed + move * np.minimum(room.min(axis=1, keepdims=True), 1.0)
    out[ys, xs] = np.clip(fg + 0.5, 0, 255).astype(np.uint8)
    return out
