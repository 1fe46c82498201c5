"""Framing a cut-out: crop to the subject, place it on a canvas, add a shadow.

Pure numpy / OpenCV on :class:`~remover.engine.compose.CutOut`, shared by the site's
downloads and the developer API. Every length here is relative to the subject or the
canvas (except a margin given in px), so a preview-size render and a full-size render of
the same framing look alike; the page's editor draws its live preview with the same
rules (static/js/framing.js).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from .compose import CutOut, wide_blur

# Alpha below this counts as background when looking for the subject: the faint haze a soft
# mask leaves far from the subject must not stretch its box.
SUBJECT_ALPHA = 16

# Canvas presets: name -> aspect (width, height); "original" keeps the cut-out's own frame.
ASPECTS: dict[str, tuple[int, int]] = {"1:1": (1, 1), "4:5": (4, 5), "9:16": (9, 16), "16:9": (16, 9)}
CANVAS_PRESETS = ("original", *ASPECTS, "custom")
SHADOW_STYLES = ("off", "drop", "contact")
MAX_PADDING_PERCENT = 40.0  # of the canvas's shorter side, each side: more leaves no room for the subject

MarginUnit = Literal["px", "%"]
Box = tuple[int, int, int, int]  # left, top, right, bottom; right and bottom exclusive


def subject_box(alpha: np.ndarray) -> Box | None:
    """The bounding box of ``alpha`` (H, W) uint8 at or above SUBJECT_ALPHA; None when empty."""
    solid = alpha >= SUBJECT_ALPHA
    rows = np.flatnonzero(solid.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(solid.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def crop_to_subject(cutout: CutOut, margin: float, unit: MarginUnit) -> CutOut:
    """The subject's bounding box plus ``margin`` on each side: pixels of the cut-out (``px``)
    or % of the box's width (left, right) and height (top, bottom). Where the margin reaches
    past the photo the new pixels are transparent. No subject: unchanged."""
    box = subject_box(cutout.alpha)
    if box is None:
        return cutout
    left, top, right, bottom = box
    if unit == "%":
        mx, my = round((right - left) * margin / 100), round((bottom - top) * margin / 100)
    else:
        mx = my = round(margin)
    top, bottom, left, right = top - my, bottom + my, left - mx, right + mx
    height, width = cutout.alpha.shape
    foreground = np.zeros((bottom - top, right - left, 3), np.uint8)
    alpha = np.zeros((bottom - top, right - left), np.uint8)
    # The part of the new box that lies on the photo.
    y0, y1, x0, x1 = max(top, 0), min(bottom, height), max(left, 0), min(right, width)
    foreground[y0 - top:y1 - top, x0 - left:x1 - left] = cutout.foreground[y0:y1, x0:x1]
    alpha[y0 - top:y1 - top, x0 - left:x1 - left] = cutout.alpha[y0:y1, x0:x1]
    return CutOut(foreground=foreground, alpha=alpha)


def canvas_size(content: tuple[int, int], preset: str, padding: float = 0.0,
                custom: tuple[int, int] | None = None) -> tuple[int, int]:
    """The canvas (width, height) for ``content`` (width, height) under a preset.

    ``custom``: exactly ``custom``. ``original``: the content's own frame. An aspect preset
    (``1:1``, ``4:5``, ``9:16``, ``16:9``): the smallest canvas of that aspect that holds the
    content at its own size. With ``padding`` (% of the canvas's shorter side, each side) the
    canvas grows so the content still fits unscaled inside the padding.
    """
    if preset == "custom":
        if custom is None:
            raise ValueError("the custom canvas needs a width and a height")
        return custom
    w, h = content
    p = padding / 100.0
    if preset == "original":
        # The canvas is the content plus 2p of the canvas's shorter side, in both directions.
        short = min(w, h) / (1 - 2 * p)
        return round(w + (short - min(w, h))), round(h + (short - min(w, h)))
    if preset not in ASPECTS:
        raise ValueError(f"unknown canvas preset {preset!r}; use one of {', '.join(CANVAS_PRESETS)}")
    rw, rh = ASPECTS[preset]
    inset = 2 * p * min(rw, rh)
    unit = max(w / (rw - inset), h / (rh - inset))  # canvas = unit x (rw, rh)
    return max(1, math.ceil(unit * rw - 1e-6)), max(1, math.ceil(unit * rh - 1e-6))


@dataclass(frozen=True)
class Placement:
    """Where content lands on a canvas.

    canvas: (width, height) of the output in pixels. box: (x, y, width, height) of the
    content on it, inside the canvas.
    """

    canvas: tuple[int, int]
    box: tuple[int, int, int, int]

    def fitted(self, max_megapixels: float) -> "Placement":
        """The same layout shrunk (never enlarged) to at most ``max_megapixels``."""
        cw, ch = self.canvas
        limit = max_megapixels * 1e6
        if cw * ch <= limit:
            return self
        f = math.sqrt(limit / (cw * ch))
        canvas = (max(1, math.floor(cw * f)), max(1, math.floor(ch * f)))
        fx, fy = canvas[0] / cw, canvas[1] / ch
        x, y, w, h = self.box
        w2, h2 = max(1, min(canvas[0], round(w * fx))), max(1, min(canvas[1], round(h * fy)))
        x2 = min(max(0, round(x * fx)), canvas[0] - w2)
        y2 = min(max(0, round(y * fy)), canvas[1] - h2)
        return Placement(canvas=canvas, box=(x2, y2, w2, h2))


def plan(content: tuple[int, int], canvas: tuple[int, int], *, padding: float = 0.0,
         scale: float | None = None, position: tuple[float, float] = (0.5, 0.5)) -> Placement:
    """Fit ``content`` (width, height) into ``canvas`` (width, height), aspect kept.

    padding: % of the canvas's shorter side kept free on each side, 0..MAX_PADDING_PERCENT.
    scale: the content's size as a share of the largest that fits, in (0, 1]; None = 1. This
    is remove.bg's ``scale`` when ``content`` is the subject's box and ``canvas`` the photo.
    position: where the content sits in the room left over, (0, 0) top left, (0.5, 0.5)
    centred, (1, 1) bottom right; remove.bg's ``position`` as fractions instead of %.
    """
    if not 0.0 <= padding <= MAX_PADDING_PERCENT:
        raise ValueError(f"padding must be 0 to {MAX_PADDING_PERCENT:g}% of the canvas")
    if scale is not None and not 0.0 < scale <= 1.0:
        raise ValueError("scale must be more than 0 and at most 1")
    cw, ch = canvas
    w, h = content
    inset = round(min(cw, ch) * padding / 100.0)
    room_w, room_h = max(1, cw - 2 * inset), max(1, ch - 2 * inset)
    fit = min(room_w / w, room_h / h) * (scale or 1.0)
    bw, bh = max(1, min(room_w, round(w * fit))), max(1, min(room_h, round(h * fit)))
    px, py = (min(max(v, 0.0), 1.0) for v in position)
    return Placement(canvas=(cw, ch), box=(inset + round((room_w - bw) * px), inset + round((room_h - bh) * py), bw, bh))


def place(cutout: CutOut, placement: Placement) -> CutOut:
    """The cut-out resized into ``placement.box`` on a transparent canvas."""
    x, y, w, h = placement.box
    cw, ch = placement.canvas
    content = cutout.resized(w, h)
    if (x, y, w, h) == (0, 0, cw, ch):
        return content
    foreground = np.zeros((ch, cw, 3), np.uint8)
    alpha = np.zeros((ch, cw), np.uint8)
    foreground[y:y + h, x:x + w] = content.foreground
    alpha[y:y + h, x:x + w] = content.alpha
    return CutOut(foreground=foreground, alpha=alpha)


# Shadow geometry, as shares of the subject box's longer side L (drop) or its height H (contact).
_DROP_OFFSET = (0.015, 0.04)  # (right, down) x L
_DROP_SIGMA = 0.015  # x L: 3 sigma < the offset down, so nothing darkens above the subject
_CONTACT_HEIGHT = 0.08  # the silhouette squashed to this x H, centred on the subject's bottom edge
_CONTACT_SIGMA = 0.015  # x L
_SHADOW_MIN_SIGMA = 0.6  # pixels; below this a Gaussian kernel is one pixel


def shadow_layer(alpha: np.ndarray, style: str, strength: float) -> np.ndarray:
    """The shadow's opacity (H, W) float32 in [0, strength] for ``alpha`` (H, W) uint8.

    drop: the subject's silhouette moved right and down and blurred. contact: the silhouette
    squashed flat and centred on the subject's bottom edge and blurred a little, as if it stood
    on the floor.
    """
    layer = np.zeros(alpha.shape, np.float32)
    found = _shadow_region(alpha, style, strength)
    if found is not None:
        part, (x0, y0, x1, y1) = found
        layer[y0:y1, x0:x1] = part
    return layer


def _shadow_region(alpha: np.ndarray, style: str, strength: float) -> tuple[np.ndarray, Box] | None:
    """The shadow's opacity over the only box it reaches (the moved or flattened silhouette
    plus 4 sigma of blur, inside the frame), and that box; None when there is no shadow."""
    if style not in ("drop", "contact"):
        raise ValueError(f"unknown shadow style {style!r}; use drop or contact")
    if not 0.0 <= strength <= 1.0:
        raise ValueError("shadow strength must be 0 to 1")
    height, width = alpha.shape
    box = subject_box(alpha)
    if box is None or strength == 0.0:
        return None
    left, top, right, bottom = box
    longer = max(right - left, bottom - top)
    silhouette = alpha[top:bottom, left:right].astype(np.float32) / 255.0
    if style == "drop":
        dx, dy = round(_DROP_OFFSET[0] * longer), round(_DROP_OFFSET[1] * longer)
        sigma = _DROP_SIGMA * longer
        # Where the moved silhouette lands (inside the frame).
        sx0, sy0, sx1, sy1 = left + dx, top + dy, min(right + dx, width), min(bottom + dy, height)
        shape = silhouette[:sy1 - sy0, :sx1 - sx0]
    else:
        sigma = _CONTACT_SIGMA * longer
        flat_h = max(1, round(_CONTACT_HEIGHT * (bottom - top)))
        flat = cv2.resize(silhouette, (right - left, flat_h), interpolation=cv2.INTER_AREA).reshape(flat_h, -1)
        sx0, sy0, sx1 = left, bottom - flat_h // 2, right
        sy1 = min(height, sy0 + flat_h)
        shape = flat[:sy1 - sy0]
    if sx0 >= sx1 or sy0 >= sy1:
        return None
    reach = math.ceil(4 * sigma) + 1
    x0, y0, x1, y1 = max(0, sx0 - reach), max(0, sy0 - reach), min(width, sx1 + reach), min(height, sy1 + reach)
    layer = np.zeros((y1 - y0, x1 - x0), np.float32)
    layer[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = shape
    if sigma >= _SHADOW_MIN_SIGMA:
        layer = wide_blur(layer, sigma)
    return np.clip(layer, 0.0, 1.0) * strength, (x0, y0, x1, y1)


def with_shadow(cutout: CutOut, style: str, strength: float) -> CutOut:
    """The cut-out with a black shadow of ``style`` (drop or contact) behind the subject,
    ``strength`` 0..1 its darkest opacity. The shadow is part of the returned alpha: on a
    colour or scene it darkens what is under it, and in a transparent PNG it stays a
    semi-transparent layer. It is drawn inside the cut-out's frame (add a margin for room)."""
    found = _shadow_region(cutout.alpha, style, strength)
    if found is None:
        return cutout
    shadow, (x0, y0, x1, y1) = found
    alpha, foreground = cutout.alpha.copy(), cutout.foreground.copy()
    a = alpha[y0:y1, x0:x1].astype(np.float32) / 255.0
    combined = a + shadow * (1.0 - a)  # the subject over a black shadow
    # Colour of subject-over-black, un-premultiplied: fg * a / combined (black adds nothing).
    keep = np.divide(a, combined, out=np.ones_like(a), where=combined > 0)
    foreground[y0:y1, x0:x1] = np.clip(foreground[y0:y1, x0:x1] * keep[..., None] + 0.5, 0, 255).astype(np.uint8)
    alpha[y0:y1, x0:x1] = np.clip(combined * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return CutOut(foreground=foreground, alpha=alpha)


@dataclass(frozen=True)
class Framing:
    """How a download frames the cut-out; the default changes nothing.

    crop: trim to the subject plus ``margin`` (``margin_unit``: px of the cut-out, or % of
    the subject box). canvas: a CANVAS_PRESETS name; ``size`` (width, height) for custom.
    padding: % of the canvas's shorter side on each side. scale, position: see :func:`plan`.
    shadow: off, drop or contact, ``shadow_strength`` 0..1.
    """

    crop: bool = False
    margin: float = 0.0
    margin_unit: MarginUnit = "px"
    canvas: str = "original"
    size: tuple[int, int] | None = None
    padding: float = 0.0
    scale: float | None = None
    position: tuple[float, float] = (0.5, 0.5)
    shadow: str = "off"
    shadow_strength: float = 0.5


def frame(cutout: CutOut, framing: Framing, max_megapixels: float, shadow: bool = True,
          px_scale: float = 1.0) -> CutOut:
    """Crop, place and shadow ``cutout`` as ``framing`` says, at most ``max_megapixels``.

    The layout is planned at the cut-out's size and then shrunk, so a capped download is
    the larger one scaled down. ``px_scale``: pixels of ``cutout`` per pixel of the photo a
    px margin refers to (a cut-out loaded at half size: 0.5). ``shadow=False`` leaves the
    shadow out (for the mask download).
    """
    if framing.crop:
        margin = framing.margin * px_scale if framing.margin_unit == "px" else framing.margin
        cutout = crop_to_subject(cutout, margin, framing.margin_unit)
    canvas = canvas_size(cutout.size, framing.canvas, framing.padding, framing.size)
    placement = plan(cutout.size, canvas, padding=framing.padding, scale=framing.scale, position=framing.position)
    cutout = place(cutout, placement.fitted(max_megapixels))
    if shadow and framing.shadow != "off" and framing.shadow_strength > 0:
        cutout = with_shadow(cutout, framing.shadow, framing.shadow_strength)
    return cutout
