"""Downloads, rendered from the stored full-resolution cut-out.

The page previews backgrounds in the browser; the server renders the same composition
with the engine (cut-out resized to the visitor's tier first, then the background), so
what people download is what they saw, at the size their tier allows.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath
from urllib.parse import quote

import cv2
from django.utils.text import slugify

from .engine.imageio import encode_image
from .engine.pipeline import Background, render
from .jobs import load_cutout, load_original
from .limits import Refused, Tier, fit_megapixels
from .models import Job

CONTENT_TYPES = {"png": "image/png", "webp": "image/webp", "jpg": "image/jpeg"}
TRUE_WORDS = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class DownloadRequest:
    fmt: str  # png, webp or jpg
    background: Background

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.fmt]


def parse_request(params, defaults: dict | None = None) -> DownloadRequest:
    """``format`` (png|webp|jpg), ``bg`` (transparent|blur|mask|RRGGBB|#RRGGBB), ``mask=1``.

    Missing values come from ``defaults`` (the options given at upload), then PNG on
    transparent. A JPEG has no alpha, so a transparent JPEG is put on white.
    """
    defaults = defaults or {}
    fmt = str(params.get("format") or defaults.get("format") or "png").strip().lower()
    fmt = "jpg" if fmt == "jpeg" else fmt
    if fmt not in CONTENT_TYPES:
        raise Refused("Unknown download format. Choose png, webp or jpg.")
    if str(params.get("mask", "")).strip().lower() in TRUE_WORDS:
        wanted = "mask"
    else:
        wanted = str(params.get("bg") or defaults.get("bg") or "transparent").strip().lower()
    try:
        background = Background.parse(wanted)  # no scene loader: file paths are never accepted
    except ValueError:
        raise Refused("Unknown background. Use transparent, blur, mask or a colour like FFFFFF.")
    if fmt == "jpg" and background.has_alpha:
        background = Background(kind="colour", colour=(255, 255, 255))
    return DownloadRequest(fmt=fmt, background=background)


def render_download(job: Job, request: DownloadRequest, tier: Tier) -> bytes:
    """The job's result on the requested background, at most ``tier.max_megapixels``."""
    cutout = load_cutout(job)
    size = fit_megapixels(*cutout.size, tier.max_megapixels)
    cutout = cutout.resized(*size)
    original = None
    if request.background.kind == "blur":
        # Blur at the output size: the blur radius is relative to the picture, so this
        # looks the same as blurring the full photo, for a fraction of the work.
        original = load_original(job)
        if (original.shape[1], original.shape[0]) != size:
            original = cv2.resize(original, size, interpolation=cv2.INTER_AREA)
    image = render(cutout, request.background, original)
    if request.fmt == "jpg" and image.mode != "RGB":
        image = image.convert("RGB")  # the mask, as a greyscale JPEG
    return encode_image(image, request.fmt)


def filename(job: Job, request: DownloadRequest, allow_unicode: bool = False) -> str:
    """``<name>-cutout.png`` / ``<name>-mask.png`` from the upload's name, slugified: letters,
    digits, ``-`` and ``_`` only (ASCII unless ``allow_unicode``), so no quote, separator,
    control or direction character of the original name survives."""
    stem = slugify(PurePath(job.original_name).stem, allow_unicode=allow_unicode)[:60] or "image"
    kind = "mask" if request.background.kind == "mask" else "cutout"
    return f"{stem}-{kind}.{request.fmt}"


def content_disposition(job: Job, request: DownloadRequest) -> str:
    """RFC 6266: ``filename`` in ASCII for every client, plus ``filename*`` (RFC 8187, UTF-8)
    when the upload's name had other letters, which browsers then prefer."""
    ascii_name, name = filename(job, request), filename(job, request, allow_unicode=True)
    header = f'attachment; filename="{ascii_name}"'
    if name != ascii_name:
        header += f"; filename*=utf-8''{quote(name, safe='')}"
    return header


def batch_zip(jobs: Iterable[Job], request: DownloadRequest, tier: Tier):
    """A ZIP of every job's download, as an open temporary file positioned at its start."""
    archive_file = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)
    used: set[str] = set()
    # Images are compressed already: storing them is as small and much faster.
    with zipfile.ZipFile(archive_file, "w", zipfile.ZIP_STORED) as archive:
        for job in jobs:
            name = filename(job, request)
            stem, dot, ext = name.rpartition(".")
            counter = 2
            while name in used:
                name = f"{stem}-{counter}{dot}{ext}"
                counter += 1
            used.add(name)
            archive.writestr(name, render_download(job, request, tier))
    archive_file.seek(0)
    return archive_file
