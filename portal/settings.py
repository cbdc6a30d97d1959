"""Settings come from the environment, so one code base serves a laptop, CI and production.

DEBUG is off unless asked for; with DEBUG off the portal refuses to start without a real
SECRET_KEY and an explicit ALLOWED_HOSTS, and it sets the cookie and header protections.
"""

import base64
import hashlib
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from portal.environment import env_bool, env_list, sso_origins

BASE_DIR = Path(__file__).resolve().parent.parent


DEBUG = env_bool("DEBUG")

_INSECURE_KEY = "insecure-development-key-do-not-use-in-production"
_PLACEHOLDER_KEY = "replace-with-"  # how deploy/overlay-portal.env.example marks its value
SECRET_KEY = os.environ.get("SECRET_KEY", _INSECURE_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == _INSECURE_KEY or SECRET_KEY.startswith(_PLACEHOLDER_KEY)):
    raise ImproperlyConfigured(
        "SECRET_KEY is not set (or is the example's placeholder). Set the SECRET_KEY environment variable to a "
        "long random string, such as the output of `python3 -c 'import secrets; print(secrets.token_urlsafe(50))'`, "
        "or set DEBUG=true for local development."
    )

# Fernet keys that seal secret environment values until a worker starts the container (newest first:
# the first seals, all open). Development derives one from SECRET_KEY; production must set its own.
PORTAL_SECRETS_KEYS = env_list("PORTAL_SECRETS_KEYS")
if not PORTAL_SECRETS_KEYS and DEBUG:
    PORTAL_SECRETS_KEYS = [
        base64.urlsafe_b64encode(hashlib.sha256(f"overlay-portal secrets {SECRET_KEY}".encode()).digest()).decode()
    ]
if not PORTAL_SECRETS_KEYS or any(key.startswith("replace-with-") for key in PORTAL_SECRETS_KEYS):
    raise ImproperlyConfigured(
        "PORTAL_SECRETS_KEYS is not set (or is the example's placeholder). Make a key with `python3 -c 'from cryptography.fernet import Fernet; "
        "print(Fernet.generate_key().decode())'` and set it (comma-separated, newest first, to rotate), "
        "or set DEBUG=true for local development."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is not set. Set it to the host names the portal is served on, "
        "comma-separated, or set DEBUG=true for local development."
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

if not DEBUG:
    # Production is served over TLS: each of these is on unless the environment turns it off.
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Prometheus and load balancers may ask the web server itself over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^metrics$", r"^healthz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # naturaltime: "now", "2 minutes ago"
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "plumbing",
    "axes",
    "portal",
    "networks",
    "webhooks",
]

MIDDLEWARE = [
    "plumbing.turns.TurnsMiddleware",  # first: a request waits for its turn before anything is done
    "plumbing.database_retry.DatabaseRetryMiddleware",  # a lost database connection: once more, or a 503
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",  # the Content-Security-Policy header, on every answer
    "django_htmx.middleware.HtmxMiddleware",
    "portal.tenancy.CurrentTenantMiddleware",
    "axes.middleware.AxesMiddleware",  # last: it turns a locked-out login into the lockout page
]

# How many requests a web process computes at once (plumbing/turns.py); waiting ones do not count.
WEB_ACTIVE_REQUESTS = int(os.environ.get("WEB_ACTIVE_REQUESTS", "2"))

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "portal.tenancy.tenancy",
                "portal.context_processors.expiring_tokens",
            ],
        },
    },
]

