"""Webhooks: when an asynchronous job finishes, its status JSON is POSTed to the client's
``webhook_url``, signed, and retried with back-off until a 2xx answer or the attempts run out.

Signature header (the scheme Stripe popularised, so client libraries know it)::

    X-Clearcut-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(webhook secret, "<t>." + body)>

The timestamp is signed with the body so a captured delivery cannot be replayed later;
receivers should refuse signatures older than a few minutes (see :func:`verify`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta

from django.utils import timezone

from . import conf
from .addresses import AddressPolicy
from .errors import ApiError
from .fetch import Fetcher
from .models import WebhookDelivery
from .status import job_status

SIGNATURE_HEADER = "X-Clearcut-Signature"
EVENT = "job.finished"
MAX_RESPONSE_BYTES = 64 * 1024  # we read the receiver's answer only to end the exchange cleanly


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, tolerance: float = 300, now: float | None = None) -> bool:
    """What a receiver does: check the signature and that it is recent. (Used by the tests
    and shown in the docs.)"""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


def webhook_fetcher() -> Fetcher:
    timeout = conf.get("CLEARCUT_API_WEBHOOK_TIMEOUT")
    return Fetcher(
        policy=AddressPolicy.allowing(conf.csv_list("CLEARCUT_API_WEBHOOK_ALLOW_NETWORKS")),
        max_bytes=MAX_RESPONSE_BYTES,
        timeout=timeout,
        deadline=timeout,
        max_redirects=0,  # a webhook answers where it was registered; a redirect is a failure
    )


def check_url(url: str) -> str:
    """Refuse a webhook_url we would never deliver to, when the job is submitted."""
    try:
        webhook_fetcher().check(url)
    except ApiError as exc:
        raise ApiError(exc.code, f"webhook_url: {exc.message}")
    return url.strip()


def retry_delays() -> list[float]:
    return [float(seconds) for seconds in conf.csv_list("CLEARCUT_API_WEBHOOK_RETRY_SECONDS")]


def body_for(delivery: WebhookDelivery) -> bytes:
    payload = {"event": EVENT, "job": job_status(delivery.api_job)}
    return json.dumps(payload, separators=(",", ":")).encode()


def attempt(delivery: WebhookDelivery, fetcher: Fetcher | None = None) -> bool:
    """POST the delivery once and record the outcome; True if the receiver took it."""
    body = body_for(delivery)
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(delivery.api_job.key.webhook_secret, int(time.time()), body),
        "X-Clearcut-Event": EVENT,
        "X-Clearcut-Job": str(delivery.api_job.pk),
    }
    error = ""
    try:
        response = (fetcher or webhook_fetcher()).request(delivery.url, method="POST", body=body, headers=headers)
        if not 200 <= response.status < 300:
            error = f"the receiver answered HTTP {response.status}"
    except ApiError as exc:
        error = exc.message
    delivery.attempts += 1
    now = timezone.now()
    if not error:
        delivery.state, delivery.delivered_at, delivery.last_error = WebhookDelivery.State.DELIVERED, now, ""
    else:
        delivery.last_error = error[:300]
        delays = retry_delays()
        if delivery.attempts > len(delays):
            delivery.state = WebhookDelivery.State.FAILED
        else:
            delivery.next_attempt_at = now + timedelta(seconds=delays[delivery.attempts - 1])
    delivery.save(update_fields=["state", "attempts", "next_attempt_at", "last_error", "delivered_at"])
    return not error
