"""A job's touch-up edit: the owner's brush strokes over the AI result.

The strokes are checked (:func:`parse_strokes`), stored on the job (``Job.edit``, with
``Job.edit_revision`` counting every change) and applied to the stored full-size cut-out by
:func:`applied`, which :func:`remover.processing.jobs.load_cutout` calls: every download, whatever
its format, background, size or batch, carries the edit. Deleting the job deletes the edit
with its row.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import numpy as np
from django.db.models import F

from remover.engine.brush import MODES, Stroke, apply_strokes
from remover.engine.compose import CutOut
from remover.models import Job
from remover.web.limits import Refused

MAX_BODY_BYTES = 1_000_000
MAX_STROKES = 500
MAX_POINTS_PER_STROKE = 5_000
MAX_POINTS = 50_000
# Radius in pixels of the full-size result; the top is half the photo's longer side, where
# one dab covers the whole photo.
MIN_RADIUS = 0.5


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise Refused(f"The edit could not be read: {what} must be a number.")
    return float(value)


def _refuse_constant(name: str):
    raise Refused(f"The edit could not be read: {name} is not a number.")


def check_size(length: int) -> None:
    """Refuse an edit body of ``length`` bytes over MAX_BODY_BYTES (before reading it, too)."""
    if length > MAX_BODY_BYTES:
        raise Refused(f"The edit is too large ({length:,} bytes; at most {MAX_BODY_BYTES:,}). "
                      "Undo some strokes or reset to the AI result, then try again.")


def parse_strokes(body: bytes, width: int, height: int) -> list[Stroke]:
    """``{"strokes": [{"mode": "erase"|"restore", "radius": px, "hardness": 0..1,
    "points": [[x, y], ...]}, ...]}`` -> strokes, or :class:`Refused` (400) saying what is wrong.

    Coordinates are pixels of the full-size result (``width`` x ``height``), each inside it;
    at most MAX_STROKES strokes, MAX_POINTS_PER_STROKE points each and MAX_POINTS in all.
    """
    check_size(len(body))
    try:
        data = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
        raise Refused("The edit could not be read: send JSON like {\"strokes\": [...]}.")
    if not isinstance(data, dict) or not isinstance(data.get("strokes"), list):
        raise Refused("The edit could not be read: send JSON like {\"strokes\": [...]}.")
    raw_strokes = data["strokes"]
    if len(raw_strokes) > MAX_STROKES:
        raise Refused(f"The edit has {len(raw_strokes)} strokes; at most {MAX_STROKES} are kept. "
                      "Reset to the AI result and paint larger strokes.")
    strokes, total = [], 0
    max_radius = max(width, height) / 2
    for number, raw in enumerate(raw_strokes, 1):
        where = f"stroke {number}"
        if not isinstance(raw, dict):
            raise Refused(f"The edit could not be read: {where} is not an object.")
        mode = raw.get("mode")
        if mode not in MODES:
            raise Refused(f"The edit could not be read: {where} must erase or restore.")
        radius = _number(raw.get("radius"), f"the radius of {where}")
        if not MIN_RADIUS <= radius <= max_radius:
            raise Refused(f"The radius of {where} must be {MIN_RADIUS:g} to {max_radius:g} pixels.")
        hardness = _number(raw.get("hardness", 1.0), f"the hardness of {where}")
        if not 0.0 <= hardness <= 1.0:
            raise Refused(f"The hardness of {where} must be 0 to 1.")
        points = raw.get("points")
        if not isinstance(points, list) or not points:
            raise Refused(f"The edit could not be read: {where} needs a list of [x, y] points.")
        if len(points) > MAX_POINTS_PER_STROKE:
            raise Refused(f"{where.capitalize()} has {len(points)} points; at most {MAX_POINTS_PER_STROKE}.")
        total += len(points)
        if total > MAX_POINTS:
            raise Refused(f"The edit has more than {MAX_POINTS} points in all. Reset to the AI result and paint fewer strokes.")
        xy = []
        for point in points:
            if not isinstance(point, list) or len(point) != 2:
                raise Refused(f"The edit could not be read: the points of {where} must be [x, y] pairs.")
            x, y = (_number(v, f"a point of {where}") for v in point)
            if not (0.0 <= x <= width and 0.0 <= y <= height):
                raise Refused(f"A point of {where} ({x:g}, {y:g}) is outside the {width}×{height} image.")
            xy.append((x, y))
        strokes.append(Stroke(mode=mode, radius=radius, hardness=hardness, points=np.asarray(xy, np.float64)))
    return strokes


def to_json(strokes: list[Stroke]) -> dict | None:
    """What ``Job.edit`` stores; None for no strokes (the AI result)."""
    if not strokes:
        return None
    return {"strokes": [
        {"mode": s.mode, "radius": s.radius, "hardness": s.hardness, "points": s.points.round(2).tolist()}
        for s in strokes
    ]}


def stored_strokes(job: Job) -> list[Stroke]:
    """The job's strokes as stored (they were checked when they came in)."""
    return [
        Stroke(mode=s["mode"], radius=s["radius"], hardness=s["hardness"], points=np.asarray(s["points"], np.float64))
        for s in (job.edit or {}).get("strokes", [])
    ]


def save(job: Job, strokes: list[Stroke]) -> int:
    """Replace the job's edit with ``strokes`` (none: back to the AI result); the new revision."""
    Job.objects.filter(pk=job.pk).update(edit=to_json(strokes), edit_revision=F("edit_revision") + 1)
    job.refresh_from_db(fields=["edit", "edit_revision"])
    return job.edit_revision


def applied(job: Job, cutout: CutOut, load_photo: Callable[[tuple[int, int]], np.ndarray]) -> CutOut:
    """``cutout`` (the job's stored cut-out, at full size or shrunk) with the job's edit.

    Strokes are in full-size pixels and scaled to the cut-out's size, the way the page
    paints them on its preview. ``load_photo((width, height))`` gives the original photo at
    that size; it is read only when a stroke restores.
    """
    strokes = stored_strokes(job)
    if not strokes:
        return cutout
    width, height = cutout.size
    sx, sy = width / (job.width or width), height / (job.height or height)
    if (sx, sy) != (1.0, 1.0):
        strokes = [Stroke(mode=s.mode, radius=s.radius * (sx + sy) / 2, hardness=s.hardness,
                          points=s.points * (sx, sy)) for s in strokes]
    photo = load_photo((width, height)) if any(s.mode == "restore" for s in strokes) else None
    return apply_strokes(cutout, strokes, photo)
