"""Document presets: print size, pixel size, head and eye-line bands, background, file limits.

The rules live in ``presets.toml`` beside this module, one table per document with its source
named. Every band is normalised here to millimetres of the printed photo so the geometry and the
report work in one unit; ``px_per_mm`` converts to the pixels of the digital file.
"""

from __future__ import annotations

import functools
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import IdPhotoError

PRESETS_FILE = Path(__file__).with_name("presets.toml")
DEFAULT_DPI = 300
MM_PER_INCH = 25.4
# Proportions used where a document gives none, and for custom sizes (see presets.toml).
ICAO_HEAD_PCT = (70.0, 80.0)
ICAO_EYES_PCT = (50.0, 60.0)
CUSTOM_BACKGROUND = (255, 255, 255)
# Far above any real size (300 mm is 3543 px at 300 dpi); the exact limits are checked after.
MAX_CUSTOM_NUMBER = 10_000
_CUSTOM = re.compile(r"^custom:(\d+(?:\.\d+)?)x(\d+(?:\.\d+)?)(mm|px)?$", re.IGNORECASE)
_ALLOWED_FIELDS = {
    "name", "country", "document", "source", "size_mm", "pixels", "dpi", "head_mm", "head_pct", "eyes_mm",
    "eyes_pct", "crown_gap_mm", "background", "kb", "min_pixels", "max_pixels",
}

Band = tuple[float, float]


@dataclass(frozen=True)
class Preset:
    """One document's rules, lengths in mm of the printed photo.

    eyes_mm: eye line above the bottom edge, or None when ``crown_gap_mm`` places the face instead.
    crown_gap_mm: allowed space between the crown and the top edge, or None when not regulated.
    kb: allowed JPEG size in kB (1000 bytes), or None.
    country, document: how the web page lists it (group, label); a table without them is
    listed under ``name`` alone.
    """

    key: str
    name: str
    source: str
    size_mm: tuple[float, float]
    pixels: tuple[int, int]
    head_mm: Band
    eyes_mm: Band | None
    crown_gap_mm: Band | None
    background: tuple[int, int, int]
    kb: Band | None = None
    min_pixels: tuple[int, int] | None = None
    max_pixels: tuple[int, int] | None = None
    country: str = ""
    document: str = ""

    @property
    def px_per_mm(self) -> float:
        """Pixels of the digital file per mm of print, taken along the height (the head rules are vertical)."""
        return self.pixels[1] / self.size_mm[1]

    @property
    def dpi(self) -> int:
        """The resolution to write into the file so that it prints at ``size_mm`` tall."""
        return round(self.px_per_mm * MM_PER_INCH)

    def to_dict(self) -> dict:
        """JSON-ready description, for reports and the web page."""
        return {
            "key": self.key, "name": self.name, "country": self.country, "document": self.document or self.name,
            "source": self.source,
            "size_mm": list(self.size_mm), "pixels": list(self.pixels), "dpi": self.dpi,
            "head_mm": list(self.head_mm), "eyes_mm": list(self.eyes_mm) if self.eyes_mm else None,
            "crown_gap_mm": list(self.crown_gap_mm) if self.crown_gap_mm else None,
            "background": "#{:02X}{:02X}{:02X}".format(*self.background),
            "kb": list(self.kb) if self.kb else None,
            "min_pixels": list(self.min_pixels) if self.min_pixels else None,
            "max_pixels": list(self.max_pixels) if self.max_pixels else None,
        }


def _colour(value: str, key: str) -> tuple[int, int, int]:
    match = re.fullmatch(r"#([0-9a-fA-F]{6})", value)
    if not match:
        raise ValueError(f"preset {key}: background {value!r} is not #RRGGBB")
    h = match.group(1)
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _band(values, key: str, field: str, scale: float = 1.0) -> Band:
    lo, hi = (float(v) * scale for v in values)
    if not 0 <= lo <= hi:
        raise ValueError(f"preset {key}: {field} must be [min, max] with 0 <= min <= max")
    return lo, hi


def _pair(values, key: str, field: str, kind=float) -> tuple:
    if len(values) != 2 or min(values) <= 0:
        raise ValueError(f"preset {key}: {field} must be two positive numbers")
    return kind(values[0]), kind(values[1])


