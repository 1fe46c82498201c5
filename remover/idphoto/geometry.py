"""Geometry of an ID photo: level the eyes, find the crown, scale and place the head in the frame.

Conventions: points are (x, y) pixels with y down. The *levelled* frame is the input image turned
about the eye midpoint until the eye line is horizontal (no scaling). The *output* frame is the
digital file: (0, 0) its top-left corner, ``Frame.height`` px tall. Bands measured "from the
bottom" (eye line) are converted to y from the top here, once.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .errors import IdPhotoError
from .presets import Preset

Band = tuple[float, float]
# The crown search is done on a copy scaled so the eyes are this many pixels apart: ~0.3 % of
# the head height per pixel is finer than the rules' tolerance, and it keeps big photos cheap.
CROWN_WORK_EYE_DISTANCE = 120.0
# Columns searched for the crown, either side of the eye midpoint, in inter-pupil distances:
# the top of the skull lies within this band even when the hair is parted or swept aside.
CROWN_HALF_WIDTH = 0.75
# A subject pixel in the cut-out (alpha >= 50 %).
OPAQUE = 128


@dataclass(frozen=True)
class Frame:
    """A preset's target geometry in output pixels.

    head_px: allowed chin-to-crown height. eye_band_px: allowed y of the eye line from the top,
    (upper, lower), or None. crown_gap_px: allowed space from the top edge to the crown, or None.
    """

    width: int
    height: int
    px_per_mm: float
    head_px: Band
    eye_band_px: Band | None
    crown_gap_px: Band | None

    @classmethod
    def from_preset(cls, preset: Preset) -> "Frame":
        k = preset.px_per_mm
        width, height = preset.pixels
        eyes = None
        if preset.eyes_mm is not None:
            eyes = (height - preset.eyes_mm[1] * k, height - preset.eyes_mm[0] * k)
        gap = (preset.crown_gap_mm[0] * k, preset.crown_gap_mm[1] * k) if preset.crown_gap_mm else None
        return cls(width, height, k, (preset.head_mm[0] * k, preset.head_mm[1] * k), eyes, gap)


@dataclass(frozen=True)
class HeadMeasure:
    """The head measured in the levelled frame, in input pixels.

    crown_above: eye line to crown. chin_below: eye line to chin. crown_cut: the subject reaches
    the edge of the photo above the head, so the true crown may be higher than measured.
    """

    crown_above: float
    chin_below: float
    crown_cut: bool

    @property
    def height(self) -> float:
        return self.crown_above + self.chin_below


@dataclass(frozen=True)
class Placement:
    """Where the head lands: ``matrix`` (2, 3) maps input pixels to output pixels.

    scale: output px per input px. eye_line, crown, chin: y in the output, px from the top.
    fits: every rule could be met at once (False: the nearest compromise was taken).
    """

    matrix: np.ndarray
    scale: float
    roll_degrees: float
    eye_line: float
    crown: float
    chin: float
    fits: bool


def roll_degrees(eyes: np.ndarray) -> float:
    """Angle of the eye line (2, 2; left of image first) from horizontal, positive clockwise on screen."""
    dx, dy = eyes[1] - eyes[0]
    return float(np.degrees(np.arctan2(dy, dx)))


def _rotation(eyes: np.ndarray) -> np.ndarray:
    """(2, 2) rotation that makes the eye line horizontal."""
    theta = np.radians(roll_degrees(eyes))
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, s], [-s, c]])


def similarity(eyes: np.ndarray, scale: float, eye_mid_to: tuple[float, float]) -> np.ndarray:
    """(2, 3) matrix: level the eyes, scale by ``scale`` and move the eye midpoint to ``eye_mid_to``."""
    rot = _rotation(eyes) * scale
    mid = eyes.mean(0)
    return np.hstack([rot, (np.asarray(eye_mid_to, float) - rot @ mid)[:, None]])


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map (N, 2) or (2,) points through a (2, 3) affine matrix."""
    return np.asarray(points, float) @ matrix[:, :2].T + matrix[:, 2]


