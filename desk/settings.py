"""Settings, read from the environment with safe embedded defaults.

Development (the default) runs on SQLite and an embedded Redis with no configuration at all.
Production (`DJANGO_ENV=production`) refuses to start with the default secret key or DEBUG on,
so a forgotten variable can never expose a desk with a published key.
"""

from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from desk.environment import celery_url, embedded_redis_url, env_bool, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("DESK_VAR_DIR", str(BASE_DIR / "var")))
# Every process logs into it (desk.log) from its first line on.
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEFAULT_SECRET_KEY = "insecure-embedded-default-secret-key-change-me"

DESK_ENV = env_str("DJANGO_ENV", "development")
if DESK_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV={DESK_ENV!r}: expected 'development' or 'production'")
PRODUCTION = DESK_ENV == "production"

SECRET_KEY = env_str("DJANGO_SECRET_KEY", DEFAULT_SECRET_KEY)
DEBUG = env_bool("DJANGO_DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])

if PRODUCTION:
    if SECRET_KEY == DEFAULT_SECRET_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set to a private value of at least 32 characters "
            "in production (DJANGO_ENV=production)"
        )
    if DEBUG:
        raise ImproperlyConfigured("DJANGO_DEBUG must be off in production (DJANGO_ENV=production)")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "channels",
    "portfolio",
    "dashboard",
    "workers",
    "ledger",
    "ninja",
    "api",
    "lab",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "desk.content_security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "desk.urls"
WSGI_APPLICATION = "desk.wsgi.application"
ASGI_APPLICATION = "desk.asgi.application"

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

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'desk.sqlite3'}"),
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the writer thread and the web tier read and write side by side.
    DATABASES["default"]["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL;"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "America/New_York"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS: list = [BASE_DIR / "static"]
# The dashboard's chart library comes from npm (package.json); a checkout without node_modules
# still starts, with the equity chart left empty.
CHART_LIBRARY_DIR = BASE_DIR / "node_modules" / "lightweight-charts" / "dist"
if CHART_LIBRARY_DIR.is_dir():
    STATICFILES_DIRS.append(("vendor/lightweight-charts", CHART_LIBRARY_DIR))
# Production serves static files from WhiteNoise with content-hashed names (far-future cache
# headers) and precompressed copies; that needs `collectstatic` to have written the manifest, so
# development and the tests, which never run it, keep Django's plain storage.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Outside production WhiteNoise serves the source files as they change (no collectstatic), which
# is what a developer running the desk expects whatever DEBUG says.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

# Rendered public pages have an alias of their own so a content edit can clear them all without
# touching anything else cached (see portfolio/page_cache.py).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "portfolio": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "portfolio-pages",
    },
}

REDIS_URL = env_str("REDIS_URL", "") or embedded_redis_url(VAR_DIR)

# Where the dashboard's WebSocket is served when plain HTTP has a server of its own (runsystem
# serves pages with granian and WebSockets with daphne on the next port); empty: same origin.
DESK_WS_PORT = env_str("DESK_WS_PORT", "")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL]},
    }
}

CELERY_BROKER_URL = celery_url(REDIS_URL)
CELERY_RESULT_BACKEND = celery_url(REDIS_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# A research run reports its own progress in the database; a worker takes one task at a time so
# a long sweep chunk never holds back a short run queued behind it on the same process.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_BEAT_SCHEDULE = {
    # After the US close (New York time, CELERY_TIMEZONE), when the day's bars are in.
    "nightly-pair-selection": {
        "task": "lab.nightly_pair_selection",
        "schedule": crontab(hour=18, minute=30, day_of_week="mon-fri"),
    },
}

if PRODUCTION:
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    SECURE_HSTS_SECONDS = 365 * 24 * 3600
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    # The container health check asks over plain HTTP from inside the container.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    # The web port is published on 127.0.0.1 only, behind a TLS-terminating proxy that sets
    # X-Forwarded-Proto; without trusting it every request would look like plain HTTP.
    if env_bool("DJANGO_BEHIND_TLS_PROXY", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"desk": {"()": "trading.log_format.DeskFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "desk"},
        # Every process appends its lines to one file, which the dashboard's log tail reads
        # (one short line per write, so lines from different processes never interleave).
        "file": {
            "class": "logging.FileHandler",
            "filename": str(VAR_DIR / "desk.log"),
            "formatter": "desk",
            "delay": True,
        },
    },
    "root": {"handlers": ["console", "file"], "level": env_str("DESK_LOG_LEVEL", "INFO")},
    "loggers": {"django": {"handlers": ["console"], "level": "WARNING", "propagate": False}},
}
