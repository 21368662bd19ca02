"""The creator's pages: what their connected Kit accounts look like."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.dashboard import bp
from app.kit import api
from app.kit.errors import KitError, KitUnavailable, NeedsReconnect
from app.kit.tokens import call_with_token
from app.models import KitConnection


@dataclass
class AccountCard:
    connection: KitConnection
    account: dict[str, Any] | None = None
    problem: str | None = None  # "reconnect" | "unavailable" | "error"


def _load_card(connection: KitConnection) -> AccountCard:
    card = AccountCard(connection)
    if connection.status != KitConnection.ACTIVE:
        card.problem = "reconnect"
        return card
    settings = current_app.extensions["kit_settings"]
    try:
        body = call_with_token(
            connection.id,
            settings,
            lambda token: api.get(settings, token, "account"),
            leeway=current_app.config["TOKEN_REFRESH_LEEWAY"],
        )
    except NeedsReconnect:
        card.problem = "reconnect"
    except KitUnavailable:
        card.problem = "unavailable"
    except KitError as exc:
        current_app.logger.warning(
            "Kit call failed for connection %s: %s", connection.id, exc
        )
        card.problem = "error"
    else:
        card.account = body.get("account") if isinstance(body, dict) else None
    return card


@bp.get("/")
def home() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    return render_template("dashboard/home.html")


@bp.get("/dashboard")
@login_required
def index() -> tuple[str, int]:
    cards = [_load_card(c) for c in current_user.connections]
    unavailable = any(card.problem == "unavailable" for card in cards)
    return render_template("dashboard/index.html", cards=cards), (
        503 if unavailable else 200
    )
