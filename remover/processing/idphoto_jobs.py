"""Passport / ID photo jobs: the web side of remover/idphoto.

An ID photo job is a :class:`~remover.models.Job` whose ``options`` are ``{"mode": "idphoto",
"preset": KEY}`` (the site's ``POST /api/jobs`` and the developer API make the same job). The
worker runs it like any job (remover/processing/jobs.py) through :func:`make_photo`: the framed photo is
stored as the job's cut-out (opaque, at the document's pixel size) and the compliance report
in ``Job.idphoto_report``. The files people download are encoded from that photo when asked
for (remover/web/idphoto_api.py); the JPEG comes out byte for byte as the pipeline made it.

Sizes and tiers: an ID photo is delivered at its document's exact pixel size, never shrunk
to the visitor's download cap, because a smaller file would break the document's rules.
Instead the document must fit the cap when the job is created: every listed document does
(the largest, UK, is 0.63 MP against the free tier's 1 MP), so only a custom size above the
cap is refused. Print sheets hold copies of that same small photo at 300 dpi and add no
detail, so every tier gets them.
"""

from __future__ import annotations

from pathlib import PurePath

import numpy as np
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.text import slugify

from remover.engine.compose import CutOut
from remover.engine.imageio import DecodedImage, ImageError
from remover.idphoto.errors import IdPhotoError
from remover.idphoto.pipeline import Progress, make_id_photo
from remover.idphoto.presets import Preset, get_preset, load_presets
from remover.idphoto.sheet import PAPERS, layout
from remover.models import Job
from remover.web.limits import Refused, Tier

MODE = "idphoto"
SHEET_TYPES = {"jpg": "image/jpeg", "pdf": "application/pdf"}
PRESETS_HINT = "GET /api/idphoto/presets lists every document with its name and size."
CUSTOM_SIZES = "custom:WxHmm or custom:WxHpx: any size with ICAO proportions on white"
# Upload fields that only mean something for a cut-out.
CUTOUT_ONLY = ("format", "bg")


def is_id_photo(job: Job) -> bool:
    return job.options.get("mode") == MODE


def without_id_photos(jobs: QuerySet[Job]) -> QuerySet[Job]:
    """The cut-outs among ``jobs``. (A plain ``exclude`` would also drop every job whose
    options have no ``mode`` at all: SQL compares the missing key as NULL.)"""
    return jobs.filter(~Q(options__mode=MODE) | Q(options__mode__isnull=True))


# --- Choosing the document ----------------------------------------------------------------

def catalogue() -> list[dict]:
    """The documents grouped by country, in the data file's order: the page's picker and
    ``GET /api/idphoto/presets``."""
    groups: dict[str, list[dict]] = {}
    for preset in load_presets().values():
        groups.setdefault(preset.country or "Other documents", []).append(preset.to_dict())
    return [{"country": country, "documents": documents} for country, documents in groups.items()]


def job_options(params, tier: Tier) -> dict:
    """The options an ID photo job keeps, from the upload's ``preset`` (and nothing a cut-out
    takes); raises :class:`Refused` with the reason before anything is stored or counted."""
    given = [name for name in CUTOUT_ONLY if params.get(name)]
    if given:
        raise Refused(
            f"{' and '.join(given)} only apply to cut-outs: an ID photo is a JPEG on its document's "
            "own background. Leave them out."
        )
    name = (params.get("preset") or "").strip()
    if not name:
        raise Refused(f"Choose the document for the ID photo with preset=NAME. {PRESETS_HINT}")
    try:
        preset = get_preset(name)
    except IdPhotoError as exc:
        raise Refused(f"{exc} {PRESETS_HINT}")
    width, height = preset.pixels
    if width * height > tier.max_megapixels * 1e6:
        upgrade = " or sign in with a Pro account" if tier.name == "free" else ""
        raise Refused(
            f"A {width}×{height} px photo is larger than the {tier.max_megapixels:g} MP your downloads may have. "
            f"Choose a smaller size{upgrade}."
        )
    return {"mode": MODE, "preset": preset.key}


