"""The API's answer image, rendered from a finished job's stored full-resolution cut-out
with the request's parameters: crop, size (capped by the key's tier), background, channels,
format. No model runs here, so the web process can do it (off its event loop). In ID photo
mode the stored cut-out is already the framed photo (remover/jobs.py)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from PIL import Image

from remover.engine import compose
from remover.engine.canvas import crop_to_subject
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
