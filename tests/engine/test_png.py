"""The PNG writer: exact pixels in every channel layout, any decoder, DPI, and bytes that do not depend on threads."""

import io
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from remover.engine import png


def noisy(shape, seed=0) -> np.ndarray:
    """Photo-like bytes: a smooth ramp plus noise, so that every filter byte and carry shows."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 255, shape[1], dtype=np.float32)[None, :, None] if len(shape) == 3 else \
        np.linspace(0, 255, shape[1], dtype=np.float32)[None, :]
    return np.clip(ramp + rng.normal(0, 40, shape), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("shape, mode", [
    ((37, 53), "L"), ((37, 53, 2), "LA"), ((37, 53, 3), "RGB"), ((37, 53, 4), "RGBA"), ((1, 1, 4), "RGBA"),
])
def test_pixels_come_back_exact_in_pillow(shape, mode):
    pixels = noisy(shape)
    decoded = Image.open(io.BytesIO(png.encode_png(pixels)))
    assert decoded.mode == mode and decoded.size == (shape[1], shape[0])
    assert np.array_equal(np.asarray(decoded), pixels)


def test_an_image_of_many_parts_decodes_in_opencv_too(monkeypatch):
    monkeypatch.setattr(png, "PART_BYTES", 1000)  # dozens of parts, each joined by a sync flush
    pixels = noisy((120, 90, 4))
    data = png.encode_png(pixels, threads=3)
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(cv2.cvtColor(decoded, cv2.COLOR_BGRA2RGBA), pixels)


def test_bytes_do_not_depend_on_the_thread_count(monkeypatch):
    monkeypatch.setattr(png, "PART_BYTES", 4096)
    pixels = noisy((64, 64, 3))
    assert png.encode_png(pixels, threads=1) == png.encode_png(pixels, threads=4)


def test_the_joined_parts_are_one_valid_zlib_stream(monkeypatch):
    monkeypatch.setattr(png, "PART_BYTES", 777)
    raw = noisy((50, 200)).tobytes()
    stream = png.deflate_parallel(memoryview(raw), level=6, threads=2)
    assert zlib.decompress(stream) == raw  # checks the header and the Adler-32 as well


def test_dpi_is_written_as_the_physical_pixel_size():
    decoded = Image.open(io.BytesIO(png.encode_png(noisy((8, 8, 3)), dpi=300)))
    assert decoded.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    assert "dpi" not in Image.open(io.BytesIO(png.encode_png(noisy((8, 8, 3))))).info


def test_up_filter_wraps_around_like_the_spec():
    rows = np.array([[[250]], [[3]]], np.uint8)
    assert png.filter_rows(rows).tolist() == [[2, 250], [2, 9]]  # 3 - 250 mod 256


@pytest.mark.parametrize("pixels", [np.zeros((4, 4), np.float32), np.zeros((4, 4, 5), np.uint8), np.zeros((0, 4, 3), np.uint8)])
def test_what_png_cannot_hold_is_refused(pixels):
    with pytest.raises(ValueError):
        png.encode_png(pixels)
