"""Checks of the face itself, from the 468-point mesh: pose, eyes open, mouth closed, sharpness, light.

Each measure is taken on one photo (the report passes the finished ID photo) and compared with
an allowed range; :data:`RULES` names the rule each range comes from. The geometry of the
frame (head height, eye line) is in :mod:`remover.idphoto.report`.

Not offered: *occlusion* (hair over the eyes, a hand, sunglasses) and *smiling with the mouth
closed*. The face mesh and iris models regress every point whether or not it is visible (they
give no per-point visibility or confidence), so they place eyelids under a fringe as
confidently as in plain view; and the evaluation portraits hold no smiles or covered faces to
set a threshold on. The open-mouth check does catch a smile that shows the teeth.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from . import faces as mesh_points
from .faces import Face

# Sharpness and light are measured on a copy scaled so that the pupils are at most this far
# apart (never enlarged: an enlarged face would look blurred, and the resolution check already
# says when the source is too small). At this scale a blur that shows at print size spans a
# pixel or more.
WORK_EYE_DISTANCE = 64.0
# Re-blur used by the sharpness measure, in working pixels.
REBLUR_SIGMA = 1.0
# The forehead-to-chin line leans back on a frontal face: its median pitch on the tune half of
# the evaluation portraits (confirm half: -2.1°). Pitch is reported from there.
PITCH_FRONTAL = -1.4


@dataclass(frozen=True)
class Rule:
    """An allowed range (None: unbounded that side) and where it comes from."""

    low: float | None
    high: float | None
    source: str

    def allows(self, value: float) -> bool:
        # Compared as rounded for the report (one decimal more than shown), so the page never
        # says "2.0°, allowed ±2°: failed".
        value = round(value, 3)
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


ISO_POSE = "ISO/IEC 19794-5 Annex A (best practice, followed by ICAO Doc 9303 Part 3): within ±5° of frontal"
RULES = {
    # We level the eyes, so what is left after levelling is measurement noise; a visible tilt
    # is a fault.
    "eyes_level": Rule(-2.0, 2.0, "Clearcut's tolerance after levelling (ISO/IEC 19794-5 Annex A allows ±8° of roll "
                                  "in the capture)"),
    # The rule's ±5°, plus the 2° by which the mesh's yaw of one and the same face moves when
    # only its light or focus changes (up to 1.9° on the evaluation portraits' variants): a
    # frontal face a little off in a dim photo must not fail the pose as well.
    "head_yaw": Rule(-7.0, 7.0, ISO_POSE + "; Clearcut adds 2° for its measuring error"),
    # The rule is ±5° too, but the mesh's depth is coarse along the face: on the 38 frontal
    # evaluation portraits its pitch scatters with a standard deviation of 4.9° (tune half), so
    # ±5° would refuse good photos. ±12° catches a clearly raised or lowered head only.
    "head_pitch": Rule(-12.0, 12.0, ISO_POSE + "; Clearcut allows ±12° for its measuring error"),
    # Eyelid opening over eye width: about 0.3 for open eyes, under 0.1 for closed ones
    # (evaluation portraits: 0.27 or more).
    "eyes_open": Rule(0.15, None, "ICAO Doc 9303 Part 3 and ISO/IEC 19794-5: eyes open and clearly visible"),
    # Gap between the inner lips over the lips' outer height: up to 0.3 for closed lips on the
    # evaluation portraits (full lips read a little open), 0.49 for the astronaut's smile with
    # the teeth showing.
    "mouth_closed": Rule(None, 0.4, "ICAO Doc 9303 Part 3 and ISO/IEC 19794-5: neutral expression, mouth closed"),
    # Evaluation portraits 0.13-0.21; a Gaussian blur of 1.5 % of the inter-pupil distance
    # (about 0.1 mm on a 35×45 mm print) brings a sharp face to about 0.1.
    "sharpness": Rule(0.1, None, "ICAO Doc 9303 Part 3 and ISO/IEC 19794-5: in sharp focus"),
    # Darker half's median brightness over the brighter half's. The evaluation portraits go
    # down to 0.70 (an indoor photo lit from one side); a shadow halving one side reads 0.5.
    "lighting": Rule(0.6, None, "ICAO Doc 9303 Part 3 and ISO/IEC 19794-5: even lighting, no shadows on the face"),
}


@dataclass(frozen=True)
class FaceQuality:
    """The measures of one face. Angles in degrees (yaw > 0: turned towards the right of the
    image; pitch > 0: chin up, from the frontal median; roll > 0: the right-hand eye lower).
    eyes_open: the less open eye's lid opening over its width. mouth_open: inner-lip gap over
    the lips' outer height. sharpness in
    [0, 1]. lighting: darker over brighter half, the worse of left/right and top/bottom."""

    yaw: float
    pitch: float
    roll: float
    eyes_open: float
    mouth_open: float
    sharpness: float
    lighting_left_right: float
    lighting_top_bottom: float

    @property
    def lighting(self) -> float:
        return min(self.lighting_left_right, self.lighting_top_bottom)

    def values(self) -> dict[str, float]:
        """The value each check of RULES compares with its range."""
        return {
            "eyes_level": self.roll, "head_yaw": self.yaw, "head_pitch": self.pitch, "eyes_open": self.eyes_open,
            "mouth_closed": self.mouth_open, "sharpness": self.sharpness, "lighting": self.lighting,
        }

    def failed(self) -> set[str]:
        """The checks of RULES this face fails."""
        return {name for name, value in self.values().items() if not RULES[name].allows(value)}


def _levelled(face: Face) -> np.ndarray:
    """(468, 3) mesh turned about the pupils' midpoint so that the eye line is horizontal."""
    theta = np.radians(face.roll_degrees)
    rot = np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]])
    xy = (face.mesh[:, :2] - face.eyes.mean(0)) @ rot.T
    return np.column_stack([xy, face.mesh[:, 2]])


