"""The face checks on skimage's astronaut and on variants of her made to break one rule each.

The baseline is her portrait levelled: frontal, sharp, evenly lit, eyes open; she smiles with
her teeth showing, which the mouth check rightly refuses. Each variant must fail its own check
and no other.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from remover.idphoto import faces as mesh_points
from remover.idphoto.faces import Face, find_one_face
from remover.idphoto.quality import RULES, Rule, measure, pose

BASELINE_FAILS = {"mouth_closed"}


@pytest.fixture(scope="module")
def levelled(astronaut) -> np.ndarray:
    """The astronaut at 1024×1024 (pupils ~86 px apart), turned so that her eyes are level."""
    big = cv2.resize(astronaut, (1024, 1024), interpolation=cv2.INTER_CUBIC)
    roll = find_one_face(big).roll_degrees
    matrix = cv2.getRotationMatrix2D((512, 512), roll, 1.0)
    return cv2.warpAffine(big, matrix, (1024, 1024), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


@pytest.fixture(scope="module")
def face(levelled) -> Face:
    return find_one_face(levelled)


def failed(rgb: np.ndarray) -> set[str]:
    return measure(rgb, find_one_face(rgb)).failed()


def test_the_levelled_portrait_passes_every_check_but_the_smile(levelled, face):
    q = measure(levelled, face)
    assert q.failed() == BASELINE_FAILS, q
    assert abs(q.roll) < 0.5 and abs(q.yaw) < 3
    assert q.eyes_open > 0.3 and q.mouth_open > 0.45  # lips apart over the teeth
    assert q.sharpness > 0.12 and q.lighting > 0.75


def test_turned_in_plane_fails_eyes_level_only(levelled):
    matrix = cv2.getRotationMatrix2D((512, 512), -6.0, 1.0)  # clockwise: the right-hand eye drops
    rotated = cv2.warpAffine(levelled, matrix, (1024, 1024), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    q = measure(rotated, find_one_face(rotated))
    assert q.roll == pytest.approx(6.0, abs=1.0)
    assert q.failed() == BASELINE_FAILS | {"eyes_level"}


@pytest.mark.parametrize(("sigma_per_eye_distance", "fails"), [(0.005, set()), (0.03, {"sharpness"})])
def test_blur_fails_sharpness_only(levelled, face, sigma_per_eye_distance, fails):
    blurred = cv2.GaussianBlur(levelled, (0, 0), sigma_per_eye_distance * face.eye_distance)
    assert failed(blurred) == BASELINE_FAILS | fails


@pytest.mark.parametrize("half", ["left", "right", "top"])
def test_half_of_the_face_darkened_fails_lighting_only(levelled, face, half):
    nose_x, nose_y = face.mesh[mesh_points.NOSE_TIP, :2].round().astype(int)
    darker = levelled.astype(np.float32)
    region = {"left": np.s_[:, :nose_x], "right": np.s_[:, nose_x:], "top": np.s_[:nose_y]}[half]
    darker[region] *= 0.5
    assert failed(darker.astype(np.uint8)) == BASELINE_FAILS | {"lighting"}


def test_downscaled_fails_no_face_check(levelled):
    # 0.4×: pupils ~34 px apart. Sharpness is judged at the face's own scale, never enlarged, so
    # a small but sharp face stays sharp; that it is too small is the resolution check's job
    # (tests/idphoto/test_pipeline.py).
    small = cv2.resize(levelled, None, fx=0.4, fy=0.4, interpolation=cv2.INTER_AREA)
    assert failed(small) == BASELINE_FAILS


def _rotated_mesh(face: Face, axis: str, degrees: float) -> Face:
    """The face with its mesh turned in depth about the vertical (yaw) or horizontal (pitch)
    axis through the mesh's centre."""
    t = np.radians(degrees)
    c, s = np.cos(t), np.sin(t)
    # Yaw: towards the right of the image pushes the right-hand cheek back (z grows).
    # Pitch: chin up brings the chin forward (z shrinks).
    rot = np.array([[c, 0, -s], [0, 1, 0], [s, 0, c]]) if axis == "yaw" else np.array([[1, 0, 0], [0, c, s], [0, -s, c]])
    centre = face.mesh.mean(0)
    return dataclasses.replace(face, mesh=(face.mesh - centre) @ rot.T + centre)


@pytest.mark.parametrize(("axis", "degrees"), [("yaw", 12.0), ("yaw", -12.0), ("pitch", 20.0), ("pitch", -20.0)])
def test_pose_follows_a_turned_mesh(face, axis, degrees):
    yaw, pitch = pose(face)
    turned_yaw, turned_pitch = pose(_rotated_mesh(face, axis, degrees))
    assert (turned_yaw - yaw if axis == "yaw" else turned_pitch - pitch) == pytest.approx(degrees, abs=1.5)
    assert abs(turned_pitch - pitch if axis == "yaw" else turned_yaw - yaw) < 1.5


def test_turned_head_fails_the_pose_check(levelled, face):
    for axis, degrees, check in (("yaw", 12.0, "head_yaw"), ("yaw", -12.0, "head_yaw"),
                                 ("pitch", 25.0, "head_pitch"), ("pitch", -25.0, "head_pitch")):
        q = measure(levelled, _rotated_mesh(face, axis, degrees))
        assert q.failed() == BASELINE_FAILS | {check}


def test_closed_eyes_and_a_closed_mouth_are_told_apart(levelled, face):
    mesh = face.mesh.copy()
    for upper, lower in (mesh_points.LEFT_EYELIDS, mesh_points.RIGHT_EYELIDS, mesh_points.INNER_LIPS):
        mesh[[upper, lower]] = mesh[[upper, lower]].mean(0)  # lids (and lips) meet
    q = measure(levelled, dataclasses.replace(face, mesh=mesh))
    assert q.eyes_open < 0.02 and q.mouth_open < 0.02
    assert q.failed() == {"eyes_open"}


def test_rule_edges_count_as_shown():
    rule = Rule(-2.0, 2.0, "test")
    assert rule.allows(2.0) and rule.allows(-2.0004) and not rule.allows(2.01)
    assert Rule(0.1, None, "test").allows(1e9) and not Rule(None, 0.4, "test").allows(0.41)
    assert all(rule.source for rule in RULES.values())
