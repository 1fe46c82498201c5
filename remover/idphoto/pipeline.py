"""Photo in, compliant ID photo out: the one entry point for the CLI, the web job and the API.

decode (caller) -> one face + landmarks -> cut-out of the head region -> crown from the alpha ->
level, scale, place -> render on the background colour -> JPEG within the size limits -> report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from remover.engine.imageio import DecodedImage
from remover.engine.pipeline import cut_out

from .errors import IdPhotoError
from .faces import Face, find_one_face
from .geometry import Frame, HeadMeasure, Placement, measure_head, plan, source_box
from .jpeg import encode_jpeg
from .presets import Preset
from .render import Rendered, render
from .report import build_report

Progress = Callable[[str, int], None]
# Smallest photo we accept, and the smallest face (pupil to pupil) whose landmarks we trust.
MIN_SIDE_PX = 200
MIN_EYE_DISTANCE_PX = 30
# First guess of eye-line-to-crown, in inter-pupil distances (the cut-out measures the real
# one); it only sizes the region handed to the segmenter.
CROWN_GUESS = 1.9
# The segmenter's region is the guessed frame grown by this fraction each side, and always
# reaches this many inter-pupil distances above the eyes, so tall hair is inside it.
REGION_MARGIN = 0.25
REGION_ABOVE_EYES = 3.5


def _silent(stage: str, percent: int) -> None:
    pass


@dataclass(frozen=True)
class IdPhotoResult:
    """image: RGB at the preset's pixel size. jpeg: the file to download (DPI set, within the kB
    limits where possible). report: JSON-ready compliance report (see report.build_report), with
    ``preset`` and ``eyes_input_px`` (the two pupils in the decoded, upright input's pixels, left
    of image first) added. face: the face found in the input photo."""

    image: Image.Image
    jpeg: bytes
    report: dict
    preset: Preset
    face: Face

    @property
    def passed(self) -> bool:
        return bool(self.report["passed"])


Box = tuple[int, int, int, int]


def _clip(box: tuple[float, float, float, float], width: int, height: int) -> Box:
    x0, y0, x1, y1 = box
    return (max(0, int(np.floor(x0))), max(0, int(np.floor(y0))),
            min(width, int(np.ceil(x1))), min(height, int(np.ceil(y1))))


def _contains(outer: Box, inner: Box) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and outer[2] >= inner[2] and outer[3] >= inner[3]


def _union(a: Box, b: Box) -> Box:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _region(face: Face, frame: Frame, width: int, height: int) -> Box:
    """Region of the input to cut out: the frame a guessed head size would need, with margins."""
    ipd = face.eye_distance
    down = np.array([-np.sin(np.radians(face.roll_degrees)), np.cos(np.radians(face.roll_degrees))])
    chin_below = float((face.chin - face.eyes.mean(0)) @ down)
    guess = plan(face.eyes, HeadMeasure(CROWN_GUESS * ipd, chin_below, False), frame)
    x0, y0, x1, y1 = source_box(guess.matrix, (frame.width, frame.height))
    mx, my = REGION_MARGIN * (x1 - x0), REGION_MARGIN * (y1 - y0)
    top = min(y0 - my, float(face.eyes[:, 1].min()) - REGION_ABOVE_EYES * ipd)
    return _clip((x0 - mx, top, x1 + mx, y1 + my), width, height)


def _crop(decoded: DecodedImage, box: Box) -> DecodedImage:
    x0, y0, x1, y1 = box
    alpha = None if decoded.alpha is None else np.ascontiguousarray(decoded.alpha[y0:y1, x0:x1])
    return DecodedImage(rgb=np.ascontiguousarray(decoded.rgb[y0:y1, x0:x1]), alpha=alpha,
                        source_format=decoded.source_format)


def _check_size(decoded: DecodedImage) -> None:
    width, height = decoded.size
    if min(width, height) < MIN_SIDE_PX:
        raise IdPhotoError(
            f"This photo is only {width}×{height} pixels; an ID photo needs at least {MIN_SIDE_PX} pixels on "
            "each side. Use the original photo from your camera or phone."
        )


def make_id_photo(decoded: DecodedImage, preset: Preset, segmenter, progress: Progress = _silent) -> IdPhotoResult:
    """Turn a decoded photo into an ID photo for ``preset``; IdPhotoError says why it cannot.

    segmenter: the loaded ISNet (``remover.engine.pipeline.shared_segmenter()``).
    progress(stage, percent): called with detecting, segmenting, refining, framing, checking, done.
    """
    _check_size(decoded)
    progress("detecting", 2)
    face = find_one_face(decoded.rgb)
    if face.eye_distance < MIN_EYE_DISTANCE_PX:
        raise IdPhotoError(
            f"The face is too small in this photo ({face.eye_distance:.0f} pixels between the eyes; at least "
            f"{MIN_EYE_DISTANCE_PX} needed). Take the photo closer or crop it around the head and shoulders."
        )
    frame = Frame.from_preset(preset)
    width, height = decoded.size
    region = _region(face, frame, width, height)
    # At most twice: a second pass when the real head needs more of the photo than the guess did.
    for _ in range(2):
        cut = cut_out(_crop(decoded, region), segmenter, progress)
        offset = np.array(region[:2], float)
        head = measure_head(cut.alpha, face.eyes - offset, face.chin - offset)
        placement = plan(face.eyes, head, frame)
        needed = _clip(source_box(placement.matrix, (frame.width, frame.height)), width, height)
        if head.crown_cut and region[1] > 0:
            needed = _union(needed, (region[0], 0, region[2], region[3]))
        if _contains(region, needed):
            break
        region = _union(region, needed)
    progress("framing", 92)
    local = placement.matrix.copy()
    local[:, 2] += local[:, :2] @ offset  # the cut-out starts at the region's corner, not at (0, 0)
    rendered = render(cut, local, (frame.width, frame.height), preset.background)
    image = Image.fromarray(rendered.rgb, "RGB")
    jpeg, quality = encode_jpeg(image, preset.dpi, preset.kb)
    progress("checking", 96)
    report = _report(preset, rendered, placement, face, head, len(jpeg), quality)
    progress("done", 100)
    return IdPhotoResult(image=image, jpeg=jpeg, report=report, preset=preset, face=face)


def _report(preset: Preset, rendered: Rendered, placement: Placement, face: Face, head: HeadMeasure,
            file_bytes: int, quality: int) -> dict:
    report = build_report(preset, rendered, placement, head.crown_cut, file_bytes, quality)
    report["preset"] = preset.to_dict()
    report["eyes_input_px"] = [[round(float(v), 2) for v in p] for p in face.eyes]
    return report
