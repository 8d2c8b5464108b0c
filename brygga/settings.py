"""Settings for brygga. Every value that differs between installations comes from the environment;
the README lists each variable. Nothing secret or production-specific lives in code."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
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
    "brygga.consent",
    "brygga.messaging",
    "brygga.cases",
    "brygga.sip",
    "brygga.inbox",
    "brygga.payment",
    "brygga.statistics",
    "brygga.governance",
    "brygga.economy",
    "brygga.deviations",
    "brygga.documents",
    "brygga.receiving",
    "brygga.retention",
    "brygga.api",
    "brygga.fhir",
    "brygga.web",
    "brygga.demo",
    "brygga.signin",
    "brygga.hsa",
    "axes",  # failed sign-ins per user name and client (ADR 0807)
    "djangosaml2",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "brygga.web.health.HealthMiddleware",  # /healthz, /readyz: before session and auth (ADR 0701)
    "django.contrib.sessions.middleware.SessionMiddleware",
    "brygga.accounts.sessions.IdleTimeoutMiddleware",
    "brygga.core.language.ChosenLanguageMiddleware",  # Swedish unless the user chose English
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "djangosaml2.middleware.SamlSessionMiddleware",
    "brygga.accounts.middleware.ActiveUnitMiddleware",
    "brygga.core.middleware.NoStoreMiddleware",
    "brygga.access.middleware.DeniedAccessLogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "brygga.core.middleware.RefuseUnstorableInputMiddleware",
    "brygga.core.once.OneTimeFormMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: sees the login view's answer (ADR 0807)
]
# Server-Timing header (app and SQL time per response) for the load benchmark; off unless set (ADR 0700).
SERVER_TIMING = env_bool("BRYGGA_SERVER_TIMING", False)
if SERVER_TIMING:
    MIDDLEWARE.insert(0, "brygga.core.timing.ServerTimingMiddleware")

# A strict Content-Security-Policy on every page (django-csp, ADR 0802): no inline script or style, so nothing
# but the site's own scripts, style sheets, images and fonts may load, requests and forms go only to the site,
# and no other site may frame it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        # The site's own scripts only (the character counter, htmx for the inbox's refresh): no inline script.
        "script-src": [SELF],
        "connect-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
    }
}

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
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend with timestamps read in C (ADR 0709).
    DATABASES["default"]["ENGINE"] = "brygga.core.postgresql"
if DATABASES["default"]["ENGINE"] == "brygga.core.postgresql" and os.environ.get(
    "BRYGGA_DB_PREPARED", "1"
) not in ("0", ""):
    # Values bound by the server, and a statement run a second time on a connection prepared: PostgreSQL then
    # plans it once per connection instead of once per run, and psycopg sends the values as they are instead
    # of quoting them into the text. Connections live BRYGGA_DB_CONN_MAX_AGE seconds, so a page's statements
    # are prepared after its first requests (docs/benchmarks.md). BRYGGA_DB_PREPARED=0 turns it off (needed
    # behind a connection pooler in transaction mode, which cannot keep prepared statements).
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update({"server_side_binding": True, "prepare_threshold": 2})

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
# Lock-out of failed sign-ins with django-axes (ADR 0807): per user name AND client address, so nobody can
# lock a known user out from elsewhere, and the same for a user name that does not exist (the answer never
# tells).
AXES_FAILURE_LIMIT = BRYGGA_LOCKOUT_THRESHOLD
AXES_COOLOFF_TIME = dt.timedelta(minutes=BRYGGA_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_CALLABLE = "brygga.accounts.views.locked_out"
# Behind a reverse proxy the client is the address it appends to X-Forwarded-For (BRYGGA_PROXY_COUNT proxies).
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("BRYGGA_PROXY_COUNT", "0")) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if AXES_IPWARE_PROXY_COUNT else ("REMOTE_ADDR",)
)
AXES_VERBOSE = False
BRYGGA_REQUIRE_TOTP = env_bool("BRYGGA_REQUIRE_TOTP", not DEBUG)
# Key sealing the TOTP secrets at rest (a Fernet key: `python -c "from cryptography.fernet import Fernet;
# print(Fernet.generate_key().decode())"`). Empty: derived from the secret key (ADR 0502).
BRYGGA_TOTP_KEY = os.environ.get("BRYGGA_TOTP_KEY", "")
SESSION_COOKIE_AGE = int(os.environ.get("BRYGGA_SESSION_IDLE_MINUTES", "30")) * 60
# The cookie age is an idle timeout: brygga.accounts.sessions.IdleTimeoutMiddleware saves a signed-in session
# (moving its expiry) at most once a minute instead of on every request.
SESSION_SAVE_EVERY_REQUEST = False
# Django's database sessions, read with a statement compiled once per process (ADR 0707).
SESSION_ENGINE = "brygga.accounts.sessions"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Synthetic stays `load_demo_data` adds once, so the statistics and payment pages have volume
# (brygga/statistics/demo.py).
BRYGGA_DEMO_SYNTHETIC_STAYS = int(os.environ.get("BRYGGA_DEMO_SYNTHETIC_STAYS", "1500"))
# Need-to-know: how long a unit keeps access after its involvement ended (e.g. follow-up questions).
BRYGGA_INVOLVEMENT_GRACE_DAYS = int(os.environ.get("BRYGGA_INVOLVEMENT_GRACE_DAYS", "30"))
# Access log: the HMAC key that makes entries tamper-evident. Defaults to a key derived from SECRET_KEY.
BRYGGA_ACCESS_LOG_KEY = os.environ.get("BRYGGA_ACCESS_LOG_KEY", "")
# The seals' anchor outside the database (ADR 0800): one signed line per seal, appended after each sealing.
# Point it at storage the database administrators cannot rewrite; empty turns anchoring off.
BRYGGA_ACCESS_LOG_ANCHOR = os.environ.get(
    "BRYGGA_ACCESS_LOG_ANCHOR", str(VAR_DIR / "access-log-anchor.jsonl")
)
# RFC 3161 time-stamps over the seals (ADR 0808), optional: a time-stamping authority's URL (its root
# certificate in BRYGGA_SIGNING_TRUST_ROOTS), and how old the newest stamp may be before verify_access_log
# reports that the last seals may have been dropped (the sealing cron runs every minute).
BRYGGA_ACCESS_LOG_TSA_URL = os.environ.get("BRYGGA_ACCESS_LOG_TSA_URL", "")
BRYGGA_ACCESS_LOG_STAMP_MAX_AGE = int(os.environ.get("BRYGGA_ACCESS_LOG_STAMP_MAX_AGE", "10"))
BRYGGA_ACCESS_LOG_RETENTION_YEARS = int(os.environ.get("BRYGGA_ACCESS_LOG_RETENTION_YEARS", "5"))
# Retention (gallring) per kind of record: years and legal source may be overridden (docs/operations.md).
BRYGGA_RETENTION_RULES = json.loads(os.environ.get("BRYGGA_RETENTION_RULES", "{}"))
# Person searches per user and hour that find no person of the unit's before the search refuses (issue 20.6).
BRYGGA_LOOKUP_LIMIT_PER_HOUR = int(os.environ.get("BRYGGA_LOOKUP_LIMIT_PER_HOUR", "30"))

LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Svenska")), ("en", _("Engelska"))]
LOCALE_PATHS = [BASE_DIR / "brygga" / "locale"]
# The language switch in the footer is remembered for a year (not only for the browser session).
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
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
# ClamAV daemon (clamd) for virus scanning: a unix socket (BRYGGA_CLAMAV_SOCKET) or host and port. Outside
# debug an attachment is refused unless a scanner said clean (BRYGGA_REQUIRE_VIRUS_SCAN, ADR 0402).
BRYGGA_CLAMAV_HOST = os.environ.get("BRYGGA_CLAMAV_HOST", "")
BRYGGA_CLAMAV_SOCKET = os.environ.get("BRYGGA_CLAMAV_SOCKET", "")
BRYGGA_REQUIRE_VIRUS_SCAN = env_bool("BRYGGA_REQUIRE_VIRUS_SCAN", not DEBUG)
BRYGGA_CLAMAV_PORT = int(os.environ.get("BRYGGA_CLAMAV_PORT", "3310"))
BRYGGA_CLAMAV_TIMEOUT = float(os.environ.get("BRYGGA_CLAMAV_TIMEOUT", "30"))
# Signing: "local" (a certificate authority the installation creates under var/signing) or "inera".
BRYGGA_SIGNER = os.environ.get("BRYGGA_SIGNER", "local")
BRYGGA_SIGNING_CA_DIR = Path(os.environ.get("BRYGGA_SIGNING_CA_DIR", VAR_DIR / "signing"))
# PAdES B-LT: the RFC 3161 time-stamping service (empty: the local CA's time-stamping unit, demo only), its
# time-out, and extra trust roots as PEM files separated by ":" (the TSA's root, a signing service's CA).
BRYGGA_TSA_URL = os.environ.get("BRYGGA_TSA_URL", "")
# A signature needs a fresh authentication of the signer (password + TOTP, or a forced IdP sign-in at
# BRYGGA_SIGNING_REAUTH_URL for SITHS accounts): on by default outside debug.
BRYGGA_SIGNING_FRESH_AUTH = env_bool("BRYGGA_SIGNING_FRESH_AUTH", not DEBUG)
BRYGGA_SIGNING_REAUTH_URL = os.environ.get("BRYGGA_SIGNING_REAUTH_URL", "")
BRYGGA_TSA_TIMEOUT = float(os.environ.get("BRYGGA_TSA_TIMEOUT", "15"))
BRYGGA_SIGNING_TRUST_ROOTS = [p for p in os.environ.get("BRYGGA_SIGNING_TRUST_ROOTS", "").split(":") if p]
# The signing service (BRYGGA_SIGNER=inera; Swedish eID signservice protocol, ADR 0408): its URL (where the
# browser posts the request) and entity id, brygga's requester entity id and its request-signing key and
# certificate (PEM files), the certificate the service signs its responses with, the IdP the service is to
# use, and how long a request may wait for its response. The service's CA goes in BRYGGA_SIGNING_TRUST_ROOTS.
BRYGGA_SIGNSERVICE_URL = os.environ.get("BRYGGA_SIGNSERVICE_URL", "")
BRYGGA_SIGNSERVICE_ENTITY_ID = os.environ.get("BRYGGA_SIGNSERVICE_ENTITY_ID", "")
BRYGGA_SIGNSERVICE_REQUESTER_ID = os.environ.get("BRYGGA_SIGNSERVICE_REQUESTER_ID", "")
BRYGGA_SIGNSERVICE_KEY = os.environ.get("BRYGGA_SIGNSERVICE_KEY", "")
BRYGGA_SIGNSERVICE_CERT = os.environ.get("BRYGGA_SIGNSERVICE_CERT", "")
BRYGGA_SIGNSERVICE_SERVICE_CERT = os.environ.get("BRYGGA_SIGNSERVICE_SERVICE_CERT", "")
BRYGGA_SIGNSERVICE_IDP = os.environ.get("BRYGGA_SIGNSERVICE_IDP", "")
BRYGGA_SIGNSERVICE_REQUEST_SECONDS = int(os.environ.get("BRYGGA_SIGNSERVICE_REQUEST_SECONDS", "300"))
# Key that protects the units' backup passphrases at rest. Defaults to a key derived from SECRET_KEY.
BRYGGA_BACKUP_KEY = os.environ.get("BRYGGA_BACKUP_KEY", "")
# Reserve copies out of brygga (SFTP, age-encrypted to each unit's key): brygga's SSH client key (the units
# authorise its public half), the SFTP time-out, and when a unit's latest delivered copy counts as stale.
BRYGGA_BACKUP_SSH_KEY = os.environ.get("BRYGGA_BACKUP_SSH_KEY", "")
BRYGGA_BACKUP_SFTP_TIMEOUT = float(os.environ.get("BRYGGA_BACKUP_SFTP_TIMEOUT", "30"))
BRYGGA_BACKUP_STALE_HOURS = int(os.environ.get("BRYGGA_BACKUP_STALE_HOURS", "6"))

# The population register (folkbokföring, ADR 0500): "pu" (Inera's personuppgiftstjänst, RIV-TA
# GetPersonsForProfile 5 over NTjP), "file" (a local JSON file; development and demo) or "none" (brygga knows
# only the persons it already has). Defaults to the demo file in debug, to none otherwise.
BRYGGA_POPULATION_REGISTER = os.environ.get("BRYGGA_POPULATION_REGISTER", "file" if DEBUG else "none")
BRYGGA_POPULATION_REGISTER_FILE = os.environ.get(
    "BRYGGA_POPULATION_REGISTER_FILE", str(BASE_DIR / "brygga" / "people" / "register" / "demo_register.json")
)
BRYGGA_PU_ENDPOINT = os.environ.get("BRYGGA_PU_ENDPOINT", "")
BRYGGA_PU_LOGICAL_ADDRESS = os.environ.get("BRYGGA_PU_LOGICAL_ADDRESS", "")
BRYGGA_PU_TIMEOUT = float(os.environ.get("BRYGGA_PU_TIMEOUT", "5"))
BRYGGA_PU_CLIENT_CERT = os.environ.get("BRYGGA_PU_CLIENT_CERT", "")
BRYGGA_PU_CLIENT_KEY = os.environ.get("BRYGGA_PU_CLIENT_KEY", "")
BRYGGA_PU_CA_BUNDLE = os.environ.get("BRYGGA_PU_CA_BUNDLE", "")
# A person's register data older than this is fetched again by `refresh_population_register`.
BRYGGA_POPULATION_REGISTER_MAX_AGE_HOURS = int(
    os.environ.get("BRYGGA_POPULATION_REGISTER_MAX_AGE_HOURS", "24")
)

# Sign-in (ADR 0501). Local accounts (password + TOTP) are for local administrators and the demo: off by
# default in production. SITHS through Inera's IdP with OpenID Connect and/or SAML 2.0.
BRYGGA_LOCAL_LOGIN = env_bool("BRYGGA_LOCAL_LOGIN", DEBUG)
BRYGGA_SITHS_ACCEPTED_LOA = os.environ.get(
    "BRYGGA_SITHS_ACCEPTED_LOA", "http://id.sambi.se/loa/loa3,http://id.sambi.se/loa/loa4"
)
BRYGGA_OIDC_ISSUER = os.environ.get("BRYGGA_OIDC_ISSUER", "")
BRYGGA_OIDC_CLIENT_ID = os.environ.get("BRYGGA_OIDC_CLIENT_ID", "")
BRYGGA_OIDC_CLIENT_SECRET = os.environ.get("BRYGGA_OIDC_CLIENT_SECRET", "")
BRYGGA_OIDC_SCOPES = os.environ.get("BRYGGA_OIDC_SCOPES", "openid profile")
BRYGGA_OIDC_TIMEOUT = float(os.environ.get("BRYGGA_OIDC_TIMEOUT", "10"))
# SAML 2.0 (djangosaml2/pysaml2): the IdP's metadata (a file, or an https URL), brygga's public base URL and
# its SP key pair (the SAML signing/encryption certificate registered with the federation).
BRYGGA_SAML_IDP_METADATA = os.environ.get("BRYGGA_SAML_IDP_METADATA", "")
BRYGGA_SAML_BASE_URL = os.environ.get("BRYGGA_SAML_BASE_URL", "")
BRYGGA_SAML_ENTITY_ID = os.environ.get("BRYGGA_SAML_ENTITY_ID", "")
BRYGGA_SAML_KEY_FILE = os.environ.get("BRYGGA_SAML_KEY_FILE", "")
BRYGGA_SAML_CERT_FILE = os.environ.get("BRYGGA_SAML_CERT_FILE", "")
BRYGGA_SAML_XMLSEC = os.environ.get("BRYGGA_SAML_XMLSEC", "/usr/bin/xmlsec1")
SAML_CONFIG_LOADER = "brygga.signin.saml.config_loader"
SAML_SESSION_COOKIE_NAME = "brygga_saml_session"
# The IdP posts its response cross-site: "None" (with Secure) in production; "Lax" for plain-HTTP development.
SAML_SESSION_COOKIE_SAMESITE = os.environ.get("BRYGGA_SAML_COOKIE_SAMESITE", "Lax" if DEBUG else "None")
SAML_DJANGO_USER_MAIN_ATTRIBUTE = "username"
SAML_CREATE_UNKNOWN_USER = False
SAML_CSP_HANDLER = ""  # brygga sets its own headers
SAML_LOGOUT_REQUEST_PREFERRED_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
SAML_IGNORE_LOGOUT_ERRORS = True  # a failed logout at the IdP still ends the brygga session
LOGOUT_REDIRECT_URL = "/konto/logga-in/"
LOGIN_REDIRECT_URL = "/"
AUTHENTICATION_BACKENDS = [
    # First: refuses a (user name, client) pair with too many recent failures before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "brygga.signin.saml.SithsSaml2Backend",
]

# FHIR R4 endpoint and subscriptions (docs/fhir.md).
BRYGGA_BASE_URL = os.environ.get("BRYGGA_BASE_URL", "http://127.0.0.1:8000")
BRYGGA_FHIR_CAPABILITY_DATE = "2026-12-06"
BRYGGA_FHIR_REQUIRE_HTTPS = os.environ.get("BRYGGA_FHIR_REQUIRE_HTTPS", "1" if not DEBUG else "0") == "1"
# Hosts a subscription may send to (comma-separated; "kommun.se" also allows its subdomains): a subscription
# makes brygga send requests (SSRF), so only the subscribers' hosts the administration approved. Empty refuses
# every subscription (fail closed) unless BRYGGA_FHIR_ANY_ENDPOINT_HOST=1 (the default with BRYGGA_DEBUG=1).
BRYGGA_FHIR_ENDPOINT_HOSTS = [
    h.strip().lower() for h in os.environ.get("BRYGGA_FHIR_ENDPOINT_HOSTS", "").split(",") if h.strip()
]
BRYGGA_FHIR_ANY_ENDPOINT_HOST = env_bool("BRYGGA_FHIR_ANY_ENDPOINT_HOST", DEBUG)
BRYGGA_FHIR_NOTIFY_TIMEOUT = float(os.environ.get("BRYGGA_FHIR_NOTIFY_TIMEOUT", "10"))
BRYGGA_FHIR_RETRY_BASE_SECONDS = float(os.environ.get("BRYGGA_FHIR_RETRY_BASE_SECONDS", "5"))
BRYGGA_FHIR_RETRY_MAX_SECONDS = float(os.environ.get("BRYGGA_FHIR_RETRY_MAX_SECONDS", "3600"))
# ADR 0604: up to this many waiting notifications of a subscription go in one Bundle, oldest first.
FHIR_NOTIFICATION_BATCH = int(os.environ.get("BRYGGA_FHIR_NOTIFICATION_BATCH", "25"))
# ADR 0703: the unit pickers' directory is read at most this often per process (0: every page).
DIRECTORY_CACHE_SECONDS = float(os.environ.get("BRYGGA_DIRECTORY_CACHE_SECONDS", "60"))
BRYGGA_FHIR_DELIVERY_LEASE_SECONDS = float(os.environ.get("BRYGGA_FHIR_DELIVERY_LEASE_SECONDS", "60"))
# Delivered notifications (the delivery log) are deleted after this many days by manage.py fhir_prune.
BRYGGA_FHIR_NOTIFICATION_RETENTION_DAYS = int(os.environ.get("BRYGGA_FHIR_NOTIFICATION_RETENTION_DAYS", "90"))
# The shortest heartbeatPeriod a subscription may ask for (each heartbeat is a request to the subscriber).
BRYGGA_FHIR_MIN_HEARTBEAT_SECONDS = int(os.environ.get("BRYGGA_FHIR_MIN_HEARTBEAT_SECONDS", "60"))

# A task RUNNING longer than this is taken to have lost its worker (another host) and runs again (ADR 0809).
BRYGGA_TASK_STALE_MINUTES = int(os.environ.get("BRYGGA_TASK_STALE_MINUTES", "120"))
TASKS = {
    "default": {
        "BACKEND": os.environ.get("BRYGGA_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

EMAIL_BACKEND = os.environ.get("BRYGGA_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("BRYGGA_FROM_EMAIL", "brygga@localhost")
# SMTP for the smtp backend (django.core.mail.backends.smtp.EmailBackend).
EMAIL_HOST = os.environ.get("BRYGGA_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("BRYGGA_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("BRYGGA_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("BRYGGA_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("BRYGGA_EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = int(os.environ.get("BRYGGA_EMAIL_TIMEOUT", "30"))
# The sender of reserve copies sent by e-mail (ADR 0406); DEFAULT_FROM_EMAIL when empty.
BRYGGA_BACKUP_EMAIL_FROM = os.environ.get("BRYGGA_BACKUP_EMAIL_FROM", "")
# For the file-based e-mail backend (filebased.EmailBackend), e.g. in the browser tests.
EMAIL_FILE_PATH = os.environ.get("BRYGGA_EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
# Notifications (brygga.receiving, ADR 0901): the links in e-mail and SMS start with this address; the SMS
# adapter's default records what it would send instead of calling an operator.
BRYGGA_BASE_URL = os.environ.get("BRYGGA_BASE_URL", "http://127.0.0.1:8000")
BRYGGA_SMS_ADAPTER = os.environ.get("BRYGGA_SMS_ADAPTER", "brygga.receiving.sms.LocalSmsAdapter")
# Delivered notifications (and the local SMS adapter's record) are deleted this many days after they were sent
# by `manage.py prune_notifications` (nightly): they carry no personal data and are no record (ADR 0907).
BRYGGA_NOTIFICATION_RETENTION_DAYS = int(os.environ.get("BRYGGA_NOTIFICATION_RETENTION_DAYS", "30"))
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

# The backup's dump keeps the microseconds of every time (brygga.core.serializers).
SERIALIZATION_MODULES = {"json-exact": "brygga.core.serializers"}
