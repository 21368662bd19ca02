"""The creator's pages: what their connected Kit accounts look like."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.dashboard import bp
from app.dashboard.forms import DisconnectForm
from app.errors import problem
from app.extensions import db
from app.kit import api, tokens
from app.kit.errors import KitError, KitUnavailable, NeedsReconnect
from app.kit.tokens import call_with_token
from app.models import KitConnection


@dataclass
class AccountCard:
    connection: KitConnection
    account: dict[str, Any] | None = None
    problem: str | None = None  # reconnect | disconnected | unavailable | error


def _load_card(connection: KitConnection) -> AccountCard:
    card = AccountCard(connection)
    if connection.status == KitConnection.REVOKED:
        card.problem = "disconnected"
        return card
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


def _own_connection(connection_id: int) -> KitConnection:
    """The signed-in user's connection, or 404 (also for another user's)."""
    return db.one_or_404(
        select(KitConnection).where(
            KitConnection.id == connection_id,
            KitConnection.user_id == current_user.id,
        )
    )


@bp.get("/connections/<int:connection_id>")
@login_required
def connection(connection_id: int) -> str:
    connection = _own_connection(connection_id)
    events = db.session.scalars(connection.events.select().limit(50)).all()
    return render_template(
        "dashboard/connection.html",
        connection=connection,
        events=events,
        form=DisconnectForm(),
    )


@bp.post("/connections/<int:connection_id>/disconnect")
@login_required
def disconnect(connection_id: int) -> Response | tuple[str, int]:
    connection = _own_connection(connection_id)
    if not DisconnectForm().validate_on_submit():
        return redirect(url_for("dashboard.connection", connection_id=connection.id))
    label = connection.label
    try:
        tokens.disconnect(connection.id, current_app.extensions["kit_settings"])
    except KitUnavailable:
        return problem(
            503,
            "Kit is unavailable right now",
            "We could not tell Kit to remove the app's access, so nothing was "
            "changed. Try again in a moment.",
            [("Back", url_for("dashboard.connection", connection_id=connection.id))],
        )
    flash(f"Disconnected {label}. The app no longer has access to it.", "success")
    return redirect(url_for("dashboard.index"))
