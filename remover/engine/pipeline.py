"""The cut-out pipeline shared by the CLI, the web worker and remote workers.

decode -> segment (ISNet at 1024^2) -> refine (full-resolution alpha, edge colours) -> compose.
Each step reports ``progress(stage, percent)`` so callers can show a live bar.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

import cv2
import numpy as np
from PIL import Image

from . import compose
from .compose import CutOut
from .imageio import DecodedImage, decode_image, encode_image
from .refine import estimate_foreground, full_resolution_alpha, refine_boundary, snap_sure
from .segmenter import Segmenter

Progress = Callable[[str, int], None]
# Photos this many times larger than the model's canvas get full-resolution boundary tiles
# when the segmenter asks for detail.
DETAIL_FROM = 1.5
STAGES = ("decoding", "segmenting", "refining", "compositing")


def _silent(stage: str, percent: int) -> None:
    pass


@functools.cache
def shared_segmenter(device: str = "auto", precision: str = "auto", threads: int = 0, flip: bool = False) -> Segmenter:
    """One loaded model per process and configuration."""
    return Segmenter(device=device, precision=precision, threads=threads, flip=flip)


@dataclass(frozen=True)
class Background:
    """What goes behind the subject.

    kind: ``transparent``, ``colour`` (with ``colour``), ``image`` (with ``scene``, cover-fit
    around ``focus``), ``blur`` (the original photo, blurred) or ``mask`` (alpha only).
    """

    kind: Literal["transparent", "colour", "image", "blur", "mask"] = "transparent"
    colour: tuple[int, int, int] = (255, 255, 255)
    scene: np.ndarray | None = field(default=None, repr=False)
    focus: tuple[float, float] = (0.5, 0.5)

    @classmethod
    def parse(cls, value: str | None, scene_loader: Callable[[str], np.ndarray] | None = None) -> "Background":
        """``transparent`` / ``blur`` / ``mask`` / ``#RRGGBB`` / a path (read with ``scene_loader``)."""
        if value in (None, "", "transparent"):
            return cls()
        if value in ("blur", "mask"):
            return cls(kind=value)
        try:
            return cls(kind="colour", colour=compose.parse_colour(value))
        except ValueError:
            if scene_loader is None:
                raise
        return cls(kind="image", scene=scene_loader(value))

    @property
    def has_alpha(self) -> bool:
        return self.kind == "transparent"


def cut_out(image: DecodedImage, segmenter: Segmenter, progress: Progress = _silent) -> CutOut:
    """Segment and refine one decoded image into a full-resolution :class:`CutOut`."""
    width, height = image.size
    progress("segmenting", 5)
    prob = segmenter.predict([image.rgb], progress=lambda f: progress("segmenting", 5 + round(f * 65)))[0]
    progress("refining", 72)
    alpha = full_resolution_alpha(snap_sure(prob), width, height)
    if segmenter.detail and min(width, height) >= segmenter.size and max(width, height) > DETAIL_FROM * segmenter.size:
        alpha = refine_boundary(image.rgb, alpha, segmenter.predict_windows, segmenter.size)
        progress("refining", 80)
    if image.alpha is not None:
        # Already-transparent pixels of the upload stay transparent.
        alpha *= image.alpha.astype(np.float32) / 255.0
    foreground = estimate_foreground(image.rgb, alpha)
    progress("refining", 90)
    alpha_u8 = cv2.convertScaleAbs(alpha, alpha=255.0)  # rounds and saturates in one pass
    return CutOut(foreground=foreground, alpha=alpha_u8)


def render(cutout: CutOut, background: Background, original: np.ndarray | None = None) -> Image.Image:
    """The cut-out on ``background`` as a Pillow image (RGBA for transparent, L for mask, else RGB).

    ``original`` is the (H, W, 3) source photo, needed only for the ``blur`` background; it
    is resized to the cut-out when they differ (downloads capped below full resolution).
    """
    if background.kind == "transparent":
        return compose.to_rgba(cutout)
    if background.kind == "mask":
        return compose.mask_image(cutout)
    if background.kind == "colour":
        return compose.solid(cutout, background.colour)
    if background.kind == "image":
        return compose.on_scene(cutout, background.scene, background.focus)
    if original is None:
        raise ValueError("the blur background needs the original photo")
    width, height = cutout.size
    backdrop = compose.cover_fit(compose.blurred_backdrop(original), width, height)
    return Image.fromarray(compose.over(cutout, backdrop), "RGB")


def remove_background(
    source: bytes | str | Path | BinaryIO,
    segmenter: Segmenter,
    background: Background = Background(),
    fmt: str = "png",
    max_megapixels: float = 50.0,
    progress: Progress = _silent,
) -> bytes:
    """Decode ``source``, cut out the subject, put it on ``background`` and encode as ``fmt``."""
    progress("decoding", 0)
    image = decode_image(source, max_megapixels=max_megapixels)
    result = cut_out(image, segmenter, progress)
    progress("compositing", 92)
    if fmt == "jpg" and background.has_alpha:
        background = Background(kind="colour", colour=(255, 255, 255))
    data = encode_image(render(result, background, image.rgb), fmt)
    progress("done", 100)
    return data
