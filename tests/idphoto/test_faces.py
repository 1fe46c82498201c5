"""Face finding and landmarks on real photos shipped with scikit-image (no segmentation model)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from remover.idphoto.errors import IdPhotoError
from remover.idphoto.faces import find_faces, find_one_face


def turned(image: np.ndarray, degrees: float) -> np.ndarray:
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(image, matrix, (w, h), borderValue=(255, 255, 255))


def test_astronaut_has_one_face_with_eyes_and_chin(astronaut):
    face = find_one_face(astronaut)
    left, right = face.eyes
    assert left[0] < right[0]
    # Her pupils, read off the photo by eye: about (203, 100) and (247, 102).
    assert np.linalg.norm(left - (203, 100)) < 4 and np.linalg.norm(right - (247, 102)) < 4
    assert 170 < face.chin[1] < 190 and abs(face.chin[0] - 222) < 10
    assert abs(face.roll_degrees) < 5


@pytest.mark.parametrize("degrees", [-35, -15, 20, 40])
def test_tilted_face_is_found_and_its_roll_measured(astronaut, degrees):
    upright = find_one_face(astronaut).roll_degrees
    face = find_one_face(turned(astronaut, degrees))
    # OpenCV turns counter-clockwise on screen, which lifts the right-hand eye: roll decreases.
    assert face.roll_degrees == pytest.approx(upright - degrees, abs=2.5)


def test_two_faces_are_refused_with_a_clear_message(astronaut):
    with pytest.raises(IdPhotoError, match="We found 2 faces; use a photo of one person"):
        find_one_face(np.hstack([astronaut, astronaut]))


def test_no_face_is_refused_with_a_clear_message():
    from skimage import data

    assert find_faces(data.coffee()) == []
    with pytest.raises(IdPhotoError, match="We found no face"):
        find_one_face(data.coffee())
