"""Clearcut settings.

The embedded default (no environment variables) is one machine: SQLite, the in-memory
channel layer, the in-process worker and local files. Every deployment choice is read
from ``CLEARCUT_*`` environment variables so the same code scales out.
"""

import os
from pathlib import Path

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


DEBUG = env_bool("CLEARCUT_DEBUG", True)
SECRET_KEY = os.environ.get("CLEARCUT_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("CLEARCUT_SECRET_KEY must be set when CLEARCUT_DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
ALLOWED_HOSTS = os.environ.get("CLEARCUT_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")

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
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
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

CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
CSRF_FAILURE_VIEW = "remover.api.csrf_failure"  # JSON for the API, Django's page elsewhere
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
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Engine settings (read by remover.engine through remover.apps).
CLEARCUT_THREADS = env_int("CLEARCUT_THREADS", 0)  # 0: torch's default
CLEARCUT_DEVICE = os.environ.get("CLEARCUT_DEVICE", "auto")  # auto | cpu | cuda
CLEARCUT_PRECISION = os.environ.get("CLEARCUT_PRECISION", "auto")  # auto | fp32 | bf16 | fp16 (CUDA)
CLEARCUT_MAX_MEGAPIXELS = env_float("CLEARCUT_MAX_MEGAPIXELS", 50)

# Web app: uploads, tiers, quotas and retention (remover.limits reads these).
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
# remover.worker.get_worker().drain() (tests that run jobs step by step).
CLEARCUT_WORKER = os.environ.get("CLEARCUT_WORKER", "thread")
if CLEARCUT_WORKER not in ("thread", "none"):  # a typo would leave every upload queued forever
    raise RuntimeError(f"CLEARCUT_WORKER must be 'thread' or 'none', not {CLEARCUT_WORKER!r}")
CLEARCUT_QUEUE_SIZE = env_int("CLEARCUT_QUEUE_SIZE", 100)  # waiting jobs; beyond it uploads get "busy"
CLEARCUT_SWEEP_SECONDS = env_float("CLEARCUT_SWEEP_SECONDS", 300)  # how often the worker purges expired jobs

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CLEARCUT_LOG_LEVEL", "INFO")},
}
