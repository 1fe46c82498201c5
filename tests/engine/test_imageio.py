"""Every input mode a phone, camera or editor produces, and the files we must refuse."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms

from remover.engine.imageio import ImageError, decode_image, encode_image


def saved(img: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kwargs)
    return buf.getvalue()


@pytest.fixture(scope="module")
def photo(astronaut) -> Image.Image:
    """A non-square crop, so that transposition errors change the shape."""
    return Image.fromarray(astronaut[:, :384])


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF", "BMP", "GIF"])
def test_common_formats_decode_to_rgb(photo, fmt):
    decoded = decode_image(saved(photo, fmt))
    assert decoded.rgb.dtype == np.uint8 and decoded.rgb.shape == (512, 384, 3)
    assert decoded.alpha is None
    # Lossless formats come back exact. JPEG, WebP and GIF's 256-colour palette are about 3 grey
    # levels off on average; swapping red and blue costs 40.
    tolerance = 0 if fmt in ("PNG", "TIFF", "BMP") else 8
    assert np.abs(decoded.rgb.astype(int) - np.asarray(photo, dtype=int)).mean() <= tolerance


def test_heic(photo):
    decoded = decode_image(saved(photo, "HEIF", quality=90))
    assert decoded.source_format == "HEIF" and decoded.rgb.shape == (512, 384, 3)
    assert np.abs(decoded.rgb.astype(int) - np.asarray(photo, dtype=int)).mean() < 10


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(orientation):
    # A 40x20 image, red on the left half; orientation 1..8 must all come out upright.
    upright = np.zeros((20, 40, 3), np.uint8)
    upright[:, :20] = (255, 0, 0)
    stored = Image.fromarray(upright)
    inverse = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
               4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
               6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_270}
    if orientation in inverse:
        stored = stored.transpose(inverse[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    decoded = decode_image(saved(stored, "PNG", exif=exif.tobytes()))
    assert decoded.rgb.shape == (20, 40, 3)
    assert decoded.rgb[10, 5, 0] > 200 and decoded.rgb[10, 35, 0] < 50


def test_cmyk_jpeg(photo):
    decoded = decode_image(saved(photo.convert("CMYK"), "JPEG", quality=95))
    assert decoded.rgb.shape == (512, 384, 3)
    assert np.abs(decoded.rgb.astype(int) - np.asarray(photo, dtype=int)).mean() < 25


def test_sixteen_bit_greyscale_png_is_scaled_not_clipped():
    ramp = (np.linspace(0, 65535, 256)[None, :].repeat(8, 0)).astype(np.uint16)
    decoded = decode_image(saved(Image.fromarray(ramp), "PNG"))
    row = decoded.rgb[0, :, 0].astype(int)
    assert row[0] == 0 and row[-1] == 255 and abs(row[128] - 128) <= 1


def test_palette_with_transparency_keeps_alpha():
    img = Image.new("P", (30, 30), 0)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    img.paste(1, (10, 10, 20, 20))
    decoded = decode_image(saved(img, "PNG", transparency=0))
    assert decoded.alpha is not None
    assert decoded.alpha[0, 0] == 0 and decoded.alpha[15, 15] == 255
    assert tuple(decoded.rgb[15, 15]) == (255, 0, 0)


def test_greyscale_and_grey_alpha():
    grey = Image.fromarray(np.full((10, 12), 90, np.uint8), "L")
    decoded = decode_image(saved(grey, "PNG"))
    assert decoded.rgb.shape == (10, 12, 3) and (decoded.rgb == 90).all()
    la = Image.merge("LA", (grey, Image.fromarray(np.full((10, 12), 128, np.uint8))))
    decoded = decode_image(saved(la, "PNG"))
    assert decoded.alpha is not None and (decoded.alpha == 128).all()


def test_icc_profile_is_converted_and_a_broken_one_ignored(photo):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    decoded = decode_image(saved(photo, "PNG", icc_profile=srgb))
    assert np.abs(decoded.rgb.astype(int) - np.asarray(photo, dtype=int)).max() <= 2
    decoded = decode_image(saved(photo, "PNG", icc_profile=b"garbage" * 100))
    assert decoded.rgb.shape == (512, 384, 3)


def test_animated_gif_uses_the_first_frame():
    frames = [Image.new("RGB", (16, 16), c) for c in ((255, 0, 0), (0, 0, 255))]
    data = saved(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    decoded = decode_image(data)
    assert tuple(decoded.rgb[8, 8]) == (255, 0, 0)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "not an image"),
        (b"hello, this is text renamed to .jpg\n" * 10, "not an image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><rect width='10' height='10'/></svg>", "not an image"),
    ],
)
def test_non_images_are_refused_with_a_readable_message(data, message):
    with pytest.raises(ImageError, match=message) as err:
        decode_image(data)
    assert "JPEG, PNG" in str(err.value)


def test_truncated_files_are_refused(photo):
    for fmt in ("JPEG", "PNG"):
        data = saved(photo, fmt)
        with pytest.raises(ImageError, match="damaged or incomplete"):
            decode_image(data[: len(data) // 2])


def png_claiming(width: int, height: int) -> bytes:
    """A tiny, valid-looking PNG whose header claims width x height pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_before_decoding():
    data = png_claiming(50_000, 50_000)
    assert len(data) < 200
    with pytest.raises(ImageError, match="too large.*50 MP"):
        decode_image(data, max_megapixels=50)
    # Below Pillow's own guard, our limit names the size.
    with pytest.raises(ImageError, match="9000×9000 pixels \\(81 MP\\); the limit is 50 MP"):
        decode_image(png_claiming(9000, 9000), max_megapixels=50)


def test_unsupported_format_names_the_accepted_ones(photo):
    with pytest.raises(ImageError, match="not supported.*JPEG, PNG, WebP, HEIC/HEIF"):
        decode_image(saved(photo, "PPM"))


def test_encode_png_webp_jpg_round_trip(photo):
    rgba = photo.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(photo.size))
    for fmt, mode in (("png", "RGBA"), ("webp", "RGBA"), ("jpg", "RGB")):
        img = rgba if fmt != "jpg" else photo
        back = Image.open(io.BytesIO(encode_image(img, fmt, dpi=300)))
        assert back.mode == mode and back.size == photo.size
    with pytest.raises(ValueError, match="alpha"):
        encode_image(rgba, "jpg")


def test_jpeg_of_noise_larger_than_pillows_optimise_buffer():
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8))
    data = encode_image(noise, "jpg", jpeg_quality=98)
    assert len(data) > 2 * 300 * 400 * 0.5 and Image.open(io.BytesIO(data)).size == (400, 300)
