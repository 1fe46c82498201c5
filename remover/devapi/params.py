"""The rendering parameters of ``/api/v1/remove``, ``/api/v1/jobs`` and the remove.bg drop-in
``/v1.0/removebg``, checked up front.

Names, values and meanings are remove.bg's, so a remove.bg client works by changing the host
name; ``mode`` and ``preset`` (ID photos), ``canvas``, ``shadow_type`` and ``shadow_strength``
are ours. Unknown parameters are ignored, as
remove.bg does. A refusal carries remove.bg's finer error code as its ``reason``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from PIL import ImageColor

from remover.engine.canvas import ASPECTS, SHADOW_STYLES
from remover.idphoto.errors import IdPhotoError
from remover.idphoto.presets import get_preset
from remover.web.limits import Tier

from .errors import ApiError

FORMATS = ("auto", "png", "webp", "jpg", "zip")
FORMAT_ALIAS = "jpeg"  # accepted for jpg
# remove.bg's sizes. Each is a cap in megapixels, never above the key's tier: preview is
# CLEARCUT_API_PREVIEW_MEGAPIXELS, auto the most the tier allows, the others these.
SIZES = ("auto", "preview", "medium", "hd", "full", "50MP")
SIZE_ALIASES = {"small": "preview", "regular": "preview", "4k": "full"}
SIZE_MEGAPIXELS = {"medium": 1.5, "hd": 4.0, "full": 36.0, "50MP": 50.0}
REMOVEBG_DEFAULT_SIZE = "preview"  # /v1.0/removebg, as remove.bg; our own endpoints default to auto
CHANNELS = ("rgba", "alpha")
# remove.bg's foreground types. Our model is one general-purpose model, so the type does not
# change the cut-out; it is echoed in X-Type (auto: "other", as we do not classify).
TYPES = ("auto", "person", "product", "car", "animal", "graphic", "transportation")
TYPE_LEVELS = ("1", "2", "latest", "none")  # none: no X-Type header
MODES = ("cutout", "idphoto")
SHADOW_TYPES = tuple(style for style in SHADOW_STYLES if style != "off")
MAX_MARGIN_PX = 500
MAX_MARGIN_PERCENT = 50.0
MIN_SCALE_PERCENT = 10.0
# Every field the API reads; a JSON null in one of them is refused rather than guessed at.
FIELD_NAMES = (
    "image_file", "image_file_b64", "image_url", "format", "size", "type", "type_level", "bg_color",
    "bg_image_file", "bg_image_url", "channels", "crop", "crop_margin", "roi", "scale", "position", "add_shadow",
    "shadow_type", "shadow_strength", "canvas", "semitransparency", "mode", "preset", "webhook_url",
)
# canvas: original, an aspect preset of remover/engine/canvas.py, or WxH pixels within these.
CANVAS_SIDE_PX = (16, 10000)
_CANVAS_SIZE = re.compile(r"(\d{1,5})x(\d{1,5})")
_COLOUR = re.compile(r"#?([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
_LENGTH = re.compile(r"(\d+(?:\.\d+)?)(px|%)?")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)%")

# A length of the photo or the subject: (value, "px" or "%").
Length = tuple[float, str]
NO_MARGIN: tuple[Length, ...] = ((0.0, "px"),) * 4


@dataclass(frozen=True)
class Params:
    """format: png, webp, jpg, zip (colour JPEG + alpha PNG) or auto (png with transparency,
    jpg when opaque). size: a SIZES name (see :data:`SIZE_MEGAPIXELS`). bg_color: (r, g, b)
    or None. channels: rgba, or alpha for the mask alone. crop: trim to the subject, then add
    crop_margin, (top, right, bottom, left) each px of the original or % of the subject's
    height (top, bottom) or width (left, right). roi: (x1, y1, x2, y2) of the original, px or
    % of its width / height; nothing outside is foreground. scale: the subject's size as a
    share (0.1..1) of the largest that fits the frame, or None to keep it. position: (x, y)
    in 0..1 of the room left in the frame, or None to keep it. shadow: a shadow of
    ``shadow_type`` (drop or contact) at ``shadow_strength`` (0..1). canvas: original, an
    aspect preset (1:1, 4:5, 9:16, 16:9) or custom with ``canvas_size`` (width, height) px.
    semitransparency: False makes every pixel subject or background. type, type_level: see
    :data:`TYPES`. mode: cutout, or idphoto with ``preset`` (a document key from
    remover/idphoto/presets.toml or custom:WxHmm)."""

    format: str = "auto"
    size: str = "auto"
    bg_color: tuple[int, int, int] | None = None
    channels: str = "rgba"
    crop: bool = False
    crop_margin: tuple[Length, ...] = NO_MARGIN
    roi: tuple[Length, ...] | None = None
    scale: float | None = None
    position: tuple[float, float] | None = None
    shadow: bool = False
    shadow_type: str = "drop"
    shadow_strength: float = 0.5
    canvas: str = "original"
    canvas_size: tuple[int, int] | None = None
    semitransparency: bool = True
    type: str = "auto"
    type_level: str = "1"
    mode: str = "cutout"
    preset: str | None = None

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Params:
        data = dict(data)
        if "margin" in data:  # stored before per-side margins, by a job still within its 24 hours
            data["crop_margin"] = ((data.pop("margin"), data.pop("margin_unit")),) * 4
        for name in ("bg_color", "position", "canvas_size"):
            if data.get(name) is not None:
                data[name] = tuple(data[name])
        for name in ("crop_margin", "roi"):
            if data.get(name) is not None:
                data[name] = tuple(tuple(length) for length in data[name])
        return cls(**data)


def _refuse(name: str, message: str) -> ApiError:
    return ApiError("invalid_parameter", message, reason=f"invalid_{name}")


def field_text(fields: Mapping, name: str) -> str | None:
    """The field's text, None when it is absent. Values are taken exactly as sent (no case
    folding, no trimming), so what is accepted is exactly what the OpenAPI document says."""
    if name not in fields:
        return None
    value = fields[name]
    if not isinstance(value, str):
        raise _refuse(name, f"{name} must be a string.")
    if not value:
        raise _refuse(name, f"{name} is empty; leave it out or give a value.")
    return value


def _choice(fields: Mapping, name: str, choices: tuple[str, ...], aliases: dict[str, str] | None = None,
            default: str | None = None) -> str:
    value = field_text(fields, name)
    if value is None:
        return default or choices[0]
    value = (aliases or {}).get(value, value)
    if value not in choices:
        accepted = [*choices, *(aliases or {})]
        raise _refuse(name, f"{name} must be one of {', '.join(accepted)}.")
    return value


def parse_colour(value: str) -> tuple[int, int, int]:
    """Hex (81d4fa, #81D4FA, fff; with a fourth or eighth digit pair ff) or a CSS colour name."""
    match = _COLOUR.fullmatch(value)
    if match is None:
        if value in ImageColor.colormap:
            return ImageColor.getrgb(value)[:3]
        raise _refuse("bg_color", "bg_color must be a hex colour such as 81d4fa, #81D4FA or fff, or a colour name "
                                  "such as green.")
    digits = match.group(1)
    if len(digits) <= 4:
        digits = "".join(c * 2 for c in digits)
    if digits[6:].lower() not in ("", "ff"):
        raise _refuse("bg_color", "bg_color must be opaque (a see-through background colour is not supported): give "
                                  "3 or 6 hex digits, or leave bg_color out for a transparent background.")
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def _flag(fields: Mapping, name: str, default: bool = False) -> bool:
    """A JSON boolean, or the text true / false of a form field."""
    value = fields.get(name, default)
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise _refuse(name, f"{name} must be true or false.")


def _lengths(name: str, raw: str, counts: tuple[int, ...], example: str) -> list[Length]:
    parts = raw.split(" ")
    matches = [_LENGTH.fullmatch(part) for part in parts]
    if len(parts) not in counts or not all(matches):
        raise _refuse(name, f"{name} must be {example}.")
    return [(float(match.group(1)), match.group(2) or "px") for match in matches]


def _margin(fields: Mapping) -> tuple[Length, ...]:
    """remove.bg's crop_margin: one value (every side), two (top and bottom, left and right) or
    four (top, right, bottom, left)."""
    raw = field_text(fields, "crop_margin")
    if raw is None:
        return NO_MARGIN
    values = _lengths("crop_margin", raw, (1, 2, 4),
                      "pixels (such as 30 or 30px) or a percentage (such as 10%): one value, two (top and bottom, "
                      "left and right) or four (top, right, bottom, left), separated by single spaces")
    for value, unit in values:
        if unit == "px" and value > MAX_MARGIN_PX:
            raise _refuse("crop_margin", f"crop_margin is at most {MAX_MARGIN_PX}px on each side.")
        if unit == "%" and value > MAX_MARGIN_PERCENT:
            raise _refuse("crop_margin", f"crop_margin is at most {MAX_MARGIN_PERCENT:g}% on each side.")
    if len(values) == 1:
        values *= 4
    elif len(values) == 2:
        values *= 2
    return tuple(values)


def _roi(fields: Mapping) -> tuple[Length, ...] | None:
    raw = field_text(fields, "roi")
    if raw is None:
        return None
    values = _lengths("roi", raw, (4,), 'four coordinates "x1 y1 x2 y2", each in pixels (120px) or % of the '
                                        'photo (10%), such as "0% 0% 100% 100%"')
    if any(unit == "%" and value > 100 for value, unit in values):
        raise _refuse("roi", "roi percentages are at most 100%.")
    return tuple(values)


def roi_box(roi: tuple[Length, ...], width: int, height: int) -> tuple[int, int, int, int]:
    """The region (left, top, right, bottom) in pixels of a width x height photo; remove.bg's
    refusals when it leaves the photo or holds no pixel."""
    sides = [value * (width if i % 2 == 0 else height) / 100 if unit == "%" else value
             for i, (value, unit) in enumerate(roi)]
    left, top, right, bottom = (round(side) for side in sides)
    if right > width or bottom > height:
        raise ApiError("invalid_parameter", f"roi reaches past the photo, which is {width}×{height} pixels.",
                       reason="roi_exceeds_bounds")
    if right <= left or bottom <= top:
        raise ApiError("invalid_parameter", "roi holds no pixel: x2 must be right of x1 and y2 below y1.",
                       reason="roi_region_empty")
    return left, top, right, bottom


def _scale(fields: Mapping) -> float | None:
    raw = field_text(fields, "scale")
    if raw is None or raw == "original":
        return None
    match = _PERCENT.fullmatch(raw)
    if match is None or not MIN_SCALE_PERCENT <= float(match.group(1)) <= 100:
        raise _refuse("scale", f'scale must be "original" or {MIN_SCALE_PERCENT:g}% to 100%.')
    return float(match.group(1)) / 100


def _position(fields: Mapping) -> tuple[float, float] | None:
    raw = field_text(fields, "position")
    if raw is None or raw == "original":
        return None
    if raw == "center":
        return 0.5, 0.5
    matches = [_PERCENT.fullmatch(part) for part in raw.split(" ")]
    if len(matches) not in (1, 2) or not all(matches) or any(float(m.group(1)) > 100 for m in matches):
        raise _refuse("position", 'position must be "original", "center", or 0% to 100%: one value for both '
                                  'directions or two (horizontal, vertical), such as "50% 100%".')
    x = float(matches[0].group(1)) / 100
    return x, float(matches[-1].group(1)) / 100


def _canvas(fields: Mapping) -> tuple[str, tuple[int, int] | None]:
    raw = field_text(fields, "canvas")
    if raw is None or raw == "original":
        return "original", None
    if raw in ASPECTS:
        return raw, None
    match = _CANVAS_SIZE.fullmatch(raw)
    low, high = CANVAS_SIDE_PX
    if match is None or not all(low <= int(side) <= high for side in match.groups()):
        raise _refuse("canvas", f"canvas must be original, {', '.join(ASPECTS)} or WxH pixels ({low} to {high} a side).")
    return "custom", (int(match.group(1)), int(match.group(2)))


def _shadow_strength(fields: Mapping) -> float:
    raw = field_text(fields, "shadow_strength")
    if raw is None:
        return 0.5
    match = _PERCENT.fullmatch(raw)
    if match is None or float(match.group(1)) > 100:
        raise _refuse("shadow_strength", "shadow_strength must be 0% to 100%.")
    return float(match.group(1)) / 100


def parse_params(fields: Mapping, has_bg_image: bool, tier: Tier, default_size: str = "auto") -> Params:
    """Check every rendering parameter and the combinations that make no sense together.
    ``has_bg_image``: a bg_image_file or bg_image_url came with the request."""
    fmt = _choice(fields, "format", FORMATS, aliases={FORMAT_ALIAS: "jpg"})
    size = _choice(fields, "size", SIZES, aliases=SIZE_ALIASES, default=default_size)
    kind = _choice(fields, "type", TYPES)
    type_level = _choice(fields, "type_level", TYPE_LEVELS)
    channels = _choice(fields, "channels", CHANNELS)
    mode = _choice(fields, "mode", MODES)
    colour_text = field_text(fields, "bg_color")
    bg_color = parse_colour(colour_text) if colour_text is not None else None
    crop = _flag(fields, "crop")
    margin = _margin(fields)
    roi = _roi(fields)
    scale = _scale(fields)
    position = _position(fields)
    shadow_type = field_text(fields, "shadow_type")
    if shadow_type is not None and shadow_type not in SHADOW_TYPES:
        raise _refuse("shadow_type", f"shadow_type must be one of {', '.join(SHADOW_TYPES)}.")
    shadow = _flag(fields, "add_shadow") or shadow_type is not None  # a shadow_type asks for a shadow
    shadow_strength = _shadow_strength(fields)
    canvas, canvas_size = _canvas(fields)
    semitransparency = _flag(fields, "semitransparency", default=True)
    preset = field_text(fields, "preset")

    if bg_color is not None and has_bg_image:
        raise ApiError("invalid_parameter", "Give one background: bg_color, bg_image_file or bg_image_url.",
                       reason="multiple_bg_sources")
    if channels == "alpha" and (bg_color is not None or has_bg_image):
        raise _refuse("channels", "channels=alpha returns the mask alone: leave out bg_color, bg_image_file and "
                                  "bg_image_url.")
    if channels == "alpha" and fmt == "zip":
        raise _refuse("channels", "format=zip already holds the mask (alpha.png): leave out channels=alpha.")
    if mode == "cutout" and preset:
        raise _refuse("preset", "preset is for mode=idphoto.")
    if scale is not None and position is None:
        position = (0.5, 0.5)  # remove.bg: scaling the subject centres it unless told otherwise
    if mode == "idphoto":
        preset = _checked_preset(preset, tier)
        framing = (bg_color is not None, has_bg_image, channels == "alpha", crop, roi is not None, scale is not None,
                   position is not None, shadow, canvas != "original", fmt == "zip")
        if any(framing):
            raise _refuse(
                "mode",
                "mode=idphoto frames the photo on the document's own background: leave out bg_color, "
                "bg_image_file, bg_image_url, channels=alpha, crop, roi, scale, position, add_shadow, shadow_type, canvas "
                "and format=zip.",
            )
    return Params(format=fmt, size=size, bg_color=bg_color, channels=channels, crop=crop, crop_margin=margin,
                  roi=roi, scale=scale, position=position, shadow=shadow, shadow_type=shadow_type or "drop",
                  shadow_strength=shadow_strength, canvas=canvas, canvas_size=canvas_size,
                  semitransparency=semitransparency,
                  type=kind, type_level=type_level, mode=mode, preset=preset)


def _checked_preset(name: str | None, tier: Tier) -> str:
    if not name:
        raise _refuse("preset", "mode=idphoto needs a preset, such as us, uk or schengen.")
    try:
        preset = get_preset(name)
    except IdPhotoError as exc:
        raise _refuse("preset", str(exc))
    width, height = preset.pixels
    if width * height > tier.max_megapixels * 1e6:
        raise _refuse(
            "preset",
            f"This document is {width}×{height} pixels; this key's tier ({tier.name}) allows {tier.max_megapixels:g} MP.",
        )
    return preset.key
