"""The finishing editor in a real browser against daphne with the real model, at desktop size
and on a Pixel 7 (touch): erase strokes with undo/redo, restore of a part the model dropped,
the edit kept over a reload and carried by the downloads, square canvas with a margin, and
the shadow. The preview drawn in the browser is compared with the server's render."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from remover.engine.canvas import subject_box

from .test_flows import download, finger_drag, fits_width, wait_for_result

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

# On the 512x512 astronaut the model keeps the suit across row 300 from x 150 to 350 and drops
# the flag in the top-left corner (tests/engine/test_pipeline.py checks the same regions).
STROKE = [(150, 300), (250, 300), (350, 300)]
CORE = (slice(296, 305), slice(165, 336))  # within the brush's full-strength core
REACH = 26  # the brush's radius with the soft edge, and a margin, in image pixels
FLAG = (slice(25, 46), slice(25, 46))


def picture(page) -> np.ndarray:
    """The preview canvas's RGBA pixels."""
    url = page.evaluate("document.getElementById('after-canvas').toDataURL('image/png')")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGBA"))


def to_client(page, points):
    """Image pixels of the preview canvas -> client coordinates of the page."""
    return page.evaluate(
        """(points) => { const c = document.getElementById('after-canvas'); const r = c.getBoundingClientRect();
             return points.map(([x, y]) => [r.left + x * r.width / c.width, r.top + y * r.height / c.height]); }""",
        [list(p) for p in points],
    )


def set_range(page, selector: str, value: float) -> None:
    page.eval_on_selector(selector, "(el, v) => { el.value = String(v); el.dispatchEvent(new Event('input', { bubbles: true })); }", value)


def brush_radius_for(page, image_radius: float) -> None:
    """Sets the brush size (screen pixels across) to ``image_radius`` pixels of the picture."""
    scale = page.evaluate("(() => { const c = document.getElementById('after-canvas'); return c.getBoundingClientRect().width / c.width; })()")
    set_range(page, "#brush-size", round(2 * image_radius * scale))


def mouse_stroke(page, points) -> None:
    (x, y), *rest = to_client(page, points)
    page.mouse.move(x, y)
    page.mouse.down()
    for x, y in rest:
        page.mouse.move(x, y, steps=12)
    page.mouse.up()


def wait_saved(page) -> None:
    page.wait_for_function("() => ['Saved', 'Showing'].some((w) => document.getElementById('edit-status').textContent.startsWith(w))")


def fetch_png(page, query: str) -> np.ndarray:
    """A download of the open job through the page's session."""
    url = page.evaluate("document.getElementById('download').href").split("?")[0]
    response = page.request.get(f"{url}?{query}")
    assert response.ok, response.text()
    return np.asarray(Image.open(io.BytesIO(response.body())))


def outside_stroke(shape) -> np.ndarray:
    keep = np.ones(shape[:2], bool)
    keep[300 - REACH:300 + REACH, 150 - REACH:350 + REACH] = False
    return keep


def open_result(page, site_url: str, astronaut_file: Path) -> np.ndarray:
    assert page.goto(site_url + "/").ok
    page.set_input_files("#file-input", str(astronaut_file))
    wait_for_result(page)
    baseline = fetch_png(page, "format=png")
    assert baseline.shape == (512, 512, 4)
    assert baseline[CORE][..., 3].mean() > 240, "the model should keep the suit under the stroke"
    assert baseline[FLAG][..., 3].max() < 10, "the model should drop the flag"
    return baseline


