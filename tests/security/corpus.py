"""The bad-input corpus, generated here so nothing third-party is committed.

Each :class:`Case` is an upload (file name + bytes) and what must happen to it:

- ``ok``: accepted and processed; the job ends ``done`` with ``size`` (upright width, height).
- ``refused``: the upload is answered with ``status`` (4xx) and an error containing ``message``.
- ``job_error``: accepted (the header is fine) and the job ends ``error`` with ``message``
  (the damage is in the pixel data, which only the worker decodes).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

NOT_AN_IMAGE = "This file is not an image we can read"
DAMAGED = "This image file is damaged or incomplete"
TOO_LARGE = "the limit is 50 MP"
EMPTY = "This file is empty"


@dataclass(frozen=True)
class Case:
    id: str
    name: str  # the file name the browser sends
    data: bytes
    expect: str  # ok | refused | job_error
    size: tuple[int, int] | None = None  # for ok: upright (width, height)
    status: int | None = None  # for refused
    message: str = ""  # for refused and job_error: a fragment of the message


# --- Building blocks ---------------------------------------------------------------------

def photo(width: int = 64, height: int = 48) -> np.ndarray:
    """A small photo-like RGB picture with a distinct top-left corner (red) to check orientation."""
    y, x = np.mgrid[0:height, 0:width]
    arr = np.zeros((height, width, 3), np.uint8)
    arr[..., 0] = 40 + x * 150 // max(width, 1)
    arr[..., 1] = 60 + y * 150 // max(height, 1)
    arr[..., 2] = 160
    arr[: max(1, height // 4), : max(1, width // 4)] = (255, 0, 0)
    return arr


def save(image: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def raw_png(width: int, height: int, bit_depth: int, colour_type: int, rows: bytes | None = None,
            extra_chunks: tuple[bytes, ...] = ()) -> bytes:
    """A PNG written by hand: for what Pillow will not write (16-bit RGB, lying headers)."""
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0))
    idat = png_chunk(b"IDAT", zlib.compress(rows if rows is not None else b"", 9))
    return b"\x89PNG\r\n\x1a\n" + header + b"".join(extra_chunks) + idat + png_chunk(b"IEND", b"")


def png_bomb() -> bytes:
    """50000x50000 1-bit pixels whose zeros deflate to a few hundred kilobytes: 2.5 gigapixels."""
    row = b"\x00" * (1 + 50000 // 8)
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(50000)) + packer.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 50000, 50000, 1, 0, 0, 0, 0))
        + png_chunk(b"IDAT", body)
        + png_chunk(b"IEND", b"")
    )


def rgb16_png(width: int, height: int) -> bytes:
    arr = (photo(width, height).astype(np.uint16) * 257).astype(">u2")
    rows = b"".join(b"\x00" + arr[y].tobytes() for y in range(height))
    return raw_png(width, height, 16, 2, rows)


def oriented_jpeg(orientation: int) -> bytes:
    """A 64x48 upright picture stored so that EXIF ``orientation`` turns it upright again."""
    upright = Image.fromarray(photo(64, 48))
    # The transform that exif_transpose applies, inverted: what the camera would have stored.
    inverse = {
        2: [Image.Transpose.FLIP_LEFT_RIGHT],
        3: [Image.Transpose.ROTATE_180],
        4: [Image.Transpose.FLIP_TOP_BOTTOM],
        5: [Image.Transpose.TRANSPOSE],
        6: [Image.Transpose.ROTATE_90],
        7: [Image.Transpose.TRANSVERSE],
        8: [Image.Transpose.ROTATE_270],
    }.get(orientation, [])
    stored = upright
    for step in inverse:
        stored = stored.transpose(step)
    exif = Image.Exif()
    exif[0x0112] = orientation
    return save(stored, "JPEG", exif=exif, quality=95)


def frames(count: int = 3, size=(48, 32)) -> list[Image.Image]:
    colours = [(220, 30, 30), (30, 200, 30), (30, 30, 220), (200, 200, 30)]
    return [Image.new("RGB", size, colours[i % len(colours)]) for i in range(count)]


def animated_gif() -> bytes:
    first, *rest = frames()
    return save(first, "GIF", save_all=True, append_images=rest)


def jpeg_with_segment(marker: int, payload: bytes) -> bytes:
    """A valid JPEG with one extra APPn segment inserted right after SOI."""
    base = save(Image.fromarray(photo()), "JPEG")
    segment = struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload
    return base[:2] + segment + base[2:]


def huge_icc_jpeg(total: int = 3 * 1024 * 1024) -> bytes:
    """A JPEG whose ICC profile (split over APP2 segments, as the spec allows) is ``total`` bytes of junk."""
    base = save(Image.fromarray(photo()), "JPEG")
    piece = 65519 - 14
    parts = [bytes([i % 251]) * piece for i in range(total // piece)]
    segments = b""
    for index, part in enumerate(parts, 1):
        payload = b"ICC_PROFILE\x00" + bytes([index, len(parts)]) + part
        segments += struct.pack(">BBH", 0xFF, 0xE2, len(payload) + 2) + payload
    return base[:2] + segments + base[2:]


def multipage_tiff() -> bytes:
    first, *rest = frames(3, (40, 30))
    return save(first, "TIFF", save_all=True, append_images=rest)


def tiff_claiming(width: int, height: int) -> bytes:
    """A little-endian TIFF whose one directory claims ``width`` x ``height`` 8-bit grey pixels
    in a single strip of 16 bytes."""
    entries = [  # (tag, type, count, value); type 3 = SHORT, 4 = LONG
        (256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
        (273, 4, 1, 8 + 2 + 9 * 12 + 4), (277, 3, 1, 1), (278, 4, 1, height), (279, 4, 1, 16),
    ]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *entry) for entry in entries)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + b"\x80" * 16


def tiff_with_second_page(page: bytes) -> bytes:
    """A valid one-page TIFF whose "next page" offset points at ``page``, a bare directory
    appended to the file. Walking the pages used to raise TypeError and KeyError."""
    data = bytearray(save(Image.fromarray(photo()), "TIFF"))
    first = struct.unpack_from("<I", data, 4)[0]
    entries = struct.unpack_from("<H", data, first)[0]
    struct.pack_into("<I", data, first + 2 + 12 * entries, len(data))
    return bytes(data) + page


def directory(*entries: tuple[int, int, int, int]) -> bytes:
    return struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + b"\0\0\0\0"


def bmp_claiming(width: int, height: int) -> bytes:
    data = bytearray(save(Image.new("RGB", (4, 4)), "BMP"))
    struct.pack_into("<ii", data, 18, width, height)
    return bytes(data)


def gif_js_polyglot() -> bytes:
    """A GIF that a browser would also run as a script: width 10799 is the bytes "/*", and a
    comment closes that JavaScript comment and calls alert()."""
    return save(Image.new("P", (10799, 10)), "GIF", comment=b"*/=alert(document.domain);/*")


def tiny_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("../../evil.html", "<script>alert(1)</script>")
    return buf.getvalue()


def grey_alpha_png() -> bytes:
    grey = photo()[..., 1]
    alpha = np.tile(np.linspace(0, 255, grey.shape[1]).astype(np.uint8), (grey.shape[0], 1))
    return save(Image.fromarray(np.dstack([grey, alpha]), "LA"), "PNG")


def palette_with_transparency() -> bytes:
    image = Image.fromarray(photo()).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    return save(image, "PNG", transparency=0)


def junk_orientation_jpeg() -> bytes:
    """EXIF orientation 42 (there are eight), stored as text: must be ignored, not trusted."""
    exif = Image.Exif()
    exif[0x0112] = 42
    exif[0x010F] = "\x00\xff" * 200  # a Make string full of junk
    return save(Image.fromarray(photo()), "JPEG", exif=exif)


# --- The corpus ----------------------------------------------------------------------------

def build() -> list[Case]:
    good_jpeg = save(Image.fromarray(photo(160, 120)), "JPEG", quality=90)
    good_png = save(Image.fromarray(photo(160, 120)), "PNG")
    cases = [
        Case("zero-bytes", "empty.jpg", b"", "refused", status=400, message=EMPTY),
        Case("truncated-jpeg-header", "cut.jpg", good_jpeg[:40], "refused", status=400, message=DAMAGED),
        Case("truncated-jpeg-pixels", "cut.jpg", good_jpeg[: len(good_jpeg) // 2], "job_error", message=DAMAGED),
        Case("truncated-png-header", "cut.png", good_png[:20], "refused", status=400, message=DAMAGED),
        Case("truncated-png-pixels", "cut.png", good_png[: len(good_png) * 3 // 4], "job_error", message=DAMAGED),
        Case("text-as-jpg", "notes.jpg", b"Dear diary, today I uploaded a text file.\n" * 10, "refused",
             status=415, message=NOT_AN_IMAGE),
        Case("html-as-jpg", "page.jpg", b"<!doctype html><html><body><script>alert(1)</script></body></html>",
             "refused", status=415, message=NOT_AN_IMAGE),
        Case("svg-as-jpg", "logo.jpg",
             b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg' width='64' height='48'>"
             b"<script>alert(1)</script><rect width='64' height='48'/></svg>",
             "refused", status=415, message=NOT_AN_IMAGE),
        # A GIF that is also valid JavaScript ("GIF89a" = ... /* */), and a PNG with HTML and a
        # ZIP stuck after IEND: both are images first, so they are processed like any photo,
        # and only re-encoded pixels ever go back out (the tests check the script never does).
        Case("polyglot-gif-js", "pic.gif", gif_js_polyglot(), "ok", size=(10799, 10)),
        Case("polyglot-png-html-zip", "pic.png", good_png + b"<html><script>alert(1)</script></html>" + tiny_zip(),
             "ok", size=(160, 120)),
        Case("png-bomb-50k", "bomb.png", png_bomb(), "refused", status=413, message="far too large"),
        Case("png-header-50k-no-data", "liar.png", raw_png(50000, 50000, 8, 2), "refused", status=413,
             message="far too large"),
        Case("png-header-just-over-limit", "big.png", raw_png(8000, 6500, 8, 2), "refused", status=413,
             message=TOO_LARGE),
        Case("bmp-header-huge", "huge.bmp", bmp_claiming(30000, 30000), "refused", status=413,
             message="far too large"),
        Case("tiff-header-huge", "huge.tif", tiff_claiming(60000, 60000), "refused", status=413,
             message="far too large"),
        Case("one-pixel", "dot.png", save(Image.new("RGB", (1, 1), (10, 200, 30)), "PNG"), "ok", size=(1, 1)),
        Case("strip-20000x20", "strip.png", save(Image.fromarray(photo(20000, 20)), "PNG"), "ok", size=(20000, 20)),
        Case("strip-20x20000", "tower.png", save(Image.fromarray(photo(20, 20000)), "PNG"), "ok", size=(20, 20000)),
        Case("cmyk-jpeg", "print.jpg", save(Image.fromarray(photo()).convert("CMYK"), "JPEG"), "ok", size=(64, 48)),
        Case("grey-16bit-png", "grey16.png",
             save(Image.fromarray((photo()[..., 0].astype(np.uint16) * 257)), "PNG"), "ok", size=(64, 48)),
        Case("rgb-16bit-png", "rgb16.png", rgb16_png(64, 48), "ok", size=(64, 48)),
        Case("grey-alpha-png", "la.png", grey_alpha_png(), "ok", size=(64, 48)),
        Case("palette-transparency-png", "pal.png", palette_with_transparency(), "ok", size=(64, 48)),
        Case("animated-gif", "anim.gif", animated_gif(), "ok", size=(48, 32)),
        Case("animated-webp", "anim.webp", save(frames()[0], "WEBP", save_all=True, append_images=frames()[1:]),
             "ok", size=(48, 32)),
        Case("apng", "anim.png", save(frames()[0], "PNG", save_all=True, append_images=frames()[1:]),
             "ok", size=(48, 32)),
        Case("multipage-tiff", "pages.tif", multipage_tiff(), "ok", size=(40, 30)),
        # Later frames or pages broken: the first one is still the picture.
        Case("gif-cut-in-a-later-frame", "anim.gif", animated_gif()[: len(animated_gif()) * 3 // 4], "ok",
             size=(48, 32)),
        Case("tiff-second-page-without-size", "pages.tif", tiff_with_second_page(directory((256, 3, 1, 5))), "ok",
             size=(64, 48)),
        Case("tiff-second-page-unknown-compression", "pages.tif",
             tiff_with_second_page(directory((259, 3, 1, 56350))), "ok", size=(64, 48)),
        Case("corrupt-exif", "exif.jpg", jpeg_with_segment(0xE1, b"Exif\x00\x00II*\x00\xff\xff\xff\x7f" + b"\x00" * 40),
             "ok", size=(64, 48)),
        Case("exif-junk-orientation", "exif2.jpg", junk_orientation_jpeg(), "ok", size=(64, 48)),
        Case("huge-icc-profile", "icc.jpg", huge_icc_jpeg(), "ok", size=(64, 48)),
        Case("path-traversal-unicode-name", "../../../etc/passwd/..\\..\\Ünïcødé 照片\u202egpj.png",
             save(Image.fromarray(photo()), "PNG"), "ok", size=(64, 48)),
    ]
    for orientation in range(1, 9):  # stored sideways or mirrored, always 64x48 once upright
        cases.append(Case(f"exif-orientation-{orientation}", f"o{orientation}.jpg", oriented_jpeg(orientation), "ok",
                          size=(64, 48)))
    return cases
