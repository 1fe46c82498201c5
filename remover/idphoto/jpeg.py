"""JPEG encoding that meets a document's file-size limits."""

from __future__ import annotations

from PIL import Image

from remover.engine.imageio import encode_image

# Quality used when there is no limit, and the range searched when there is one: below 40 JPEG
# blocks show on skin, which the authorities reject as much as an oversized file.
DEFAULT_QUALITY = 92
LOWEST_QUALITY = 40
HIGHEST_QUALITY = 100
KB = 1000


def encode_jpeg(image: Image.Image, dpi: int, kb: tuple[float, float] | None) -> tuple[bytes, int]:
    """(bytes, quality): DEFAULT_QUALITY, or the highest quality below it whose file is at most ``kb[1]`` kB.

    When even the best quality stays under ``kb[0]`` kB (a small, plain image), that best file is
    returned and the report says the minimum is not met; a file is never padded with junk bytes.
    """
    def encode(quality: int) -> bytes:
        return encode_image(image, "jpg", dpi=dpi, jpeg_quality=quality)

    data = encode(DEFAULT_QUALITY)
    if kb is None:
        return data, DEFAULT_QUALITY
    low, high = kb[0] * KB, kb[1] * KB
    if len(data) < low:
        best = encode(HIGHEST_QUALITY)
        return best, HIGHEST_QUALITY
    if len(data) <= high:
        return data, DEFAULT_QUALITY
    # Size grows with quality: binary search for the highest quality that fits.
    lo, hi = LOWEST_QUALITY, DEFAULT_QUALITY - 1
    best_quality, best = LOWEST_QUALITY, encode(LOWEST_QUALITY)
    while lo <= hi:
        mid = (lo + hi) // 2
        attempt = encode(mid)
        if len(attempt) <= high:
            best_quality, best = mid, attempt
            lo = mid + 1
        else:
            hi = mid - 1
    return best, best_quality
