"""Settings: read from the environment, safe in production, quiet logs."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_ENV = {
    "DATABASE_URL",
    "REDIS_URL",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "LOG_LEVEL",
}
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x7#kq!v2$" * 8,
    "ALLOWED_HOSTS": "api.example.com",
}


def run_with_env(args: list[str], **env) -> subprocess.CompletedProcess:
    """Run ``args`` in the project with a clean settings environment plus ``env``."""
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV}
    return subprocess.run(
        args,
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def django_in_subprocess(code: str, **env) -> str:
    """Run ``code`` with Django set up; return what it printed."""
    result = run_with_env(
        [sys.executable, "-c", f"import django; django.setup(); {code}"], **env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


PRINT_BACKENDS = (
    "from django.conf import settings as s; "
    "print(s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'], s.DEBUG)"
)
PRINT_HSTS = (
    "from django.conf import settings as s; "
    "print(s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD)"
)
CHECK_DEPLOY = (
    "from django.core.management import call_command; "
    "call_command('check', deploy=True, fail_level='WARNING')"
)


def test_defaults_need_nothing_set():
    out = django_in_subprocess(PRINT_BACKENDS)
    assert out.split() == [
        "django.db.backends.sqlite3",
        "django.core.cache.backends.locmem.LocMemCache",
        "True",
    ]


def test_database_url_and_redis_url_select_postgresql_and_redis():
    out = django_in_subprocess(
        PRINT_BACKENDS,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/anything",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert out.split()[:2] == [
        "django.db.backends.postgresql",
        "config.cache.RedisCache",
    ]


def test_check_deploy_is_clean_with_production_variables():
    assert "no issues" in django_in_subprocess(CHECK_DEPLOY, **PRODUCTION)


def test_hsts_preload_and_subdomains_only_when_asked_for():
    assert django_in_subprocess(PRINT_HSTS, **PRODUCTION).split() == [
        "False",
        "False",
    ]
    asked = {
        **PRODUCTION,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
        "SECURE_HSTS_PRELOAD": "true",
    }
    assert django_in_subprocess(PRINT_HSTS, **asked).split() == ["True", "True"]
    assert "no issues" in django_in_subprocess(CHECK_DEPLOY, **asked)


def test_production_refuses_to_start_without_a_secret_key():
    result = run_with_env(
        [sys.executable, "manage.py", "check"],
        DEBUG="false",
        ALLOWED_HOSTS="api.example.com",
    )
    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr


@pytest.mark.parametrize("debug", ["true", "false"])
def test_each_log_line_is_printed_once(debug):
    out = django_in_subprocess(
        "import logging; "
        "logging.getLogger('django.request').warning('from-django'); "
        "logging.getLogger('profiles.stats').warning('from-an-app')",
        **{**PRODUCTION, "DEBUG": debug},
    )
    assert out.count("from-django") == 1, out
    assert out.count("from-an-app") == 1, out


def test_log_level_applies_to_djangos_loggers_too():
    out = django_in_subprocess(
        "import logging; logging.getLogger('django.request').info('chatty')",
        LOG_LEVEL="WARNING",
    )
    assert "chatty" not in out


PRINT_DATABASES = (
    "from django.conf import settings as s; d = s.DATABASES; "
    "o = d['default']['OPTIONS']; "
    "print(d['default']['DISABLE_SERVER_SIDE_CURSORS'], o['prepare_threshold'], "
    "o['server_side_binding'], 'pool' in o, d['default']['CONN_MAX_AGE'], "
    "sorted(d), s.DATABASE_ROUTERS)"
)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "False 5 True True 0 ['default'] []"),
        ({"DB_TRANSACTION_POOLER": "true"}, "True None False True 0 ['default'] []"),
        ({"DB_POOL": "false"}, "False 5 True False 60 ['default'] []"),
        (
            {"DATABASE_REPLICA_URL": "postgres://postgres@127.0.0.1:5433/x"},
            "False 5 True True 0 ['default', 'replica'] "
            "['config.replica.ReplicaRouter']",
        ),
    ],
)
def test_the_pooler_pool_and_replica_settings(env, expected):
    """Behind PgBouncer: no server-side cursors and nothing prepared (psycopg
    prepares after 5 runs unless told not to); psycopg's pool, on unless
    DB_POOL=false, needs CONN_MAX_AGE 0; a replica adds its alias and the
    router."""
    out = django_in_subprocess(
        PRINT_DATABASES, DATABASE_URL="postgres://postgres@127.0.0.1:5432/x", **env
    )
    assert out.strip().splitlines()[-1] == expected
