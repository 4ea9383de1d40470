"""PROMISE settings. Every value comes from the environment, with defaults for one machine."""

import base64
import hashlib
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_HASHES
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PROMISE_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept under var/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("DEBUG", False)
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "analysis",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Above the others: a plain prediction with a token is answered here (its docstring).
    "analysis.api.prediction_route.PredictionRoute",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "analysis.middleware.HtmxMiddleware",
    "analysis.middleware.PrivatePagesMiddleware",
    # A task that could not be sent (the broker is down): 503 with a sentence, not 500.
    "analysis.middleware.BrokerUnavailableMiddleware",
    # Last, as django-axes asks: it turns a locked-out log-in into the lockout page.
    "axes.middleware.AxesMiddleware",
    # The audit log reads the request's user and address from here (analysis/audit.py).
    "analysis.audit.AuditContextMiddleware",
]

ROOT_URLCONF = "promise.urls"
WSGI_APPLICATION = "promise.wsgi.application"

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
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'promise.sqlite3'}"),
        conn_max_age=int(os.environ.get("PROMISE_DB_CONN_MAX_AGE", 60)),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the workers write to one file: WAL lets readers go on while a
    # worker writes, and IMMEDIATE transactions wait for the lock instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The API (analysis/api/): session, HTTP basic or personal token log-in; lists a page at a
# time; requests counted per user in Redis (rates per second, minute, hour or day; unset or
# "none" turns one off); every refusal as {"error": sentence, "fields": {name: [messages]}}.
REST_FRAMEWORK = {
    # The token's class first: a client that is not logged in gets 401 with
    # "WWW-Authenticate: Token", which no browser answers with a password prompt.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "analysis.api.authentication.PersonalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "analysis.accounts.LockoutAwareBasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "analysis.api.paging.Pages",
    "DEFAULT_THROTTLE_CLASSES": [
        "analysis.api.throttling.UserRateThrottle",
        "analysis.api.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        scope: None if rate.lower() in ("", "none") else rate
        for scope, rate in (
            ("user", os.environ.get("PROMISE_API_USER_RATE", "1200/minute")),
            ("anon", os.environ.get("PROMISE_API_ANON_RATE", "120/minute")),
        )
    },
    # Proxies in front that append to X-Forwarded-For: the address a client not logged in
    # is counted by is the one the nearest of them saw. 0: the connection's own address
    # (a client could otherwise claim any address in that header).
    "NUM_PROXIES": int(os.environ.get("PROMISE_API_PROXIES", 0)),
    "EXCEPTION_HANDLER": "analysis.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# The OpenAPI schema (/api/schema/) and its browser (/api/docs/), open to anyone: they
# describe the API, not anyone's data. Swagger UI is served from this site (the sidecar).
SPECTACULAR_SETTINGS = {
    "TITLE": "PROMISE API",
    "DESCRIPTION": "Model discovery on tabular data: datasets, discovery runs, their "
    "candidate models, predictions and code exports. Log in with a session, HTTP basic "
    "credentials, or a personal token sent as `Authorization: Token <token>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "DatasetStatusEnum": "analysis.models.Dataset.Status",
        "RunStatusEnum": "analysis.models.Run.Status",
        "CandidateStatusEnum": "analysis.models.CandidateResult.Status",
        "ConfirmStatusEnum": "analysis.models.CandidateResult.Confirmation",
        "SecondRoundEnum": "analysis.models.CandidateResult.SecondRound",
    },
}

