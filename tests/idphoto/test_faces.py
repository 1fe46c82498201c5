"""Face finding, the mesh and the pupils on real photos shipped with scikit-image (no segmentation model)."""

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


def test_astronaut_has_one_face_with_pupils_chin_and_mesh(astronaut):
    face = find_one_face(astronaut)
    left, right = face.eyes
    assert left[0] < right[0]
    # Her pupils, read off the photo by eye: about (203, 100) and (247, 102).
    assert np.linalg.norm(left - (203, 100)) < 3 and np.linalg.norm(right - (247, 102)) < 3
    # The bottom of her chin, read off the same way: about (222, 179).
    assert np.linalg.norm(face.chin - (222, 179)) < 5
    assert face.mesh.shape == (468, 3) and face.score > 0.9
    x0, y0, x1, y1 = face.box
    assert x0 < left[0] < right[0] < x1 and y0 < left[1] < face.chin[1] <= y1 + 5
    assert 2.0 < face.roll_degrees < 4.5


@pytest.mark.parametrize("degrees", [-60, -35, -15, 20, 40])
def test_tilted_face_is_found_and_its_roll_measured(astronaut, degrees):
    upright = find_one_face(astronaut).roll_degrees
    face = find_one_face(turned(astronaut, degrees))
    # OpenCV turns counter-clockwise on screen, which lifts the right-hand eye: roll decreases.
    assert face.roll_degrees == pytest.approx(upright - degrees, abs=1.5)


def test_the_same_face_at_another_size_has_the_same_landmarks(astronaut):
    small, big = find_one_face(astronaut), find_one_face(cv2.resize(astronaut, (1024, 1024), interpolation=cv2.INTER_CUBIC))
    # Pixel centres: x_big = 2 x_small + 0.5.
    assert np.abs(big.eyes - (2 * small.eyes + 0.5)).max() < 0.02 * big.eye_distance
    assert np.linalg.norm(big.chin - (2 * small.chin + 0.5)) < 0.04 * big.eye_distance


def test_two_faces_are_refused_with_a_clear_message(astronaut):
    assert len(find_faces(np.hstack([astronaut, astronaut]))) == 2
    with pytest.raises(IdPhotoError, match="We found 2 faces; use a photo of one person"):
        find_one_face(np.hstack([astronaut, astronaut]))


@pytest.mark.parametrize("name", ["coffee", "chelsea", "rocket", "coins"])
def test_no_face_is_refused_with_a_clear_message(name):
    from skimage import color, data

    image = getattr(data, name)()
    rgb = color.gray2rgb(image) if image.ndim == 2 else image
    assert find_faces(rgb) == []
    with pytest.raises(IdPhotoError, match="We found no face"):
        find_one_face(rgb)


def test_a_blank_or_tiny_image_has_no_face():
    assert find_faces(np.full((300, 300, 3), 128, np.uint8)) == []
    assert find_faces(np.zeros((8, 8, 3), np.uint8)) == []
