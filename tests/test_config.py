"""Configuration: sandbox mode needs nothing; production refuses to start half-set
(or with several workers and no shared store)."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from app.config import ConfigError, database_url, load_config, require_shared_store

KEY = Fernet.generate_key().decode()


def test_no_configuration_at_all_is_sandbox_mode(tmp_path):
    config = load_config(tmp_path, environ={})
    assert config["KIT_SANDBOX"] is True
    assert config["APP_ENV"] == "development"
    assert config["KIT_API_URL"] == config["KIT_APP_URL"] == "http://127.0.0.1:5001"
    assert config["KIT_TOKEN_URL"] == "http://127.0.0.1:5001/v4/oauth/token"
    # The generated secret key is kept, so sessions survive a restart.
    assert load_config(tmp_path, environ={})["SECRET_KEY"] == config["SECRET_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        ({"KIT_CLIENT_ID": "id"}, "SECRET_KEY and TOKEN_ENCRYPTION_KEYS"),
        ({"KIT_CLIENT_ID": "id", "SECRET_KEY": "s"}, "TOKEN_ENCRYPTION_KEYS"),
        ({"KIT_CLIENT_ID": "id", "TOKEN_ENCRYPTION_KEYS": KEY}, "SECRET_KEY"),
        ({"APP_ENV": "production", "SECRET_KEY": "s"}, "TOKEN_ENCRYPTION_KEYS"),
    ],
)
def test_production_refuses_to_start_without_its_secrets(tmp_path, environ, missing):
    with pytest.raises(ConfigError, match=f"without {missing}\\."):
        load_config(tmp_path, environ=environ)


def test_production_with_kit_defaults(tmp_path):
    config = load_config(
        tmp_path,
        environ={
            "KIT_CLIENT_ID": "id",
            "SECRET_KEY": "s",
            "TOKEN_ENCRYPTION_KEYS": KEY,
            "PUBLIC_BASE_URL": "https://app.example.com",
        },
    )
    assert config["KIT_SANDBOX"] is False
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["KIT_AUTHORIZE_URL"] == "https://api.kit.com/v4/oauth/authorize"
    assert config["KIT_APP_URL"] == "https://app.kit.com"
    assert config["KIT_CLIENT_SECRET"] is None  # a public client


def test_endpoint_overrides_win(tmp_path):
    config = load_config(
        tmp_path,
        environ={
            "APP_ENV": "development",
            "KIT_CLIENT_ID": "id",
            "KIT_API_URL": "https://kit.test/",
            "KIT_TOKEN_URL": "https://app.kit.test/oauth/token",
        },
    )
    assert config["KIT_TOKEN_URL"] == "https://app.kit.test/oauth/token"
    assert config["KIT_REVOKE_URL"] == "https://kit.test/v4/oauth/revoke"


def test_a_bad_encryption_key_is_named(tmp_path):
    with pytest.raises(ConfigError, match="key 2 is not a valid Fernet key"):
        load_config(tmp_path, environ={"TOKEN_ENCRYPTION_KEYS": f"{KEY},nope"})


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgresql://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgresql+psycopg://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls_use_psycopg_3(given, used):
    assert database_url(given) == used


# --- hosts, gunicorn's workers and threads ----------------------------------------

PRODUCTION = {"APP_ENV": "production", "SECRET_KEY": "s", "TOKEN_ENCRYPTION_KEYS": KEY}
# Production needs the app's public origin (tests/test_mail_links.py).
PRODUCTION_AT = {**PRODUCTION, "PUBLIC_BASE_URL": "https://app.example.com"}


@pytest.mark.parametrize(
    ("environ", "hosts"),
    [
        ({}, ["localhost", "127.0.0.1"]),
        (
            {"KIT_REDIRECT_URI": "https://app.example.com/kit/oauth/callback"},
            ["app.example.com", "localhost", "127.0.0.1"],
        ),
        (
            {**PRODUCTION, "KIT_REDIRECT_URI": "https://app.example.com:8443/cb"},
            ["app.example.com"],
        ),
        (PRODUCTION_AT, ["app.example.com"]),
        (
            {"ALLOWED_HOSTS": "a.example.com, .b.example.com"},
            ["a.example.com", ".b.example.com"],
        ),
        ({"ALLOWED_HOSTS": "*"}, None),
    ],
)
def test_allowed_hosts_default_to_the_apps_own(tmp_path, environ, hosts):
    assert load_config(tmp_path, environ=environ)["ALLOWED_HOSTS"] == hosts


@pytest.mark.parametrize(
    ("environ", "per_worker"),
    [
        ({}, 3),  # gunicorn's 4 threads, one left free
        ({"GUNICORN_THREADS": "2"}, 1),
        ({"GUNICORN_THREADS": "1"}, 1),
        ({"GUNICORN_THREADS": "8", "KIT_REQUESTS_PER_WORKER": "5"}, 5),
    ],
)
def test_kit_requests_per_worker_leave_a_thread_free(tmp_path, environ, per_worker):
    config = load_config(tmp_path, environ=environ)
    assert config["KIT_REQUESTS_PER_WORKER"] == per_worker
    assert config["KIT_REQUESTS_PER_USER"] == 2


@pytest.mark.parametrize(
    "name", ["KIT_REQUESTS_PER_WORKER", "KIT_REQUESTS_PER_USER", "WEB_CONCURRENCY"]
)
@pytest.mark.parametrize("bad", ["0", "-1", "many"])
def test_counts_must_be_whole_numbers(tmp_path, name, bad):
    with pytest.raises(ConfigError, match=f"{name} must be a whole number"):
        load_config(tmp_path, environ={name: bad})


def test_several_production_workers_need_redis(tmp_path):
    config = load_config(tmp_path, environ=PRODUCTION_AT)
    with pytest.raises(ConfigError) as refused:
        require_shared_store(config, workers=3)
    message = str(refused.value)
    assert "without REDIS_URL" in message
    assert "3 times its attempts" in message
    assert "WEB_CONCURRENCY=1" in message
    require_shared_store(config, workers=1)  # one worker: its own counts are right
    with_redis = load_config(
        tmp_path, environ={**PRODUCTION_AT, "REDIS_URL": "redis://r"}
    )
    require_shared_store(with_redis, workers=3)
    require_shared_store(load_config(tmp_path, environ={}), workers=3)  # development
