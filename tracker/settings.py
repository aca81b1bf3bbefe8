"""Settings for the proposal tracker.

This is the only module that reads the environment (the blocks it takes from ``tracker.conf``
read it through the ``env`` it hands them). Every value has a development default so that
``make run`` works with nothing set; production sets ``SECRET_KEY``, ``DATABASE_URL``,
``REDIS_URL``, ``ALLOWED_HOSTS`` and the e-mail variables (see README).
"""

from datetime import timedelta
from pathlib import Path

import environ

from tracker.conf.api import rest_framework, spectacular
from tracker.conf.observability import init_sentry, logging_config
from tracker.conf.queues import beat_schedule, task_routes
from tracker.conf.security import content_security_policy, password_validators

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-change-me-0123456789abcdef")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    # /healthz (tracker/health.py; the app gives `manage.py health_check`) and /metrics.
    "health_check",
    "django_prometheus",
    "proposals",
    "replies",
    "signing",
    "publication",
    "tracker",
]

MIDDLEWARE = [
    # First: counts and times every request (django-prometheus; its After middleware is last).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # The request id of every log line and of the tasks a request queues (tracker/logging.py).
    "tracker.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "proposals.security.AccessRefusalMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
    # Innermost, as django-prometheus asks: it sees the view and its response.
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

# Sign-in lockout (django-axes): after LOGIN_FAILURE_LIMIT failures for a username from one
# client address, that username is locked from that address for LOGIN_COOLOFF_MINUTES (the
# same username from elsewhere, and others from there, still sign in: one attacker cannot lock
# out an office). After LOGIN_ADDRESS_FAILURE_LIMIT failures from an address across all
# usernames (password spraying), the address is locked for every username (0: no such limit).
# The address is the client's (see "Client addresses"). The answer to a wrong password is the
# same for an unknown user and a known one.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Without DEBUG, the demo's published passwords sign nobody in (a failed sign-in, counted).
    "proposals.security.PublishedPasswordBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=30)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "proposals.security.LockoutHandler"
AXES_CLIENT_IP_CALLABLE = "proposals.client_ip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

ROOT_URLCONF = "tracker.urls"
WSGI_APPLICATION = "tracker.wsgi.application"

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
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the dev server and a shell share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))

