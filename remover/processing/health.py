"""Endpoints for load balancers and monitoring: ``/healthz``, ``/readyz``, ``/metrics``.

``/healthz`` (liveness) answers as long as the process serves requests: restarting it
for a database outage would not help. ``/readyz`` (readiness) checks what a request
needs: the database, Redis (channel layer and broker) when configured, and the file
storage; 503 takes the process out of rotation until they are back. Answers say which
check failed but not why (details go to the log), since anyone can call them.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging

import redis
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from storages.backends.s3 import S3Storage

from remover.processing import metrics
from remover.processing.worker import get_worker

log = logging.getLogger(__name__)


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis() -> None:
    redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2).ping()


def _storage() -> None:
    # S3: a HEAD on the bucket (raises when it is missing, forbidden or unreachable). A
    # local folder needs no check: it is created with the first upload.
    if isinstance(default_storage, S3Storage):
        default_storage.connection.meta.client.head_bucket(Bucket=default_storage.bucket_name)


def checks() -> dict:
    found = {"database": _database, "storage": _storage}
    if settings.REDIS_URL:
        found["redis"] = _redis
    return found


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    results = {}
    for name, check in checks().items():
        try:
            check()
            results[name] = "ok"
        except Exception:
            log.warning("readiness check %s failed", name, exc_info=True)
            results[name] = "failed"
    ready = all(value == "ok" for value in results.values())
    return JsonResponse({"status": "ready" if ready else "unavailable", "checks": results}, status=200 if ready else 503)


def _metrics_allowed(request) -> bool:
    token = settings.CLEARCUT_METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    if token and sent.startswith("Bearer ") and hmac.compare_digest(sent.removeprefix("Bearer ").encode(), token.encode()):
        return True
    try:
        client = ipaddress.ip_address(request.META.get("REMOTE_ADDR") or "")
    except ValueError:
        return False
    return any(client in ipaddress.ip_network(allowed, strict=False) for allowed in settings.CLEARCUT_METRICS_NETWORKS)


@never_cache
@require_GET
def metrics_view(request):
    """Prometheus text format, for scrapers that send CLEARCUT_METRICS_TOKEN as a bearer token
    or come from CLEARCUT_METRICS_NETWORKS; to anyone else it does not exist (queue lengths
    and failure counts are not for the public)."""
    if not _metrics_allowed(request):
        if settings.CLEARCUT_METRICS_TOKEN:
            return HttpResponse(status=401, headers={"WWW-Authenticate": "Bearer"})
        return HttpResponse(status=404)
    body = generate_latest(metrics.registry(get_worker().queue_lengths))
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
