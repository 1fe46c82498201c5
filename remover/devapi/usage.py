"""Per-key limits: a rate limit on image requests and a daily credit quota.

Both live in the database, so every web process of a deployment enforces the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .errors import ApiError
from .models import ApiKey, ApiKeyUsage


@dataclass(frozen=True)
class RateState:
    limit: int  # requests per minute
    remaining: int  # whole requests left in the bucket after this one


def take_rate_token(key: ApiKey) -> RateState:
    """Spend one token of the key's bucket (refilled at ``rate_per_minute`` a minute, holding
    at most that many), or raise ``rate_limited`` with the seconds until one is back."""
    rate = max(1, key.rate_per_minute)
    now = timezone.now()
    with transaction.atomic():
        row = ApiKey.objects.select_for_update().only("rate_tokens", "rate_checked_at").get(pk=key.pk)
        elapsed = (now - row.rate_checked_at).total_seconds() if row.rate_checked_at else 60.0
        tokens = min(float(rate), row.rate_tokens + max(0.0, elapsed) * rate / 60.0)
        if tokens < 1.0:
            ApiKey.objects.filter(pk=key.pk).update(rate_tokens=tokens, rate_checked_at=now)
            wait = (1.0 - tokens) * 60.0 / rate
            raise ApiError(
                "rate_limited",
                f"This key may send {rate} image requests a minute. Please wait {wait:.0f} s.",
                retry_after=wait,
            )
        ApiKey.objects.filter(pk=key.pk).update(rate_tokens=tokens - 1.0, rate_checked_at=now)
    return RateState(limit=rate, remaining=int(tokens - 1.0))


def _today():
    return timezone.now().date()


def seconds_to_midnight() -> float:
    now = timezone.now()
    midnight = datetime.combine(now.date() + timedelta(days=1), time.min, tzinfo=UTC)
    return (midnight - now).total_seconds()


def consume_credit(key: ApiKey) -> int:
    """Count one image against today's credits; returns the credits left after it."""
    with transaction.atomic():
        usage, _ = ApiKeyUsage.objects.select_for_update().get_or_create(key=key, day=_today())
        if usage.credits >= key.daily_credits:
            raise ApiError(
                "quota_exceeded",
                f"This key's {key.daily_credits} credits for today are used up. They renew at midnight UTC.",
                retry_after=seconds_to_midnight(),
            )
        ApiKeyUsage.objects.filter(pk=usage.pk).update(credits=F("credits") + 1)
    return key.daily_credits - usage.credits - 1


def refund_credit(key: ApiKey, day) -> None:
    """Give back a credit counted on ``day`` (the image failed or was never processed)."""
    ApiKeyUsage.objects.filter(key=key, day=day, credits__gt=0).update(credits=F("credits") - 1)


def credits_left(key: ApiKey) -> int:
    used = ApiKeyUsage.objects.filter(key=key, day=_today()).values_list("credits", flat=True).first() or 0
    return max(0, key.daily_credits - used)