# A read replica (PostgreSQL streaming replication) for the portal's public API; unset, the
# public API reads the primary like everything else (proposals/replica.py, docs/scaling.md).
if env.str("DATABASE_PORTAL_URL", default=""):
    DATABASES["portal"] = env.db("DATABASE_PORTAL_URL")
    DATABASES["portal"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["portal"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["proposals.replica.PortalReplicaRouter"]

AUTH_USER_MODEL = "proposals.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Django's rules, and ours: length, character classes, disguised common and published passwords.
AUTH_PASSWORD_VALIDATORS = password_validators()
# The passwords the project publishes (the demo accounts'), kept in tracker/demo/data.py alone.
PUBLISHED_PASSWORDS = "tracker.demo.published_passwords"

# E-mailed sign-in links of /my/ (tracker/my/login_links.py): per address at most
# LOGIN_LINK_LIMIT_PER_ADDRESS links an hour and one per LOGIN_LINK_MIN_INTERVAL seconds; per
# client address at most LOGIN_LINK_LIMIT_PER_CLIENT requests an hour, whatever the addresses.
LOGIN_LINK_LIMIT_PER_ADDRESS = env.int("LOGIN_LINK_LIMIT_PER_ADDRESS", default=3)
LOGIN_LINK_MIN_INTERVAL = env.int("LOGIN_LINK_MIN_INTERVAL", default=60)
LOGIN_LINK_LIMIT_PER_CLIENT = env.int("LOGIN_LINK_LIMIT_PER_CLIENT", default=20)
LOGIN_LINK_WINDOW = 3600

# --- Sessions and deploy security (check --deploy passes with HTTPS=true) ----------------
# An idle session ends after this many seconds; every request renews it.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Behind the TLS-terminating proxy of a deployment (docker-compose sets HTTPS=true).
HTTPS = env.bool("HTTPS", default=False)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# --- Content-Security-Policy (django-csp): the app's own resources, inline only with the
# request's nonce, no plugins, no framing (tracker/conf/security.py, tracker/tests/test_csp.py).
CONTENT_SECURITY_POLICY = content_security_policy()

# Everything users read is Chinese; setting LANGUAGE_CODE=en (with compiled catalogues in
# locale/) gives an English UI. No LocaleMiddleware: a browser's language does not switch it.
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
# STATIC_MANIFEST=true (the image sets it and runs collectstatic at build time): hashed names
# from STATIC_ROOT's manifest, gzip and brotli copies beside each file, and whitenoise serves
# STATIC_ROOT only — a hashed name for a year (immutable), the compressed copy to a client that
# accepts it. Unset (make run, the tests: nothing collected), names stay plain and whitenoise
# finds the files in the apps; a manifest storage would refuse every {% static %} there.
STATIC_MANIFEST = env.bool("STATIC_MANIFEST", default=False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "whitenoise.storage.CompressedStaticFilesStorage"
        ),
        # Collected files are public and read by the app's user, whoever collected them:
        # FILE_UPLOAD_PERMISSIONS (0640, for uploads) must not apply to them.
        "OPTIONS": {"file_permissions_mode": 0o644, "directory_permissions_mode": 0o755},
    },
}
# The finders' files would replace the collected ones (uncompressed, one-minute cache).
WHITENOISE_USE_FINDERS = DEBUG or not STATIC_MANIFEST
MEDIA_URL = "/media/"
# Media is never served by URL: signed letters and attachments go through views that ask
# visible_to (replies admin, /my/, the API, tracker.files).
FILE_UPLOAD_PERMISSIONS = 0o640
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=20 * 1024 * 1024)
# The committee's Excel import (tracker/excel/): the upload as sent, what its parts may
# inflate to (checked from the ZIP directory before anything is inflated), and the proposals
# one import may hold (a session files a few hundred to 1,000; the API's import too).
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
IMPORT_MAX_UNCOMPRESSED_BYTES = env.int("IMPORT_MAX_UNCOMPRESSED_BYTES", default=50 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=2000)
# The audit trail is kept at least this long; the database trigger enforces 180 days.
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=180)
# The key that seals the audit trail's hash chain (proposals/audit.py, SECURITY.md). Empty: one
# derived from SECRET_KEY. Never change it once rows are sealed: they would no longer verify.
AUDIT_CHAIN_KEY = env.str("AUDIT_CHAIN_KEY", default="")
LOGIN_URL = "/my/login/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")

