"""Geometry maths checked against a synthetic head whose size and position are known exactly."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from remover.engine.compose import CutOut
from remover.idphoto.geometry import Frame, HeadMeasure, measure_head, plan, roll_degrees, source_box
from remover.idphoto.presets import get_preset
from remover.idphoto.render import render

# Synthetic subject: an elliptical head (crown y=300, chin y=700, so 400 px tall) on a neck
# and shoulders, eyes 120 px apart at y=480.
CROWN_Y, CHIN_Y, EYE_Y = 300, 700, 480
EYES = np.array([[440.0, EYE_Y], [560.0, EYE_Y]])
CHIN = np.array([500.0, CHIN_Y])


def synthetic_alpha(angle: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(alpha (1200, 1000) uint8, eyes (2, 2), chin (2,)) turned ``angle`` degrees about the eye midpoint."""
    alpha = np.zeros((1200, 1000), np.uint8)
    cv2.ellipse(alpha, (500, 500), (150, 200), 0, 0, 360, 255, -1)
    cv2.rectangle(alpha, (430, 650), (570, 900), 255, -1)    # neck
    cv2.rectangle(alpha, (150, 850), (850, 1199), 255, -1)   # shoulders, cut by the bottom edge
    eyes, chin = EYES.copy(), CHIN.copy()
    if angle:
        matrix = cv2.getRotationMatrix2D(tuple(EYES.mean(0)), angle, 1.0)
        alpha = cv2.warpAffine(alpha, matrix, (1000, 1200), flags=cv2.INTER_LINEAR)
        eyes = eyes @ matrix[:, :2].T + matrix[:, 2]
        chin = chin @ matrix[:, :2].T + matrix[:, 2]
        eyes = eyes[np.argsort(eyes[:, 0])]
    return alpha, eyes, chin


def top_row(alpha: np.ndarray, column: int) -> int:
    return int(np.argmax(alpha[:, column] >= 128))


def test_measure_head_finds_crown_and_chin():
    alpha, eyes, chin = synthetic_alpha()
    head = measure_head(alpha, eyes, chin)
    assert head.crown_above == pytest.approx(EYE_Y - CROWN_Y, abs=1.5)
    assert head.chin_below == pytest.approx(CHIN_Y - EYE_Y, abs=0.5)
    assert not head.crown_cut


def test_measure_head_in_a_tilted_photo_measures_along_the_face():
    alpha, eyes, chin = synthetic_alpha(angle=20.0)
    assert roll_degrees(eyes) == pytest.approx(-20.0, abs=0.01)
    head = measure_head(alpha, eyes, chin)
    assert head.height == pytest.approx(CHIN_Y - CROWN_Y, abs=3.0)


def test_crown_touching_the_top_edge_is_reported_cut():
    alpha, eyes, chin = synthetic_alpha()
    cropped = alpha[350:]  # the top 50 px of the head are missing
    head = measure_head(cropped, eyes - [0, 350], chin - [0, 350])
    assert head.crown_cut


