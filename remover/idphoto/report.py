"""Compliance report: measure the finished photo and compare every measure with the rule.

The head, eye line and tilt are measured again on the output file itself (a fresh face
detection on the framed photo, the crown from the framed alpha), not taken from the plan, so a
fault anywhere in the chain shows up as a failed check.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from . import faces as face_finder
from .errors import IdPhotoError
from .geometry import OPAQUE, Placement, measure_head, roll_degrees
from .presets import Preset
from .render import Rendered

# Eyes level: we correct the roll, so what is left is measurement noise; a visible tilt is
# a fault. Project tolerance (ISO/IEC 19794-5 allows ±8° in the capture itself).
MAX_TILT_DEGREES = 2.0
# Source resolution: the output may enlarge the source at most this much before detail blurs.
MAX_UPSCALE = 1.5
# Background: up to this % of the background area may hold something the cut-out kept besides
# the person (an opaque pixel away from them: a chair, a clock, a second shoulder).
MAX_BACKGROUND_OFF_PCT = 1.0
# Background area: everything further than this fraction of the frame height from the subject,
# so that the soft hair edge is not judged as background.
SUBJECT_MARGIN = 0.02
# Padding: share of the frame that had no source pixels, above which the photo is flagged.
MAX_PADDING_PCT = 0.1


@dataclass(frozen=True)
class OutputMeasure:
    """Measures of the framed photo in output pixels (y from the top). ``faces`` is how many
    faces the fresh detection found; ``predicted`` means it found none and the planned
    landmarks were used instead."""

    faces: int
    eyes: np.ndarray
    chin: np.ndarray
    crown: float
    face_box: tuple[float, float, float, float]
    predicted: bool


def measure_output(rendered: Rendered, placement: Placement, source_face: face_finder.Face) -> OutputMeasure:
    """Find the face again in the framed photo and measure it; fall back to the plan if not found."""
    found = face_finder.find_faces(rendered.rgb)
    face = found[0] if len(found) == 1 else source_face.moved(placement.matrix)
    try:
        head = measure_head(rendered.alpha, face.eyes, face.chin)
        crown = float(face.eyes[:, 1].mean() - head.crown_above)
    except IdPhotoError:
        crown = placement.crown
    return OutputMeasure(
        faces=len(found), eyes=face.eyes, chin=face.chin, crown=crown, face_box=face.box,
        predicted=len(found) != 1,
    )


def _check(check_id: str, label: str, value, unit: str, allowed, passed: bool, message: str, **extra) -> dict:
    entry = {
        "id": check_id, "label": label, "value": value, "unit": unit, "allowed": allowed,
        "passed": bool(passed), "message": message,
    }
    entry.update(extra)
    return entry


def _within(value: float, band) -> bool:
    # Rounded as shown, so the page never says "34.9 mm, allowed 25.4–34.9: failed".
    return band[0] - 0.05 <= value <= band[1] + 0.05


def background_off_pct(rendered: Rendered) -> float:
    """% of the background area (away from the main subject) where the cut-out kept something.

    Faint strands of hair (alpha under 50 %) are the person's and do not count.
    """
    h, _ = rendered.alpha.shape
    opaque = (rendered.alpha >= OPAQUE).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(opaque, connectivity=8)
    if count <= 1:
        return 0.0
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    subject = (labels == biggest).astype(np.uint8)
    radius = max(1, int(round(SUBJECT_MARGIN * h)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    background = cv2.dilate(subject, kernel) == 0
    if not background.any():
        return 0.0
    return float((opaque[background] > 0).mean() * 100.0)


def padded_sides(covered: np.ndarray) -> list[str]:
    """Which edges of the frame have padding: 'top', 'bottom', 'left', 'right'."""
    sides = []
    for name, edge in (("top", covered[0]), ("bottom", covered[-1]), ("left", covered[:, 0]), ("right", covered[:, -1])):
        if not edge.all():
            sides.append(name)
    return sides


def build_report(
    preset: Preset,
    rendered: Rendered,
    placement: Placement,
    source_face: face_finder.Face,
    crown_cut: bool,
    file_bytes: int,
    jpeg_quality: int,
) -> dict:
    """The compliance report as a JSON-ready dict: ``passed``, ``checks`` (each with its measured
    value, unit, allowed range and a message), ``measurements`` and ``guides`` (output pixels,
    for drawing the head band and eye line over the photo)."""
    k = preset.px_per_mm
    height_px, width_px = rendered.alpha.shape
    out = measure_output(rendered, placement, source_face)
    eye_line = float(out.eyes[:, 1].mean())
    head_mm = (float(out.chin[1]) - out.crown) / k
    head_pct = head_mm / preset.size_mm[1] * 100.0
    eyes_mm = (height_px - eye_line) / k
    tilt = roll_degrees(out.eyes)
    crown_gap_mm = out.crown / k
    chin_gap_mm = (height_px - float(out.chin[1])) / k
    x0, _, x1, _ = out.face_box
    side_mm = min(x0, width_px - x1) / k
    padding_pct = float((~rendered.covered).mean() * 100.0)
    sides = padded_sides(rendered.covered)
    off_pct = background_off_pct(rendered)
    kb = file_bytes / 1000.0

    checks = [
        _check("one_face", "Exactly one face", 1, "faces", [1, 1], True,
               "One face found." if out.faces <= 1 else f"One face in the photo, but {out.faces} found in the result."),
    ]
    head_ok = _within(head_mm, preset.head_mm)
    checks.append(_check(
        "head_height", "Head height (chin to crown)", round(head_mm, 1), "mm", [round(v, 1) for v in preset.head_mm],
        head_ok, f"{head_mm:.1f} mm ({head_pct:.0f} % of the height)" + ("" if head_ok else ", outside the allowed range"),
        percent=round(head_pct, 1),
        allowed_percent=[round(v / preset.size_mm[1] * 100.0, 1) for v in preset.head_mm],
    ))
    if preset.eyes_mm is not None:
        eyes_ok = _within(eyes_mm, preset.eyes_mm)
        checks.append(_check(
            "eye_line", "Eye line above the bottom edge", round(eyes_mm, 1), "mm", [round(v, 1) for v in preset.eyes_mm],
            eyes_ok, f"Eyes {eyes_mm:.1f} mm above the bottom" + ("" if eyes_ok else ", outside the allowed range"),
            percent=round(eyes_mm / preset.size_mm[1] * 100.0, 1),
        ))
    if preset.crown_gap_mm is not None:
        gap_ok = _within(crown_gap_mm, preset.crown_gap_mm)
        checks.append(_check(
            "crown_gap", "Space above the head", round(crown_gap_mm, 1), "mm", [round(v, 1) for v in preset.crown_gap_mm],
            gap_ok, f"{crown_gap_mm:.1f} mm above the head" + ("" if gap_ok else ", outside the allowed range"),
        ))
    checks.append(_check(
        "eyes_level", "Eyes level", round(tilt, 1), "degrees", [-MAX_TILT_DEGREES, MAX_TILT_DEGREES],
        abs(tilt) <= MAX_TILT_DEGREES, f"Tilt {tilt:+.1f}° after levelling (the photo was tilted {placement.roll_degrees:+.1f}°).",
        corrected=round(placement.roll_degrees, 1),
    ))
    inside = min(crown_gap_mm, chin_gap_mm, side_mm)
    inside_ok = inside > 0 and not crown_cut
    if crown_cut:
        inside_msg = "The top of the head is cut off in the original photo; use one with space above the head."
    elif inside <= 0:
        inside_msg = "Part of the head falls outside the photo."
    else:
        inside_msg = "The whole head is inside the photo."
    checks.append(_check(
        "face_inside", "Head not cut off", round(inside, 1), "mm", [0, None], inside_ok, inside_msg,
        crown_gap_mm=round(crown_gap_mm, 1), chin_gap_mm=round(chin_gap_mm, 1), side_gap_mm=round(side_mm, 1),
    ))
    checks.append(_check(
        "padding", "Photo not too tight", round(padding_pct, 2), "% padded", [0, MAX_PADDING_PCT],
        padding_pct <= MAX_PADDING_PCT,
        "The original photo covers the whole frame." if padding_pct <= MAX_PADDING_PCT else
        f"The original photo is too tight: {padding_pct:.1f} % of the frame ({', '.join(sides)}) was filled with the "
        "background colour. Use a photo with more space around the head and shoulders.",
        sides=sides,
    ))
    checks.append(_check(
        "background", "Background uniform", round(off_pct, 2), "% not plain", [0, MAX_BACKGROUND_OFF_PCT],
        off_pct <= MAX_BACKGROUND_OFF_PCT,
        "Plain background." if off_pct <= MAX_BACKGROUND_OFF_PCT else
        f"{off_pct:.1f} % of the background is not the plain colour: something besides the person was kept.",
    ))
    checks.append(_check(
        "resolution", "Enough source resolution", round(placement.scale, 2), "× enlargement", [0, MAX_UPSCALE],
        placement.scale <= MAX_UPSCALE,
        f"Enlarged {placement.scale:.2f}×." if placement.scale <= MAX_UPSCALE else
        f"The face is too small in the original: it had to be enlarged {placement.scale:.1f}× "
        f"(at most {MAX_UPSCALE:g}×). Take the photo closer or at a higher resolution.",
    ))
    if preset.min_pixels or preset.max_pixels:
        lo = list(preset.min_pixels or (1, 1))
        hi = list(preset.max_pixels) if preset.max_pixels else None
        px_ok = width_px >= lo[0] and height_px >= lo[1] and (hi is None or (width_px <= hi[0] and height_px <= hi[1]))
        checks.append(_check("pixels", "Pixel size", [width_px, height_px], "px", [lo, hi], px_ok,
                             f"{width_px}×{height_px} px."))
    if preset.kb is not None:
        kb_ok = preset.kb[0] <= kb <= preset.kb[1]
        checks.append(_check(
            "file_size", "File size", round(kb, 1), "kB", list(preset.kb), kb_ok,
            f"{kb:.0f} kB at JPEG quality {jpeg_quality}." if kb_ok else
            f"{kb:.0f} kB at JPEG quality {jpeg_quality}, outside {preset.kb[0]:g}–{preset.kb[1]:g} kB.",
            jpeg_quality=jpeg_quality,
        ))
    head_lo, head_hi = preset.head_mm[0] * k, preset.head_mm[1] * k
    guides = {
        "width": width_px, "height": height_px,
        "eye_line_y": round(eye_line, 1), "crown_y": round(out.crown, 1), "chin_y": round(float(out.chin[1]), 1),
        "crown_band_y": [round(float(out.chin[1]) - head_hi, 1), round(float(out.chin[1]) - head_lo, 1)],
        "eye_band_y": [round(height_px - preset.eyes_mm[1] * k, 1), round(height_px - preset.eyes_mm[0] * k, 1)]
        if preset.eyes_mm else None,
        "eyes_px": [[round(float(v), 1) for v in p] for p in out.eyes],
    }
    return {
        "passed": all(c["passed"] for c in checks),
        "checks": checks,
        "measurements": {
            "head_mm": round(head_mm, 2), "head_pct": round(head_pct, 2), "eye_line_mm": round(eyes_mm, 2),
            "tilt_degrees": round(tilt, 2), "roll_corrected_degrees": round(placement.roll_degrees, 2),
            "crown_gap_mm": round(crown_gap_mm, 2), "chin_gap_mm": round(chin_gap_mm, 2),
            "scale": round(placement.scale, 4), "padding_pct": round(padding_pct, 3),
            "background_off_pct": round(off_pct, 3), "file_kb": round(kb, 1), "jpeg_quality": jpeg_quality,
            "measured_on": "planned landmarks" if out.predicted else "output photo",
        },
        "guides": guides,
    }
