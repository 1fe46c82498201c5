"""The API's answer image, rendered from a finished job's stored full-resolution cut-out
with the request's parameters: roi, semitransparency, crop, scale and position, shadow, size
(capped by the key's tier), background, channels, format. No model runs here, so the web
process can do it (off its event loop). The framing itself is remover/engine/canvas.py's. In
ID photo mode the stored cut-out is already the framed photo (remover/processing/jobs.py)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from PIL import Image

from remover.engine import compose
from remover.engine.canvas import (
    Framing,
    crop_to_subject,
    frame,
    subject_box,
    with_shadow,
)
from remover.engine.compose import CutOut
from remover.engine.imageio import ImageError, decode_image, encode_image
from remover.idphoto.jpeg import encode_jpeg
from remover.idphoto.presets import get_preset
from remover.models import Job
from remover.processing.jobs import load_cutout
from remover.web.limits import Tier

from . import conf
from .errors import ApiError
from .models import ApiJob
from .params import SIZE_MEGAPIXELS, Length, Params, roi_box

CONTENT_TYPES = {"png": "image/png", "webp": "image/webp", "jpg": "image/jpeg", "zip": "application/zip"}
# format=zip holds these two files, named as remove.bg names them.
ZIP_COLOUR, ZIP_ALPHA = "color.jpg", "alpha.png"
# semitransparency=false: alpha from here up is subject, below it background.
OPAQUE_FROM = 128


@dataclass(frozen=True)
class Output:
    data: bytes
    format: str  # png, webp, jpg or zip
    width: int
    height: int
    passed: bool | None = None  # ID photos: whether every check of the compliance report passed
    foreground: tuple[int, int, int, int] | None = None  # the subject's (left, top, width, height) in the image

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


def output_megapixels(params: Params, tier: Tier) -> float:
    """The size's cap, never above the key's tier (auto: the tier's own)."""
    if params.size == "auto":
        return tier.max_megapixels
    cap = conf.get("CLEARCUT_API_PREVIEW_MEGAPIXELS") if params.size == "preview" else SIZE_MEGAPIXELS[params.size]
    return min(tier.max_megapixels, cap)


def _masked(cutout: CutOut, params: Params) -> CutOut:
    """roi and semitransparency, on the full-size mask before any framing (so resizing
    still smooths the edges of a hard mask)."""
    alpha = cutout.alpha
    if params.roi is not None:
        left, top, right, bottom = roi_box(params.roi, *cutout.size)
        alpha = np.zeros_like(alpha)
        alpha[top:bottom, left:right] = cutout.alpha[top:bottom, left:right]
    if not params.semitransparency:
        alpha = np.where(alpha >= OPAQUE_FROM, 255, 0).astype(np.uint8)
    return cutout if alpha is cutout.alpha else CutOut(foreground=cutout.foreground, alpha=alpha)


def _cropped(cutout: CutOut, margin: tuple[Length, ...]) -> CutOut:
    """Trimmed to the subject plus ``margin`` (top, right, bottom, left): canvas.crop_to_subject
    with the widest side's margin, the other sides trimmed back to theirs."""
    box = subject_box(cutout.alpha)
    if box is None:
        return cutout
    left, top, right, bottom = box
    sides = [round(value * ((bottom - top) if i % 2 == 0 else (right - left)) / 100) if unit == "%" else round(value)
             for i, (value, unit) in enumerate(margin)]
    widest = max(sides)
    framed = crop_to_subject(cutout, widest, "px")
    height, width = framed.alpha.shape
    t, r, b, l = (widest - side for side in sides)
    return CutOut(foreground=np.ascontiguousarray(framed.foreground[t:height - b, l:width - r]),
                  alpha=np.ascontiguousarray(framed.alpha[t:height - b, l:width - r]))


def _framed(cutout: CutOut, params: Params, megapixels: float) -> tuple[CutOut, tuple[int, int, int, int] | None]:
    """Cropped, placed and sized as the parameters say; also the subject's box (before the
    shadow, which is not the subject)."""
    framing = Framing()
    # canvas: the frame (the photo, or with crop the subject and its margin) on a canvas of that preset.
    canvas = {"canvas": params.canvas, "size": params.canvas_size}
    if params.crop:
        # The frame is the subject and its margin; scale and position move the subject in it.
        cutout = _cropped(cutout, params.crop_margin)
        framing = Framing(scale=params.scale, position=params.position or (0.5, 0.5), **canvas)
    elif params.canvas != "original":
        framing = Framing(scale=params.scale, position=params.position or (0.5, 0.5), **canvas)
    elif params.position is not None:
        # remove.bg's scale and position: the subject alone, placed on the photo's frame.
        photo = cutout.size
        cutout = crop_to_subject(cutout, 0, "px")
        own_size = max(cutout.size[0] / photo[0], cutout.size[1] / photo[1])  # scale=original
        framing = Framing(canvas="custom", size=photo, scale=params.scale or own_size, position=params.position)
    framed = frame(cutout, framing, megapixels, shadow=False)
    box = subject_box(framed.alpha)
    if params.shadow:
        framed = with_shadow(framed, params.shadow_type, params.shadow_strength)
    return framed, box


def _composed(cutout: CutOut, params: Params, background: bytes | None) -> Image.Image:
    if params.channels == "alpha":
        return compose.mask_image(cutout)
    if params.bg_color is not None:
        return compose.solid(cutout, params.bg_color)
    if background is not None:
        try:
            scene = decode_image(background, max_megapixels=settings.CLEARCUT_MAX_MEGAPIXELS).rgb
        except ImageError as exc:  # its header was fine when it was sent; its pixels are not
            raise ApiError("image_unprocessable", f"The background image: {exc}", reason="failed_to_read_image")
        return compose.on_scene(cutout, scene)
    return compose.to_rgba(cutout)


def _zip(image: Image.Image) -> bytes:
    """remove.bg's ZIP: the colours as a JPEG and the alpha matte as a greyscale PNG, both
    the image's size (an opaque result has an all-white matte)."""
    alpha = image.getchannel("A") if image.mode == "RGBA" else Image.new("L", image.size, 255)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # both are compressed already
        archive.writestr(ZIP_COLOUR, encode_image(image.convert("RGB"), "jpg"))
        archive.writestr(ZIP_ALPHA, encode_image(alpha, "png"))
    return buffer.getvalue()


def render_cutout(cutout: CutOut, params: Params, tier: Tier, background: bytes | None = None) -> Output:
    cutout, box = _framed(_masked(cutout, params), params, output_megapixels(params, tier))
    image = _composed(cutout, params, background)
    fmt = params.format
    if fmt == "auto":
        fmt = "jpg" if image.mode == "RGB" else "png"  # opaque photos as JPEG; transparency and masks as PNG
    if fmt == "jpg" and image.mode == "RGBA":
        image = compose.solid(cutout, (255, 255, 255))  # JPEG has no alpha: white, as the site does
    data = _zip(image) if fmt == "zip" else encode_image(image, fmt)
    foreground = None if box is None else (box[0], box[1], box[2] - box[0], box[3] - box[1])
    return Output(data=data, format=fmt, width=image.width, height=image.height, foreground=foreground)


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