@pytest.mark.parametrize("key", ["uk", "us", "schengen", "canada"])
def test_synthetic_head_lands_at_the_right_millimetres(key):
    preset = get_preset(key)
    frame = Frame.from_preset(preset)
    alpha, eyes, chin = synthetic_alpha()
    placement = plan(eyes, measure_head(alpha, eyes, chin), frame)
    rgb = np.zeros(alpha.shape + (3,), np.uint8)
    out = render(CutOut(foreground=rgb, alpha=alpha), placement.matrix, preset.pixels, preset.background)
    # Independent of the plan: where did the crown of the rendered head land, and the chin and eyes?
    k = preset.px_per_mm
    crown_mm_from_top = top_row(out.alpha, preset.pixels[0] // 2) / k
    chin_out = chin @ placement.matrix[:, :2].T + placement.matrix[:, 2]
    eye_out = (EYES @ placement.matrix[:, :2].T + placement.matrix[:, 2])[:, 1].mean()
    head_mm = chin_out[1] / k - crown_mm_from_top
    assert head_mm == pytest.approx(sum(preset.head_mm) / 2, abs=0.15)
    eyes_mm = (preset.pixels[1] - eye_out) / k
    assert preset.eyes_mm[0] <= eyes_mm <= preset.eyes_mm[1]
    assert eyes_mm == pytest.approx(sum(preset.eyes_mm) / 2, abs=0.05)
    assert chin_out[0] == pytest.approx(preset.pixels[0] / 2, abs=0.5)  # centred under the eyes
    assert placement.fits


def test_tilted_head_is_levelled_and_sized_the_same():
    preset = get_preset("schengen")
    frame = Frame.from_preset(preset)
    alpha, eyes, chin = synthetic_alpha(angle=-15.0)
    placement = plan(eyes, measure_head(alpha, eyes, chin), frame)
    assert placement.roll_degrees == pytest.approx(15.0, abs=0.01)
    eyes_out = eyes @ placement.matrix[:, :2].T + placement.matrix[:, 2]
    assert eyes_out[0, 1] == pytest.approx(eyes_out[1, 1], abs=1e-6)
    assert (placement.chin - placement.crown) / preset.px_per_mm == pytest.approx(34.0, abs=0.2)


def test_crown_gap_rule_places_the_head_when_there_is_no_eye_band():
    preset = get_preset("japan")
    assert preset.eyes_mm is None
    frame = Frame.from_preset(preset)
    alpha, eyes, chin = synthetic_alpha()
    placement = plan(eyes, measure_head(alpha, eyes, chin), frame)
    assert placement.crown / preset.px_per_mm == pytest.approx(4.0, abs=0.05)


def test_source_box_maps_the_frame_back_to_the_input():
    frame = Frame.from_preset(get_preset("uk"))
    alpha, eyes, chin = synthetic_alpha()
    placement = plan(eyes, HeadMeasure(180.0, 220.0, False), frame)
    x0, y0, x1, y1 = source_box(placement.matrix, (frame.width, frame.height))
    assert (x1 - x0) == pytest.approx(frame.width / placement.scale, rel=1e-6)
    assert (y1 - y0) == pytest.approx(frame.height / placement.scale, rel=1e-6)
    assert (x0 + x1) / 2 == pytest.approx(500.0, abs=1e-6)


def test_padding_continues_the_source_edge():
    preset = get_preset("uk")
    alpha, eyes, chin = synthetic_alpha()
    small = alpha[250:740, 250:750]  # 50 px above the crown, 40 px below the chin: the neck is cut
    offset = np.array([250.0, 250.0])
    placement = plan(eyes - offset, measure_head(small, eyes - offset, chin - offset), Frame.from_preset(preset))
    subject = np.zeros(small.shape + (3,), np.uint8)
    subject[...] = (200, 30, 30)
    out = render(CutOut(subject, small), placement.matrix, preset.pixels, preset.background)
    assert not out.covered.all()
    assert not out.covered[0].any() and not out.covered[-1].any()
    assert out.covered[:, 0].any()  # the sides had room
    padding = cv2.erode((~out.covered).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    assert padding.sum() > 1000
    # Above the head the source's edge is background, and so is the padding there.
    top = padding.copy()
    top[int(placement.crown):] = False
    assert top.sum() > 100 and (out.rgb[top] == preset.background).all()
    # Below, the neck cut by the source's edge goes on to the frame's edge: no band of background.
    middle = preset.pixels[0] // 2
    assert (out.alpha[int(placement.chin) + 20:, middle] == 255).all()
    assert (out.rgb[-3:, middle] == (200, 30, 30)).all()


def test_hair_cut_off_by_the_top_edge_is_not_made_up():
    preset = get_preset("uk")
    alpha, eyes, chin = synthetic_alpha()
    cut = alpha[350:]  # the crown (y=300) is above the photo
    offset = np.array([0.0, 350.0])
    head = measure_head(cut, eyes - offset, chin - offset)
    assert head.crown_cut
    placement = plan(eyes - offset, head, Frame.from_preset(preset))
    out = render(CutOut(np.full(cut.shape + (3,), 90, np.uint8), cut), placement.matrix, preset.pixels,
                 preset.background)
    middle = preset.pixels[0] // 2
    top_of_photo = int(np.argmax(out.covered[:, middle]))
    assert top_of_photo > 10  # the frame reaches above the photo...
    # ...and there it is background, not the head's cut edge stretched upwards.
    assert (out.alpha[:top_of_photo - 1, middle] == 0).all() and out.alpha[top_of_photo + 2, middle] == 255


def test_a_levelled_photo_shows_no_seam_of_its_tilted_border():
    preset = get_preset("schengen")
    alpha, eyes, chin = synthetic_alpha(angle=3.0)
    cut = alpha[:760]  # the neck runs off the bottom edge, which the levelling tilts
    placement = plan(eyes, measure_head(cut, eyes, chin), Frame.from_preset(preset))
    assert placement.roll_degrees == pytest.approx(-3.0, abs=0.01)
    out = render(CutOut(np.full(cut.shape + (3,), 90, np.uint8), cut), placement.matrix, preset.pixels,
                 preset.background)
    height = preset.pixels[1]
    # Each column's last row with source pixels; below it, the tilted border's wedge.
    last = height - 1 - np.argmax(out.covered[::-1], axis=0)
    columns = np.nonzero((last < height - 1) & (out.alpha[last, np.arange(len(last))] == 255))[0]
    assert len(columns) > 20  # the wedge runs under the neck...
    # ...and the neck goes on through it to the frame's edge: no seam of background colour.
    for column in columns:
        assert (out.alpha[last[column]:, column] == 255).all(), column


def test_background_check_counts_kept_objects_not_faint_hair():
    from remover.idphoto.render import Rendered
    from remover.idphoto.report import background_off_pct

    alpha = np.zeros((500, 400), np.uint8)
    cv2.ellipse(alpha, (200, 250), (100, 150), 0, 0, 360, 255, -1)    # the person
    cv2.line(alpha, (300, 100), (390, 20), 100, 2)                     # a faint strand of hair
    rgb = np.zeros((500, 400, 3), np.uint8)
    covered = np.ones((500, 400), bool)
    assert background_off_pct(Rendered(rgb, alpha, covered)) == 0.0
    alpha[20:60, 20:60] = 255                                          # a kept object in a corner
    off = background_off_pct(Rendered(rgb, alpha, covered))
    assert 1.0 < off < 3.0
