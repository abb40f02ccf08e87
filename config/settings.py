"""Settings, read from the environment (12-factor) with django-environ.

With nothing set, the defaults make local development work: SQLite in
``db.sqlite3``, the local-memory cache and DEBUG on. Production differs only by
environment variables (see README.md) and then passes ``check --deploy``.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)
# Required once DEBUG is off: a missing SECRET_KEY stops the process at start.
SECRET_KEY = (
    env.str("SECRET_KEY", default="django-insecure-local-development-key")
    if DEBUG
    else env.str("SECRET_KEY")
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # The platform first: its runserver (daphne's, on config.server) replaces
    # daphne's and Django's, and serves ASGI_APPLICATION (Django, the WebSocket
    # and the MCP server at /mcp/, config/asgi.py). It also has the home page's
    # template, seed_demo and the token cache's receivers.
    "config.apps.PlatformConfig",
    "daphne",
    # profiles next: its createsuperuser command replaces django.contrib.auth's.
    "profiles",
    "badges",
    "community",
    "chatbot",
    "wellness",
    "safety",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    # First: they answer /metrics, /healthz and /readyz before host validation
    # and the HTTPS redirect (config/metrics.py, config/health.py).
    "config.metrics.MetricsMiddleware",
    "config.health.HealthMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.replica.ReplicaMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A query parameter an API operation does not document is a 400.
    "config.api.parameters.QueryParametersMiddleware",
    "config.middleware.AtomicWritesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- Database ------------------------------------------------------------------------
# DATABASE_URL selects PostgreSQL (postgres://user@host:5432/name); unset, SQLite.
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    )
}
# Each write request runs in one transaction (a request that fails writes
# nothing); reads run in autocommit: config.middleware.AtomicWritesMiddleware.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # BEGIN IMMEDIATE: writers queue for SQLite's lock instead of failing with
    # "database is locked" when a read transaction upgrades to a write.
    DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"
else:
    # Behind a pooler in transaction mode (PgBouncer, docs/scaling.md) a
    # connection's server changes between transactions: no server-side
    # cursors (iterator() would lose its cursor), no prepared statements.
    behind_pooler = env.bool("DB_TRANSACTION_POOLER", default=False)
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = behind_pooler
    # Parameters bound by the server, and statements run often prepared there
    # (planned once per connection), unless a pooler is in between.
    # (psycopg prepares after 5 runs by default: None turns that off).
    prepared = env.bool("DB_PREPARED_STATEMENTS", default=not behind_pooler)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=prepared,
        prepare_threshold=5 if prepared else None,
        # A server that does not answer fails the connection in seconds, not
        # after the system's TCP timeout (minutes).
        connect_timeout=env.int("DB_CONNECT_TIMEOUT", default=5),
    )
    if env.bool("DB_POOL", default=True):
        # psycopg's pool in each process (docs/scaling.md#connections): at
        # most DB_POOL_SIZE connections, whatever the server's threads (daphne
        # runs each request in a thread of its own, and persistent
        # connections were one per thread: unbounded). A request waits up to
        # DB_POOL_TIMEOUT seconds for one, then gets a 503 (config.api.errors).
        # Each checkout first checks the connection (an empty query), so one
        # that the server closed is replaced instead of failing a request.
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django requires it with a pool
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # the pool's check
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": 1,
            "max_size": env.int("DB_POOL_SIZE", default=4),
            "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
        }
    else:
        # Persistent connections, one per thread (bounded by gunicorn's sync
        # workers, not by daphne); no "SELECT 1" before each request.
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)

# A streaming replica for reads (config/replica.py, docs/scaling.md): the same
# options as the primary (so a pool of its own, of the same size); tests
# mirror the primary's test database, which replication copies.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {
        **env.db_url("DATABASE_REPLICA_URL"),
        **{
            k: v
            for k, v in DATABASES["default"].items()
            if k in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "OPTIONS")
        },
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["config.replica.ReplicaRouter"]
# How long after a write a client's reads stay on the primary; how long a
# replica that failed is left alone.
READ_YOUR_WRITES_SECONDS = env.int("READ_YOUR_WRITES_SECONDS", default=5)
REPLICA_RETRY_SECONDS = env.int("REPLICA_RETRY_SECONDS", default=10)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# --- Cache --------------------------------------------------------------------------
def cache_config(redis_url: str | None) -> dict:
    """The CACHES setting: Django's Redis cache for ``redis_url``, else local memory.

    Short socket timeouts make an unreachable Redis fail fast (callers fall back,
    see ``profiles.stats``) instead of stalling the request.
    """
    if not redis_url:
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return {
        "default": {
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="backend"),
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


CACHES = cache_config(env.str("REDIS_URL", default=""))

# --- Auth ----------------------------------------------------------------------------
AUTH_USER_MODEL = "profiles.User"
AUTHENTICATION_BACKENDS = ["profiles.backends.UsernameOrEmailBackend"]
# Seed 002: passwords are stored as bcrypt hashes (bcrypt over SHA-256, which
# lifts bcrypt's 72-byte limit). Older hashes still verify, and are rewritten
# with bcrypt at the user's next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# --- Internationalisation ------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files (admin, browsable API, the offline API docs) -----------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# WhiteNoise serves static files from the app in production, and the files of
# webroot/ at the site's root in every mode: the badge artwork under
# /public/badges/, the URLs seed 000 stores in badge_definitions.
WHITENOISE_ROOT = BASE_DIR / "webroot"
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Security (production defaults whenever DEBUG is off) ----------------------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
# Both commit every subdomain to HTTPS (preload: in browsers, for months), which
# only the operator of the whole domain can decide: off unless asked for.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [
    # Index names over 30 characters: an Oracle limit. The seeds' names are kept
    # (idx_conversations_user_id_updated_at, ...); PostgreSQL allows 63.
    "models.E034",
    *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- REST API ------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first, so an anonymous request gets 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON in (config/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["config.api.parsers.JSONParser"],
    # No OPTIONS introspection: the OpenAPI schema describes every endpoint,
    # and DRF's metadata crashes on PUT actions without a lookup (405 instead).
    "DEFAULT_METADATA_CLASS": None,
    # JSON out by orjson, and the browsable API for people.
    "DEFAULT_RENDERER_CLASSES": [
        "config.api.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "config.api.negotiation.ContentNegotiation",
    # Cursors for lists that grow without bound; small lists choose page numbers.
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "config.api.filters.FilterBackend",
        "config.api.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.errors.exception_handler",
    # A signed-in user's writes count against RATE_LIMITS["writes"] (and a
    # view's throttle_scope); the password endpoints set their own throttle.
    "DEFAULT_THROTTLE_CLASSES": ["config.api.throttling.UserWriteThrottle"],
    # How many proxies in front of the app append to X-Forwarded-For (0: the
    # address the app sees is the client's), for the rate limits by address.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
API_MAX_PAGE_SIZE = 200

# chatbot: the agent that answers messages (chatbot/agents.py).
CHATBOT_AGENT = env.str("CHATBOT_AGENT", default="chatbot.agents.CommandAgent")

# community: how long a new invitation stays valid, unless its creator says.
COMMUNITY_INVITATION_DAYS = env.int("COMMUNITY_INVITATION_DAYS", default=7)

SPECTACULAR_SETTINGS = {
    "TITLE": "Backend API",
    "DESCRIPTION": (
        "Profiles, badges and the other domains of the five design documents. "
        "Every 4xx response has the body described by the `Error` schema."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # config.api.routers.IdConverter: a row id, within bigint.
    "PATH_CONVERTER_OVERRIDES": {
        "id": {
            "type": "integer",
            "format": "int64",
            "minimum": 0,
            "maximum": 2**63 - 1,
        },
        # community.api.urls.MemberIdConverter: #247 (sent as %23247) or 247.
        "member_id": {"type": "string", "pattern": "^#?[0-9]{1,18}$"},
    },
    # Two tables have a "status" of their own.
    "ENUM_NAME_OVERRIDES": {
        "MemberStatusEnum": "community.models.MemberStatus",
        "InvitationStatusEnum": "community.models.InvitationStatus",
        "PresenceStatusEnum": "safety.models.Status",
        "ReportStatusEnum": "safety.models.ReportStatus",
        "ReviewStatusEnum": "safety.models.REVIEW_STATUSES",
        "MusicProviderEnum": "profiles.models.MusicProvider",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.schema.document_error_responses",
    ],
}

# --- Rate limits (config/ratelimit.py, docs/design.md#rate-limits) ------------------


def rate_limit(name: str, rate: str, burst: int | None) -> tuple[str, int | None]:
    """A limit from ``<name>_RATE`` (a sustained rate: "60/minute") and
    ``<name>_BURST`` (how many may come at once after a quiet spell; None:
    the rate's count)."""
    return env.str(f"{name}_RATE", default=rate), env.int(f"{name}_BURST", burst)


RATE_LIMITS = {
    # Requests to what anyone may read without signing in (the API root, the
    # schema and its docs), per client address.
    "anonymous": rate_limit("ANONYMOUS", "120/minute", 60),
    # Requests to the token and registration endpoints, per client address.
    "password": rate_limit("AUTH_THROTTLE", "10/minute", None),
    # Failed password checks (admin login, token endpoint) per client address,
    # and per account from every address: the account's are higher, so one
    # address cannot lock an account (config.ratelimit.LoginAttempt).
    "login_address": rate_limit("LOGIN_ADDRESS", "10/hour", 10),
    "login_account": rate_limit("LOGIN_ACCOUNT", "30/hour", 30),
    # Every write a user makes over REST (POST, PUT, PATCH, DELETE) and every
    # event their sockets send, whatever scope below also counts it: a cap on
    # floods of what has no limit of its own (heartbeats, reorders, ...).
    "writes": rate_limit("WRITE", "300/minute", 100),
    # Room and private messages a user sends, over REST and sockets together.
    "messages": rate_limit("MESSAGE", "60/minute", 20),
    # Typing indicators a user sends (typing.start and typing.stop).
    "typing": rate_limit("TYPING", "60/minute", 20),
    # MCP tool calls a user makes.
    "mcp_tools": rate_limit("MCP_TOOL", "60/minute", 30),
}

# --- Domain settings -----------------------------------------------------------------
# How long a token's user stays cached (config/api/authentication.py).
TOKEN_CACHE_SECONDS = env.int("TOKEN_CACHE_SECONDS", default=60)
# How long profile stats stay cached, in Redis and in user_stats_cache (seconds).
PROFILE_STATS_TTL = env.int("PROFILE_STATS_TTL", default=300)

# /metrics (config/metrics.py): served to `Authorization: Bearer <METRICS_TOKEN>`;
# unset, only while DEBUG is on.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# Every record goes to the root logger's one console handler. Django's own
# "django" logger would print each of its records a second time (its console
# handler, then the root's), so it keeps no handler of its own; runserver's
# request lines ("django.server") keep Django's format and print once.
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django": {"handlers": [], "level": LOG_LEVEL}},
}

