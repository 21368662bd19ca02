"""Configuration: sandbox mode needs nothing; production refuses to start half-set."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from app.config import ConfigError, database_url, load_config

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
