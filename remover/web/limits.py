"""What each visitor may do: upload checks, tiers and download sizes, daily quotas.

Every number comes from a ``CLEARCUT_*`` setting (see project/settings.py), so operators
change limits with environment variables. Refusals raise :class:`Refused`, whose message
is shown to the person as it is.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from remover.engine.imageio import (
    ACCEPTED_DESCRIPTION,
    ACCEPTED_FORMATS,
    DECODE_FAILURES,
)
from remover.models import DailyUsage

# Pillow format -> extension of the stored input file.
INPUT_EXTENSIONS = {
    "JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp", "HEIF": "heic",
    "TIFF": "tif", "BMP": "bmp", "GIF": "gif",
}
# EXIF orientations that turn the picture a quarter: width and height swap once upright.
_QUARTER_TURNS = {5, 6, 7, 8}
_EXIF_ORIENTATION = 0x0112
_EXIF_FORMATS = {"JPEG", "MPO", "WEBP", "TIFF", "PNG"}  # HEIF sizes come upright already


class Refused(Exception):
    """A request we turn down; ``str()`` is for the person, ``status`` for the response,
    ``retry_after`` (seconds) for the Retry-After header when it is known."""

    def __init__(self, message: str, status: int = 400, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


# --- Tiers -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Tier:
    name: str  # "free" or "pro"
    max_megapixels: float


def tier_for(user) -> Tier:
    """Pro: signed in with the ``remover.full_resolution`` permission. Everyone else: free."""
    if user is not None and user.is_authenticated and user.has_perm("remover.full_resolution"):
        return Tier("pro", settings.CLEARCUT_PRO_MEGAPIXELS)
    return Tier("free", settings.CLEARCUT_FREE_MEGAPIXELS)


def fit_megapixels(width: int, height: int, megapixels: float) -> tuple[int, int]:
    """The largest size with the same aspect as width x height and at most ``megapixels``."""
    limit = megapixels * 1e6
    if width * height <= limit:
        return width, height
    scale = math.sqrt(limit / (width * height))
    return max(1, math.floor(width * scale)), max(1, math.floor(height * scale))


# --- Uploads ---------------------------------------------------------------------------

def max_upload_bytes() -> int:
    return int(settings.CLEARCUT_MAX_UPLOAD_MB * 1024 * 1024)


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def batch_max_files() -> int:
    return settings.CLEARCUT_BATCH_MAX_FILES


# Room for the multipart boundaries, headers and the small form fields next to the file.
_FORM_OVERHEAD = 64 * 1024


def max_request_bytes() -> int:
    """The largest request body accepted: one image at the limit, plus the form around it."""
    return max_upload_bytes() + _FORM_OVERHEAD


def request_too_large(content_length: int | None) -> Refused:
    """The 413 for a body over :func:`max_request_bytes` (``None``: its length is not known)."""
    size = f"This upload is {_megabytes(content_length)}" if content_length else "This upload is too large"
    return Refused(
        f"{size}; the limit is {settings.CLEARCUT_MAX_UPLOAD_MB:g} MB per image. Please upload a smaller file.",
        status=413,
    )


def check_request_size(content_length: int) -> None:
    """Refuse from the declared length, before the body is parsed."""
    if content_length > max_request_bytes():
        raise request_too_large(content_length)


def check_upload_size(size: int) -> None:
    limit = max_upload_bytes()
    if size > limit:
        raise Refused(
            f"This file is {_megabytes(size)}; the limit is {settings.CLEARCUT_MAX_UPLOAD_MB:g} MB. "
            "Please upload a smaller file.",
            status=413,
        )
    if size == 0:
        raise Refused("This file is empty. Please choose a photo.")


@dataclass(frozen=True)
class UploadInfo:
    """What the file's header says, before any pixel is decoded."""

    format: str
    extension: str
    width: int  # upright, after EXIF rotation
    height: int


def inspect_upload(file) -> UploadInfo:
    """Refuse anything but an accepted image format within the pixel limit.

    Reads the header only, so it is cheap in the request; damaged pixel data is found by
    the worker's full decode and reported as the job's error.
    """
    not_image = f"This file is not an image we can read. Please upload a {ACCEPTED_DESCRIPTION} file."
    try:
        with Image.open(file) as img:
            fmt = img.format or "unknown"
            width, height = img.size
            if fmt in ACCEPTED_FORMATS:
                _check_pixels(width, height)  # before anything else is read from the file
            orientation = _orientation(img) if fmt in _EXIF_FORMATS else None
    except UnidentifiedImageError:
        raise Refused(not_image, status=415)
    except Image.DecompressionBombError:
        # Pillow will not even open a header that claims hundreds of megapixels.
        raise Refused(f"This image is far too large; the limit is {settings.CLEARCUT_MAX_MEGAPIXELS:g} MP.", status=413)
    except DECODE_FAILURES:
        raise Refused("This image file is damaged or incomplete, so it could not be read.")
    finally:
        file.seek(0)
    if fmt not in ACCEPTED_FORMATS:
        raise Refused(f"{fmt} files are not supported. Please upload a {ACCEPTED_DESCRIPTION} file.", status=415)
    if orientation in _QUARTER_TURNS:
        width, height = height, width
    return UploadInfo(format=fmt, extension=INPUT_EXTENSIONS[fmt], width=width, height=height)


