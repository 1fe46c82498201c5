"""Helpers for the web app tests: a stand-in model, test images, uploads."""

from __future__ import annotations

import io

import numpy as np
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


class FakeSegmenter:
    """Says the middle of the picture is the subject: an ellipse with a soft rim.

    Runs the real refine/compose code around it, in milliseconds instead of seconds.
    """

    detail = False  # no boundary tiles (Segmenter(detail=True) would call predict_windows)
    size = 1024

    def __init__(self):
        self.calls = 0

    def predict(self, images, batch_size=4, progress=None):
        self.calls += 1
        maps = []
        for image in images:
            # Like the real model: a map with the image's aspect, long side 1024.
            h, w = image.shape[:2]
            scale = 1024 / max(h, w)
            mh, mw = max(1, round(h * scale)), max(1, round(w * scale))
            y, x = np.mgrid[0:mh, 0:mw].astype(np.float32)
            r = np.hypot((x - mw / 2) / (mw * 0.3), (y - mh / 2) / (mh * 0.38))
            maps.append(np.clip((1.1 - r) / 0.2, 0.0, 1.0))
            if progress:
                progress(len(maps) / len(images))
        return maps


def image_bytes(width: int, height: int, fmt: str = "PNG", colour=(40, 120, 200)) -> bytes:
    """A photo-like test image: a colour gradient with a darker disc in the middle."""
    y, x = np.mgrid[0:height, 0:width]
    arr = np.empty((height, width, 3), np.uint8)
    arr[..., 0] = colour[0] + (x * 80 // max(width, 1))
    arr[..., 1] = colour[1] + (y * 80 // max(height, 1))
    arr[..., 2] = colour[2]
    disc = np.hypot(x - width / 2, y - height / 2) < min(width, height) / 4
    arr[disc] //= 3
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, fmt)
    return buf.getvalue()


def upload(client, data: bytes | None = None, name: str = "photo.png", content_type: str = "image/png", **fields):
    """POST /api/jobs with ``data`` as the ``image`` field (a 640x480 PNG by default)."""
    if data is None:
        data = image_bytes(640, 480)
    payload = {"image": SimpleUploadedFile(name, data, content_type=content_type), **fields}
    return client.post("/api/jobs", payload)