# SQLite by default (nothing to start); DATABASE_URL=postgres://... for PostgreSQL.
DATABASES = {"default": dj_database_url.config(default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A new PostgreSQL connection costs a request about 15 ms (bench/e2e.py): keep it. The web server's
    # threads share a bounded pool per process instead (DATABASE_POOL_SIZE, set by scripts/serve), so
    # many threads never mean more connections than PostgreSQL allows; other processes keep theirs
    # for CONN_MAX_AGE seconds, checked before reuse.
    pool_size = int(os.environ.get("DATABASE_POOL_SIZE", "0"))
    if pool_size:
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": pool_size, "timeout": 10}
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("CONN_MAX_AGE", "60"))
    # A connection is tried before it is used (with the pool: before it is handed out, Django passing
    # psycopg_pool's check_connection), so one that a restart or a failover of PostgreSQL ended is
    # replaced instead of failing the request or task that gets it.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # How long a statement waits for a row another session holds before PostgreSQL gives it up (seconds; unset
    # or 0: as long as it takes). The web server sets it (scripts/serve, deploy/gunicorn.conf.py): a request
    # held by a lock nobody lets go (a transaction left open in psql) is answered 503 after it, nothing done
    # (plumbing/database_retry.py), instead of holding its thread and its pooled connection meanwhile.
    lock_timeout = float(os.environ.get("DATABASE_LOCK_TIMEOUT") or 0)
    if lock_timeout > 0:
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c lock_timeout={round(lock_timeout * 1000)}".strip()
# The hot statements prepared once per PostgreSQL connection and sent as EXECUTEs (plumbing/server_prepared.py);
# false behind a pooler that does not keep a session's prepared statements (PgBouncer in transaction mode).
DATABASE_SERVER_PREPARE = env_bool("DATABASE_SERVER_PREPARE", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the worker write to the same file: wait for the lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # Take the write lock when a transaction begins, so two allocators queue instead of deadlocking.
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    # A file, not memory, so a worker process started by the tests sees the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / "test-db.sqlite3")}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: a locked-out login is refused before the password is checked
    "django.contrib.auth.backends.ModelBackend",
    "portal.sso.backend.SsoBackend",  # single sign-on: only its callback view calls it (portal/sso/views.py)
]
from portal.settings_sso import *  # noqa: E402,F403  (single sign-on and local login: a module of their own)
from portal.settings_sso import OIDC_ISSUER, OIDC_LOGOUT_ORIGINS  # noqa: E402

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "networks:dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Content-Security-Policy (django-csp), on every page, DEBUG or not ---------------------------
# Nothing inline: no <script> or event attribute (portal.js listens instead), no <style> or style
# attribute (htmx's indicator styles are in portal.css, Swagger UI's page in api/swagger_ui.css), no
# eval (htmx runs with allowEval off). Images may be data: URLs (the favicon, Swagger UI's icons).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        # Sign-out sends the browser on to the provider's end-session endpoint.
        "form-action": [SELF, *sso_origins(OIDC_ISSUER, OIDC_LOGOUT_ORIGINS)],
        "frame-ancestors": [NONE],
    }
}

# --- Who is asking: reverse proxies, brute-force limits --------------------------------------
# The number of reverse proxies in front that append to X-Forwarded-For (nginx: 1). 0 ignores the
# header, which anyone can send; the lockout, the API's bad-token limit and /metrics use it.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
if env_bool("SECURE_PROXY_SSL_HEADER"):
    # The proxy terminates TLS and says so; it must overwrite (not pass on) the client's header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = env_bool("USE_X_FORWARDED_HOST")

# django-axes: after LOGIN_FAILURE_LIMIT failed logins for one user, or from one address, logins
# (the portal's and the admin's) are refused for LOGIN_COOLOFF_MINUTES; staff unlock in the admin.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]  # either one: a user, or an address
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "portal.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "portal.addresses.client_address"
AXES_HTTP_RESPONSE_CODE = 429
# Wrong API tokens per client address before its tokens are refused (429), and over how many seconds.
API_TOKEN_FAILURE_LIMIT = int(os.environ.get("API_TOKEN_FAILURE_LIMIT", "10"))
API_TOKEN_FAILURE_WINDOW = int(os.environ.get("API_TOKEN_FAILURE_WINDOW", "900"))
# Every API token expires: API_TOKEN_DEFAULT_DAYS after it is made unless its maker picks a date, at
# most API_TOKEN_MAX_DAYS ahead; 0 means no maximum, and only then may a token never expire. The
# Tokens page warns API_TOKEN_WARN_DAYS ahead.
API_TOKEN_MAX_DAYS = int(os.environ.get("API_TOKEN_MAX_DAYS", "365"))
API_TOKEN_DEFAULT_DAYS = int(os.environ.get("API_TOKEN_DEFAULT_DAYS", "90"))
API_TOKEN_WARN_DAYS = int(os.environ.get("API_TOKEN_WARN_DAYS", "7"))