def _check_pixels(width: int, height: int) -> None:
    if width < 1 or height < 1:
        raise Refused("This image has no pixels.")
    megapixels = width * height / 1e6
    if megapixels > settings.CLEARCUT_MAX_MEGAPIXELS:
        raise Refused(
            f"This image is {width}×{height} pixels ({megapixels:.0f} MP); the limit is "
            f"{settings.CLEARCUT_MAX_MEGAPIXELS:g} MP. Please upload a smaller image.",
            status=413,
        )


def _orientation(img: Image.Image) -> int | None:
    """The EXIF orientation found in the header, without decoding a pixel.

    Pillow's ``getexif()`` on a PNG decodes the whole image to look for an eXIf chunk after
    the pixels; here only one that comes before them counts (the worker's decode applies
    any other, and the job's size is corrected when it is done). Unreadable EXIF is ignored,
    as the decoder ignores it.
    """
    try:
        if img.format == "PNG":
            raw = img.info.get("exif")
            if not raw:
                return None
            exif = Image.Exif()
            exif.load(raw)
        else:
            exif = img.getexif()
        value = exif.get(_EXIF_ORIENTATION)
    except DECODE_FAILURES:
        return None
    return value if isinstance(value, int) else None


# --- Daily quota -----------------------------------------------------------------------

def hashed(scope: str, value: str) -> str:
    # Counters must not become a log of who uploaded: store a keyed hash, not the value.
    return hmac.new(settings.SECRET_KEY.encode(), f"{scope}:{value}".encode(), hashlib.sha256).hexdigest()


def network(ip: str) -> str:
    """The address an IP quota counts: IPv4 as is, IPv6 by its /64 (one home or phone gets a whole /64)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        if address.ipv4_mapped is not None:  # ::ffff:a.b.c.d is the IPv4 client a.b.c.d
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _counters(owner_key: str, user, ip: str | None) -> list[tuple[str, str, int]]:
    """(scope, hashed key, daily limit) for every counter this upload counts against."""
    if tier_for(user).name == "pro":
        return [(DailyUsage.Scope.USER, hashed("user", str(user.pk)), settings.CLEARCUT_PRO_DAILY_QUOTA)]
    counters = [(DailyUsage.Scope.OWNER, hashed("owner", owner_key), settings.CLEARCUT_DAILY_QUOTA)]
    if user is not None and user.is_authenticated:
        counters.append((DailyUsage.Scope.USER, hashed("user", str(user.pk)), settings.CLEARCUT_DAILY_QUOTA))
    if ip:
        counters.append((DailyUsage.Scope.IP, hashed("ip", network(ip)), settings.CLEARCUT_DAILY_QUOTA_PER_IP))
    return [c for c in counters if c[2] > 0]  # a limit of 0 turns that counter off


def consume_quota(owner_key: str, user, ip: str | None) -> None:
    """Count one upload against today's quotas, or raise :class:`Refused` (429) if one is used up."""
    today = timezone.now().date()
    counters = _counters(owner_key, user, ip)
    # One transaction (SQLite's IMMEDIATE mode, row locks elsewhere) so that concurrent
    # uploads cannot both take the last image of a quota.
    with transaction.atomic():
        for scope, key, limit in counters:
            usage, _ = DailyUsage.objects.select_for_update().get_or_create(scope=scope, key=key, day=today)
            if usage.count >= limit:
                who = "this network" if scope == DailyUsage.Scope.IP else "you"
                raise Refused(
                    f"Today's limit of {limit} images for {who} is used up. It resets at midnight UTC.",
                    status=429,
                )
        for scope, key, _ in counters:
            DailyUsage.objects.filter(scope=scope, key=key, day=today).update(count=F("count") + 1)


def refund_quota(owner_key: str, user, ip: str | None) -> None:
    """Give back one upload that was counted but never queued (the queue was full)."""
    today = timezone.now().date()
    for scope, key, _ in _counters(owner_key, user, ip):
        DailyUsage.objects.filter(scope=scope, key=key, day=today, count__gt=0).update(count=F("count") - 1)


def quota_left(owner_key: str, user, ip: str | None) -> int | None:
    """Uploads left today under the tightest counter; None when no counter applies."""
    today = timezone.now().date()
    left = None
    for scope, key, limit in _counters(owner_key, user, ip):
        used = DailyUsage.objects.filter(scope=scope, key=key, day=today).values_list("count", flat=True).first() or 0
        left = max(0, limit - used) if left is None else min(left, max(0, limit - used))
    return left


# --- Public summary ----------------------------------------------------------------------

def summary(owner_key: str, user, ip: str | None) -> dict:
    """The limits as the page states them (``GET /api/limits``)."""
    tier = tier_for(user)
    return {
        "tier": tier.name,
        "download_megapixels": tier.max_megapixels,
        "free_megapixels": settings.CLEARCUT_FREE_MEGAPIXELS,
        "pro_megapixels": settings.CLEARCUT_PRO_MEGAPIXELS,
        "max_upload_mb": settings.CLEARCUT_MAX_UPLOAD_MB,
        "max_megapixels": settings.CLEARCUT_MAX_MEGAPIXELS,
        "accepted_formats": ACCEPTED_DESCRIPTION,
        "batch_max_files": settings.CLEARCUT_BATCH_MAX_FILES,
        "retention_hours": settings.CLEARCUT_RETENTION_HOURS,
        "quota_left_today": quota_left(owner_key, user, ip),
    }
