"""Put a cut-out onto a background: transparent, a solid colour, a scene image, or a blur."""

from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")


@dataclass(frozen=True)
class CutOut:
    """A foreground with soft alpha.

    foreground: (H, W, 3) uint8 sRGB, colours decontaminated where alpha is fractional.
    alpha: (H, W) uint8, 0 = background, 255 = subject.
    """

    foreground: np.ndarray
    alpha: np.ndarray

    @property
    def size(self) -> tuple[int, int]:
        return self.alpha.shape[1], self.alpha.shape[0]

    def resized(self, width: int, height: int) -> "CutOut":
        """Area-averaged downscale (or bilinear upscale); premultiplied so edges keep their colour."""
        if (width, height) == self.size:
            return self
        interp = cv2.INTER_AREA if width < self.size[0] else cv2.INTER_LINEAR
        a = self.alpha.astype(np.float32) / 255.0
        premul = self.foreground.astype(np.float32) * a[..., None]
        a_small = cv2.resize(a, (width, height), interpolation=interp)
        premul_small = cv2.resize(premul, (width, height), interpolation=interp)
        fg = premul_small / np.maximum(a_small, 1e-4)[..., None]
        return CutOut(
            foreground=np.clip(fg + 0.5, 0, 255).astype(np.uint8),
            alpha=np.clip(a_small * 255.0 + 0.5, 0, 255).astype(np.uint8),
        )


def parse_colour(value: str) -> tuple[int, int, int]:
    """``#RRGGBB`` or ``RRGGBB`` -> (r, g, b); raises ValueError with a readable message."""
    match = _HEX.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a colour; use six hex digits like #FFFFFF")
    h = match.group(1)
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def cover_fit(scene: np.ndarray, width: int, height: int, focus: tuple[float, float] = (0.5, 0.5)) -> np.ndarray:
    """Scale (h, w, 3) ``scene`` to cover width x height and crop; ``focus`` picks the crop centre in [0, 1]."""
    sh, sw = scene.shape[:2]
    scale = max(width / sw, height / sh)
    new_w, new_h = max(width, round(sw * scale)), max(height, round(sh * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    scaled = cv2.resize(scene, (new_w, new_h), interpolation=interp)
    x0 = round((new_w - width) * min(max(focus[0], 0.0), 1.0))
    y0 = round((new_h - height) * min(max(focus[1], 0.0), 1.0))
    return scaled[y0:y0 + height, x0:x0 + width]


# The blur's sigma in pixels of the shrunken copy that is actually blurred (see below).
_BLUR_WORKING_SIGMA = 8.0


def blurred_backdrop(image: np.ndarray, strength: float = 0.02) -> np.ndarray:
    """The original photo, Gaussian-blurred with sigma = ``strength`` x the longer side."""
    return wide_blur(image, max(1.0, strength * max(image.shape[:2])))


def wide_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur of an (H, W) or (H, W, C) array, sigma in pixels, same dtype and shape.

    A wide Gaussian keeps no detail finer than its sigma, so the blur runs on a copy shrunk
    until sigma is 8 pixels and is then enlarged: within a mean of 0.25 grey levels of the
    full-size blur, at a fixed cost. At full size the cost grows with sigma x pixels; a
    20x20000 strip (0.4 MP, any free download) took 23 s of CPU per request.
    """
    height, width = image.shape[:2]
    scale = min(1.0, _BLUR_WORKING_SIGMA / sigma)
    if scale == 1.0:
        return cv2.GaussianBlur(image, (0, 0), sigma)
    small_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(image, small_size, interpolation=cv2.INTER_AREA)
    blurred = cv2.GaussianBlur(small, (0, 0), sigma * scale)
    return cv2.resize(blurred, (width, height), interpolation=cv2.INTER_LINEAR)


# Rows composited at a time: the float temporaries of a whole 36 MP picture would be ~1.5 GB.
_OVER_ROWS = 256


def over(cutout: CutOut, backdrop: np.ndarray) -> np.ndarray:
    """Alpha-composite the cut-out over a (H, W, 3) uint8 backdrop -> (H, W, 3) uint8."""
    out = np.empty_like(backdrop)
    for top in range(0, backdrop.shape[0], _OVER_ROWS):
        rows = slice(top, top + _OVER_ROWS)
        a = cutout.alpha[rows].astype(np.float32)[..., None] / 255.0
        mixed = cutout.foreground[rows].astype(np.float32) * a + backdrop[rows].astype(np.float32) * (1.0 - a)
        out[rows] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
    return out


def to_rgba(cutout: CutOut) -> Image.Image:
    return Image.fromarray(np.dstack((cutout.foreground, cutout.alpha)), "RGBA")


def mask_image(cutout: CutOut) -> Image.Image:
    return Image.fromarray(cutout.alpha, "L")


def solid(cutout: CutOut, colour: tuple[int, int, int]) -> Image.Image:
    w, h = cutout.size
    backdrop = np.empty((h, w, 3), np.uint8)
    backdrop[...] = colour
    return Image.fromarray(over(cutout, backdrop), "RGB")


def on_scene(cutout: CutOut, scene: np.ndarray, focus: tuple[float, float] = (0.5, 0.5)) -> Image.Image:
    w, h = cutout.size
    return Image.fromarray(over(cutout, cover_fit(scene, w, h, focus)), "RGB")
