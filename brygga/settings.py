"""Settings for brygga. Every value that differs between installations comes from the environment;
the README lists each variable. Nothing secret or production-specific lives in code."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("BRYGGA_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("BRYGGA_DEBUG", False)


def _secret_key() -> str:
    """Production must set BRYGGA_SECRET_KEY. A development install keeps a generated key under var/
    so sessions survive restarts and no key is ever committed."""
    key = os.environ.get("BRYGGA_SECRET_KEY")
    if key:
        return key
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(64)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("BRYGGA_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("BRYGGA_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "brygga.core",
    "brygga.organisations",
    "brygga.people",
    "brygga.accounts",
    "brygga.access",
    "brygga.cases",
    "brygga.sip",
    "brygga.payment",
    "brygga.statistics",
    "brygga.governance",
    "brygga.economy",
    "brygga.deviations",
    "brygga.documents",
    "brygga.receiving",
    "brygga.api",
    "brygga.web",
    "brygga.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "brygga.accounts.middleware.ActiveUnitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "brygga.urls"
WSGI_APPLICATION = "brygga.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "brygga" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "brygga.accounts.context_processors.active_unit",
                "brygga.receiving.context_processors.unread_count",
            ],
        },
    },
]

# SQLite under var/ is the embedded default; PostgreSQL in production through DATABASE_URL.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'brygga.sqlite3'}",
        conn_max_age=int(os.environ.get("BRYGGA_DB_CONN_MAX_AGE", "60")),
    )
}
# Every request is one transaction: a change and its event and access-log rows commit together or not at all.
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        }
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Account security (R-AUTH-1): lock-out, idle timeout, second factor.
BRYGGA_LOCKOUT_THRESHOLD = int(os.environ.get("BRYGGA_LOCKOUT_THRESHOLD", "5"))
BRYGGA_LOCKOUT_MINUTES = int(os.environ.get("BRYGGA_LOCKOUT_MINUTES", "15"))
BRYGGA_REQUIRE_TOTP = env_bool("BRYGGA_REQUIRE_TOTP", not DEBUG)
SESSION_COOKIE_AGE = int(os.environ.get("BRYGGA_SESSION_IDLE_MINUTES", "30")) * 60
SESSION_SAVE_EVERY_REQUEST = True  # the cookie age is therefore an idle timeout
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Synthetic stays `load_demo_data` adds once, so the statistics and payment pages have volume
# (brygga/statistics/demo.py).
BRYGGA_DEMO_SYNTHETIC_STAYS = int(os.environ.get("BRYGGA_DEMO_SYNTHETIC_STAYS", "1500"))
# Need-to-know: how long a unit keeps access after its involvement ended (e.g. follow-up questions).
BRYGGA_INVOLVEMENT_GRACE_DAYS = int(os.environ.get("BRYGGA_INVOLVEMENT_GRACE_DAYS", "30"))
# Access log: the HMAC key that makes entries tamper-evident. Defaults to a key derived from SECRET_KEY.
BRYGGA_ACCESS_LOG_KEY = os.environ.get("BRYGGA_ACCESS_LOG_KEY", "")
BRYGGA_ACCESS_LOG_RETENTION_YEARS = 5

LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Svenska")), ("en", _("Engelska"))]
LOCALE_PATHS = [BASE_DIR / "brygga" / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The project-wide CSS lives in brygga/static/; `brygga` itself is not an app, so name the directory.
STATICFILES_DIRS = [BASE_DIR / "brygga" / "static"]
STATIC_ROOT = Path(os.environ.get("BRYGGA_STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(os.environ.get("BRYGGA_MEDIA_ROOT", VAR_DIR / "media"))

# Documents (brygga.documents, docs/documents.md) have their own storage: by default the file system under
# var/documents (never served directly); S3-compatible object storage is a STORAGES backend such as
# "storages.backends.s3.S3Storage" with its options as JSON.
_DOCUMENT_LOCATION = json.dumps({"location": str(VAR_DIR / "documents")})
STORAGES["documents"] = {
    "BACKEND": os.environ.get(
        "BRYGGA_DOCUMENT_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"
    ),
    "OPTIONS": json.loads(os.environ.get("BRYGGA_DOCUMENT_STORAGE_OPTIONS", _DOCUMENT_LOCATION)),
}
# MedCom: 50 MB for a whole message; one file may use all of it.
BRYGGA_ATTACHMENT_MAX_BYTES = int(os.environ.get("BRYGGA_ATTACHMENT_MAX_BYTES", str(50 * 1024 * 1024)))
BRYGGA_ATTACHMENT_MAX_TOTAL_BYTES = int(
    os.environ.get("BRYGGA_ATTACHMENT_MAX_TOTAL_BYTES", str(50 * 1024 * 1024))
)
# ClamAV daemon (clamd) for virus scanning; empty host means no scanner is configured.
BRYGGA_CLAMAV_HOST = os.environ.get("BRYGGA_CLAMAV_HOST", "")
BRYGGA_CLAMAV_PORT = int(os.environ.get("BRYGGA_CLAMAV_PORT", "3310"))
BRYGGA_CLAMAV_TIMEOUT = float(os.environ.get("BRYGGA_CLAMAV_TIMEOUT", "30"))
# Signing: "local" (a certificate authority the installation creates under var/signing) or "inera".
BRYGGA_SIGNER = os.environ.get("BRYGGA_SIGNER", "local")
BRYGGA_SIGNING_CA_DIR = Path(os.environ.get("BRYGGA_SIGNING_CA_DIR", VAR_DIR / "signing"))
# Key that protects the units' backup passphrases at rest. Defaults to a key derived from SECRET_KEY.
BRYGGA_BACKUP_KEY = os.environ.get("BRYGGA_BACKUP_KEY", "")

TASKS = {
    "default": {
        "BACKEND": os.environ.get("BRYGGA_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

EMAIL_BACKEND = os.environ.get("BRYGGA_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("BRYGGA_FROM_EMAIL", "brygga@localhost")
# For the file-based e-mail backend (filebased.EmailBackend), e.g. in the browser tests.
EMAIL_FILE_PATH = os.environ.get("BRYGGA_EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
# Notifications (brygga.receiving, ADR 0901): the links in e-mail and SMS start with this address; the SMS
# adapter's default records what it would send instead of calling an operator.
BRYGGA_BASE_URL = os.environ.get("BRYGGA_BASE_URL", "http://127.0.0.1:8000")
BRYGGA_SMS_ADAPTER = os.environ.get("BRYGGA_SMS_ADAPTER", "brygga.receiving.sms.LocalSmsAdapter")
# How often an open inbox asks for its rows again (seconds; 0 turns it off).
BRYGGA_INBOX_REFRESH_SECONDS = int(os.environ.get("BRYGGA_INBOX_REFRESH_SECONDS", "30"))
# Pexip Infinity for video planning meetings (docs/receiving.md); used when BRYGGA_VIDEO_PROVIDER names
# brygga.receiving.pexip.PexipInfinityProvider.
BRYGGA_VIDEO_PROVIDER = os.environ.get("BRYGGA_VIDEO_PROVIDER", "brygga.cases.video.LocalVideoProvider")
BRYGGA_PEXIP_URL = os.environ.get("BRYGGA_PEXIP_URL", "")
BRYGGA_PEXIP_USER = os.environ.get("BRYGGA_PEXIP_USER", "")
BRYGGA_PEXIP_PASSWORD = os.environ.get("BRYGGA_PEXIP_PASSWORD", "")
BRYGGA_PEXIP_JOIN_URL = os.environ.get("BRYGGA_PEXIP_JOIN_URL", "")
BRYGGA_PEXIP_DIAL_IN = os.environ.get("BRYGGA_PEXIP_DIAL_IN", "")

NINJA_PAGINATION_PER_PAGE = 50

# Production hardening; `manage.py check --deploy` is clean when BRYGGA_DEBUG is off.
SECURE_SSL_REDIRECT = env_bool("BRYGGA_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = 0 if DEBUG else 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("BRYGGA_LOG_LEVEL", "INFO")},
}
