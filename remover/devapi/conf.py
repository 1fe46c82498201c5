"""The developer API's settings, each overridable in Django settings or by an environment
variable of the same name (read when the process starts).

Kept here rather than in project/settings.py so the API is one self-contained module; they
are read through :func:`get` at use time, so tests override them with Django's ``settings``.
"""

from __future__ import annotations

import os

from django.conf import settings

_DEFAULTS: dict[str, object] = {
    # Per new key, by tier; operators change a key's figures in the admin.
    "CLEARCUT_API_FREE_DAILY_CREDITS": 50,
    "CLEARCUT_API_PRO_DAILY_CREDITS": 1000,
    "CLEARCUT_API_FREE_RATE_PER_MINUTE": 10,
    "CLEARCUT_API_PRO_RATE_PER_MINUTE": 60,
    "CLEARCUT_API_MAX_KEYS_PER_USER": 10,
    # size=preview: like remove.bg's preview size.
    "CLEARCUT_API_PREVIEW_MEGAPIXELS": 0.25,
    # How long POST /api/v1/remove waits for its image before answering 503.
    "CLEARCUT_API_SYNC_TIMEOUT": 120.0,
    # image_url: redirects followed, connect/read timeouts, and the whole download's deadline.
    "CLEARCUT_API_FETCH_MAX_REDIRECTS": 3,
    "CLEARCUT_API_FETCH_TIMEOUT": 10.0,
    "CLEARCUT_API_FETCH_DEADLINE": 30.0,
    # Networks the server may reach although they are not public (comma-separated CIDRs), for
    # image_url and for webhook_url respectively. Empty: public addresses only.
    "CLEARCUT_API_FETCH_ALLOW_NETWORKS": "",
    "CLEARCUT_API_WEBHOOK_ALLOW_NETWORKS": "",
    # Seconds between webhook attempts: one retry per entry after the first attempt.
    "CLEARCUT_API_WEBHOOK_RETRY_SECONDS": "10,60,300,1800,7200",
    "CLEARCUT_API_WEBHOOK_TIMEOUT": 10.0,
    # "thread": this process delivers webhooks and refunds failed images in a background
    # thread started by its first request; "none": something else calls
    # remover.devapi.followup.run_due() (tests, or a dedicated process).
    "CLEARCUT_API_FOLLOWUP": "thread",
    "CLEARCUT_API_FOLLOWUP_POLL_SECONDS": 1.0,
}


def _from_environment(name: str, default: object) -> object:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


_ENVIRONMENT = {name: _from_environment(name, default) for name, default in _DEFAULTS.items()}


def get(name: str):
    """Django settings first (tests override there), then the environment, then the default."""
    return getattr(settings, name, _ENVIRONMENT[name])


def csv_list(name: str) -> list[str]:
    return [part.strip() for part in str(get(name)).split(",") if part.strip()]
