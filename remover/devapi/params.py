"""The rendering parameters of ``/api/v1/remove`` and ``/api/v1/jobs``, checked up front.

Names and meanings follow remove.bg's API where they overlap, so a client can switch by
changing the URL and the key header. Unknown parameters are ignored, as remove.bg does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from remover.idphoto.errors import IdPhotoError
from remover.idphoto.presets import get_preset
from remover.limits import Tier

from .errors import ApiError

FORMATS = ("auto", "png", "webp", "jpg")
FORMAT_ALIAS = "jpeg"  # accepted for jpg
SIZES = ("auto", "preview", "full")
CHANNELS = ("rgba", "alpha")
MODES = ("cutout", "idphoto")
MAX_MARGIN_PX = 500
MAX_MARGIN_PERCENT = 50.0
# Every field the API reads; a JSON null in one of them is refused rather than guessed at.
FIELD_NAMES = (
    "image_file", "image_file_b64", "image_url", "format", "size", "bg_color", "bg_image_file", "channels",
    "crop", "crop_margin", "mode", "preset", "webhook_url",
)
_COLOUR = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_MARGIN = re.compile(r"(\d+(?:\.\d+)?)(px|%)?")


@dataclass(frozen=True)
class Params:
    """format: png, webp, jpg or auto (png with transparency, jpg when opaque).
    size: preview (at most CLEARCUT_API_PREVIEW_MEGAPIXELS), full or auto (both: the largest
    size the key's tier allows). bg_color: (r, g, b) or None. channels: rgba, or alpha for the
    mask alone. crop: trim to the subject, then add crop_margin (``margin_unit`` px of the
    original image, or % of the subject's size) on each side. mode: cutout, or idphoto with
    ``preset`` (a document key from remover/idphoto/presets.toml or custom:WxHmm)."""

    format: str = "auto"
    size: str = "auto"
    bg_color: tuple[int, int, int] | None = None
    channels: str = "rgba"
    crop: bool = False
    margin: float = 0.0
    margin_unit: str = "px"
    mode: str = "cutout"
    preset: str | None = None

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Params:
        data = dict(data)
        if data.get("bg_color") is not None:
            data["bg_color"] = tuple(data["bg_color"])
        return cls(**data)


def field_text(fields: Mapping, name: str) -> str | None:
    """The field's text, None when it is absent. Values are taken exactly as sent (no case
    folding, no trimming), so what is accepted is exactly what the OpenAPI document says."""
    if name not in fields:
        return None
    value = fields[name]
    if not isinstance(value, str):
        raise ApiError("invalid_parameter", f"{name} must be a string.")
    if not value:
        raise ApiError("invalid_parameter", f"{name} is empty; leave it out or give a value.")
    return value


def _choice(fields: Mapping, name: str, choices: tuple[str, ...], aliases: dict[str, str] | None = None) -> str:
    value = field_text(fields, name)
    if value is None:
        return choices[0]
    value = (aliases or {}).get(value, value)
    if value not in choices:
        raise ApiError("invalid_parameter", f"{name} must be one of {', '.join(choices)}.")
    return value


def parse_colour(value: str) -> tuple[int, int, int]:
    match = _COLOUR.fullmatch(value)
    if not match:
        raise ApiError("invalid_parameter", "bg_color must be a hex colour such as 81d4fa, #81D4FA or fff.")
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def _flag(fields: Mapping, name: str) -> bool:
    """A JSON boolean, or the text true / false of a form field."""
    value = fields.get(name, False)
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise ApiError("invalid_parameter", f"{name} must be true or false.")


def _margin(fields: Mapping) -> tuple[float, str]:
    raw = field_text(fields, "crop_margin")
    if raw is None:
        return 0.0, "px"
    match = _MARGIN.fullmatch(raw)
    if not match:
        raise ApiError("invalid_parameter", "crop_margin must be pixels (such as 30 or 30px) or a percentage (such as 10%).")
    value, unit = float(match.group(1)), match.group(2) or "px"
    if unit == "px" and value > MAX_MARGIN_PX:
        raise ApiError("invalid_parameter", f"crop_margin is at most {MAX_MARGIN_PX}px.")
    if unit == "%" and value > MAX_MARGIN_PERCENT:
        raise ApiError("invalid_parameter", f"crop_margin is at most {MAX_MARGIN_PERCENT:g}%.")
    return value, unit


def parse_params(fields: Mapping, has_bg_image: bool, tier: Tier) -> Params:
    """Check every rendering parameter and the combinations that make no sense together."""
    fmt = _choice(fields, "format", FORMATS, aliases={FORMAT_ALIAS: "jpg"})
    size = _choice(fields, "size", SIZES)
    channels = _choice(fields, "channels", CHANNELS)
    mode = _choice(fields, "mode", MODES)
    colour_text = field_text(fields, "bg_color")
    bg_color = parse_colour(colour_text) if colour_text is not None else None
    crop = _flag(fields, "crop")
    margin, unit = _margin(fields)
    preset = field_text(fields, "preset")

    if bg_color is not None and has_bg_image:
        raise ApiError("invalid_parameter", "Give bg_color or bg_image_file, not both.")
    if channels == "alpha" and (bg_color is not None or has_bg_image):
        raise ApiError("invalid_parameter", "channels=alpha returns the mask alone: leave out bg_color and bg_image_file.")
    if mode == "cutout" and preset:
        raise ApiError("invalid_parameter", "preset is for mode=idphoto.")
    if mode == "idphoto":
        preset = _checked_preset(preset, tier)
        if bg_color is not None or has_bg_image or channels == "alpha" or crop:
            raise ApiError(
                "invalid_parameter",
                "mode=idphoto frames the photo on the document's own background: leave out bg_color, "
                "bg_image_file, channels=alpha and crop.",
            )
    return Params(format=fmt, size=size, bg_color=bg_color, channels=channels, crop=crop,
                  margin=margin, margin_unit=unit, mode=mode, preset=preset)


def _checked_preset(name: str | None, tier: Tier) -> str:
    if not name:
        raise ApiError("invalid_parameter", "mode=idphoto needs a preset, such as us, uk or schengen.")
    try:
        preset = get_preset(name)
    except IdPhotoError as exc:
        raise ApiError("invalid_parameter", str(exc))
    width, height = preset.pixels
    if width * height > tier.max_megapixels * 1e6:
        raise ApiError(
            "invalid_parameter",
            f"This document is {width}×{height} pixels; this key's tier ({tier.name}) allows {tier.max_megapixels:g} MP.",
        )
    return preset.key
