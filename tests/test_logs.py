"""Secrets never reach a log line."""

from __future__ import annotations

import logging

import pytest

from app.logs import RedactSecrets, redact

SECRET = "s3cr3t-VALUE_abc.123"


@pytest.mark.parametrize(
    "line",
    [
        f'"GET /kit/oauth/callback?code={SECRET}&state={SECRET} HTTP/1.1" 302',
        f"grant_type=refresh_token&refresh_token={SECRET}&client_secret={SECRET}",
        f'{{"access_token": "{SECRET}", "refresh_token":"{SECRET}", "expires_in": 1}}',
        f"Authorization: Bearer {SECRET}",
        f"Authorization: Basic {SECRET}",
        f"code_verifier={SECRET}",
        f"POST /v4/oauth/revoke token={SECRET}",
        # Python reprs, as Authlib logs an issued token and its client at DEBUG
        f"Issue token {{'access_token': '{SECRET}', 'refresh_token': '{SECRET}'}}",
        f"to KitClient(client_id='kit', client_secret='{SECRET}')",
    ],
)
def test_redact_removes_secret_values(line):
    assert SECRET not in redact(line)
    assert "[redacted]" in redact(line)


def test_harmless_lines_are_left_alone():
    line = 'GET /dashboard?status=active HTTP/1.1" 200 (zip_code_check=ok)'
    assert redact(line) == line


def test_the_filter_rewrites_records_with_arguments():
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        "%s %s",
        ("GET", f"/cb?code={SECRET}"),
        None,
    )
    assert RedactSecrets().filter(record)
    assert SECRET not in record.getMessage()


def test_the_app_installs_the_filter_on_every_root_handler(app):
    handlers = logging.getLogger().handlers
    assert handlers
    assert all(any(isinstance(f, RedactSecrets) for f in h.filters) for h in handlers)
