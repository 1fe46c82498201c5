"""Print sheets: as many copies of the photo as fit on 4×6 in or A4 paper, with cut guides.

Sheets are laid out at 300 dpi in millimetres, then written as JPEG or PDF with the resolution
set, so they print at true size ("100 %", not "fit to page").
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from PIL import Image, ImageDraw

from .presets import MM_PER_INCH, Preset

SHEET_DPI = 300
GUIDE_COLOUR = (150, 150, 150)


@dataclass(frozen=True)
class Paper:
    """A paper size (portrait, mm) with the smallest edge margin and gap between photos it needs."""

    key: str
    name: str
    size_mm: tuple[float, float]
    margin_mm: float
    gap_mm: float


# 4×6 in photo paper is printed borderless at labs and kiosks; A4 office printers leave ~5 mm.
PAPERS = {
    "4x6": Paper("4x6", "4×6 in (10×15 cm)", (101.6, 152.4), 0.0, 0.0),
    "a4": Paper("a4", "A4", (210.0, 297.0), 5.0, 2.0),
}


@dataclass(frozen=True)
class Layout:
    """Copies in ``columns`` x ``rows`` on a sheet of ``sheet_mm`` (w, h); ``origins_mm`` are the
    top-left corners of the photos, ``photo_mm`` their size."""

    sheet_mm: tuple[float, float]
    photo_mm: tuple[float, float]
    columns: int
    rows: int
    origins_mm: list[tuple[float, float]]

    @property
    def copies(self) -> int:
        return self.columns * self.rows


def _fit(length: float, item: float, margin: float, gap: float) -> tuple[int, float, float]:
    """(count, margin, gap) along one side: the most items that fit, with the spare length spread
    evenly over the margins and the gaps."""
    count = max(0, math.floor((length - 2 * margin + gap) / (item + gap) + 1e-9))
    if count == 0:
        return 0, margin, gap
    spare = length - count * item - (count - 1) * gap - 2 * margin
    share = spare / (count + 1)
    return count, margin + share, gap + share


def layout(photo_mm: tuple[float, float], paper: Paper) -> Layout:
    """The layout with the most copies, trying the paper upright and turned."""
    best: Layout | None = None
    for sheet in (paper.size_mm, paper.size_mm[::-1]):
        cols, mx, gx = _fit(sheet[0], photo_mm[0], paper.margin_mm, paper.gap_mm)
        rows, my, gy = _fit(sheet[1], photo_mm[1], paper.margin_mm, paper.gap_mm)
        origins = [(mx + c * (photo_mm[0] + gx), my + r * (photo_mm[1] + gy)) for r in range(rows) for c in range(cols)]
        candidate = Layout(tuple(sheet), tuple(photo_mm), cols, rows, origins)
        if best is None or candidate.copies > best.copies:
            best = candidate
    if best is None or best.copies == 0:
        raise ValueError(f"a {photo_mm[0]:g}×{photo_mm[1]:g} mm photo does not fit on {paper.name} paper")
    return best


def _px(mm: float) -> int:
    return round(mm / MM_PER_INCH * SHEET_DPI)


def print_copy(photo: Image.Image, preset: Preset) -> Image.Image:
    """The photo at its print size and SHEET_DPI. Where the digital file has another shape than
    the print (China: 3:4 file, 33:48 print), it is scaled by height and trimmed at the sides."""
    width, height = _px(preset.size_mm[0]), _px(preset.size_mm[1])
    scaled_w = max(width, round(photo.width * height / photo.height))
    scaled = photo.convert("RGB").resize((scaled_w, height), Image.Resampling.LANCZOS)
    left = (scaled_w - width) // 2
    return scaled.crop((left, 0, left + width, height))


def make_sheet(photo: Image.Image, preset: Preset, paper_key: str = "4x6") -> tuple[Image.Image, Layout]:
    """(sheet image at SHEET_DPI, its layout). Cut guides are thin grey lines along every photo
    edge, drawn across the margins and gaps so they stay visible between the copies."""
    paper = PAPERS[paper_key]
    plan = layout(preset.size_mm, paper)
    sheet_w, sheet_h = _px(plan.sheet_mm[0]), _px(plan.sheet_mm[1])
    sheet = Image.new("RGB", (sheet_w, sheet_h), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    xs = sorted({_px(x) for x, _ in plan.origins_mm} | {_px(x + plan.photo_mm[0]) for x, _ in plan.origins_mm})
    ys = sorted({_px(y) for _, y in plan.origins_mm} | {_px(y + plan.photo_mm[1]) for _, y in plan.origins_mm})
    for x in xs:
        draw.line([(x, 0), (x, sheet_h)], fill=GUIDE_COLOUR, width=1)
    for y in ys:
        draw.line([(0, y), (sheet_w, y)], fill=GUIDE_COLOUR, width=1)
    copy = print_copy(photo, preset)
    for x, y in plan.origins_mm:
        sheet.paste(copy, (_px(x), _px(y)))
    # Photos that touch (no gap) hide the guides under them: mark the shared edges again on top,
    # as short ticks in the outer margin and on the seams, so a cut line is always visible.
    tick = _px(3.0)
    for x in xs:
        draw.line([(x, 0), (x, tick)], fill=GUIDE_COLOUR, width=1)
        draw.line([(x, sheet_h - tick), (x, sheet_h)], fill=GUIDE_COLOUR, width=1)
    for y in ys:
        draw.line([(0, y), (tick, y)], fill=GUIDE_COLOUR, width=1)
        draw.line([(sheet_w - tick, y), (sheet_w, y)], fill=GUIDE_COLOUR, width=1)
    return sheet, plan


def sheet_bytes(sheet: Image.Image, fmt: str) -> bytes:
    """The sheet as ``jpg`` or ``pdf``, with SHEET_DPI recorded so it prints at true size."""
    out = io.BytesIO()
    if fmt == "pdf":
        sheet.save(out, "PDF", resolution=float(SHEET_DPI))
    elif fmt in ("jpg", "jpeg"):
        sheet.save(out, "JPEG", quality=95, dpi=(SHEET_DPI, SHEET_DPI), subsampling=0)
    else:
        raise ValueError(f"sheet format must be jpg or pdf, not {fmt!r}")
    return out.getvalue()

