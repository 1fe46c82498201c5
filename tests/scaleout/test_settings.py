"""Deployment settings from environment variables, read by a fresh interpreter each time:
nothing set keeps the embedded default; REDIS_URL, DATABASE_URL and S3_* switch engines."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from .cluster import ROOT

DEPLOYMENT_VARS = ("REDIS_URL", "DATABASE_URL", "S3_BUCKET", "CLEARCUT_WORKER", "CLEARCUT_VISIBILITY_TIMEOUT")
SHOW = """
import json
from django.conf import settings
print(json.dumps({
    "db": settings.DATABASES["default"], "layer": settings.CHANNEL_LAYERS["default"],
    "storage": settings.STORAGES["default"], "worker": settings.CLEARCUT_WORKER,
    "broker": settings.CELERY_BROKER_URL, "transport": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    "acks_late": settings.CELERY_TASK_ACKS_LATE, "prefetch": settings.CELERY_WORKER_PREFETCH_MULTIPLIER,
    "hard_limit": settings.CELERY_TASK_TIME_LIMIT, "redirects": settings.CLEARCUT_S3_REDIRECTS,
    "cache": settings.CACHES["default"]["BACKEND"],
}, default=str))
"""


def settings_with(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in DEPLOYMENT_VARS}
    return subprocess.run(
        [sys.executable, "-c", SHOW], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**clean, "DJANGO_SETTINGS_MODULE": "project.settings", **env},
    )


def test_nothing_set_keeps_the_embedded_default():
    found = json.loads(settings_with().stdout)
    assert found["db"]["ENGINE"] == "django.db.backends.sqlite3"
    assert found["layer"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
    assert found["storage"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert found["worker"] == "thread"
    assert found["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert found["redirects"] is False


def test_environment_switches_to_redis_postgres_and_s3():
    found = json.loads(settings_with(
        REDIS_URL="redis://cache.internal:6379/2",
        DATABASE_URL="postgres://clearcut:pw@db.internal:5432/clearcut",
        S3_BUCKET="photos", S3_ENDPOINT_URL="http://minio.internal:9000", S3_REGION="eu-west-1",
        S3_ACCESS_KEY_ID="key", S3_SECRET_ACCESS_KEY="secret", S3_PATH_STYLE="1", S3_PRESIGNED_URLS="1",
        CLEARCUT_WORKER="celery",
    ).stdout)
    assert found["db"]["ENGINE"] == "django.db.backends.postgresql"
    assert (found["db"]["HOST"], found["db"]["NAME"], found["db"]["CONN_HEALTH_CHECKS"]) == ("db.internal", "clearcut", True)
    assert found["layer"] == {"BACKEND": "channels_redis.core.RedisChannelLayer",
                              "CONFIG": {"hosts": ["redis://cache.internal:6379/2"]}}
    assert found["broker"] == "redis://cache.internal:6379/2"
    assert found["cache"] == "django.core.cache.backends.redis.RedisCache"
    options = found["storage"]["OPTIONS"]
    assert found["storage"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert (options["bucket_name"], options["endpoint_url"], options["region_name"]) == (
        "photos", "http://minio.internal:9000", "eu-west-1")
    assert (options["access_key"], options["addressing_style"], options["querystring_auth"]) == ("key", "path", True)
    assert found["redirects"] is True
    assert found["worker"] == "celery" and found["acks_late"] is True and found["prefetch"] == 1
    assert found["transport"]["visibility_timeout"] > found["hard_limit"]


def test_inconsistent_deployments_are_refused_at_start():
    no_broker = settings_with(CLEARCUT_WORKER="celery")
    assert no_broker.returncode != 0 and "needs REDIS_URL" in no_broker.stderr
    too_short = settings_with(REDIS_URL="redis://127.0.0.1:6379/0", CLEARCUT_VISIBILITY_TIMEOUT="60")
    assert too_short.returncode != 0 and "CLEARCUT_VISIBILITY_TIMEOUT" in too_short.stderr
