"""Clearcut settings.

The embedded default (no environment variables) is one machine: SQLite, the in-memory
channel layer, the in-process worker and local files. Every deployment choice is read
from ``CLEARCUT_*`` environment variables so the same code scales out.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CLEARCUT_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def persistent_secret_key(path: Path) -> str:
    """The key kept in ``path`` (0600), made on first start. Several processes starting at
    once agree on one key: the file appears whole (a hard link of a finished temporary
    file) and the first one wins."""
    if not path.exists():
        import secrets
        import tempfile

        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret-key-")  # mode 0600
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(50))
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    return path.read_text().strip()


# Debug pages show source and settings to anyone: only on request, never by default.
DEBUG = env_bool("CLEARCUT_DEBUG", False)
# Sessions, CSRF tokens and the keyed hashes of the usage counters rest on this key. Unset,
# one machine keeps a random key of its own in the data folder; processes on several
# machines must all be given the same CLEARCUT_SECRET_KEY (docs/deploy.md).
SECRET_KEY = os.environ.get("CLEARCUT_SECRET_KEY", "") or persistent_secret_key(VAR_DIR / "secret_key")
ALLOWED_HOSTS = os.environ.get("CLEARCUT_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]"}
# The default start answers only this machine's own browser, over plain HTTP.
LOOPBACK_ONLY = set(ALLOWED_HOSTS) <= LOOPBACK_HOSTS

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "remover",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "remover.web.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "remover.web.loginthrottle.LoginThrottleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
WSGI_APPLICATION = None
ASGI_APPLICATION = "project.asgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("CLEARCUT_SQLITE_PATH", VAR_DIR / "db.sqlite3"),
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Scale-out: every web process and worker must share one database. DATABASE_URL
# (postgres://user:password@host:5432/name, or any URL dj-database-url reads) replaces the
# SQLite file; connections are kept a minute and checked before reuse.
if os.environ.get("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"], conn_max_age=env_int("CLEARCUT_DB_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }

CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# REDIS_URL (redis://host:6379/0): progress messages travel through Redis, so a worker in
# any process reaches a WebSocket held by any web process; Celery uses it too (below).
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
    }
    # Django's cache too (rate-limit counters): shared by every web process.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
CSRF_FAILURE_VIEW = "remover.web.page_api.csrf_failure"  # JSON for the API, Django's page elsewhere
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
MEDIA_ROOT = Path(os.environ.get("CLEARCUT_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"
# WhiteNoise serves static/ itself (debug off, no collectstatic needed); STATIC_ROOT holds
# the compressed copies `make setup` collects.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# S3_BUCKET: uploads and results go to S3-compatible object storage (AWS, MinIO, Ceph...)
# that every process reaches, instead of MEDIA_ROOT. Without S3_ACCESS_KEY_ID boto3 looks
# for credentials the usual way (AWS_* variables, instance role). File names are fixed per
# job, so a job run twice overwrites its results instead of adding copies.
if os.environ.get("S3_BUCKET"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["S3_BUCKET"],
            "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("S3_REGION") or None,
            "access_key": os.environ.get("S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("S3_SECRET_ACCESS_KEY") or None,
            # "path": http://endpoint/bucket/key, for MinIO and most self-hosted endpoints.
            "addressing_style": "path" if env_bool("S3_PATH_STYLE", False) else None,
            "file_overwrite": True,
            "querystring_auth": True,  # the bucket stays private; any URL handed out is signed
            "querystring_expire": env_int("S3_URL_EXPIRES", 300),
        },
    }
# S3_PRESIGNED_URLS: previews and originals are answered with a redirect to a short-lived
# signed URL (after the owner check), so the bytes flow from storage, not through Django.
CLEARCUT_S3_REDIRECTS = bool(os.environ.get("S3_BUCKET")) and env_bool("S3_PRESIGNED_URLS", False)

# Engine settings (read by remover.engine through remover.apps).
CLEARCUT_THREADS = env_int("CLEARCUT_THREADS", 0)  # 0: torch's default
CLEARCUT_DEVICE = os.environ.get("CLEARCUT_DEVICE", "auto")  # auto | cpu | cuda
CLEARCUT_PRECISION = os.environ.get("CLEARCUT_PRECISION", "auto")  # auto | fp32 | bf16 | fp16 (CUDA)
CLEARCUT_MAX_MEGAPIXELS = env_float("CLEARCUT_MAX_MEGAPIXELS", 50)

# Web app: uploads, tiers, quotas and retention (remover.web.limits reads these).
CLEARCUT_MAX_UPLOAD_MB = env_float("CLEARCUT_MAX_UPLOAD_MB", 25)
CLEARCUT_BATCH_MAX_FILES = env_int("CLEARCUT_BATCH_MAX_FILES", 20)
CLEARCUT_FREE_MEGAPIXELS = env_float("CLEARCUT_FREE_MEGAPIXELS", 1)  # anonymous and free downloads
CLEARCUT_PRO_MEGAPIXELS = env_float("CLEARCUT_PRO_MEGAPIXELS", 36)  # users with remover.full_resolution
CLEARCUT_PREVIEW_MEGAPIXELS = env_float("CLEARCUT_PREVIEW_MEGAPIXELS", 1)  # what every page shows
CLEARCUT_DAILY_QUOTA = env_int("CLEARCUT_DAILY_QUOTA", 50)  # images per session (or free user) per UTC day
CLEARCUT_DAILY_QUOTA_PER_IP = env_int("CLEARCUT_DAILY_QUOTA_PER_IP", 50)
CLEARCUT_PRO_DAILY_QUOTA = env_int("CLEARCUT_PRO_DAILY_QUOTA", 1000)  # per Pro user; no IP quota
CLEARCUT_RETENTION_HOURS = env_float("CLEARCUT_RETENTION_HOURS", 24)

# Where inference runs. "thread": the in-process worker (one model, started by the first
# connection or upload). "none": no thread; queued jobs wait until the code calls
# remover.processing.worker.get_worker().drain() (tests that run jobs step by step). "celery": jobs
# go to Celery workers through Redis (remover/processing/dispatch.py, remover/processing/tasks.py).
CLEARCUT_WORKER = os.environ.get("CLEARCUT_WORKER", "thread")
if CLEARCUT_WORKER not in ("thread", "none", "celery"):  # a typo would leave every upload queued forever
    raise RuntimeError(f"CLEARCUT_WORKER must be 'thread', 'none' or 'celery', not {CLEARCUT_WORKER!r}")
if CLEARCUT_WORKER == "celery" and not REDIS_URL:
    raise RuntimeError("CLEARCUT_WORKER=celery needs REDIS_URL (the broker)")
CLEARCUT_QUEUE_SIZE = env_int("CLEARCUT_QUEUE_SIZE", 100)  # waiting jobs; beyond it uploads get "busy"
CLEARCUT_SWEEP_SECONDS = env_float("CLEARCUT_SWEEP_SECONDS", 300)  # how often the worker purges expired jobs
CLEARCUT_MAX_ATTEMPTS = env_int("CLEARCUT_MAX_ATTEMPTS", 3)  # starts per job before it is given up
# /metrics (queue lengths, failure counts) answers a bearer token Prometheus sends, or
# clients in these networks (CIDR, comma-separated); neither set, nobody.
CLEARCUT_METRICS_TOKEN = os.environ.get("CLEARCUT_METRICS_TOKEN", "")
CLEARCUT_METRICS_NETWORKS = [n.strip() for n in os.environ.get("CLEARCUT_METRICS_NETWORKS", "").split(",") if n.strip()]
# Load balancers and Prometheus probe each web process directly, over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# Celery (read by project/celery.py, CELERY_ namespace). Inference settings: one model per
# process, one job per process at a time, and a message acknowledged only once its job
# has finished, so a worker that dies mid-job hands it back to the broker.
CLEARCUT_JOB_TIME_LIMIT = env_int("CLEARCUT_JOB_TIME_LIMIT", 600)  # seconds; the slowest job allowed
CELERY_BROKER_URL = REDIS_URL
# A job's outcome is its database row: nothing reads task results, so none are stored.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # a killed pool process puts its message back at once
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # a busy worker does not hold jobs an idle one could run
CELERY_WORKER_CONCURRENCY = env_int("CLEARCUT_WORKER_CONCURRENCY", 1)  # model copies per worker
# GPU workers: jobs running in threads of one process (-P threads) share forward passes of up
# to this many images, waiting this long for company (remover/processing/batching.py). 1: no batching.
CLEARCUT_BATCH_SIZE = env_int("CLEARCUT_BATCH_SIZE", 1)
CLEARCUT_BATCH_WAIT_MS = env_float("CLEARCUT_BATCH_WAIT_MS", 20)
CELERY_TASK_SOFT_TIME_LIMIT = CLEARCUT_JOB_TIME_LIMIT  # the job ends in "error", the worker lives on
# The hard limit kills a pool process that ignored the soft one (stuck in native code).
CELERY_TASK_TIME_LIMIT = CLEARCUT_JOB_TIME_LIMIT + max(5, CLEARCUT_JOB_TIME_LIMIT // 10)
# Redis redelivers a message whose worker vanished (killed with the whole machine, say)
# once it has been unacknowledged this long: it must exceed the slowest job, or a job
# still running would be handed out a second time.
CLEARCUT_VISIBILITY_TIMEOUT = env_int("CLEARCUT_VISIBILITY_TIMEOUT", CELERY_TASK_TIME_LIMIT + 300)
if CLEARCUT_VISIBILITY_TIMEOUT <= CELERY_TASK_TIME_LIMIT:
    raise RuntimeError("CLEARCUT_VISIBILITY_TIMEOUT must be longer than the hard time limit (CELERY_TASK_TIME_LIMIT)")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CLEARCUT_VISIBILITY_TIMEOUT,
    # Look for such messages every few seconds rather than kombu's default 100 s.
    "unacked_restore_interval": env_int("CLEARCUT_RESTORE_INTERVAL", 10),
    "unacked_restore_throttle": 1,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_PROC_ALIVE_TIMEOUT = 120  # a pool process loads the model before it says it is up
# The retention sweep, for `celery -A project beat` (run exactly one beat process).
CELERY_BEAT_SCHEDULE = {"clearcut-sweep": {"task": "clearcut.sweep", "schedule": CLEARCUT_SWEEP_SECONDS}}

# Abuse limits (remover/web/ratelimit.py): attempts per minute, per session and per network
# (IPv4 address or IPv6 /64); 0 turns a limit off. A page uploads a batch of up to
# CLEARCUT_BATCH_MAX_FILES at once and opens one socket per image, hence the headroom.
CLEARCUT_UPLOADS_PER_MINUTE = env_int("CLEARCUT_UPLOADS_PER_MINUTE", 30)
CLEARCUT_UPLOADS_PER_MINUTE_PER_IP = env_int("CLEARCUT_UPLOADS_PER_MINUTE_PER_IP", 60)
CLEARCUT_SOCKETS_PER_MINUTE = env_int("CLEARCUT_SOCKETS_PER_MINUTE", 60)
CLEARCUT_SOCKETS_PER_MINUTE_PER_IP = env_int("CLEARCUT_SOCKETS_PER_MINUTE_PER_IP", 120)

# Downloads (remover/web/renders.py): renders of large photos run CLEARCUT_RENDER_WORKERS at a
# time with at most CLEARCUT_RENDER_QUEUE waiting (then 503 + Retry-After); photos up to
# CLEARCUT_RENDER_LIGHT_MEGAPIXELS have a lane of their own, so they never wait behind them.
# Every distinct render is kept in storage until its job is deleted.
CLEARCUT_RENDER_WORKERS = env_int("CLEARCUT_RENDER_WORKERS", 1)
CLEARCUT_RENDER_QUEUE = env_int("CLEARCUT_RENDER_QUEUE", 8)
CLEARCUT_RENDER_LIGHT_MEGAPIXELS = env_float("CLEARCUT_RENDER_LIGHT_MEGAPIXELS", 4)
# A download larger than the preview waits this long for the full-size cut-out, which the
# worker stores right after announcing "done" (remover/processing/jobs.py); then 503 + Retry-After.
CLEARCUT_FULL_SIZE_WAIT_SECONDS = env_float("CLEARCUT_FULL_SIZE_WAIT_SECONDS", 60)
CLEARCUT_DOWNLOADS_PER_MINUTE = env_int("CLEARCUT_DOWNLOADS_PER_MINUTE", 60)
CLEARCUT_DOWNLOADS_PER_MINUTE_PER_IP = env_int("CLEARCUT_DOWNLOADS_PER_MINUTE_PER_IP", 120)
# Sign-in throttling (remover/web/loginthrottle.py), on the site's and the admin's sign-in: failed
# attempts per account from one network and per network within CLEARCUT_LOGIN_WINDOW_SECONDS,
# and per account from anywhere within CLEARCUT_LOGIN_ACCOUNT_WINDOW_SECONDS; past a limit,
# sign-ins are refused (429) until that window ends. The per-account limit is high and its
# window short, so a stranger guessing can slow the real owner down, not lock them out.
CLEARCUT_LOGIN_FAILURES_PER_ACCOUNT_AND_IP = env_int("CLEARCUT_LOGIN_FAILURES_PER_ACCOUNT_AND_IP", 5)
CLEARCUT_LOGIN_FAILURES_PER_IP = env_int("CLEARCUT_LOGIN_FAILURES_PER_IP", 20)
CLEARCUT_LOGIN_WINDOW_SECONDS = env_int("CLEARCUT_LOGIN_WINDOW_SECONDS", 300)
CLEARCUT_LOGIN_FAILURES_PER_ACCOUNT = env_int("CLEARCUT_LOGIN_FAILURES_PER_ACCOUNT", 30)
CLEARCUT_LOGIN_ACCOUNT_WINDOW_SECONDS = env_int("CLEARCUT_LOGIN_ACCOUNT_WINDOW_SECONDS", 60)

# --- HTTPS and browser security (see SECURITY.md) ---------------------------------------
# The site is HTTPS-only by default, except on a start that answers only loopback host
# names (the default): that is this machine's own browser, where no certificate can exist
# and no traffic leaves the machine. Behind a TLS proxy, run daphne with --proxy-headers
# so that X-Forwarded-Proto and X-Forwarded-For reach Django.
CLEARCUT_HTTPS = env_bool("CLEARCUT_HTTPS", not (DEBUG or LOOPBACK_ONLY))
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = CLEARCUT_HTTPS
SECURE_SSL_REDIRECT = env_bool("CLEARCUT_SSL_REDIRECT", CLEARCUT_HTTPS)
SECURE_HSTS_SECONDS = env_int("CLEARCUT_HSTS_SECONDS", 365 * 24 * 3600 if CLEARCUT_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("CLEARCUT_HSTS_INCLUDE_SUBDOMAINS", True)
# Preloading binds the whole domain to HTTPS in browsers for months: the operator's call.
SECURE_HSTS_PRELOAD = env_bool("CLEARCUT_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
if LOOPBACK_ONLY and not CLEARCUT_HTTPS:
    # check --deploy asks for HTTPS, which a loopback-only start cannot have (see above).
    SILENCED_SYSTEM_CHECKS += ["security.W004", "security.W008", "security.W012", "security.W016"]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CLEARCUT_CSRF_TRUSTED_ORIGINS", "").split(",") if o]
SESSION_COOKIE_HTTPONLY = True  # the csrftoken cookie stays readable: the pages send it back as a header
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (remover/web/middleware.py). Only our own scripts and styles (the
# templates have no inline ones); images also from blob: (the page shows the chosen files
# and canvas output before and after upload; nothing uses data: URLs); fetch and the
# progress WebSocket to this site only ('self' covers ws: and wss: to the same host).
# CLEARCUT_CSP_EXTRA_ORIGINS (space-separated) adds origins for images and fetch: the
# bucket's, with S3_PRESIGNED_URLS, whose previews and originals come from there.
_CSP_EXTRA = " ".join(os.environ.get("CLEARCUT_CSP_EXTRA_ORIGINS", "").split())
CLEARCUT_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": f"'self' blob: {_CSP_EXTRA}".strip(),
    "connect-src": f"'self' {_CSP_EXTRA}".strip(),
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# Browser features no page uses. camera=() concerns in-page capture (getUserMedia) only: the
# "take a photo" buttons open the phone's camera app through <input capture>, unaffected.
CLEARCUT_PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CLEARCUT_LOG_LEVEL", "INFO")},
}
