"""Compliance report: measure the finished photo and compare every measure with the rule.

Everything about the face is measured again on the output file itself: a fresh face detection
on the framed photo gives the eye line, the chin, the tilt and the face checks of
:mod:`remover.idphoto.quality`, and the crown comes from the framed alpha. Nothing is taken
from the plan, so a fault anywhere in the chain shows up as a failed check; when the face
cannot be found on the finished photo, every check that needs it fails and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from . import faces as face_finder
from . import quality
from .errors import IdPhotoError
from .geometry import OPAQUE, Placement, measure_head
from .presets import Preset
from .render import Rendered

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
NOT_FOUND = "The face could not be found on the finished photo, so this could not be measured."
NO_CROWN = "The top of the head could not be found on the finished photo, so this could not be measured."


@dataclass(frozen=True)
class OutputMeasure:
    """What a fresh look at the framed photo found: ``faces`` (how many), and for exactly one
    face, ``face`` (in output pixels), the ``crown`` y (None if the head's top could not be
    measured) and its ``quality``."""

    faces: int
    face: face_finder.Face | None
    crown: float | None
    quality: quality.FaceQuality | None


def measure_output(rendered: Rendered) -> OutputMeasure:
    """Find the face again in the framed photo and measure it; nothing is filled in from the plan."""
    found = face_finder.find_faces(rendered.rgb)
    if len(found) != 1:
        return OutputMeasure(faces=len(found), face=None, crown=None, quality=None)
    face = found[0]
    try:
        head = measure_head(rendered.alpha, face.eyes, face.chin)
        crown = float(face.eyes[:, 1].mean() - head.crown_above)
    except IdPhotoError:
        crown = None
    return OutputMeasure(faces=1, face=face, crown=crown, quality=quality.measure(rendered.rgb, face))


def _check(check_id: str, label: str, value, unit: str, allowed, passed: bool, message: str, **extra) -> dict:
    entry = {
        "id": check_id, "label": label, "value": value, "unit": unit, "allowed": allowed,
        "passed": bool(passed), "message": message,
    }
    entry.update(extra)
    return entry


def _unmeasured(check_id: str, label: str, unit: str, allowed, message: str = NOT_FOUND, **extra) -> dict:
    return _check(check_id, label, None, unit, allowed, False, message, **extra)


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


def _face_checks(q: quality.FaceQuality | None) -> list[dict]:
    """Pose, eyes, mouth, sharpness and light, each with its value, allowed range and rule."""
    specs = [
        ("head_yaw", "Head turned to neither side", "degrees",
         "The head faces the camera.",
         lambda m: f"The head is turned {abs(m.yaw):.0f}° to the {'right' if m.yaw > 0 else 'left'} of the photo; "
                   "look straight at the camera."),
        ("head_pitch", "Head neither raised nor lowered", "degrees",
         "The head is level.",
         lambda m: f"The chin is {'raised' if m.pitch > 0 else 'lowered'} ({m.pitch:+.0f}°); hold the head level."),
        ("eyes_open", "Eyes open", "ratio",
         "Both eyes are open.", lambda m: "The eyes look closed or half closed; keep them open."),
        ("mouth_closed", "Mouth closed, neutral expression", "ratio",
         "The mouth is closed.", lambda m: "The mouth looks open; keep a neutral expression with the mouth closed."),
        ("sharpness", "Face in focus", "ratio",
         "The face is sharp.",
         lambda m: "The face is blurred: hold the camera still, focus on the face and use good light."),
        ("lighting", "Even light on the face", "ratio",
         "The face is evenly lit.",
         lambda m: "The light on the face is uneven ("
                   + ("one side" if m.lighting_left_right <= m.lighting_top_bottom else "top and bottom")
                   + " differ); face the light, or add light on the darker side."),
    ]
    checks = []
    for check_id, label, unit, ok_message, bad_message in specs:
        rule = quality.RULES[check_id]
        allowed = [rule.low, rule.high]
        if q is None:
            checks.append(_unmeasured(check_id, label, unit, allowed, source=rule.source))
            continue
        value = q.values()[check_id]
        passed = rule.allows(value)
        extra = {}
        if check_id == "lighting":
            extra = {"left_right": round(q.lighting_left_right, 3), "top_bottom": round(q.lighting_top_bottom, 3)}
        checks.append(_check(check_id, label, round(value, 2 if unit == "ratio" else 1), unit, allowed, passed,
                             ok_message if passed else bad_message(q), source=rule.source, **extra))
    return checks


def build_report(
    preset: Preset,
    rendered: Rendered,
    placement: Placement,
    crown_cut: bool,
    file_bytes: int,
    jpeg_quality: int,
) -> dict:
    """The compliance report as a JSON-ready dict: ``passed``, ``checks`` (each with its measured
    value, unit, allowed range, a message and, for the face checks, the rule's ``source``),
    ``measurements`` and ``guides`` (output pixels, for drawing the head band and eye line over
    the photo; the measured lines are None when the face was not found again)."""
    k = preset.px_per_mm
    height_px, width_px = rendered.alpha.shape
    out = measure_output(rendered)
    face = out.face
    padding_pct = float((~rendered.covered).mean() * 100.0)
    sides = padded_sides(rendered.covered)
    off_pct = background_off_pct(rendered)
    kb = file_bytes / 1000.0
    geometry = {"source": preset.source}

    checks = [
        _check("one_face", "Exactly one face", out.faces, "faces", [1, 1], out.faces == 1,
               "One face found on the finished photo." if out.faces == 1 else
               "No face could be found on the finished photo." if out.faces == 0 else
               f"{out.faces} faces found on the finished photo; it must show one person."),
    ]
    eye_line = chin_y = head_mm = eyes_mm = tilt = crown_gap_mm = chin_gap_mm = None
    if face is not None:
        eye_line = float(face.eyes[:, 1].mean())
        chin_y = float(face.chin[1])
        eyes_mm = (height_px - eye_line) / k
        tilt = face.roll_degrees
        chin_gap_mm = (height_px - chin_y) / k
    if face is not None and out.crown is not None:
        head_mm = (chin_y - out.crown) / k
        crown_gap_mm = out.crown / k

    head_allowed = [round(v, 1) for v in preset.head_mm]
    allowed_pct = [round(v / preset.size_mm[1] * 100.0, 1) for v in preset.head_mm]
    if head_mm is None:
        checks.append(_unmeasured("head_height", "Head height (chin to crown)", "mm", head_allowed,
                                  NOT_FOUND if face is None else NO_CROWN, allowed_percent=allowed_pct, **geometry))
    else:
        head_pct = head_mm / preset.size_mm[1] * 100.0
        head_ok = _within(head_mm, preset.head_mm)
        checks.append(_check(
            "head_height", "Head height (chin to crown)", round(head_mm, 1), "mm", head_allowed, head_ok,
            f"{head_mm:.1f} mm ({head_pct:.0f} % of the height)" + ("" if head_ok else ", outside the allowed range"),
            percent=round(head_pct, 1), allowed_percent=allowed_pct, **geometry,
        ))
    if preset.eyes_mm is not None:
        eyes_allowed = [round(v, 1) for v in preset.eyes_mm]
        if eyes_mm is None:
            checks.append(_unmeasured("eye_line", "Eye line above the bottom edge", "mm", eyes_allowed, **geometry))
        else:
            eyes_ok = _within(eyes_mm, preset.eyes_mm)
            checks.append(_check(
                "eye_line", "Eye line above the bottom edge", round(eyes_mm, 1), "mm", eyes_allowed, eyes_ok,
                f"Eyes {eyes_mm:.1f} mm above the bottom" + ("" if eyes_ok else ", outside the allowed range"),
                percent=round(eyes_mm / preset.size_mm[1] * 100.0, 1), **geometry,
            ))
    if preset.crown_gap_mm is not None:
        gap_allowed = [round(v, 1) for v in preset.crown_gap_mm]
        if crown_gap_mm is None:
            checks.append(_unmeasured("crown_gap", "Space above the head", "mm", gap_allowed,
                                      NOT_FOUND if face is None else NO_CROWN, **geometry))
        else:
            gap_ok = _within(crown_gap_mm, preset.crown_gap_mm)
            checks.append(_check(
                "crown_gap", "Space above the head", round(crown_gap_mm, 1), "mm", gap_allowed, gap_ok,
                f"{crown_gap_mm:.1f} mm above the head" + ("" if gap_ok else ", outside the allowed range"),
                **geometry,
            ))
    level = quality.RULES["eyes_level"]
    if tilt is None:
        checks.append(_unmeasured("eyes_level", "Eyes level", "degrees", [level.low, level.high],
                                  corrected=round(placement.roll_degrees, 1), source=level.source))
    else:
        checks.append(_check(
            "eyes_level", "Eyes level", round(tilt, 1), "degrees", [level.low, level.high], level.allows(tilt),
            f"Tilt {tilt:+.1f}° after levelling (the photo was tilted {placement.roll_degrees:+.1f}°).",
            corrected=round(placement.roll_degrees, 1), source=level.source,
        ))
    if face is None or crown_gap_mm is None:
        checks.append(_unmeasured("face_inside", "Head not cut off", "mm", [0, None],
                                  NOT_FOUND if face is None else NO_CROWN))
    else:
        x0, _, x1, _ = face.box
        side_mm = min(x0, width_px - x1) / k
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
    checks.extend(_face_checks(out.quality))
    checks.append(_check(
        "padding", "Photo not too tight", round(padding_pct, 2), "% padded", [0, MAX_PADDING_PCT],
        padding_pct <= MAX_PADDING_PCT,
        "The original photo covers the whole frame." if padding_pct <= MAX_PADDING_PCT else
        f"The original photo is too tight: {padding_pct:.1f} % of the frame ({', '.join(sides)}) lay outside it and "
        "was filled in by extending its edge. Use a photo with more space around the head and shoulders.",
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

    def rounded(value: float | None, digits: int = 2) -> float | None:
        return None if value is None else round(value, digits)

    head_lo, head_hi = preset.head_mm[0] * k, preset.head_mm[1] * k
    # The head band hangs from the measured chin; without one, from where the plan put it.
    band_chin = chin_y if chin_y is not None else placement.chin
    guides = {
        "width": width_px, "height": height_px,
        "eye_line_y": rounded(eye_line, 1), "crown_y": rounded(out.crown if face else None, 1),
        "chin_y": rounded(chin_y, 1),
        "crown_band_y": [round(band_chin - head_hi, 1), round(band_chin - head_lo, 1)],
        "eye_band_y": [round(height_px - preset.eyes_mm[1] * k, 1), round(height_px - preset.eyes_mm[0] * k, 1)]
        if preset.eyes_mm else None,
        "eyes_px": [[round(float(v), 1) for v in p] for p in face.eyes] if face else None,
    }
    q = out.quality
    return {
        "passed": all(c["passed"] for c in checks),
        "checks": checks,
        "measurements": {
            "head_mm": rounded(head_mm), "head_pct": rounded(None if head_mm is None else head_mm / preset.size_mm[1] * 100),
            "eye_line_mm": rounded(eyes_mm), "tilt_degrees": rounded(tilt),
            "roll_corrected_degrees": round(placement.roll_degrees, 2),
            "crown_gap_mm": rounded(crown_gap_mm), "chin_gap_mm": rounded(chin_gap_mm),
            "yaw_degrees": None if q is None else round(q.yaw, 2),
            "pitch_degrees": None if q is None else round(q.pitch, 2),
            "scale": round(placement.scale, 4), "padding_pct": round(padding_pct, 3),
            "background_off_pct": round(off_pct, 3), "file_kb": round(kb, 1), "jpeg_quality": jpeg_quality,
            "faces_on_output": out.faces,
            "measured_on": "output photo" if face is not None else "not measured: " + (
                "no face found on the finished photo" if out.faces == 0 else f"{out.faces} faces on the finished photo"),
        },
        "guides": guides,
    }