# wellness: how many matches each user's batch keeps (wellness/matching.py).
WELLNESS_MATCHES = env.int("WELLNESS_MATCHES", default=10)


# WebSockets (config/ws.py): the Redis channel layer, so every server process
# reaches every socket; in-memory (one process) when REDIS_URL is unset.
def channel_layers_config(redis_url: str | None, prefix: str = "ws") -> dict:
    """The CHANNEL_LAYERS setting for ``redis_url`` (else in memory).

    A socket's consumer waits for its next event with BZPOPMIN, blocking up
    to the layer's ``brpop_timeout`` (5 s); redis-py's default read timeout
    is 5 s too, so an idle socket's wait could time out and close it: reads
    may take 10 s here."""
    if not redis_url:
        return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    host = {"address": redis_url, "socket_connect_timeout": 2, "socket_timeout": 10}
    return {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [host], "prefix": prefix},
        }
    }


CHANNEL_LAYERS = channel_layers_config(env.str("REDIS_URL", default=""))

# The longest WebSocket message a client may send, in bytes (1 MiB): the
# server (config/server.py, runserver) closes a socket that sends a longer
# one with 1009 and a reason; up to it, an event over 65 536 characters is a
# 413 error event (docs/realtime.md#frames). Keep it at 262 144 or more, the
# bytes of 65 536 characters of four bytes each. daphne's runserver reads the
# DAPHNE_ settings.
WEBSOCKET_MAX_MESSAGE_SIZE = env.int("WEBSOCKET_MAX_MESSAGE_SIZE", default=2**20)
DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE = WEBSOCKET_MAX_MESSAGE_SIZE
DAPHNE_WEBSOCKET_MAX_FRAME_SIZE = WEBSOCKET_MAX_MESSAGE_SIZE

# safety: rooms hold at most this many members whatever their max_participants
# (10 for Alpha); a presence older than the TTL reads as offline; locations are
# keyed hashes (HMAC) under this key: changing it orphans the stored ones.
SAFETY_ROOM_CAPACITY = env.int("SAFETY_ROOM_CAPACITY", default=10)
SAFETY_PRESENCE_TTL = env.int("SAFETY_PRESENCE_TTL", default=120)
SAFETY_LOCATION_KEY = env.str("SAFETY_LOCATION_KEY", default=SECRET_KEY)
