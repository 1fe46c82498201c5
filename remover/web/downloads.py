"""Downloads, rendered from the stored full-resolution cut-out.

The page previews backgrounds in the browser; the server renders the same composition
with the engine (cut-out resized to the visitor's tier first, then the background), so
what people download is what they saw, at the size their tier allows.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import PurePath
from urllib.parse import quote

import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.text import slugify
from PIL import Image

from remover.engine.canvas import (
    ASPECTS,
    MAX_PADDING_PERCENT,
    SHADOW_STYLES,
    Framing,
    frame,
)
from remover.engine.imageio import encode_image
from remover.engine.pipeline import Background, render
from remover.models import Job, renders_folder
from remover.processing.jobs import (
    full_cutout,
    load_cutout,
    load_original,
    preview_size,
)
from remover.web.limits import Refused, Tier, fit_megapixels

CONTENT_TYPES = {"png": "image/png", "webp": "image/webp", "jpg": "image/jpeg"}
TRUE_WORDS = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class DownloadRequest:
    fmt: str  # png, webp or jpg
    background: Background
    framing: Framing = Framing()  # crop, canvas, shadow (remover/engine/canvas.py)

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
    return DownloadRequest(fmt=fmt, background=background, framing=parse_framing(params))


MAX_MARGIN_PX = 2000
MAX_MARGIN_PERCENT = 100.0
CUSTOM_CANVAS_PX = (16, 10000)  # each side of a custom canvas
_CANVAS_SIZE = re.compile(r"(\d{1,5})x(\d{1,5})")
_MARGIN = re.compile(r"(\d+(?:\.\d+)?)(px|%)?")


def _percent(params, name: str, default: float, top: float) -> float:
    raw = str(params.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= top:  # NaN fails too
        raise Refused(f"{name} must be a number from 0 to {top:g}.")
    return value


def parse_framing(params) -> Framing:
    """``crop=1`` with ``margin`` (px of the full-size photo, or N%), ``canvas``
    (original|1:1|4:5|9:16|16:9|WxH), ``padding`` (% of the canvas's shorter side),
    ``position`` (x,y in % of the free room; default 50,50), ``shadow`` (off|drop|contact)
    and ``shadow_strength`` (0-100)."""
    crop = str(params.get("crop", "")).strip().lower() in TRUE_WORDS
    margin, unit = 0.0, "px"
    raw_margin = str(params.get("margin") or "").strip().lower()
    if raw_margin:
        match = _MARGIN.fullmatch(raw_margin)
        if not match:
            raise Refused("margin must be pixels (such as 30) or a percentage (such as 10%).")
        margin, unit = float(match.group(1)), match.group(2) or "px"
        top = MAX_MARGIN_PX if unit == "px" else MAX_MARGIN_PERCENT
        if margin > top:
            raise Refused(f"margin is at most {top:g}{unit}.")
    canvas, size = str(params.get("canvas") or "original").strip().lower(), None
    if canvas not in ("original", *ASPECTS):
        match = _CANVAS_SIZE.fullmatch(canvas)
        low, high = CUSTOM_CANVAS_PX
        if not match or not all(low <= int(v) <= high for v in match.groups()):
            raise Refused(f"canvas must be original, {', '.join(ASPECTS)} or WxH with {low} to {high} px a side.")
        canvas, size = "custom", (int(match.group(1)), int(match.group(2)))
    padding = _percent(params, "padding", 0.0, MAX_PADDING_PERCENT)
    position = (0.5, 0.5)
    raw_position = str(params.get("position") or "").strip()
    if raw_position:
        parts = raw_position.split(",")
        if len(parts) != 2:
            raise Refused("position must be x,y in percent, such as 50,50.")
        position = tuple(_percent({"position": p}, "position", 50.0, 100.0) / 100 for p in parts)
    shadow = str(params.get("shadow") or "off").strip().lower()
    if shadow not in SHADOW_STYLES:
        raise Refused(f"shadow must be {', '.join(SHADOW_STYLES)}.")
    strength = _percent(params, "shadow_strength", 50.0, 100.0) / 100
    return Framing(crop=crop, margin=margin, margin_unit=unit, canvas=canvas, size=size, padding=padding,
                   position=position, shadow=shadow, shadow_strength=strength)


def output_size(job: Job, tier: Tier) -> tuple[int, int]:
    """(width, height) of the job's downloads for ``tier``."""
    return fit_megapixels(job.width, job.height, tier.max_megapixels)


def stored_as_is(job: Job, request: DownloadRequest, tier: Tier):
    """The job's stored file that already is this download, or None: an unedited, unframed
    transparent PNG at preview size (the preview) or at full size (the cut-out, waited for
    if the worker is still storing it)."""
    if (request.fmt, request.background.kind, request.framing, job.edit) != ("png", "transparent", Framing(), None):
        return None
    size = output_size(job, tier)
    if size == (job.width, job.height):
        return full_cutout(job)
    if size == preview_size(job.width, job.height) and job.preview:
        return job.preview
    return None


def backdrop_photo(job: Job, size: tuple[int, int]) -> np.ndarray:
    """The photo at ``size`` for blurred backdrops, (H, W, 3) uint8: decoded from the upload
    once per size and kept with the job's renders, since every blurred download of that size
    (each format, colour of shadow, canvas) starts from it."""
    name = f"{renders_folder(job.pk)}/photo-{size[0]}x{size[1]}.png"
    if default_storage.exists(name):
        with default_storage.open(name, "rb") as stored:
            return np.asarray(Image.open(stored).convert("RGB"))
    photo = load_original(job, size)
    saved = default_storage.save(name, ContentFile(encode_image(Image.fromarray(photo), "png")))
    if not Job.objects.filter(pk=job.pk).exists():  # deleted meanwhile: keep nothing (see renders.py)
        default_storage.delete(saved)
    return photo


def render_download(job: Job, request: DownloadRequest, tier: Tier) -> bytes:
    """The job's result on the requested background, at most ``tier.max_megapixels``.

    Cut-out and photo are shrunk to the output size as they are decoded, so a free 1 MP
    download of a 49 MP photo never holds the full-size pixels as floats. The blur runs at
    the output size too: its radius is relative to the picture, so it looks the same as
    blurring the full photo.
    """
    size = output_size(job, tier)
    cutout = frame(load_cutout(job, size), request.framing, tier.max_megapixels,
                   shadow=request.background.kind != "mask", px_scale=size[0] / (job.width or size[0]))
    original = backdrop_photo(job, size) if request.background.kind == "blur" else None
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


class _Chunks(io.RawIOBase):
    """A write-only, unseekable file that hands out what was written since the last call:
    :mod:`zipfile` writes such files in one pass (sizes in data descriptors)."""

    def __init__(self):
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


async def zip_stream(files: AsyncIterable[tuple[str, bytes]]) -> AsyncIterator[bytes]:
    """A ZIP of ``(name, data)`` pairs, yielded as each file arrives: one file in memory at a
    time. Names repeated within the archive get ``-2``, ``-3``... before the extension."""
    sink = _Chunks()
    used: set[str] = set()
    # Images are compressed already: storing them is as small and much faster.
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED) as archive:
        async for name, data in files:
            stem, dot, ext = name.rpartition(".")
            counter = 2
            while name in used:
                name = f"{stem}-{counter}{dot}{ext}"
                counter += 1
            used.add(name)
            archive.writestr(name, data)
            yield sink.take()
    yield sink.take()  # the central directory