# Throttle counts live in the cache: several web processes need one they share (Redis) in CACHE_URL,
# or each counts alone (portal/webserver.py refuses to start them so; scripts/serve sets one).
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": {
        "BACKEND": "plumbing.cache.ReusingRedisCache",  # one redis client per pool, not one per call
        "LOCATION": CACHE_URL,
        # A Redis that does not answer costs a request a second, not a hang (the throttles then let it through).
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
# The API's tokens and memberships kept in each web process's memory while the auth generation in the
# shared cache is unchanged (portal/identity_cache.py): only with a shared cache (CACHE_URL), whose
# generation every process bumps. An entry is read again at least every API_IDENTITY_CACHE_SECONDS.
API_IDENTITY_CACHE = env_bool("API_IDENTITY_CACHE", bool(CACHE_URL))
API_IDENTITY_CACHE_SECONDS = int(os.environ.get("API_IDENTITY_CACHE_SECONDS", "60"))

# --- /metrics for Prometheus: a bearer token, or an allowed address (CIDRs too) ----------------
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
if METRICS_TOKEN.startswith(_PLACEHOLDER_KEY):
    raise ImproperlyConfigured(
        "METRICS_TOKEN is the example's placeholder: set a long random token, or leave it empty."
    )
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", "127.0.0.1")

from portal.settings_workers import *  # noqa: E402,F403  (Celery and the clusters: a module of their own)

# --- The REST mirror under /api/v1/ -----------------------------------------------------------
# How long an Idempotency-Key's answer is replayed (seconds); older records are deleted hourly.
IDEMPOTENCY_KEY_TTL = int(os.environ.get("IDEMPOTENCY_KEY_TTL", str(24 * 3600)))
REST_FRAMEWORK = {
    # The token first: its "WWW-Authenticate: Token" makes a missing credential a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["plumbing.api.renderers.OrjsonRenderer"],
    "DEFAULT_PARSER_CLASSES": ["plumbing.api.parsers.JsonParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "plumbing.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["plumbing.api.throttling.TokenRateThrottle"],
    "EXCEPTION_HANDLER": "plumbing.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "plumbing.api.schema.PortalAutoSchema",
}
# Requests per token (per user for the browser session), as DRF writes rates: N/second|minute|hour|day.
API_THROTTLE_RATE = os.environ.get("API_THROTTLE_RATE", "1200/minute")

SPECTACULAR_SETTINGS = {
    "TITLE": "Overlay Portal API",
    "DESCRIPTION": (
        "Docker overlay networks on Swarm clusters, as in Carina's tutorial, for scripts. Authenticate with "
        "`Authorization: Token <key>`; pick the tenant with `X-Tenant: <slug>`. Calls that change a cluster "
        "answer 202 with the operation and its URL in Location; add `?wait=SECONDS` to wait for it. Every error "
        'is `{"error": {"code", "message", "field"}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "GET_LIB_DOC_EXCLUDES": "plumbing.api.schema.lib_doc_excludes",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # A deep link is an <a> inside each operation's <button>: nested controls a screen reader cannot
    # reach (axe: nested-interactive). Without them the operations open as before, with no #fragment.
    # Its syntax highlighting writes colours as style attributes (red numbers on dark grey, 3.4:1): off.
    "SWAGGER_UI_SETTINGS": {"deepLinking": False, "syntaxHighlight": False},
    "ENUM_NAME_OVERRIDES": {
        "NetworkStatusEnum": "networks.models.network.Network.Status",
        "ContainerStatusEnum": "networks.models.container.Container.Status",
        "OperationStatusEnum": "networks.models.operation.Operation.Status",
        "MembershipRoleEnum": "portal.models.Membership.Role",
        "TeamTokenRoleEnum": "portal.models.ApiToken.Role",
        "MembershipSourceEnum": "portal.models.Membership.Source",
        "WebhookStatusEnum": "webhooks.models.WebhookEndpoint.Status",
        "WebhookDeliveryStatusEnum": "webhooks.models.WebhookDelivery.Status",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"timed": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "timed"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Celery's own line for each task received, started and succeeded (the worker runs at INFO): a few
    # hundred microseconds of formatting and writing per task in the worker's main process and its child,
    # saying nothing the operation's row does not (issue 28). Failures and retries' errors still log.
    "loggers": {
        name: {"level": os.environ.get("CELERY_TASK_LOG_LEVEL", "WARNING")}
        for name in ("celery.app.trace", "celery.worker.strategy", "celery.worker.request")
    },
}
