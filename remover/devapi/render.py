"""The API's answer image, rendered from a finished job's stored full-resolution cut-out
with the request's parameters: crop, size (capped by the key's tier), background, channels,
format. No model runs here, so the web process can do it (off its event loop). In ID photo
mode the stored cut-out is already the framed photo (remover/jobs.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.conf import settings
from PIL import Image

from remover.engine import compose
from remover.engine.compose import CutOut
from remover.engine.imageio import ImageError, decode_image, encode_image
from remover.idphoto.jpeg import encode_jpeg
from remover.idphoto.presets import get_preset
from remover.jobs import load_cutout
from remover.limits import Tier, fit_megapixels
from remover.models import Job

from . import conf
from .errors import ApiError
from .models import ApiJob
from .params import Params

CONTENT_TYPES = {"png": "image/png", "webp": "image/webp", "jpg": "image/jpeg"}
# When trimming, alpha below this counts as background: the faint haze a soft mask leaves
# far from the subject must not stretch the box.
SUBJECT_ALPHA = 16


@dataclass(frozen=True)
class Output:
    data: bytes
    format: str  # png, webp or jpg
    width: int
    height: int
    passed: bool | None = None  # ID photos: whether every check of the compliance report passed

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


def crop_to_subject(cutout: CutOut, margin: float, unit: str) -> CutOut:
    """The subject's bounding box plus ``margin`` (px, or % of the box) on each side; where the
    margin reaches past the photo, the new pixels are transparent. No subject: unchanged."""
    rows = np.flatnonzero((cutout.alpha >= SUBJECT_ALPHA).any(axis=1))
    cols = np.flatnonzero((cutout.alpha >= SUBJECT_ALPHA).any(axis=0))
    if rows.size == 0:
        return cutout
    top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    if unit == "%":
        mx, my = round((right - left) * margin / 100), round((bottom - top) * margin / 100)
    else:
        mx = my = round(margin)
    top, bottom, left, right = top - my, bottom + my, left - mx, right + mx
    height, width = cutout.alpha.shape
    foreground = np.zeros((bottom - top, right - left, 3), np.uint8)
    alpha = np.zeros((bottom - top, right - left), np.uint8)
    # The part of the new box that lies on the photo.
    y0, y1, x0, x1 = max(top, 0), min(bottom, height), max(left, 0), min(right, width)
    foreground[y0 - top:y1 - top, x0 - left:x1 - left] = cutout.foreground[y0:y1, x0:x1]
    alpha[y0 - top:y1 - top, x0 - left:x1 - left] = cutout.alpha[y0:y1, x0:x1]
    return CutOut(foreground=foreground, alpha=alpha)


def output_megapixels(params: Params, tier: Tier) -> float:
    if params.size == "preview":
        return min(tier.max_megapixels, conf.get("CLEARCUT_API_PREVIEW_MEGAPIXELS"))
    return tier.max_megapixels  # full and auto: the most the key's tier allows


def _composed(cutout: CutOut, params: Params, background: bytes | None) -> Image.Image:
    if params.channels == "alpha":
        return compose.mask_image(cutout)
    if params.bg_color is not None:
        return compose.solid(cutout, params.bg_color)
    if background is not None:
        try:
            scene = decode_image(background, max_megapixels=settings.CLEARCUT_MAX_MEGAPIXELS).rgb
        except ImageError as exc:  # its header was fine when it was sent; its pixels are not
            raise ApiError("image_unprocessable", f"The background image: {exc}")
        return compose.on_scene(cutout, scene)
    return compose.to_rgba(cutout)


def render_cutout(cutout: CutOut, params: Params, tier: Tier, background: bytes | None = None) -> Output:
    if params.crop:
        cutout = crop_to_subject(cutout, params.margin, params.margin_unit)
    cutout = cutout.resized(*fit_megapixels(*cutout.size, output_megapixels(params, tier)))
    image = _composed(cutout, params, background)
    fmt = params.format
    if fmt == "auto":
        fmt = "jpg" if image.mode == "RGB" else "png"  # opaque photos as JPEG; transparency and masks as PNG
    if fmt == "jpg" and image.mode == "RGBA":
        image = compose.solid(cutout, (255, 255, 255))  # JPEG has no alpha: white, as the site does
    return Output(data=encode_image(image, fmt), format=fmt, width=image.width, height=image.height)


def render_id_photo(photo: CutOut, params: Params, passed: bool | None = None) -> Output:
    """An ID photo keeps the document's pixel size (``size`` does not apply); as JPEG it is
    encoded within the document's file-size limits, and every format carries its DPI."""
    preset = get_preset(params.preset)
    image = Image.fromarray(photo.foreground, "RGB")
    fmt = "jpg" if params.format == "auto" else params.format
    if fmt == "jpg":
        data, _ = encode_jpeg(image, preset.dpi, preset.kb)
    else:
        data = encode_image(image, fmt, dpi=preset.dpi)
    return Output(data=data, format=fmt, width=image.width, height=image.height, passed=passed)


def render_result(job: Job, api_job: ApiJob, tier: Tier) -> Output:
    """The finished job's answer for its API parameters."""
    params = Params.from_json(api_job.params)
    if params.mode == "idphoto":
        return render_id_photo(load_cutout(job), params, (job.idphoto_report or {}).get("passed"))
    background = None
    if api_job.background:
        with api_job.background.open("rb") as stored:
            background = stored.read()
    return render_cutout(load_cutout(job), params, tier, background)