def test_desktop_editor(browser, site_url, astronaut_file, astronaut, screenshots, tmp_path):
    playwright, chromium = browser
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    baseline = open_result(page, site_url, astronaut_file)
    np.testing.assert_array_equal(picture(page)[..., 3], baseline[..., 3])

    # Erase across the subject: the preview changes while painting, before any round trip.
    page.click("label.pill:has(input[value=erase])")
    brush_radius_for(page, 18)
    set_range(page, "#brush-soft", 40)
    assert page.locator("#brush-cursor").is_hidden()
    mouse_stroke(page, STROKE)
    assert page.locator("#brush-cursor").is_visible()
    assert picture(page)[CORE][..., 3].max() == 0
    wait_saved(page)

    # Undo / redo with the buttons and the keyboard; undone means exactly the AI result.
    page.click("#undo")
    np.testing.assert_array_equal(picture(page)[..., 3], baseline[..., 3])
    page.keyboard.press("Control+Shift+Z")
    assert picture(page)[CORE][..., 3].max() == 0
    page.keyboard.press("Control+Z")
    np.testing.assert_array_equal(picture(page)[CORE][..., 3], baseline[CORE][..., 3])
    mouse_stroke(page, STROKE)
    page.screenshot(path=screenshots / "editor-desktop-1-erased.png", full_page=True)

    # The downloaded PNG carries the stroke and nothing else changed.
    png = np.asarray(Image.open(download(page, tmp_path)))
    assert png.shape == (512, 512, 4)
    assert png[CORE][..., 3].max() == 0
    keep = outside_stroke(png.shape)
    np.testing.assert_array_equal(png[keep], baseline[keep])
    # The server's render is what the browser showed, but for rounding ties (a level here and there).
    shown = picture(page)[..., 3].astype(int)
    difference = np.abs(shown - png[..., 3].astype(int))
    assert difference.max() <= 2 and (difference > 0).mean() < 0.001, (difference.max(), (difference > 0).sum())

    # While a brush is on, the wheel zooms at the pointer (the page does not scroll) and the
    # middle button pans.
    stage = page.locator("#stage").bounding_box()
    page.mouse.move(stage["x"] + stage["width"] * 0.7, stage["y"] + stage["height"] * 0.6)
    scrolled = page.evaluate("window.scrollY")
    page.mouse.wheel(0, -400)
    page.wait_for_function("() => parseInt(document.getElementById('zoom-level').value) > 150")
    assert page.evaluate("window.scrollY") == scrolled
    left = page.evaluate("document.getElementById('viewport').scrollLeft")
    page.mouse.down(button="middle")
    page.mouse.move(stage["x"] + stage["width"] * 0.5, stage["y"] + stage["height"] * 0.6, steps=5)
    page.mouse.up(button="middle")
    assert page.evaluate("document.getElementById('viewport').scrollLeft") > left + 20
    assert len(page.request.get(page.evaluate("location.origin") + edit_path(page)).json()["strokes"]) == 1
    page.click("#zoom-fit")

    # A reload shows the edited result.
    page.reload()
    wait_for_result(page)
    page.wait_for_function("() => document.getElementById('edit-status').textContent !== ''")
    assert picture(page)[CORE][..., 3].max() == 0

    # Restore the flag the model dropped: the photo's own pixels come back, with a soft edge.
    page.click("label.pill:has(input[value=restore])")
    brush_radius_for(page, 16)
    set_range(page, "#brush-soft", 30)
    mouse_stroke(page, [(35, 35), (36, 36)])
    wait_saved(page)
    restored = fetch_png(page, "format=png")
    assert restored[FLAG[0].start + 5:FLAG[0].stop - 5, FLAG[1].start + 5:FLAG[1].stop - 5, 3].min() == 255
    assert np.abs(restored[30:40, 30:40, :3].astype(int) - astronaut[30:40, 30:40]).max() <= 2
    rim = restored[36, 36 + 8:36 + 22, 3].astype(int)
    assert ((rim > 0) & (rim < 255)).sum() >= 3 and (np.diff(rim) <= 0).all(), rim  # soft, not a hard cut
    assert restored[CORE][..., 3].max() == 0  # the erase stroke is still there

    # Square canvas with a 20 px margin around the subject, centred.
    page.click("label.pill:has(input[value=compare])")
    left, top, right, bottom = subject_box(restored[..., 3])
    page.check("#crop")
    page.fill("#margin", "20")
    page.select_option("#canvas-preset", "1:1")
    side = max(right - left, bottom - top) + 40
    # The preview keeps its pixel budget: the same square, scaled to the preview's size.
    shown_size = page.evaluate("[document.getElementById('after-canvas').width, document.getElementById('after-canvas').height]")
    assert shown_size[0] == shown_size[1] and shown_size[0] <= side
    square = np.asarray(Image.open(download(page, tmp_path)))
    assert square.shape[:2] == (side, side)
    l2, t2, r2, b2 = subject_box(square[..., 3])
    assert abs((r2 - l2) - (right - left)) <= 1 and abs((b2 - t2) - (bottom - top)) <= 1
    assert abs(l2 - (side - (r2 - l2)) / 2) <= 1 and abs(t2 - (side - (b2 - t2)) / 2) <= 1
    page.screenshot(path=screenshots / "editor-desktop-2-square.png", full_page=True)

    # Shadow on white: darker under the subject, nowhere above it; the preview agrees.
    page.select_option("#canvas-preset", "original")
    page.fill("#margin", "60")
    page.click("label.tile:has(input[value=colour])")
    page.click("label.swatch:has(input[value='#FFFFFF'])")
    plain_preview = picture(page)[..., :3].astype(int)
    plain = np.asarray(Image.open(download(page, tmp_path)).convert("RGB")).astype(int)
    page.click("label.pill:has(input[value=contact])")
    set_range(page, "#shadow-strength", 80)
    shadowed = np.asarray(Image.open(download(page, tmp_path)).convert("RGB")).astype(int)
    shown = picture(page)[..., :3].astype(int)
    assert shadowed.shape == plain.shape
    sl, st, sr, sb = subject_box(fetch_png(page, "format=png&crop=1&margin=60")[..., 3])
    floor = (slice(sb, sb + 6), slice(sl + (sr - sl) // 4, sr - (sr - sl) // 4))
    assert shadowed[floor].mean() < plain[floor].mean() - 15
    # The preview is the same picture in fewer pixels.
    k = shown.shape[0] / shadowed.shape[0]
    shown_floor = (slice(round(sb * k), round(sb * k) + 4), slice(round(floor[1].start * k), round(floor[1].stop * k)))
    assert shown[shown_floor].mean() < plain_preview[shown_floor].mean() - 15
    assert np.abs(shadowed[: sb - 40] - plain[: sb - 40]).max() <= 2  # above the floor: untouched
    page.screenshot(path=screenshots / "editor-desktop-3-shadow.png", full_page=True)
    assert errors == []
    context.close()


def pinch(context, page, centre, spread_from: float, spread_to: float) -> None:
    """Two fingers moving apart around ``centre`` (client pixels)."""
    touch = context.new_cdp_session(page)
    cx, cy = centre

    def fingers(d):
        return [{"x": cx - d, "y": cy, "id": 1}, {"x": cx + d, "y": cy, "id": 2}]

    touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": fingers(spread_from)})
    for step in range(1, 9):
        page.wait_for_timeout(40)
        d = spread_from + (spread_to - spread_from) * step / 8
        touch.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": fingers(d)})
    touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    touch.detach()


def test_phone_editor(phone, site_url, astronaut_file, screenshots, tmp_path):
    context = phone
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    baseline = open_result(page, site_url, astronaut_file)

    page.tap("label.pill:has(input[value=erase])")
    brush_radius_for(page, 18)
    set_range(page, "#brush-soft", 40)
    page.locator("#stage").scroll_into_view_if_needed()
    scrolled = page.evaluate("window.scrollY")
    # One finger paints, and the page does not scroll under it.
    finger_drag(context, page, to_client(page, [(150, 300), (200, 300), (250, 300), (300, 300), (350, 300)]))
    assert page.evaluate("window.scrollY") == scrolled
    assert picture(page)[CORE][..., 3].max() == 0
    wait_saved(page)

    # Two fingers pinch-zoom and paint nothing.
    strokes_before = len(page.request.get(page.evaluate("location.origin") + edit_path(page)).json()["strokes"])
    box = page.locator("#viewport").bounding_box()
    pinch(context, page, (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2), 30, 110)
    assert int(page.inner_text("#zoom-level").rstrip("%")) > 100
    assert page.evaluate("window.scrollY") == scrolled
    page.wait_for_timeout(500)
    assert len(page.request.get(page.evaluate("location.origin") + edit_path(page)).json()["strokes"]) == strokes_before
    page.screenshot(path=screenshots / "editor-phone-1-zoomed.png")
    page.tap("#zoom-fit")

    # Undo, paint again, download: the stroke is in the file and nothing else changed.
    page.tap("#undo")
    np.testing.assert_array_equal(picture(page)[CORE][..., 3], baseline[CORE][..., 3])
    page.locator("#stage").scroll_into_view_if_needed()
    finger_drag(context, page, to_client(page, [(150, 300), (200, 300), (250, 300), (300, 300), (350, 300)]))
    assert picture(page)[CORE][..., 3].max() == 0
    page.locator("#download").scroll_into_view_if_needed()
    png = np.asarray(Image.open(download(page, tmp_path)))
    assert png[CORE][..., 3].max() == 0
    keep = outside_stroke(png.shape)
    np.testing.assert_array_equal(png[keep], baseline[keep])
    page.screenshot(path=screenshots / "editor-phone-2-erased.png", full_page=True)
    page.tap("label.pill:has(input[value=compare])")
    page.check("#crop")
    page.select_option("#canvas-preset", "custom")
    assert fits_width(page)  # every control of the editor fits the phone's width
    assert errors == []


def edit_path(page) -> str:
    return page.evaluate("new URL(document.getElementById('download').href).pathname").replace("/download", "/edit")