def job_preset(job: Job) -> Preset:
    """The job's document; :class:`Refused` if the presets file no longer has it."""
    try:
        return get_preset(job.options.get("preset", ""))
    except IdPhotoError:
        raise Refused("This document is no longer offered, so nothing more can be made for it.", 409)


# --- Processing (in the worker) -----------------------------------------------------------

def make_photo(job: Job, decoded: DecodedImage, segmenter, progress: Progress) -> tuple[CutOut, dict]:
    """Make the ID photo: (the photo as an opaque cut-out, its compliance report).

    A photo that cannot become one (no face, two faces, too small) raises ImageError with the
    pipeline's message for the person, which ends the job in ``error``.
    """
    try:
        photo = make_id_photo(decoded, get_preset(job.options.get("preset", "")), segmenter, _job_steps(progress))
    except IdPhotoError as exc:
        raise ImageError(str(exc)) from exc
    rgb = np.ascontiguousarray(np.asarray(photo.image))
    return CutOut(foreground=rgb, alpha=np.full(rgb.shape[:2], 255, np.uint8)), photo.report


def _job_steps(progress: Progress) -> Progress:
    """The pipeline's steps as the job's. The job says ``done`` itself once its files are
    stored, and a second segmenting pass (tall hair) must not move the bar back."""
    highest = 0

    def step(stage: str, percent: int) -> None:
        nonlocal highest
        if stage == "done":
            return
        highest = max(highest, percent)
        progress(stage, highest)

    return step


# --- Describing and downloading -----------------------------------------------------------

def _document(job: Job) -> dict:
    """Key, name and pixel size of the job's document, even if the presets file lost it since."""
    key = job.options.get("preset", "")
    try:
        preset = get_preset(key).to_dict()
    except IdPhotoError:
        preset = (job.idphoto_report or {}).get("preset") or {}
    return {"key": key, "name": preset.get("name", key), "pixels": preset.get("pixels")}


def describe(job: Job, state: dict) -> dict:
    """Complete ``job_state`` for an ID photo job: its document and, once done, the report
    and the links to the photo and the print sheets."""
    state["preset"] = document = _document(job)
    state["download_size"] = state["pro_size"] = document["pixels"]
    if job.status != Job.Status.DONE:
        return state
    report = job.idphoto_report or {}
    state["report"] = report
    sheet_url = reverse("api-job-sheet", args=[job.pk])
    state["urls"]["photo"] = reverse("api-job-idphoto", args=[job.pk])
    state["urls"]["sheets"] = {
        paper: {fmt: f"{sheet_url}?sheet={paper}&format={fmt}" for fmt in SHEET_TYPES} for paper in PAPERS
    }
    size_mm = tuple(report.get("preset", {}).get("size_mm", ()))
    if len(size_mm) == 2:
        state["sheets"] = {
            key: {"name": paper.name, "copies": layout(size_mm, paper).copies} for key, paper in PAPERS.items()
        }
    return state


def parse_sheet(params) -> tuple[str, str]:
    """``sheet`` (4x6|a4, default 4x6) and ``format`` (jpg|pdf, default jpg)."""
    paper = str(params.get("sheet") or "4x6").strip().lower()
    fmt = str(params.get("format") or "jpg").strip().lower()
    fmt = "jpg" if fmt == "jpeg" else fmt
    if paper not in PAPERS:
        raise Refused(f"Unknown sheet. Choose {' or '.join(PAPERS)}.")
    if fmt not in SHEET_TYPES:
        raise Refused(f"Unknown sheet format. Choose {' or '.join(SHEET_TYPES)}.")
    return paper, fmt


def filename(job: Job, suffix: str = "") -> str:
    """``<name>-<document><suffix>``, ASCII only, e.g. ``me-uk.jpg`` or ``me-uk-sheet-a4.pdf``."""
    stem = slugify(PurePath(job.original_name).stem)[:60] or "photo"
    return f"{stem}-{slugify(job.options.get('preset', '')) or 'id'}{suffix}"