def measure_head(alpha: np.ndarray, eyes: np.ndarray, chin: np.ndarray) -> HeadMeasure:
    """Crown and chin distances from the eye line, using the cut-out's alpha for the crown.

    alpha: (H, W) uint8 in the same pixels as ``eyes`` (2, 2) and ``chin`` (2,). The crown is the
    highest subject pixel, perpendicular to the eye line, in the columns around the eye midpoint,
    of the opaque region connected to the face; hair counts as head.
    """
    ipd = float(np.linalg.norm(eyes[1] - eyes[0]))
    k = min(1.0, CROWN_WORK_EYE_DISTANCE / ipd)
    h, w = alpha.shape
    corners = np.array([[0, 0], [w, 0], [0, h], [w, h]], float)
    reach = float(np.max(np.linalg.norm(corners - eyes.mean(0), axis=1))) * k
    side = int(np.ceil(2 * reach)) + 4
    centre = (side / 2.0, side / 2.0)
    # Levelled, scaled copy with the eye midpoint at the centre of a canvas large enough for all of it.
    matrix = similarity(eyes, k, centre)
    levelled = cv2.warpAffine(alpha, matrix, (side, side), flags=cv2.INTER_LINEAR, borderValue=0)
    inside = cv2.warpAffine(np.full((h, w), 255, np.uint8), matrix, (side, side), flags=cv2.INTER_NEAREST, borderValue=0)
    chin_below = float(apply(matrix, chin)[1] - centre[1]) / k
    opaque = (levelled >= OPAQUE).astype(np.uint8)
    cx, cy = int(round(centre[0])), int(round(centre[1]))
    if not opaque[cy, cx]:
        raise IdPhotoError("We could not separate the person from the background. Use a photo with a plain background.")
    _, labels = cv2.connectedComponents(opaque, connectivity=8)
    half = max(1, int(round(CROWN_HALF_WIDTH * ipd * k)))
    band = labels[:, cx - half:cx + half + 1] == labels[cy, cx]
    rows = np.nonzero(band.any(axis=1))[0]
    top = int(rows[0])
    column = cx - half + int(np.argmax(band[top]))
    # Cut off: just above the crown there is no photo, only the canvas outside it.
    crown_cut = top <= 1 or not inside[max(0, top - 2), column]
    return HeadMeasure(crown_above=(cy - top) / k, chin_below=chin_below, crown_cut=bool(crown_cut))


def _interval(*bands: Band | None) -> Band | None:
    lo, hi = -np.inf, np.inf
    for band in bands:
        if band is not None:
            lo, hi = max(lo, band[0]), min(hi, band[1])
    return (lo, hi) if lo <= hi else None


def plan(eyes: np.ndarray, head: HeadMeasure, frame: Frame) -> Placement:
    """Scale so the head height is the middle of its band, then place the eye line.

    The eye line goes to the middle of its band (or, without one, where the crown lands in the
    middle of its gap band), moved as little as needed so the crown gap and the chin stay inside
    the frame. If no position satisfies everything, the rule bands alone decide and the
    placement is marked ``fits=False`` for the report to flag.
    """
    if head.height <= 0:
        raise IdPhotoError("We could not measure the head in this photo.")
    scale = (frame.head_px[0] + frame.head_px[1]) / 2.0 / head.height
    above, below = scale * head.crown_above, scale * head.chin_below
    gap_band = (frame.crown_gap_px[0] + above, frame.crown_gap_px[1] + above) if frame.crown_gap_px else None
    rules = _interval(frame.eye_band_px, gap_band)
    in_frame = (above, frame.height - below)  # crown at or below the top edge, chin above the bottom
    preferred_band = frame.eye_band_px or gap_band or in_frame
    preferred = (preferred_band[0] + preferred_band[1]) / 2.0
    allowed = _interval(rules, in_frame) if rules else in_frame
    fits = allowed is not None
    target = allowed or rules or in_frame
    eye_line = float(np.clip(preferred, target[0], target[1]))
    matrix = similarity(eyes, scale, (frame.width / 2.0, eye_line))
    return Placement(
        matrix=matrix, scale=scale, roll_degrees=roll_degrees(eyes), eye_line=eye_line,
        crown=eye_line - above, chin=eye_line + below, fits=fits,
    )


def source_box(matrix: np.ndarray, size: tuple[int, int]) -> tuple[float, float, float, float]:
    """Bounding box (x0, y0, x1, y1) in input pixels of an output frame of ``size`` (w, h)."""
    w, h = size
    back = cv2.invertAffineTransform(matrix)
    corners = apply(back, np.array([[0, 0], [w, 0], [0, h], [w, h]], float))
    lo, hi = corners.min(0), corners.max(0)
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])
