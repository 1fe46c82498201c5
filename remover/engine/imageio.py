"""Decoding of user images into sRGB pixels, and encoding of results.

Everything a phone or camera produces is normalised here: EXIF orientation, ICC profiles
(converted to sRGB), CMYK, palette, 16-bit, greyscale and LA modes, HEIC, WebP and the
first frame of animations. Anything we cannot read safely raises :class:`ImageError`
with a message meant for the person who uploaded the file.
"""

from __future__ import annotations

import io
import logging
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from .png import encode_png

try:
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is a hard dependency, but decode still works without HEIC
    pass

# Pillow format name -> what we tell people. MPO is the JPEG variant many cameras write.
ACCEPTED_FORMATS = {
    "JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WebP", "HEIF": "HEIC/HEIF",
    "TIFF": "TIFF", "BMP": "BMP", "GIF": "GIF",
}
ACCEPTED_DESCRIPTION = "JPEG, PNG, WebP, HEIC/HEIF, TIFF, BMP or GIF"
OUTPUT_FORMATS = ("png", "webp", "jpg")
PNG_MODES = ("L", "LA", "RGB", "RGBA")  # the Pillow modes encode_png writes as they are
_SRGB = ImageCms.createProfile("sRGB")
_EXIF_ORIENTATION = 0x0112
# EXIF orientation -> the transpose that turns the stored pixels upright.
_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Format plugins (Pillow's and pillow-heif's) fail on hostile bytes with more than OSError:
# the fuzz tests (tests/security) found KeyError, IndexError and TypeError in TIFF and GIF
# parsing and RuntimeError from libheif. Any of them means this file cannot be used.
DECODE_FAILURES = (
    OSError, ValueError, SyntaxError, EOFError, struct.error, KeyError, IndexError, TypeError, RuntimeError,
    ZeroDivisionError,
)
log = logging.getLogger(__name__)


class ImageError(ValueError):
    """The input is not an image we can use; ``str(err)`` is safe to show to the user."""


@dataclass(frozen=True)
class DecodedImage:
    """An upright sRGB image.

    rgb: (H, W, 3) uint8. alpha: (H, W) uint8 when the file had transparency, else None.
    """

    rgb: np.ndarray
    alpha: np.ndarray | None
    source_format: str

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.rgb.shape[1], self.rgb.shape[0]


def _open(source: bytes | str | Path | BinaryIO, max_megapixels: float) -> Image.Image:
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        return Image.open(source)
    except Image.DecompressionBombError:
        # Pillow's own guard fires on headers far beyond any limit of ours.
        raise ImageError(f"This image is too large to process safely; the limit is {max_megapixels:g} MP.")
    except UnidentifiedImageError:
        raise ImageError(f"This file is not an image we can read. Please upload a {ACCEPTED_DESCRIPTION} file.")
    except DECODE_FAILURES as exc:
        log.debug("could not open an image: %r", exc)
        raise ImageError(f"This file could not be read as an image ({exc.__class__.__name__}).")


def _upright(img: Image.Image) -> Image.Image:
    """Apply the EXIF orientation. EXIF too broken to read, or an orientation outside 1-8,
    leaves the pixels as they are: the picture matters more than its metadata."""
    try:
        orientation = img.getexif().get(_EXIF_ORIENTATION)
    except DECODE_FAILURES:
        return img
    method = _ORIENTATION_TRANSPOSE.get(orientation) if isinstance(orientation, int) else None
    # Not ImageOps.exif_transpose: it also rewrites the EXIF block, which fails on bad EXIF
    # and is of no use here (results carry no EXIF).
    return img.transpose(method) if method is not None else img


