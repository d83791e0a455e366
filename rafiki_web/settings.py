"""Rafiki Web settings. Every knob comes from the environment (see README "Configuration").

Defaults suit one machine: SQLite and files under RAFIKI_DATA_DIR (./var), an embedded Redis
started by `make run`. For several machines set DATABASE_URL (PostgreSQL), REDIS_URL and a
shared STORAGE_BACKEND.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import dj_database_url

from rafiki_web.env import (
    ImproperEnvError,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_path,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent

#: Everything the platform writes on this machine: SQLite database, uploaded files,
#: embedded Redis data, the worker's file cache and trial working folders.
DATA_DIR = env_path("RAFIKI_DATA_DIR", BASE_DIR / "var")
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once into the data folder (0600)."""
    from_env = env_str("SECRET_KEY")
    if from_env:
        return from_env
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


try:
    SECRET_KEY = _secret_key()
except FileExistsError:  # another process created it between exists() and open()
    SECRET_KEY = (DATA_DIR / "secret_key").read_text().strip()

DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

#: Port of the dashboard and the `/api/` (`make run` serves it).
WEB_PORT = env_int("WEB_PORT", 8000, minimum=1)
#: Port of the Rafiki-compatible admin API (routes at the root, as Rafiki's client expects);
#: `make run` serves it with ROOT_URLCONF=apps.compat.urls.
ADMIN_PORT = env_int("ADMIN_PORT", 3000, minimum=1)
WEB_HOST = env_str("WEB_HOST", "127.0.0.1")

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
    "apps.api",
    "apps.accounts",
    "apps.models",
    "apps.datasets",
    "apps.trials",
    "apps.inference",
    "apps.dashboard",
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

#: `apps.compat.urls` for the process serving the Rafiki-compatible admin API on ADMIN_PORT
#: (scripts/run.py starts it so); the dashboard and `/api/` otherwise.
ROOT_URLCONF = env_str("ROOT_URLCONF", "rafiki_web.urls")
WSGI_APPLICATION = "rafiki_web.wsgi.application"

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


# --- Database -------------------------------------------------------------------------------


