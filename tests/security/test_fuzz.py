"""Property-based fuzzing of the decoder path with hypothesis, bounded to a few seconds.

Seeds are small valid files of every accepted format (and the corpus); hypothesis flips,
overwrites, cuts, inserts and splices bytes. Whatever comes out, the request's header check
(remover.web.limits.inspect_upload) and the worker's full decode (decode_image) must either
succeed with a sane result or refuse with a message for a person, nothing else. This found
KeyError, IndexError and TypeError escaping Pillow's TIFF and GIF parsers and RuntimeError
from libheif; DECODE_FAILURES in remover/engine/imageio.py now covers them.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from remover.engine.imageio import ImageError, decode_image
from remover.web.limits import Refused, UploadInfo, inspect_upload

from . import corpus


def _seeds() -> list[bytes]:
    picture = Image.fromarray(corpus.photo(24, 16))
    files = [
        corpus.save(picture, "JPEG"), corpus.save(picture, "JPEG", progressive=True),
        corpus.save(picture, "PNG"), corpus.save(picture.convert("RGBA"), "PNG"),
        corpus.save(picture.convert("P"), "GIF"), corpus.save(picture, "BMP"),
        corpus.save(picture, "WEBP"), corpus.save(picture, "WEBP", lossless=True),
        corpus.save(picture, "TIFF"), corpus.save(picture, "TIFF", compression="tiff_lzw"),
        corpus.save(picture, "TIFF", compression="jpeg"), corpus.save(picture.convert("1"), "TIFF", compression="group4"),
        corpus.save(picture, "HEIF"), corpus.rgb16_png(12, 8), corpus.oriented_jpeg(6),
    ]
    small = [case.data for case in corpus.build() if 0 < len(case.data) < 4096]
    return files + small


SEEDS = _seeds()

# One edit: (kind, position, payload); the position wraps around the file's length.
edit = st.tuples(
    st.sampled_from(["flip", "overwrite", "cut", "insert", "splice"]),
    st.integers(0, 1 << 20),
    st.binary(min_size=1, max_size=8)
    | st.sampled_from([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff\xff\xff", b"\x80\x00\x00\x00"]),
)


def mutate(data: bytes, edits) -> bytes:
    out = bytearray(data)
    for kind, where, payload in edits:
        at = where % (len(out) or 1)
        if kind == "flip" and out:
            out[at] ^= payload[0] or 0x80
        elif kind == "overwrite":
            out[at:at + len(payload)] = payload
        elif kind == "cut":
            del out[at:]
        elif kind == "insert":
            out[at:at] = payload
        else:  # a piece of the file copied elsewhere: duplicated chunks and segments
            start = (where >> 8) % (len(out) or 1)
            out[at:at] = out[start:start + 1 + payload[-1]]
    return bytes(out)


mutated = st.tuples(st.sampled_from(SEEDS), st.lists(edit, min_size=1, max_size=6)).map(lambda seed: mutate(*seed))
# Mostly mutated real files (they get past the format detection); some plain noise.
inputs = st.one_of(mutated, mutated, mutated, st.binary(max_size=512))

# Bounded by the number of examples (about 10 s per test on an idle 2-core machine), not
# by a per-example deadline, which would fail at random on a busy machine.
FUZZ = settings(
    max_examples=2500, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(autouse=True)
def quiet_decoders():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about the corrupt EXIF it is fed here
        yield


@FUZZ
@given(inputs)
def test_the_full_decode_returns_an_image_or_a_message(data):
    try:
        decoded = decode_image(data, max_megapixels=django_settings.CLEARCUT_MAX_MEGAPIXELS)
    except ImageError as exc:
        assert str(exc).startswith("This ")
        return
    height, width = decoded.rgb.shape[:2]
    assert decoded.rgb.dtype == np.uint8 and decoded.rgb.shape == (height, width, 3)
    assert width * height <= django_settings.CLEARCUT_MAX_MEGAPIXELS * 1e6
    assert decoded.alpha is None or decoded.alpha.shape == (height, width)


@FUZZ
@given(inputs)
def test_the_upload_check_returns_a_size_or_a_4xx(data):
    try:
        info = inspect_upload(SimpleUploadedFile("upload.jpg", data))
    except Refused as exc:
        assert 400 <= exc.status < 500 and str(exc).startswith("This ")
        return
    assert isinstance(info, UploadInfo) and info.width >= 1 and info.height >= 1
    assert info.width * info.height <= django_settings.CLEARCUT_MAX_MEGAPIXELS * 1e6


def test_the_seeds_are_valid_images():
    """Mutations start from real files of every accepted format, or the fuzzing says little."""
    formats = {Image.open(io.BytesIO(seed)).format for seed in SEEDS[:15]}
    assert formats == {"JPEG", "PNG", "GIF", "BMP", "WEBP", "TIFF", "HEIF"}
