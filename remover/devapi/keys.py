"""API keys: creation (the full key exists only in the creation response), hashing, lookup.

A key reads ``cc_<prefix>_<secret>``: the prefix finds the row, the secret is 256 random bits.
A plain SHA-256 of the whole key is stored. A slow password hash is not needed: nobody can
guess 256 random bits, fast or slow, and a fast hash keeps every request cheap.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from remover.web.limits import Tier, tier_for

from . import conf
from .errors import ApiError
from .models import ApiKey

HEADER = "X-Api-Key"
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_PREFIX_LENGTH = 10
_KEY_FORMAT = re.compile(rf"cc_([a-z0-9]{{{_PREFIX_LENGTH}}})_([A-Za-z0-9_-]{{43}})")
# last_used_at is written at most this often per key: a client polling its job status should
# not turn every GET into a database write.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_key(full_key: str) -> str:
    return hashlib.sha256(full_key.encode()).hexdigest()


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    full_key: str  # shown once, never stored


def create_key(user, name: str, tier: str | None = None) -> NewKey:
    """A new key for ``user`` with the default limits of ``tier`` (free or pro; default: the
    user's current tier). A pro key still gives free results while its owner is not Pro
    (:func:`key_tier`)."""
    tier = tier or tier_for(user).name
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(_PREFIX_LENGTH))
    full_key = f"cc_{prefix}_{secrets.token_urlsafe(32)}"
    upper = tier.upper()
    key = ApiKey.objects.create(
        user=user,
        name=name.strip()[:80] or "API key",
        prefix=prefix,
        secret_hash=hash_key(full_key),
        webhook_secret=f"whsec_{secrets.token_urlsafe(32)}",
        tier=tier,
        daily_credits=conf.get(f"CLEARCUT_API_{upper}_DAILY_CREDITS"),
        rate_per_minute=conf.get(f"CLEARCUT_API_{upper}_RATE_PER_MINUTE"),
        rate_tokens=conf.get(f"CLEARCUT_API_{upper}_RATE_PER_MINUTE"),
    )
    return NewKey(key=key, full_key=full_key)


def revoke_key(key: ApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])


def authenticate(headers) -> ApiKey:
    """The active key named by the ``X-Api-Key`` header, or :class:`ApiError` (401)."""
    supplied = (headers.get(HEADER) or "").strip()
    if not supplied:
        raise ApiError("missing_api_key", f"Send your API key in the {HEADER} header.")
    invalid = ApiError("invalid_api_key", "This API key is not valid. Check it, or create a new one on your account page.")
    match = _KEY_FORMAT.fullmatch(supplied)
    if not match:
        raise invalid
    key = ApiKey.objects.select_related("user").filter(prefix=match.group(1)).first()
    if key is None or not hmac.compare_digest(key.secret_hash, hash_key(supplied)):
        raise invalid
    if key.revoked_at is not None:
        raise ApiError("invalid_api_key", "This API key was revoked. Create a new one on your account page.")
    if not key.user.is_active:
        raise invalid
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= _LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def key_tier(key: ApiKey) -> Tier:
    """The key's tier, but never above its owner's: a Pro key of a user who lost Pro is free."""
    user_tier = tier_for(key.user)
    if key.tier == ApiKey.Tier.PRO and user_tier.name == "pro":
        return user_tier
    return tier_for(None)
