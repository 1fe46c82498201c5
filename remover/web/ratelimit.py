"""Short-term rate limits: uploads, downloads and WebSocket connections per minute, per
session and per network.

The daily quota (remover/web/limits.py) counts accepted images per day; these count attempts,
so a client that floods the server with uploads (refused ones too) or with socket
handshakes is slowed down within the minute. Counters are fixed one-minute windows in
Django's cache: per process with the default local-memory cache, shared by every process
when CACHES points at Redis. Keys are keyed hashes, like the quota's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from remover.web.limits import Refused, hashed, network

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Action:
    name: str  # part of the cache key
    per_session_setting: str
    per_ip_setting: str
    message: str  # with {seconds}


UPLOAD = Action(
    "upload", "CLEARCUT_UPLOADS_PER_MINUTE", "CLEARCUT_UPLOADS_PER_MINUTE_PER_IP",
    "Too many uploads in a short time. Please wait {seconds} seconds and try again.",
)
SOCKET = Action(
    "socket", "CLEARCUT_SOCKETS_PER_MINUTE", "CLEARCUT_SOCKETS_PER_MINUTE_PER_IP",
    "Too many connections in a short time. Please wait {seconds} seconds.",
)

DOWNLOAD = Action(
    "download", "CLEARCUT_DOWNLOADS_PER_MINUTE", "CLEARCUT_DOWNLOADS_PER_MINUTE_PER_IP",
    "Too many downloads in a short time. Please wait {seconds} seconds and try again.",
)


class RateLimited(Refused):
    def __init__(self, message: str, retry_after: int):
        super().__init__(message, status=429, retry_after=retry_after)


def hit(action: Action, session: str | None, ip: str | None) -> None:
    """Count one attempt by this session and this network; raise :class:`RateLimited` past a limit.

    A limit of 0 turns that counter off. Both counters count the attempt even when one of
    them refuses it, so hammering on does not reset anything.
    """
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    over = False
    for scope, value, limit in (
        ("session", session, getattr(settings, action.per_session_setting)),
        ("ip", ip and network(ip), getattr(settings, action.per_ip_setting)),
    ):
        if value and limit > 0:
            over |= _count(f"clearcut:rate:{action.name}:{hashed(scope, value)}:{window}") > limit
    if over:
        seconds = max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
        raise RateLimited(action.message.format(seconds=seconds), retry_after=seconds)


def _count(key: str) -> int:
    cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr(): this is the first hit of a new window
        cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
        return 1