def _to_srgb(img: Image.Image) -> Image.Image:
    """Convert an embedded ICC profile to sRGB; a broken profile is ignored, not fatal."""
    icc = img.info.get("icc_profile")
    if not icc or img.mode not in ("RGB", "RGBA", "CMYK", "L", "LA"):
        return img
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        target_mode = "RGBA" if img.mode in ("RGBA", "LA") else "RGB"
        if img.mode == "LA":
            img = img.convert("RGBA")
        elif img.mode == "L":
            img = img.convert("RGB")
            return img  # a grey profile cannot map an RGB image; grey stays grey
        return ImageCms.profileToProfile(img, src, _SRGB, outputMode=target_mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return img


def _to_rgba_mode(img: Image.Image) -> Image.Image:
    """Any Pillow mode to RGB or RGBA, scaling high bit depths down to 8 bits."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    elif img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        top = 1.0 if arr.max() <= 1.0 else 255.0
        img = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("LA", "PA", "RGBa", "La"):
        img = img.convert("RGBA")
    if img.mode not in ("RGB", "RGBA"):
        img = img.convert("RGB")
    return img


def decode_image(
    source: bytes | str | Path | BinaryIO, max_megapixels: float = 50.0, at_least: int | None = None
) -> DecodedImage:
    """Read ``source`` into an upright sRGB :class:`DecodedImage`.

    The pixel count is checked from the header before any pixel is decoded, so a small
    file that claims to be 50000x50000 is refused without allocating it.

    ``at_least``: the caller only needs an image whose shorter side is at least this many
    pixels (it will shrink the result itself). A JPEG is then decoded at 1/2, 1/4 or 1/8
    scale in the DCT (libjpeg's draft mode), as far as that keeps the shorter side at
    ``at_least``: a fraction of the time and memory. Other formats decode whole.
    """
    img = _open(source, max_megapixels)
    fmt = img.format or "unknown"
    if fmt not in ACCEPTED_FORMATS:
        raise ImageError(f"{fmt} files are not supported. Please upload a {ACCEPTED_DESCRIPTION} file.")
    width, height = img.size
    if width < 1 or height < 1:
        raise ImageError("This image has no pixels.")
    megapixels = width * height / 1e6
    if megapixels > max_megapixels:
        raise ImageError(
            f"This image is {width}×{height} pixels ({megapixels:.0f} MP); the limit is {max_megapixels:g} MP. "
            "Please upload a smaller image."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if at_least is not None and fmt in ("JPEG", "MPO"):
                img.draft("RGB", (at_least, at_least))
            # Image.open leaves an animation or a multi-page file at its first frame. Asking
            # for n_frames would walk every frame: slow for long GIFs, and a crash on bad ones.
            img.load()
            if img.width * img.height / 1e6 > max_megapixels:
                # The header understated the size (the fuzz tests made HEIC files do this).
                raise Image.DecompressionBombError(f"decoded to {img.width}x{img.height}")
            img = _upright(img)
            img = _to_srgb(img)
            img = _to_rgba_mode(img)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"This image is too large to process safely; the limit is {max_megapixels:g} MP.")
    except DECODE_FAILURES as exc:
        log.debug("could not decode a %s image: %r", fmt, exc)
        raise ImageError("This image file is damaged or incomplete, so it could not be read.") from exc
    rgba = np.asarray(img)
    if img.mode == "RGBA":
        alpha = np.ascontiguousarray(rgba[..., 3])
        rgb = np.ascontiguousarray(rgba[..., :3])
        if alpha.min() == 255:
            alpha = None
        return DecodedImage(rgb=rgb, alpha=alpha, source_format=fmt)
    return DecodedImage(rgb=np.ascontiguousarray(rgba), alpha=None, source_format=fmt)


def encode_image(image: Image.Image, fmt: str, dpi: int | None = None, jpeg_quality: int = 92) -> bytes:
    """Encode an RGB or RGBA Pillow image as ``png``, ``webp`` (lossless when it has alpha) or ``jpg``."""
    out = io.BytesIO()
    extra = {"dpi": (dpi, dpi)} if dpi else {}
    if fmt == "png":
        # Level 1: half the time of level 3 and a fifth of the default 6's, for about 1 % more
        # bytes on a 12 MP cut-out; one row filter and parallel deflate (engine/png.py) take
        # a third of Pillow's time again (BENCHMARKS.md, "Encoder settings").
        if image.mode not in PNG_MODES:
            image = image.convert("RGBA")
        return encode_png(np.asarray(image), dpi=dpi, level=1)
    elif fmt == "webp":
        if image.mode == "RGBA":
            # Method 0: a 12 MP cut-out in a tenth of method 2's time, 40 % larger, still
            # smaller than the PNG (BENCHMARKS.md).
            image.save(out, "WEBP", lossless=True, quality=25, method=0, exact=False)
        else:
            image.save(out, "WEBP", quality=90, method=4)
    elif fmt in ("jpg", "jpeg"):
        if image.mode not in ("RGB", "L"):
            raise ValueError("JPEG has no alpha channel: compose onto a background first")
        try:
            image.save(out, "JPEG", quality=jpeg_quality, optimize=True, progressive=True, subsampling=0, **extra)
        except OSError:
            # Pillow sizes the one-shot buffer of optimised JPEGs at about a byte per pixel,
            # which noise-like images exceed; the baseline encoder streams instead.
            out = io.BytesIO()
            image.save(out, "JPEG", quality=jpeg_quality, subsampling=0, **extra)
    else:
        raise ValueError(f"unknown output format {fmt!r}; choose one of {', '.join(OUTPUT_FORMATS)}")
    return out.getvalue()

