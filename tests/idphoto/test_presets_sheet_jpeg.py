"""The presets file, print-sheet layouts and JPEG size limits (no model needed)."""

from __future__ import annotations

import io
import re
import tomllib

import cv2
import numpy as np
import pytest
from PIL import Image

from remover.idphoto.errors import IdPhotoError
from remover.idphoto.jpeg import encode_jpeg
from remover.idphoto.presets import PRESETS_FILE, get_preset, load_presets, preset_from_table
from remover.idphoto.sheet import PAPERS, layout, make_sheet, sheet_bytes

REQUIRED = {"icao", "us", "us-dv", "uk", "schengen", "germany", "australia", "japan", "canada", "india", "china"}


def test_presets_file_has_every_document_with_its_source_named():
    presets = load_presets()
    assert REQUIRED <= set(presets)
    text = PRESETS_FILE.read_text(encoding="utf-8")
    for key in presets:
        # A "# Source:" comment directly above each table.
        assert re.search(r"# Source: [^\n]+\n(?:#[^\n]*\n)*\[" + re.escape(key) + r"\]", text), key
        assert presets[key].source


@pytest.mark.parametrize("key", sorted(REQUIRED))
def test_every_preset_is_self_consistent(key):
    preset = get_preset(key)
    w_mm, h_mm = preset.size_mm
    assert preset.head_mm[0] < preset.head_mm[1] < h_mm
    assert preset.eyes_mm is not None or preset.crown_gap_mm is not None
    if preset.eyes_mm:
        assert preset.eyes_mm[1] < h_mm
    if preset.min_pixels:
        assert preset.pixels[0] >= preset.min_pixels[0] and preset.pixels[1] >= preset.min_pixels[1]
    if preset.max_pixels:
        assert preset.pixels[0] <= preset.max_pixels[0] and preset.pixels[1] <= preset.max_pixels[1]
    assert preset.dpi >= 250
    # The head band fits the photo with room for the eye band: crown below the top edge.
    assert preset.pixels[1] / preset.px_per_mm == pytest.approx(h_mm)


def test_published_figures():
    us, dv, uk, china = get_preset("us"), get_preset("us-dv"), get_preset("uk"), get_preset("china")
    assert us.size_mm == (50.8, 50.8) and us.pixels == (600, 600) and us.dpi == 300
    assert us.head_mm == (25.4, 34.9) and us.eyes_mm == (28.6, 34.9) and us.kb == (0, 240)
    assert dv.head_mm == pytest.approx((0.50 * 50.8, 0.69 * 50.8))
    assert uk.head_mm == (29, 34) and uk.kb == (50, 10000) and uk.pixels[0] >= 600 and uk.pixels[1] >= 750
    assert china.pixels == (354, 472) and china.kb == (40, 120) and china.head_mm == (28, 33)
    assert get_preset("icao").head_mm == pytest.approx((31.5, 36.0))
    assert get_preset("canada").size_mm == (50, 70)


def test_custom_sizes():
    mm = get_preset("custom:40x50mm")
    assert mm.size_mm == (40, 50) and mm.pixels == (472, 591)
    assert mm.head_mm == pytest.approx((35.0, 40.0))
    px = get_preset("custom:600x800px")
    assert px.pixels == (600, 800)
    with pytest.raises(IdPhotoError, match="Unknown document"):
        get_preset("atlantis")
    with pytest.raises(IdPhotoError, match="at least 100 pixels"):
        get_preset("custom:50x50px")


def test_invalid_tables_are_refused():
    good = tomllib.loads(PRESETS_FILE.read_text(encoding="utf-8"))["uk"]
    with pytest.raises(ValueError, match="unknown fields"):
        preset_from_table("x", {**good, "colour": "#FFFFFF"})
    with pytest.raises(ValueError, match="exactly one of head_mm"):
        preset_from_table("x", {k: v for k, v in good.items() if k != "head_mm"})
    with pytest.raises(ValueError, match="fit inside"):
        preset_from_table("x", {**good, "head_mm": [40, 50]})


@pytest.mark.parametrize("key, paper, copies", [
    ("uk", "4x6", 8), ("uk", "a4", 30), ("us", "4x6", 6), ("us", "a4", 15), ("canada", "4x6", 4), ("china", "a4", 32),
])
def test_sheet_layout_counts(key, paper, copies):
    preset = get_preset(key)
    plan = layout(preset.size_mm, PAPERS[paper])
    assert plan.copies == copies
    w, h = plan.photo_mm
    margin = PAPERS[paper].margin_mm
    for x, y in plan.origins_mm:  # every copy on the paper, inside the printer's margin
        assert margin - 1e-6 <= x and x + w <= plan.sheet_mm[0] - margin + 1e-6
        assert margin - 1e-6 <= y and y + h <= plan.sheet_mm[1] - margin + 1e-6
    boxes = [(x, y, x + w, y + h) for x, y in plan.origins_mm]
    for i, a in enumerate(boxes):  # and no two copies overlap
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] + 1e-6 or b[2] <= a[0] + 1e-6 or a[3] <= b[1] + 1e-6 or b[3] <= a[1] + 1e-6


def test_sheet_image_has_the_copies_at_true_size_and_guides():
    preset = get_preset("uk")
    photo = Image.new("RGB", preset.pixels, (200, 30, 30))
    sheet, plan = make_sheet(photo, preset, "4x6")
    assert sheet.size == (1800, 1200)  # 6×4 in at 300 dpi
    pixels = np.asarray(sheet)
    red = (pixels[..., 0] == 200) & (pixels[..., 1] == 30)
    copy_px = round(35 / 25.4 * 300) * round(45 / 25.4 * 300)
    assert red.sum() == pytest.approx(plan.copies * copy_px, rel=0.01)
    grey = (pixels == 150).all(axis=2)
    assert grey.sum() > 1000  # cut guides drawn
    jpg = Image.open(io.BytesIO(sheet_bytes(sheet, "jpg")))
    assert jpg.info["dpi"] == pytest.approx((300, 300))
    pdf = sheet_bytes(sheet, "pdf")
    assert pdf.startswith(b"%PDF")
    # A 6×4 in page is 432×288 points.
    assert re.search(rb"/MediaBox \[\s*0 0 432(\.0+)? 288(\.0+)?\s*\]", pdf)


def test_jpeg_meets_the_kilobyte_limits():
    # Fine texture (like hair and fabric) that needs about 150 kB at quality 92.
    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur(rng.integers(0, 255, (472, 354, 3), dtype=np.uint8), (0, 0), 0.8)
    noisy = Image.fromarray(texture)
    data, quality = encode_jpeg(noisy, 250, (40, 120))
    assert len(data) <= 120_000 and quality < 92
    assert Image.open(io.BytesIO(data)).info["dpi"] == pytest.approx((250, 250))
    plain = Image.new("RGB", (354, 472), (255, 255, 255))
    data, quality = encode_jpeg(plain, 250, (40, 120))
    assert quality == 100 and len(data) < 40_000  # cannot reach the minimum: best effort, reported
    data, quality = encode_jpeg(noisy, 300, None)
    assert quality == 92
