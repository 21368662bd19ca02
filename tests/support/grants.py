"""Grants at Kit (read over the sandbox's control API and token endpoint),
and the retired pairs waiting to be revoked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import requests
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import RetiredGrant
from tests.support.rows import update_rows

if TYPE_CHECKING:
    from kit_sandbox import SandboxServer


def live_grants(kit: SandboxServer, account_id: int) -> list[dict[str, Any]]:
    """The account's token pairs that Kit has not revoked (its control API)."""
    answer = requests.get(f"{kit.url}/_sandbox/grants", timeout=5)
    answer.raise_for_status()
    return list(answer.json()["accounts"].get(str(account_id), []))


def reads_account(kit: SandboxServer, access_token: str) -> int:
    """The status Kit answers `GET /v4/account` with this access token."""
    return requests.get(
        f"{kit.url}/v4/account",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=5,
    ).status_code


def refresh_at_kit(kit: SandboxServer, refresh_token: str) -> requests.Response:
    """Spend `refresh_token` at Kit's token endpoint, as the app would."""
    form = {
        "grant_type": "refresh_token",
        "client_id": kit.config.client_id,
        "refresh_token": refresh_token,
    }
    return requests.post(f"{kit.url}/v4/oauth/token", data=form, timeout=5)


def retired_grants(app: Flask) -> list[RetiredGrant]:
    """The pairs waiting to be revoked, oldest first, tokens decrypted."""
    with app.app_context():
        rows = db.session.scalars(select(RetiredGrant).order_by(RetiredGrant.id))
        return [row for row in rows if (row.access_token, row.refresh_token)]


def set_retired(app: Flask, retired_id: int | None = None, **values: object) -> None:
    """Write `values` into the retired pair `retired_id` (all by default), e.g.
    `next_attempt_at` in the past to make it due now."""
    update_rows(app, RetiredGrant, retired_id, **values)


def spent_refresh_tokens(kit: SandboxServer) -> list[str]:
    """The refresh tokens sent to the sandbox's token endpoint, in order."""
    return [
        entry["params"]["refresh_token"]
        for entry in kit.state.token_requests
        if entry["grant_type"] == "refresh_token"
    ]
