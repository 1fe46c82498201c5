"""PNG encoding for large images: one row filter for the whole image, deflate in parallel parts.

Pillow chooses a filter for every row by trying all five, which is most of its time on a
12 MP cut-out. One fixed filter ("Up") compresses photos and cut-outs to the same size within
about 1 % (BENCHMARKS.md, "Encoder settings"), in a vectorised pass. The filtered bytes are
then cut into parts that separate threads deflate at once (zlib releases the GIL); each part
but the last ends in a sync flush, which byte-aligns it and closes it with a non-final block,
so the parts joined are one valid deflate stream, wrapped in one zlib header and checksum.
"""

from __future__ import annotations

import os
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Colour type by channel count (PNG spec, IHDR): grey, grey + alpha, RGB, RGBA.
COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}
FILTER_UP = 2
# Raw bytes per deflate part: large enough that restarting the dictionary costs nothing
# measurable, small enough that a 12 MP image gives every core a part.
PART_BYTES = 4 << 20
METRES_PER_INCH = 0.0254


def _chunk(kind: bytes, data: bytes | memoryview) -> bytes:
    return b"".join((struct.pack(">I", len(data)), kind, data, struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))))


def filter_rows(pixels: np.ndarray) -> np.ndarray:
    """(H, W, C) uint8 -> (H, 1 + W * C) uint8 scanlines, each led by the Up filter byte.

    Up stores every byte minus the one above it (mod 256); the first row is its own values,
    as if an all-zero row were above it.
    """
    height = pixels.shape[0]
    rows = pixels.reshape(height, -1)
    out = np.empty((height, rows.shape[1] + 1), np.uint8)
    out[:, 0] = FILTER_UP
    out[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=out[1:, 1:])
    return out


def _zlib_header(level: int) -> bytes:
    cmf = 0x78  # deflate, 32 KiB window
    flevel = 0 if level < 2 else 1 if level < 6 else 2 if level == 6 else 3
    flg = flevel << 6
    flg += 31 - (cmf * 256 + flg) % 31
    return bytes((cmf, flg))


def _deflate_part(data: memoryview, level: int, last: bool) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


def deflate_parallel(raw: memoryview, level: int = 1, threads: int | None = None) -> bytes:
    """One zlib stream of ``raw``, deflated in PART_BYTES parts on up to ``threads`` threads.

    The output depends on ``raw`` and ``level`` only, never on the number of threads.
    """
    starts = range(0, max(len(raw), 1), PART_BYTES)
    last = len(starts) - 1
    jobs = [(raw[start:start + PART_BYTES], level, index == last) for index, start in enumerate(starts)]
    workers = min(len(jobs), threads or os.cpu_count() or 1)
    if workers == 1:
        parts = [_deflate_part(*job) for job in jobs]
    else:
        with ThreadPoolExecutor(workers, thread_name_prefix="png") as pool:
            parts = list(pool.map(lambda job: _deflate_part(*job), jobs))
    return _zlib_header(level) + b"".join(parts) + struct.pack(">I", zlib.adler32(raw))


def encode_png(pixels: np.ndarray, dpi: int | None = None, level: int = 1, threads: int | None = None) -> bytes:
    """PNG bytes of uint8 ``pixels``: (H, W) or (H, W, 1) grey, (H, W, 2) grey + alpha, (H, W, 3) RGB, (H, W, 4) RGBA.

    ``dpi`` is written as the physical pixel size (pHYs). ``level`` is zlib's 0-9.
    """
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3):
        raise ValueError(f"encode_png takes (H, W[, C]) uint8 pixels, not {pixels.dtype} {pixels.shape}")
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    height, width, channels = pixels.shape
    if channels not in COLOUR_TYPES or height < 1 or width < 1:
        raise ValueError(f"encode_png cannot write a {width}x{height} image with {channels} channels")
    header = struct.pack(">IIBBBBB", width, height, 8, COLOUR_TYPES[channels], 0, 0, 0)
    chunks = [SIGNATURE, _chunk(b"IHDR", header)]
    if dpi:
        per_metre = round(dpi / METRES_PER_INCH)
        chunks.append(_chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)))
    raw = memoryview(filter_rows(np.ascontiguousarray(pixels))).cast("B")
    chunks.append(_chunk(b"IDAT", deflate_parallel(raw, level, threads)))
    chunks.append(_chunk(b"IEND", b""))
    return b"".join(chunks)