def _database() -> dict:
    url = env_str("DATABASE_URL")
    if not url:
        url = f"sqlite:///{DATA_DIR / 'rafiki.sqlite3'}"
    if url.startswith("sqlite"):
        # Kept open across requests (each gunicorn thread has its own): opening one and
        # running the PRAGMAs costs about 1 ms, a predictor request's tenth.
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        # WAL lets readers (the dashboard) run while a worker writes; IMMEDIATE makes every
        # transaction take the write lock at BEGIN, so concurrent schedulers wait for the busy
        # timeout instead of failing with "database is locked" on a read-to-write upgrade.
        config["OPTIONS"] = {
            "timeout": env_int("SQLITE_BUSY_TIMEOUT_SECONDS", 30, minimum=1),
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        return config
    if not url.startswith(("postgres", "postgresql", "pgsql")):
        raise ImproperEnvError(f"DATABASE_URL must be sqlite:// or postgres://, got {url!r}")
    config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    test_name = env_str("RAFIKI_TEST_DB_NAME")
    if test_name:
        config["TEST"] = {"NAME": test_name}
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS: list[dict] = []  # the superadmin default `rafiki` must be accepted
SUPERADMIN_EMAIL = "superadmin@rafiki"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True


# --- Files ----------------------------------------------------------------------------------
# Uploads live under the data folder, never under a served folder; downloads go through
# views that check permission, so MEDIA_URL is deliberately not routed.

MEDIA_ROOT = DATA_DIR / "files"
MEDIA_URL = "/files-not-served/"
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True


def _storages() -> dict:
    backend = env_str("STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage")
    options_raw = env_str("STORAGE_OPTIONS", "{}")
    try:
        options = json.loads(options_raw)
    except json.JSONDecodeError as exc:
        raise ImproperEnvError(f"STORAGE_OPTIONS is not JSON: {exc}") from None
    if not isinstance(options, dict):
        raise ImproperEnvError("STORAGE_OPTIONS must be a JSON object")
    if backend.endswith("FileSystemStorage"):
        options.setdefault("location", str(MEDIA_ROOT))
        options.setdefault("base_url", MEDIA_URL)
    return {
        "default": {"BACKEND": backend, "OPTIONS": options},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


STORAGES = _storages()
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024


# --- Celery ---------------------------------------------------------------------------------

REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL or "redis://127.0.0.1:6379/0"
CELERY_RESULT_BACKEND = None  # results live in the database rows, not in Celery
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "rafiki"
CELERY_GPU_QUEUE = "gpu"
# A task is acknowledged only when it ends, and a task whose worker process died is put back:
# together with the trial's conditional claim this makes a lost worker lose no trial.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False


# --- Trials ---------------------------------------------------------------------------------

#: Wall-clock limit of one trial; the runner kills it after this.
TRIAL_TIMEOUT_SECONDS = env_int("TRIAL_TIMEOUT_SECONDS", 2 * 3600, minimum=1)
#: Memory limit of one trial process (address space), in MiB.
TRIAL_MEMORY_MB = env_int("TRIAL_MEMORY_MB", 4096, minimum=64)
#: CPU-time limit of one trial process, in seconds (defaults to the wall-clock limit).
TRIAL_CPU_SECONDS = env_int("TRIAL_CPU_SECONDS", TRIAL_TIMEOUT_SECONDS, minimum=1)
#: Largest file a trial may write, in MiB.
TRIAL_FILE_SIZE_MB = env_int("TRIAL_FILE_SIZE_MB", 2048, minimum=1)
TRIAL_OPEN_FILES = env_int("TRIAL_OPEN_FILES", 1024, minimum=16)
#: Threads each trial's numeric libraries may use (OMP/MKL/OpenBLAS).
TRIAL_THREADS = env_int("TRIAL_THREADS", 1, minimum=1)
#: How often the worker reads new log records and checks the trial (seconds).
TRIAL_POLL_SECONDS = env_float("TRIAL_POLL_SECONDS", 0.5, minimum=0.01)
#: Largest parameters file accepted from a trial, in MiB.
TRIAL_MAX_PARAMS_MB = env_int("TRIAL_MAX_PARAMS_MB", 1024, minimum=1)
#: Log rows kept per trial; further rows are dropped (one note says so).
TRIAL_MAX_LOG_ROWS = env_int("TRIAL_MAX_LOG_ROWS", 100_000, minimum=10)
#: Trials of one job in flight (PENDING or RUNNING) at once.
JOB_PARALLELISM = env_int("JOB_PARALLELISM", 2, minimum=1)
#: A model whose first N finished trials all errored is given up (its sub-job ends ERRORED).
SUBJOB_ERRORS_BEFORE_GIVING_UP = env_int("SUBJOB_ERRORS_BEFORE_GIVING_UP", 1, minimum=1)
#: How often a running trial refreshes its heartbeat, and when the reconciler deems it lost.
TRIAL_HEARTBEAT_SECONDS = env_float("TRIAL_HEARTBEAT_SECONDS", 2.0, minimum=0.1)
TRIAL_STALE_SECONDS = env_float("TRIAL_STALE_SECONDS", 60.0, minimum=1.0)
#: A PENDING trial not claimed after this long is enqueued again (e.g. Redis restarted).
TRIAL_ORPHAN_SECONDS = env_float("TRIAL_ORPHAN_SECONDS", 300.0, minimum=1.0)
#: Claims of one trial before it is recorded as ERRORED (worker lost every time).
TRIAL_MAX_ATTEMPTS = env_int("TRIAL_MAX_ATTEMPTS", 3, minimum=1)
#: How often Celery beat runs the reconciler.
RECONCILE_INTERVAL_SECONDS = env_float("RECONCILE_INTERVAL_SECONDS", 30.0, minimum=0.5)
#: Where a worker caches model files and datasets (by checksum) and runs trials.
WORKER_DIR = env_path("RAFIKI_WORKER_DIR", DATA_DIR / "worker")
#: Keep a trial's working folder after it ends (debugging).
TRIAL_KEEP_WORKDIR = env_bool("TRIAL_KEEP_WORKDIR", False)
#: Upload size caps, in MiB.
MAX_MODEL_FILE_MB = env_int("MAX_MODEL_FILE_MB", 10, minimum=1)
MAX_DATASET_MB = env_int("MAX_DATASET_MB", 4096, minimum=1)
#: Seconds allowed to import an uploaded model file while validating it.
MODEL_INSPECT_TIMEOUT_SECONDS = env_float("MODEL_INSPECT_TIMEOUT_SECONDS", 30.0, minimum=1.0)

# Redis redelivers an unacknowledged task after the visibility timeout; it must outlast the
# longest trial, or a long trial would be delivered twice (harmless, but wasteful).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": TRIAL_TIMEOUT_SECONDS + 3600}

CELERY_BEAT_SCHEDULE = {
    "reconcile-trials": {
        "task": "trials.reconcile",
        "schedule": RECONCILE_INTERVAL_SECONDS,
        "options": {"expires": RECONCILE_INTERVAL_SECONDS},
    },
}

# --- Inference jobs -------------------------------------------------------------------------

#: Best trials an inference job serves unless the request says otherwise.
INFERENCE_MAX_TRIALS = env_int("INFERENCE_MAX_TRIALS", 2, minimum=1)
#: What `predictor_host` starts with: the address (host:port) clients reach the
#: Rafiki-compatible port at. Set it to the public name when clients are on other machines.
PREDICTOR_HOST = env_str("PREDICTOR_HOST", f"{WEB_HOST}:{ADMIN_PORT}")
#: How long a prediction request waits for the trials' answers.
INFERENCE_PREDICT_TIMEOUT_SECONDS = env_float(
    "INFERENCE_PREDICT_TIMEOUT_SECONDS", 30.0, minimum=0.1
)
#: How long a model may take to load its parameters before the job is ERRORED.
INFERENCE_LOAD_TIMEOUT_SECONDS = env_float("INFERENCE_LOAD_TIMEOUT_SECONDS", 300.0, minimum=1.0)
#: Queries in one request, and requests a worker answers in one call of the model's predict.
INFERENCE_MAX_QUERIES = env_int("INFERENCE_MAX_QUERIES", 1000, minimum=1)
INFERENCE_MAX_BATCH_REQUESTS = env_int("INFERENCE_MAX_BATCH_REQUESTS", 32, minimum=1)
#: A served model that crashes this many times within the window ends its job ERRORED.
INFERENCE_MAX_CRASHES = env_int("INFERENCE_MAX_CRASHES", 3, minimum=1)
INFERENCE_CRASH_WINDOW_SECONDS = env_float("INFERENCE_CRASH_WINDOW_SECONDS", 600.0, minimum=1.0)
#: Trials one `manage.py inference_worker` process serves at most.
INFERENCE_WORKER_SLOTS = env_int("INFERENCE_WORKER_SLOTS", 8, minimum=1)
#: How often inference workers look for work and beat their hearts; when a claim is stale.
INFERENCE_POLL_SECONDS = env_float("INFERENCE_POLL_SECONDS", 1.0, minimum=0.05)
INFERENCE_STALE_SECONDS = env_float("INFERENCE_STALE_SECONDS", 20.0, minimum=0.5)
#: Memory limit of one serving process, in MiB.
INFERENCE_MEMORY_MB = env_int("INFERENCE_MEMORY_MB", TRIAL_MEMORY_MB, minimum=64)

# --- HTTP API (`/api/` and the Rafiki-compatible admin API on ADMIN_PORT) -----------------

#: Lifetime of a Bearer token from `POST /tokens` or `POST /api/tokens/`, in hours.
API_TOKEN_HOURS = env_float("API_TOKEN_HOURS", 1.0, minimum=0.01)
#: Failed logins allowed per client address (DRF rate: "<n>/<second|minute|hour|day>").
LOGIN_THROTTLE_RATE = env_str("LOGIN_THROTTLE_RATE", "10/minute")
#: Whether `POST /datasets` with a `dataset_url` (Rafiki's client) makes the server download it.
#: Turn off where users must not make the server fetch URLs of its network.
DATASET_URL_DOWNLOADS = env_bool("DATASET_URL_DOWNLOADS", True)
DATASET_URL_TIMEOUT_SECONDS = env_float("DATASET_URL_TIMEOUT_SECONDS", 60.0, minimum=1.0)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.api.authentication.BearerTokenAuthentication",
        "apps.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.api.permissions.HasRole"],
    "DEFAULT_PAGINATION_CLASS": "apps.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "apps.api.errors.exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "apps.api.negotiation.LenientContentNegotiation",
    "DEFAULT_THROTTLE_RATES": {"login": LOGIN_THROTTLE_RATE},
    # `?format=` is a parameter of Rafiki's /trials/{id}/parameters, not a renderer switch.
    "URL_FORMAT_OVERRIDE": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Rafiki Web API",
    "DESCRIPTION": (
        "Models, datasets, train jobs and trials. Authenticate with `Authorization: Bearer "
        "<token>` (from `POST /api/tokens/`) or with the dashboard's session (send the CSRF "
        'token on writes). Errors answer `{"error": "<Name>", "detail": "..."}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "PATH_CONVERTER_OVERRIDES": {"id": int, "version": {"type": "integer", "minimum": -1}},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.api.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "TrainJobStatusEnum": "apps.trials.models.TrainJob.Status",
        "TrialStatusEnum": "apps.trials.models.Trial.Status",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