def preset_from_table(key: str, table: dict) -> Preset:
    """Validate one TOML table and normalise its bands to mm; raises ValueError naming the fault."""
    unknown = set(table) - _ALLOWED_FIELDS
    if unknown:
        raise ValueError(f"preset {key}: unknown fields {sorted(unknown)}")
    width, height = _pair(table["size_mm"], key, "size_mm")
    dpi = float(table.get("dpi", DEFAULT_DPI))
    if "pixels" in table:
        pixels = _pair(table["pixels"], key, "pixels", int)
    else:
        pixels = (round(width / MM_PER_INCH * dpi), round(height / MM_PER_INCH * dpi))
    pct = height / 100.0
    if ("head_mm" in table) == ("head_pct" in table):
        raise ValueError(f"preset {key}: give exactly one of head_mm and head_pct")
    head = _band(table["head_mm"], key, "head_mm") if "head_mm" in table else _band(table["head_pct"], key, "head_pct", pct)
    if "eyes_mm" in table and "eyes_pct" in table:
        raise ValueError(f"preset {key}: give at most one of eyes_mm and eyes_pct")
    eyes: Band | None = None
    if "eyes_mm" in table:
        eyes = _band(table["eyes_mm"], key, "eyes_mm")
    elif "eyes_pct" in table:
        eyes = _band(table["eyes_pct"], key, "eyes_pct", pct)
    gap = _band(table["crown_gap_mm"], key, "crown_gap_mm") if "crown_gap_mm" in table else None
    if eyes is None and gap is None:
        eyes = (ICAO_EYES_PCT[0] * pct, ICAO_EYES_PCT[1] * pct)
    if head[1] >= height or (eyes and eyes[1] >= height):
        raise ValueError(f"preset {key}: bands must fit inside the photo height")
    return Preset(
        key=key, name=str(table["name"]), source=str(table["source"]),
        country=str(table.get("country", "")), document=str(table.get("document", "")),
        size_mm=(width, height), pixels=pixels, head_mm=head, eyes_mm=eyes, crown_gap_mm=gap,
        background=_colour(table["background"], key),
        kb=_band(table["kb"], key, "kb") if "kb" in table else None,
        min_pixels=_pair(table["min_pixels"], key, "min_pixels", int) if "min_pixels" in table else None,
        max_pixels=_pair(table["max_pixels"], key, "max_pixels", int) if "max_pixels" in table else None,
    )


@functools.cache
def load_presets(path: Path = PRESETS_FILE) -> dict[str, Preset]:
    """All presets of the data file, by key, in file order."""
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    return {key: preset_from_table(key, table) for key, table in data.items()}


def custom_preset(width: float, height: float, unit: str = "mm") -> Preset:
    """A document of any size with ICAO proportions (head 70–80 %, eyes 50–60 % of the height).

    unit ``mm`` prints at 300 dpi; unit ``px`` makes a file of exactly width x height pixels
    whose print size is taken at 300 dpi.
    """
    # Bounded before any rounding: a size written with hundreds of digits is a float
    # overflow (or inf), not a document.
    if not (math.isfinite(width) and math.isfinite(height)) or max(width, height) > MAX_CUSTOM_NUMBER:
        raise IdPhotoError("A custom size must be at least 100 pixels on each side and at most 300 mm.")
    if unit == "px":
        pixels = (int(width), int(height))
        size = (width / DEFAULT_DPI * MM_PER_INCH, height / DEFAULT_DPI * MM_PER_INCH)
        label = f"{int(width)}×{int(height)} px"
    else:
        size = (float(width), float(height))
        pixels = (round(width / MM_PER_INCH * DEFAULT_DPI), round(height / MM_PER_INCH * DEFAULT_DPI))
        label = f"{width:g}×{height:g} mm"
    if min(pixels) < 100 or max(size) > 300:
        raise IdPhotoError("A custom size must be at least 100 pixels on each side and at most 300 mm.")
    pct = size[1] / 100.0
    return Preset(
        key=f"custom:{width:g}x{height:g}{unit}", name=f"Custom {label}",
        source="ICAO proportions (head 70–80 %, eyes 50–60 % of the height)",
        size_mm=size, pixels=pixels,
        head_mm=(ICAO_HEAD_PCT[0] * pct, ICAO_HEAD_PCT[1] * pct),
        eyes_mm=(ICAO_EYES_PCT[0] * pct, ICAO_EYES_PCT[1] * pct),
        crown_gap_mm=None, background=CUSTOM_BACKGROUND,
    )


def get_preset(name: str) -> Preset:
    """A preset by key (``uk``), or ``custom:WxHmm`` / ``custom:WxHpx``; IdPhotoError lists the choices."""
    presets = load_presets()
    key = name.strip().lower()
    if key in presets:
        return presets[key]
    match = _CUSTOM.match(key)
    if match:
        return custom_preset(float(match.group(1)), float(match.group(2)), (match.group(3) or "mm").lower())
    raise IdPhotoError(
        f"Unknown document {name!r}. Choose one of: {', '.join(presets)}, or custom:WxHmm / custom:WxHpx."
    )