# Password guessing: django-axes counts failed log-ins (the form, the admin and HTTP basic
# auth of the API all go through authenticate() with the request) per user name and
# address, and refuses that pair for a while after PROMISE_LOGIN_FAILURE_LIMIT failures.
# An administrator unlocks it sooner in the admin (Axes › Access attempts: delete the row).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("PROMISE_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("PROMISE_LOGIN_LOCKOUT_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "analysis.accounts.lockout_response"
# Not verbose: otherwise every manage.py command starts by logging axes' banner to stderr.
AXES_VERBOSE = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"
# Stored files (uploads, Parquet copies, run folders with samples and models, exports,
# scored files) go through Django's storage API (analysis/file_store.py): MEDIA_ROOT by
# default, or an S3-compatible bucket through django-storages when its name is set. The
# AWS_* names are django-storages' own (README, "Files on S3-compatible storage").
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
_S3_OPTIONS = {
    "bucket_name": AWS_STORAGE_BUCKET_NAME,
    "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
    "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
    # Two uploads of one name must not replace each other, as on a local folder.
    "file_overwrite": False,
    "location": os.environ.get("AWS_LOCATION", ""),
}
# Workers copy stored files here to read them (a bounded cache) and work in scratch
# folders below it, removed after each task; unused with local storage.
FILE_CACHE_DIR = Path(os.environ.get("PROMISE_FILE_CACHE_DIR", VAR_DIR / "file-cache"))
FILE_CACHE_BYTES = int(float(os.environ.get("PROMISE_FILE_CACHE_GB", 10)) * 1024**3)
# Chunked uploads are assembled in this folder before they are stored (analysis/uploads.py);
# None: MEDIA_ROOT/uploads, where a finished one is renamed into place without a copy.
UPLOADS_DIR = os.environ.get("PROMISE_UPLOADS_DIR") or (
    VAR_DIR / "uploads" if AWS_STORAGE_BUCKET_NAME else None
)
STORAGES = {
    "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _S3_OPTIONS}
    if AWS_STORAGE_BUCKET_NAME
    else {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if _env_bool("PROMISE_MANIFEST_STATIC", not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Uploads above 2.5 MB go to a temporary file, never into memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_TEMP_DIR = os.environ.get("FILE_UPLOAD_TEMP_DIR") or None
# Django refuses request bodies above this only for non-file form data.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024**2
# PROMISE's own limits and defaults: uploads, reads, users, discovery and serving.
from .product_settings import *  # noqa: E402, F403

# Celery: Redis as broker; results and state live in the database models.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_IGNORE_RESULT = False
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Three queues, so that hosts can be sized for their work (README, "Running on many hosts"):
# `ingest` reads whole files (profiling, sampling, confirming on every row, scoring an
# uploaded file of records), `train` searches and fits the candidates and nothing else,
# and `default` takes the short steps between them and beat's periodic tasks.
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "analysis.tasks.profile_dataset": {"queue": "ingest"},
    "analysis.tasks.prepare_sample": {"queue": "ingest"},
    "analysis.tasks.train_candidate": {"queue": "train"},
    "analysis.tasks.extend_candidate": {"queue": "train"},
    # A pass over the whole file, like profiling: it reads, it does not train.
    "analysis.tasks.confirm_candidates": {"queue": "ingest"},
    "analysis.tasks.score_prediction_file": {"queue": "ingest"},
}
# The queues a worker started without -Q consumes (Celery's task_queues); `make run`'s
# Procfile names them too.
CELERY_TASK_QUEUES = [Queue(name) for name in ("ingest", "train", "default")]
# With acks_late, Redis hands a message nobody acknowledged within the visibility timeout
# to another worker, even while the first one is still busy with it. The longest task is
# a training task of the largest budget the form and the API accept (24 h), stopped 90 s
# past it; 26 h stays above that. Every process that talks to the broker (web, workers,
# commands) reads it from here, and any of them may give messages back, so they agree.
# The cost: a message whose worker machine vanished without shutting down comes back
# only after this long (a worker that shuts down gives its messages back at once).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 26 * 3600}
# A worker training a candidate renews its claim every third of this; a claim not renewed
# for this long belongs to a dead worker, and a redelivered task may train it again.
PROMISE_CANDIDATE_LEASE_SECONDS = float(os.environ.get("PROMISE_CANDIDATE_LEASE_SECONDS", 30))

# Nothing lost between the database and the broker (analysis/reconcile.py). A row is the
# record of its work: when its task could not be sent (the broker was down) or vanished
# (the broker restarted without its data, the worker's machine went away), the reconciler,
# run by Celery beat every PROMISE_RECONCILE_SECONDS, finds it with no live task on two
# passes in a row and sends it again, so within twice that time of the broker's return.
# After PROMISE_RECONCILE_ATTEMPTS sends it fails the row with a sentence instead.
PROMISE_RECONCILE_SECONDS = float(os.environ.get("PROMISE_RECONCILE_SECONDS", 30))
PROMISE_RECONCILE_ATTEMPTS = int(os.environ.get("PROMISE_RECONCILE_ATTEMPTS", 3))
# /healthz calls a run stalled once it is this long past its time budget and still active.
PROMISE_STALLED_RUN_SECONDS = float(os.environ.get("PROMISE_STALLED_RUN_SECONDS", 300))
# The operations dashboard (/ops/) calls an active run stuck after this long without
# progress (no candidate started, ended or renewed its lease): staff can requeue or fail it.
PROMISE_STUCK_RUN_SECONDS = float(os.environ.get("PROMISE_STUCK_RUN_SECONDS", 900))
# Housekeeping (analysis/ops/housekeeping.py), each also a `manage.py` command with --dry-run:
# datasets unused for this many days are deleted with their files (0: kept for ever, the
# default); uploads that received nothing for this long are removed, whoever began them.
PROMISE_DATASET_RETENTION_DAYS = float(os.environ.get("PROMISE_DATASET_RETENTION_DAYS", 0))
PROMISE_UPLOAD_EXPIRY_SECONDS = float(os.environ.get("PROMISE_UPLOAD_EXPIRY_SECONDS", 7 * 86400))
PROMISE_HOUSEKEEPING_SECONDS = float(os.environ.get("PROMISE_HOUSEKEEPING_SECONDS", 3600))
CELERY_BEAT_SCHEDULE = {
    "reconcile": {
        "task": "analysis.tasks.reconcile",
        "schedule": PROMISE_RECONCILE_SECONDS,
        # A pass waiting behind busy workers is dropped: the next one comes soon.
        "options": {"expires": PROMISE_RECONCILE_SECONDS},
    },
    **{
        name: {
            "task": f"analysis.tasks.{name}",
            "schedule": PROMISE_HOUSEKEEPING_SECONDS,
            "options": {"expires": PROMISE_HOUSEKEEPING_SECONDS},
        }
        for name in ("expire_datasets", "expire_uploads", "remove_leftovers", "prune_audit")
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# While Redis is down, sending a task fails within about a second rather than after the
# result store's default of 20 reconnections a second apart: the page answers 503 at once.
_QUICK_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": _QUICK_RETRY}
CELERY_TASK_PUBLISH_RETRY_POLICY = _QUICK_RETRY

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}


def _style_attribute_hash(style: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(style.encode()).digest()).decode() + "'"


# The only style attributes plotly.js sets itself (through setAttribute, which the policy
# treats as inline): an empty one on colour bars, and the pixelated rendering of a heatmap's
# image (without it the confusion matrix would be drawn blurred). Its other styles are in
# static/css/plotly.css (see bin/plotly_css.js).
PLOTLY_STYLE_ATTRIBUTES = (
    "",
    "".join(
        f"image-rendering: {value}; "
        for value in (
            "optimizeSpeed",
            "-moz-crisp-edges",
            "-o-crisp-edges",
            "-webkit-optimize-contrast",
            "optimize-contrast",
            "crisp-edges",
            "pixelated",
        )
    ),
)

# Only the site's own scripts, styles, images and connections; no inline code, no other host.
# Charts are drawn by static/js/charts.js with the vendored plotly.js.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_HASHES, *map(_style_attribute_hash, PLOTLY_STYLE_ATTRIBUTES)],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
if DEBUG:
    # Django's debug pages (tracebacks, 404s) are styled and scripted inline: in development
    # the browser reports in its console what the policy would refuse, and refuses nothing.
    CONTENT_SECURITY_POLICY_REPORT_ONLY = CONTENT_SECURITY_POLICY
    CONTENT_SECURITY_POLICY = None

# Production behind HTTPS: each of these is off by default so that `make run` and the tests
# work over plain HTTP on one machine; README.md ("Deploying") lists the values that make
# `manage.py check --deploy` pass.
SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = _env_bool("CSRF_COOKIE_SECURE", False)
# "HTTP_X_FORWARDED_PROTO,https": the header (as Django names it) and value by which the
# TLS-terminating proxy in front says a request came over HTTPS. Set it only behind a proxy
# that always sets or strips that header, or clients could claim HTTPS themselves.
if _proxy_ssl_header := os.environ.get("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = tuple(part.strip() for part in _proxy_ssl_header.split(",", 1))

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