# --- Cache: Redis when configured, otherwise in-process ---------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # Redis, and this process's memory while Redis is unreachable (tracker/cache.py): the API
    # and its throttles keep answering; Redis is tried again every CACHE_RETRY_AFTER seconds.
    CACHES = {
        "default": {
            "BACKEND": "tracker.cache.FallbackRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": 1.0,
                "socket_timeout": 2.0,
                "RETRY_AFTER": env.float("CACHE_RETRY_AFTER", default=5.0),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery -------------------------------------------------------------------------------
# At-least-once delivery with idempotent tasks: a task is acknowledged only after it ran
# (acks_late), a worker takes one message at a time (prefetch 1), and the tasks whose ledger
# makes a second run harmless (tracker.tasks, replies.tasks) opt in to being re-queued when
# their worker dies (reject_on_worker_lost); the default stays off for any other task.
# Redis redelivers an unacknowledged message after the visibility timeout, so every time
# limit, retry countdown and send lease is kept below it (tracker/tests/test_celery_config.py).
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker process that has grown past this (KiB) is replaced after its current task: a
# WeasyPrint renderer settles near 240 MB (docs/scaling.md), fonts and caches included.
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", default=512_000)
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_DEFAULT_QUEUE = "celery"
# PDFs on the ``pdf`` queue, e-mail on ``mail``; the periodic tasks (tracker/conf/queues.py).
CELERY_TASK_ROUTES = task_routes()
CELERY_BEAT_SCHEDULE = beat_schedule()

# --- The public pages in the district portal's frame (publication/embedding.py) -------------
# Origins that may frame /public/ (e.g. https://www.example.gov.cn); empty: no frames at all.
PUBLIC_EMBED_ORIGINS = env.list("PUBLIC_EMBED_ORIGINS", default=[])

# --- Seals and electronic signatures of signed letters (signing/keys.py) --------------------
# Keys and certificates as files (unit-<pk>.key.pem/.cert.pem, district.*, chain.pem), or on a
# PKCS#11 token; never in the database. Unset: letters are stored unsigned. A TSA URL: PAdES B-T.
SIGNING_KEYS_DIR = env.str("SIGNING_KEYS_DIR", default="")
SIGNING_KEY_PASSPHRASE = env.str("SIGNING_KEY_PASSPHRASE", default="")
SIGNING_TRUST_ROOTS = env.list("SIGNING_TRUST_ROOTS", default=[])
SIGNING_TSA_URL = env.str("SIGNING_TSA_URL", default="")
SIGNING_PKCS11_MODULE = env.str("SIGNING_PKCS11_MODULE", default="")
SIGNING_PKCS11_TOKEN = env.str("SIGNING_PKCS11_TOKEN", default="")
SIGNING_PKCS11_PIN = env.str("SIGNING_PKCS11_PIN", default="")
# The letter's Word copy (the reply editor's 下载Word): a function of a Letter, by its path.
LETTER_WORD_BUILDER = "signing.word.letter_docx"

# --- Reminders (docs/domain.md, Deadlines: reminders) --------------------------------------
# Reminders go out this many working days before a due date, and on the day itself.
REMINDER_STEPS_BEFORE = env.list("REMINDER_STEPS_BEFORE", cast=int, default=[5, 1])
# Overdue notices go to the unit's clerks from the first overdue working day, plus the unit's
# signers from the Nth, plus the committee and the supervision office from the Mth.
REMINDER_ESCALATE_TO_SIGNER_AFTER = env.int("REMINDER_ESCALATE_TO_SIGNER_AFTER", default=5)
REMINDER_ESCALATE_TO_OFFICES_AFTER = env.int("REMINDER_ESCALATE_TO_OFFICES_AFTER", default=10)
# A digest lists at most this many items per section; the rest are counted and linked.
REMINDER_DIGEST_MAX_ROWS = env.int("REMINDER_DIGEST_MAX_ROWS", default=50)
# Sending: attempts before an e-mail is marked failed, and the backoff between them
# (seconds, doubled each time, capped below the visibility timeout).
REMINDER_MAIL_MAX_ATTEMPTS = env.int("REMINDER_MAIL_MAX_ATTEMPTS", default=5)
REMINDER_MAIL_RETRY_BACKOFF = env.float("REMINDER_MAIL_RETRY_BACKOFF", default=60.0)
REMINDER_MAIL_RETRY_BACKOFF_MAX = env.float("REMINDER_MAIL_RETRY_BACKOFF_MAX", default=1800.0)
# The mail tasks' limits, and how long a task owns an e-mail it is sending (the lease outlives
# the hard time limit, so a live task never loses its lease; a dead one's lease runs out).
REMINDER_MAIL_SOFT_TIME_LIMIT = 45
REMINDER_MAIL_TIME_LIMIT = 60
REMINDER_SMTP_TIMEOUT = env.float("REMINDER_SMTP_TIMEOUT", default=30.0)
REMINDER_SEND_LEASE = env.float("REMINDER_SEND_LEASE", default=120.0)
# The hourly sweep re-sends a pending e-mail never tried after this long (its message was lost).
REMINDER_RESEND_AFTER = env.float("REMINDER_RESEND_AFTER", default=900.0)
# Links in e-mails point here.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- E-mail -------------------------------------------------------------------------------
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = env.str(
        "EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
    )
    EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
    EMAIL_PORT = env.int("EMAIL_PORT", default=25)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="提案办理系统 <noreply@localhost>")

# --- 短信 (tracker.sms; issue 21) ---------------------------------------------------------------
# The console backend prints; production names tracker.sms.backends.http.SmsBackend and its gateway.
SMS_BACKEND = env.str("SMS_BACKEND", default="tracker.sms.backends.console.SmsBackend")
SMS_GATEWAY_URL = env.str("SMS_GATEWAY_URL", default="")
SMS_SIGNATURE = env.str("SMS_SIGNATURE", default="区政协提案")
SMS_TEMPLATES = env.json("SMS_TEMPLATES", default={})  # {"filed": "SMS_1001", …} by step
SMS_TIMEOUT = env.float("SMS_TIMEOUT", default=10.0)
SMS_API_KEY = env.str("SMS_API_KEY", default="")
# How long a member's invitation link (set a password) works, in seconds.
MEMBER_INVITATION_MAX_AGE = env.int("MEMBER_INVITATION_MAX_AGE", default=14 * 24 * 3600)

# --- Client addresses -------------------------------------------------------------------
# Who sent a request: proposals.client_ip.client_ip, the one answer of the sign-in lockout, the
# access audit, the API throttles and the logs. Unset, no proxy is trusted: REMOTE_ADDR is the
# client and X-Forwarded-For is ignored (whoever connects can forge it). Behind proxies, either
# their number ("1": the TLS proxy of README "Production") or their networks and addresses
# ("10.0.0.0/8,172.16.0.0/12": X-Forwarded-For is read only from a peer in them).
_trusted_proxies = env.str("TRUSTED_PROXIES", default="").strip() or "0"
TRUSTED_PROXIES: int | list[str] = (
    int(_trusted_proxies)
    if _trusted_proxies.isdecimal()
    else [entry.strip() for entry in _trusted_proxies.split(",") if entry.strip()]
)
# TRUSTED_PROXIES replaced API_NUM_PROXIES; a deployment still setting the old name fails
# `manage.py check` instead of silently trusting no proxy (proposals/client_ip.py).
API_NUM_PROXIES_IN_ENVIRONMENT = env.str("API_NUM_PROXIES", default=None)

# --- REST framework -----------------------------------------------------------------------
# The API (tracker/api/urls.py) and its schema (/api/docs/): tracker/conf/api.py. The throttles
# key anonymous clients by their address (TRUSTED_PROXIES above; DRF's NUM_PROXIES is not used).
REST_FRAMEWORK = rest_framework(env)
SPECTACULAR_SETTINGS = spectacular()

# --- Deadlines (docs/domain.md, "Deadlines"); each can be changed per deployment ---------
# Lengths are (amount, unit) with unit "days" (calendar), "workdays" or "months".
PROPOSAL_DEADLINES = {
    "reassignment": env.tuple("DEADLINE_REASSIGNMENT", default=(10, "days")),
    "first_contact": env.tuple("DEADLINE_FIRST_CONTACT", default=(15, "workdays")),
    "co_opinion": env.tuple("DEADLINE_CO_OPINION", default=(1, "months")),
    "reply": env.tuple("DEADLINE_REPLY", default=(3, "months")),
    "rehandling_reply": env.tuple("DEADLINE_REHANDLING_REPLY", default=(3, "months")),
    "publication": env.tuple("DEADLINE_PUBLICATION", default=(20, "workdays")),
}
# No reply may be due later than this after assignment, extensions included.
PROPOSAL_MAX_REPLY_MONTHS = env.int("PROPOSAL_MAX_REPLY_MONTHS", default=6)
# The 办理结果 list of each district's reply form, each label with its A/B/C/D class, as JSON
# {"长宁": {"解决或采纳": "A", "列入计划拟解决": "B", …}}: replaces that district's default
# (replies.results.DEFAULT_RESULT_LABELS_BY_DISTRICT: 长宁, 普陀, 宝山, 杨浦, 嘉定; "" for others).
RESULT_LABELS_BY_DISTRICT = env.json("RESULT_LABELS_BY_DISTRICT", default={})

# --- Observability (README "Operations") ----------------------------------------------------
# Logs: one line per record on stderr, JSON or, for `make run`, text
# (tracker/conf/observability.py, tracker/logging.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING_CONFIG = "tracker.logging.configure"
LOGGING = logging_config(env, LOG_FORMAT)

# Health (tracker/health.py): /healthz fails when the worker's heartbeat is older than this.
HEALTH_HEARTBEAT_MAX_AGE = env.int("HEALTH_HEARTBEAT_MAX_AGE", default=300)
# /healthz and /metrics answer plain HTTP too (a container health check, a scraper inside the
# network), so HTTPS=true does not redirect them.
SECURE_REDIRECT_EXEMPT = [r"^healthz(/web)?/?$", r"^metrics$"]

# Metrics (tracker/metrics.py): /metrics answers these networks, or a request with
# "Authorization: Bearer $METRICS_TOKEN"; anyone else gets 404.
METRICS_ALLOWED_NETWORKS = env.list(
    "METRICS_ALLOWED_NETWORKS",
    default=[
        "127.0.0.0/8",
        "::1/128",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "fc00::/7",
    ],
)
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# Error reporting: Sentry when SENTRY_DSN is set, nothing at all otherwise. No personal data:
# no user, cookies, addresses or request bodies (send_default_pii=False, bodies never).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    init_sentry(env, SENTRY_DSN)