def pose(face: Face) -> tuple[float, float]:
    """(yaw, pitch) in degrees from the mesh's depth: the cheek-to-cheek line's turn out of the
    image plane, and the forehead-to-chin line's (less its lean on a frontal face)."""
    mesh = _levelled(face)
    across = mesh[mesh_points.CHEEKS[1]] - mesh[mesh_points.CHEEKS[0]]
    down = mesh[mesh_points.CHIN] - mesh[mesh_points.FOREHEAD]
    yaw = np.degrees(np.arctan2(across[2], across[0]))
    pitch = np.degrees(np.arctan2(-down[2], down[1])) - PITCH_FRONTAL
    return float(yaw), float(pitch)


def _ratio(mesh: np.ndarray, gap: tuple[int, int], width: tuple[int, int]) -> float:
    return float(np.linalg.norm(mesh[gap[0], :2] - mesh[gap[1], :2]) /
                 max(1e-6, np.linalg.norm(mesh[width[0], :2] - mesh[width[1], :2])))


def _working_copy(rgb: np.ndarray, face: Face) -> tuple[np.ndarray, np.ndarray]:
    """(grey levelled crop of the face at WORK_EYE_DISTANCE or less, float32 in [0, 1];
    the mesh's (468, 2) points in it)."""
    scale = min(1.0, WORK_EYE_DISTANCE / face.eye_distance)
    x0, y0, x1, y1 = face.box
    size = 1.2 * max(x1 - x0, y1 - y0)
    side = max(8, round(size * scale))
    centre = np.array([(x0 + x1) / 2.0, (y0 + y1) / 2.0])
    theta = np.radians(face.roll_degrees)
    rot = np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]]) * scale
    to_crop = np.hstack([rot, (side / 2.0 - rot @ centre)[:, None]])
    matrix = to_crop
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[..., :3]), cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    if scale < 1.0:
        # Area-average down first: the warp alone would alias and invent detail.
        small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        pre = np.array([[scale, 0, 0.5 * scale - 0.5], [0, scale, 0.5 * scale - 0.5], [0, 0, 1]])
        matrix = (np.vstack([matrix, [0, 0, 1]]) @ np.linalg.inv(pre))[:2]
        grey = small
    crop = cv2.warpAffine(grey, matrix, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    points = face.mesh[:, :2] @ to_crop[:, :2].T + to_crop[:, 2]
    return crop, points


def _inner_face(points: np.ndarray, shape: tuple[int, int], eye_distance: float) -> np.ndarray:
    """(H, W) bool: inside the face oval, shrunk so that hair and background at its rim are out."""
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(points[list(mesh_points.FACE_OVAL)]).astype(np.int32)], 1)
    radius = max(1, round(0.08 * eye_distance))
    return cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))) > 0


def _edges(grey: np.ndarray) -> np.ndarray:
    return np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))


def sharpness(grey: np.ndarray, inside: np.ndarray) -> float:
    """Share of the face's edge strength that a further blur of REBLUR_SIGMA px takes away, in [0, 1].

    A sharp face loses much of its gradient to that blur; a face already blurred has little
    fine detail left to lose. A ratio, so the face's contrast does not matter, and taken at
    the working scale, so its size does not either. (Gradients, not the Laplacian: on a
    blurred photo the Laplacian is dominated by the 8-bit rounding noise.)
    """
    detail = _edges(grey)[inside].mean()
    remaining = _edges(cv2.GaussianBlur(grey, (0, 0), REBLUR_SIGMA))[inside].mean()
    return float(np.clip(1.0 - remaining / max(float(detail), 1e-6), 0.0, 1.0))


def _balance(a: np.ndarray, b: np.ndarray) -> float:
    if a.size == 0 or b.size == 0:
        return 1.0
    lo, hi = sorted((float(np.median(a)), float(np.median(b))))
    return lo / hi if hi > 0 else 1.0


def lighting(grey: np.ndarray, inside: np.ndarray, points: np.ndarray) -> tuple[float, float]:
    """(left/right, top/bottom) balance of the face's brightness: darker half's median over the
    brighter's. Halves split at the nose's vertical and at the nose tip's height."""
    ys, xs = np.nonzero(inside)
    values = grey[ys, xs]
    nose = points[mesh_points.NOSE_TIP]
    left, top = xs < nose[0], ys < nose[1]
    return _balance(values[left], values[~left]), _balance(values[top], values[~top])


def measure(rgb: np.ndarray, face: Face) -> FaceQuality:
    """Every measure of ``face`` in ``rgb`` (H, W, 3) uint8, whose pixels the face is in."""
    mesh = _levelled(face)
    yaw, pitch = pose(face)
    eyes = min(_ratio(mesh, mesh_points.LEFT_EYELIDS, mesh_points.LEFT_EYE_CORNERS),
               _ratio(mesh, mesh_points.RIGHT_EYELIDS, mesh_points.RIGHT_EYE_CORNERS))
    grey, points = _working_copy(rgb, face)
    inside = _inner_face(points, grey.shape, min(face.eye_distance, WORK_EYE_DISTANCE))
    left_right, top_bottom = lighting(grey, inside, points)
    return FaceQuality(
        yaw=yaw, pitch=pitch, roll=face.roll_degrees, eyes_open=eyes,
        mouth_open=_ratio(mesh, mesh_points.INNER_LIPS, mesh_points.OUTER_LIPS),
        sharpness=sharpness(grey, inside), lighting_left_right=left_right, lighting_top_bottom=top_bottom,
    )
