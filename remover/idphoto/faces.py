"""Face detection, 68 facial landmarks and pupil centres.

Detector: dlib's HOG frontal face detector (built into ``dlib-bin``). Landmarks: dlib's 68-point
shape predictor shipped in the ``face-recognition-models`` package (iBUG 300-W point order:
jaw 0–16, chin tip 8, eyes 36–41 and 42–47). Both load from installed files; nothing is
downloaded at run time. The eye contour's mean sits a few % of the inter-pupil distance off the
pupil, so :func:`refine_pupil` moves it to the centre of the dark iris disc (see BENCHMARKS.md).

Coordinates are (x, y) float pixels of the image passed in, y down.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .errors import IdPhotoError

# HOG runs on a copy whose longer side is at most this: faces in ID photos are large, and the
# detector costs grow with the pixel count. Landmarks are then fitted at full resolution.
DETECT_MAX_SIDE = 800
# HOG score a detection needs. Upright faces in the evaluation portraits and skimage's astronaut
# score 1.1 or more, rolled ones 0.8 or more; the false positives seen (the astronaut's flag and
# knee, upright or turned) scored at most 0.55.
MIN_SCORE = 0.7
# When nothing is found upright, the image is turned by these angles (degrees, counter-clockwise)
# and tried again, so that a strongly tilted head is still found and levelled.
RETRY_ANGLES = (-20.0, 20.0, -40.0, 40.0)
# dlib's detector has five HOG filters; 3 and 4 find frontal faces rolled about 25° one way or
# the other (measured on rotated copies of skimage's astronaut). Their roll seeds the fit.
FILTER_ROLL = {3: -25.0, 4: 25.0}
# Landmarks are refitted in a levelled copy when the face rolls this much (degrees) or more.
LEVEL_FIT_BELOW = 3.0
# Iris radius as a fraction of the eye's corner-to-corner width (adult iris ~11.7 mm across,
# eye opening ~30 mm wide).
IRIS_RADIUS_PER_EYE_WIDTH = 0.2
CHIN_INDEX = 8
LEFT_EYE = slice(36, 42)   # the subject's right eye, on the left of the image
RIGHT_EYE = slice(42, 48)


@dataclass(frozen=True)
class Face:
    """One face: box (x0, y0, x1, y1), the 68 landmarks (68, 2) and the two pupils (2, 2), left of image first."""

    box: tuple[float, float, float, float]
    points: np.ndarray
    eyes: np.ndarray

    @property
    def chin(self) -> np.ndarray:
        """(2,) the lowest point of the chin."""
        return self.points[CHIN_INDEX]

    @property
    def eye_distance(self) -> float:
        """Inter-pupil distance in pixels."""
        return float(np.linalg.norm(self.eyes[1] - self.eyes[0]))

    @property
    def roll_degrees(self) -> float:
        """Angle of the eye line from horizontal, positive when the right-hand eye is lower (y down)."""
        dx, dy = self.eyes[1] - self.eyes[0]
        return float(np.degrees(np.arctan2(dy, dx)))

    def moved(self, matrix: np.ndarray) -> "Face":
        """This face in another frame: ``matrix`` is a (2, 3) affine map of points."""
        def move(p: np.ndarray) -> np.ndarray:
            return p @ matrix[:, :2].T + matrix[:, 2]
        corners = move(np.array([[self.box[0], self.box[1]], [self.box[2], self.box[3]],
                                 [self.box[0], self.box[3]], [self.box[2], self.box[1]]], float))
        lo, hi = corners.min(0), corners.max(0)
        eyes = move(self.eyes)
        return Face(box=(lo[0], lo[1], hi[0], hi[1]), points=move(self.points), eyes=eyes[np.argsort(eyes[:, 0])])


def _models_dir() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or spec.origin is None:
        raise RuntimeError("face-recognition-models is not installed (pip install face-recognition-models)")
    # Located without importing it: its __init__ needs pkg_resources, which new setuptools dropped.
    return Path(spec.origin).parent / "models"


@functools.cache
def _detector():
    import dlib

    return dlib.get_frontal_face_detector()


@functools.cache
def _predictor():
    import dlib

    return dlib.shape_predictor(str(_models_dir() / "shape_predictor_68_face_landmarks.dat"))


def refine_pupil(gray: np.ndarray, contour: np.ndarray) -> np.ndarray:
    """Centre of the dark iris disc inside one eye's six contour points.

    gray: (H, W) uint8. contour: (6, 2) landmark points of one eye. Returns (2,) pixels. The
    image is correlated with a disc of the expected iris radius; the best-scoring position inside
    the eye opening wins, and a weighted mean of the near-best positions gives sub-pixel precision.
    """
    width = float(np.ptp(contour[:, 0]))
    radius = max(2.0, IRIS_RADIUS_PER_EYE_WIDTH * width)
    centre = contour.mean(0)
    pad = int(np.ceil(radius)) + 2
    x0 = max(0, int(np.floor(contour[:, 0].min())) - pad)
    x1 = min(gray.shape[1], int(np.ceil(contour[:, 0].max())) + pad + 1)
    y0 = max(0, int(np.floor(min(contour[:, 1].min(), centre[1] - radius))) - pad)
    y1 = min(gray.shape[0], int(np.ceil(max(contour[:, 1].max(), centre[1] + radius))) + pad + 1)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return centre
    patch = 255.0 - gray[y0:y1, x0:x1].astype(np.float32)
    r = int(round(radius))
    disc = np.zeros((2 * r + 1, 2 * r + 1), np.float32)
    cv2.circle(disc, (r, r), r, 1.0, -1)
    response = cv2.filter2D(patch, -1, disc / disc.sum(), borderType=cv2.BORDER_REPLICATE)
    inside = np.zeros(patch.shape, np.uint8)
    cv2.fillPoly(inside, [np.round(contour - (x0, y0)).astype(np.int32)], 1)
    if not inside.any():
        return centre
    scores = np.where(inside > 0, response, -np.inf)
    best = scores.max()
    # Positions within 2 grey levels of the best: the flat top of the response over the iris.
    weights = np.where(scores >= best - 2.0, scores - (best - 2.0) + 1e-3, 0.0)
    ys, xs = np.nonzero(weights)
    w = weights[ys, xs]
    return np.array([x0 + (xs * w).sum() / w.sum(), y0 + (ys * w).sum() / w.sum()])


def _fit(rgb: np.ndarray, gray: np.ndarray, centre: np.ndarray, side: float) -> Face:
    """68 landmarks and pupils for the face in the square box of ``side`` px around ``centre``."""
    import dlib

    x0, y0 = centre - side / 2.0
    box = (float(x0), float(y0), float(x0 + side), float(y0 + side))
    rect = dlib.rectangle(*(int(round(v)) for v in box))
    shape = _predictor()(rgb, rect)
    points = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)
    eyes = np.array([refine_pupil(gray, points[LEFT_EYE]), refine_pupil(gray, points[RIGHT_EYE])])
    return Face(box=box, points=points, eyes=eyes[np.argsort(eyes[:, 0])])


def _rotation(shape: tuple[int, ...], degrees: float) -> tuple[np.ndarray, tuple[int, int]]:
    """(2, 3) matrix turning an image of ``shape`` by ``degrees`` (counter-clockwise on screen) about
    its centre onto a canvas (width, height) large enough to hold all of it."""
    h, w = shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(np.ceil(h * sin + w * cos)), int(np.ceil(h * cos + w * sin))
    matrix[0, 2] += new_w / 2.0 - w / 2.0
    matrix[1, 2] += new_h / 2.0 - h / 2.0
    return matrix, (new_w, new_h)


def _turn(rgb: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """(turned copy, its (2, 3) matrix from ``rgb`` pixels); a roll of ``degrees`` becomes level."""
    matrix, size = _rotation(rgb.shape, degrees)
    return cv2.warpAffine(rgb, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), matrix


def _fit_levelled(rgb: np.ndarray, gray: np.ndarray, centre: np.ndarray, side: float, roll: float) -> Face:
    """Landmarks fitted in a copy turned by ``roll`` degrees, where the face is upright (the shape
    predictor was trained on upright faces), mapped back to ``rgb`` pixels."""
    if abs(roll) < LEVEL_FIT_BELOW:
        return _fit(rgb, gray, centre, side)
    turned, matrix = _turn(rgb, roll)
    turned_gray = cv2.cvtColor(turned, cv2.COLOR_RGB2GRAY)
    face = _fit(turned, turned_gray, centre @ matrix[:, :2].T + matrix[:, 2], side)
    return face.moved(cv2.invertAffineTransform(matrix))


def _detect(rgb: np.ndarray) -> list[tuple[np.ndarray, float, float]]:
    """Faces as (centre (2,), box side, roll guess in degrees) in ``rgb`` pixels, largest first."""
    h, w = rgb.shape[:2]
    scale = min(1.0, DETECT_MAX_SIDE / max(h, w))
    small = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    # One upsampling finds faces down to ~40 px across in the working copy.
    rects, _, filters = _detector().run(np.ascontiguousarray(small), 1, MIN_SCORE)
    found: list[tuple[np.ndarray, float, float]] = []
    for rect, index in sorted(zip(rects, filters), key=lambda d: -d[0].width()):
        centre = np.array([(rect.left() + rect.right()) / 2.0, (rect.top() + rect.bottom()) / 2.0]) / scale
        side = rect.width() / scale
        # Overlapping windows of different filters report one face twice: keep the larger.
        if any(np.abs(centre - c).max() < s / 2.0 for c, s, _ in found):
            continue
        found.append((centre, side, FILTER_ROLL.get(index, 0.0)))
    return found


def find_faces(rgb: np.ndarray) -> list[Face]:
    """Every face in an (H, W, 3) uint8 image, largest first, with landmarks in its pixels.

    Upright first; if none is found, the image is turned by each of RETRY_ANGLES in turn. Each
    face's landmarks are fitted, then fitted again in a copy levelled by the roll just measured.
    """
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    found = _detect(rgb)
    for angle in RETRY_ANGLES:
        if found:
            break
        turned, matrix = _turn(rgb, angle)
        back = cv2.invertAffineTransform(matrix)
        found = [(c @ back[:, :2].T + back[:, 2], s, angle + roll) for c, s, roll in _detect(turned)]
    faces = []
    for centre, side, roll in found:
        face = _fit_levelled(rgb, gray, centre, side, roll)
        if abs(face.roll_degrees - roll) >= LEVEL_FIT_BELOW:
            face = _fit_levelled(rgb, gray, centre, side, face.roll_degrees)
        faces.append(face)
    return faces


def find_one_face(rgb: np.ndarray) -> Face:
    """The single face of an ID photo; IdPhotoError with a message for the person otherwise."""
    faces = find_faces(rgb)
    if not faces:
        raise IdPhotoError(
            "We found no face in this photo. Use a sharp, well-lit photo of one person looking straight at the camera."
        )
    if len(faces) > 1:
        raise IdPhotoError(f"We found {len(faces)} faces; use a photo of one person.")
    return faces[0]
