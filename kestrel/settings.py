"""Kestrel settings, driven by KESTREL_* environment variables.

Two shapes (SPEC §10):
- embedded (default): SQLite in WAL mode under ``var/``, a secret key generated once into ``var/``;
- production (``KESTREL_PRODUCTION=1``): PostgreSQL through ``KESTREL_DATABASE_URL``, an explicit
  ``KESTREL_SECRET_KEY``, HTTPS-only cookies and HSTS; passes ``manage.py check --deploy``.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("KESTREL_VAR_DIR", BASE_DIR.parent / "var")).resolve()


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


PRODUCTION = env_flag("KESTREL_PRODUCTION")
DEBUG = env_flag("KESTREL_DEBUG", default=False) and not PRODUCTION


def _secret_key() -> str:
    configured = os.environ.get("KESTREL_SECRET_KEY")
    if configured:
        return configured
    if PRODUCTION:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("KESTREL_SECRET_KEY must be set in production mode.")
    # Embedded mode: one key per installation, kept beside the database so sessions survive restarts.
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(64)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list(
    "KESTREL_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("KESTREL_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "axes",
    "auditlog",
    "huey.contrib.djhuey",
    "kestrel.core",
    "kestrel.org",
    "kestrel.workdays",
    "kestrel.jobs",
    "kestrel.notify",
    "kestrel.customers",
    "kestrel.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kestrel.core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "kestrel.core.middleware.ApiErrorJsonMiddleware",
    # Axes last: it turns a lockout flagged by the auth backend into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kestrel.urls"
WSGI_APPLICATION = "kestrel.wsgi.application"
ASGI_APPLICATION = "kestrel.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kestrel.web.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DEFAULT_SQLITE_URL = f"sqlite:///{VAR_DIR / 'kestrel.sqlite3'}"
DATABASE_URL = os.environ.get("KESTREL_DATABASE_URL") or DEFAULT_SQLITE_URL
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0 if DEBUG else 60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if DATABASE_URL == DEFAULT_SQLITE_URL:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers go on while one writer commits; IMMEDIATE avoids upgrade deadlocks.
        # mmap: pages come from the OS cache by mapping, not one read() each; every request opens a new
        # connection with an empty page cache (p95 at 1M customers 10–20 % lower, benchmarks/RESULTS.md).
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000; "
            "PRAGMA mmap_size=268435456;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("KESTREL_TEST_SQLITE_NAME") or None}
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Engineers sharing one PostgreSQL server give their test runs different names.
    if os.environ.get("KESTREL_TEST_DB_NAME"):
        DATABASES["default"]["TEST"] = {"NAME": os.environ["KESTREL_TEST_DB_NAME"]}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication and security --------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "kestrel.org.backends.RolePermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# django-axes: lock a username+IP pair after repeated failures (web login and the token endpoint).
AXES_FAILURE_LIMIT = int(os.environ.get("KESTREL_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("KESTREL_LOGIN_COOLOFF_HOURS", "0.5"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "kestrel.core.lockout.lockout_response"
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("KESTREL_PROXY_COUNT", "0")) or None

API_TOKEN_TTL_HOURS = int(os.environ.get("KESTREL_API_TOKEN_TTL_HOURS", "720"))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 12
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie; kept readable for forms.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Every asset is served locally (customers run on closed intranets), so 'self' is all a page needs.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_flag("KESTREL_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("KESTREL_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_flag("KESTREL_HSTS_PRELOAD", default=True)
    SILENCED_SYSTEM_CHECKS: list[str] = []

# --- Internationalisation (PLT-3) ---------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
FORMAT_MODULE_PATH = ["kestrel.formats"]

# --- Static files ---------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("KESTREL_STATIC_ROOT", VAR_DIR / "static"))
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
WHITENOISE_USE_FINDERS = DEBUG

# --- Background jobs (PLT-6) --------------------------------------------------------------------
# huey: an SQLite file beside the database when embedded; Redis when KESTREL_REDIS_URL is set, so
# several worker processes on several machines share one queue.
REDIS_URL = os.environ.get("KESTREL_REDIS_URL", "")
HUEY = {
    "name": os.environ.get("KESTREL_QUEUE_NAME", "kestrel"),
    "huey_class": "huey.RedisHuey" if REDIS_URL else "huey.SqliteHuey",
    "immediate": env_flag("KESTREL_JOBS_IMMEDIATE"),
    "utc": True,
    "results": True,
    "connection": (
        {"url": REDIS_URL}
        if REDIS_URL
        else {"filename": os.environ.get("KESTREL_QUEUE_FILE", str(VAR_DIR / "jobs.sqlite3"))}
    ),
    "consumer": {
        "workers": int(os.environ.get("KESTREL_WORKERS", "2")),
        "worker_type": "thread",
        "periodic": True,
        "check_worker_health": True,
        "health_check_interval": 10,
    },
}

# --- Notifications (PLT-7) -----------------------------------------------------------------------
# Django 6.1 mailers: SMTP when KESTREL_SMTP_HOST is set, else mail is written to the console log.
# Production always sends by SMTP (the console backend fails check --deploy), by default through the
# server's own mail transfer agent on localhost:25, as Django itself does.
_SMTP_HOST = os.environ.get("KESTREL_SMTP_HOST", "") or ("localhost" if PRODUCTION else "")
MAILERS = {
    "default": (
        {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _SMTP_HOST,
                "port": int(os.environ.get("KESTREL_SMTP_PORT", "25")),
                "username": os.environ.get("KESTREL_SMTP_USER", ""),
                "password": os.environ.get("KESTREL_SMTP_PASSWORD", ""),
                "use_tls": env_flag("KESTREL_SMTP_STARTTLS"),
                "use_ssl": env_flag("KESTREL_SMTP_SSL"),
                "timeout": int(os.environ.get("KESTREL_SMTP_TIMEOUT", "10")),
            },
        }
        if _SMTP_HOST
        else {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    )
}
DEFAULT_FROM_EMAIL = os.environ.get("KESTREL_MAIL_FROM", "Kestrel 客隼 <kestrel@localhost>")
KESTREL_SMS_GATEWAY = os.environ.get("KESTREL_SMS_GATEWAY", "kestrel.notify.channels.FileSmsGateway")
KESTREL_SMS_FILE = os.environ.get("KESTREL_SMS_FILE", str(VAR_DIR / "sms.jsonl"))
KESTREL_SMS_SIGNATURE = os.environ.get("KESTREL_SMS_SIGNATURE", "客隼")
# Where users reach Kestrel: links in emails and chat-robot messages are made absolute with it.
KESTREL_BASE_URL = os.environ.get("KESTREL_BASE_URL", "http://127.0.0.1:8000")
KESTREL_WEBHOOK_TIMEOUT = float(os.environ.get("KESTREL_WEBHOOK_TIMEOUT", "5"))
KESTREL_NOTIFY_MAX_ATTEMPTS = int(os.environ.get("KESTREL_NOTIFY_MAX_ATTEMPTS", "8"))
KESTREL_NOTIFY_RETRY_BASE_SECONDS = int(os.environ.get("KESTREL_NOTIFY_RETRY_BASE_SECONDS", "30"))

# --- Customer archive (ARC) ---------------------------------------------------------------------
KESTREL_CUSTOMER_CODE_PATTERN = os.environ.get("KESTREL_CUSTOMER_CODE_PATTERN", "C{year}{seq:06d}")
# ARC-14: amounts masked for roles without customers.view_sensitive (bank accounts and personal
# phones always are).
KESTREL_MASKED_AMOUNTS = env_list("KESTREL_MASKED_AMOUNTS", [])
# ARC-7: an archive not updated for this many days is stale (the documents: at least monthly).
KESTREL_ARCHIVE_FRESHNESS_DAYS = int(os.environ.get("KESTREL_ARCHIVE_FRESHNESS_DAYS", "30"))
# ARC-6: how long an approved access request may last at most; refused reads before an alert.
KESTREL_ACCESS_GRANT_MAX_DAYS = int(os.environ.get("KESTREL_ACCESS_GRANT_MAX_DAYS", "30"))
KESTREL_DENIED_READS_ALERT = int(os.environ.get("KESTREL_DENIED_READS_ALERT", "3"))
# ARC-12: days a self-service form link stays valid.
KESTREL_SELF_SERVICE_DAYS = int(os.environ.get("KESTREL_SELF_SERVICE_DAYS", "14"))
# ARC-11: hostile or oversized files are refused before they cost memory.
KESTREL_IMPORT_MAX_BYTES = int(os.environ.get("KESTREL_IMPORT_MAX_BYTES", str(20 * 1024 * 1024)))
KESTREL_IMPORT_MAX_ROWS = int(os.environ.get("KESTREL_IMPORT_MAX_ROWS", "100000"))
KESTREL_IMPORT_DIR = Path(os.environ.get("KESTREL_IMPORT_DIR", VAR_DIR / "imports"))

# --- Audit (PLT-5) --------------------------------------------------------------------------------
AUDITLOG_INCLUDE_ALL_MODELS = False
AUDITLOG_DISABLE_REMOTE_ADDR = False

# --- Logging --------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KESTREL_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
        # The outbox sweep runs every minute; its runs are in the admin's job list, not the log.
        "huey": {"level": os.environ.get("KESTREL_JOBS_LOG_LEVEL", "WARNING")},
    },
}
