"""The creator's home, overview and connection pages."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.auth.access import own_connection
from app.dashboard import bp, data
from app.dashboard.chart import HEIGHT, WIDTH, growth_bars
from app.dashboard.common import kit_page, selected_connection
from app.dashboard.forms import RefreshForm


@bp.get("/")
def home() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    return render_template("dashboard/home.html")


@bp.get("/dashboard")
@login_required
def index() -> tuple[str, int]:
    """The overview of the selected Kit account (or how to connect one)."""
    connection = selected_connection()
    if connection is None:
        return render_template("dashboard/empty.html"), 200
    return overview(connection.id)


@bp.get("/c/<int:connection_id>")
@login_required
def overview(connection_id: int) -> tuple[str, int]:
    connection = own_connection(connection_id)

    def load() -> dict[str, Any]:
        result = data.overview(connection.id)
        result["bars"], result["baseline"] = growth_bars(result["daily"])
        result["chart_size"] = (WIDTH, HEIGHT)
        return result

    return kit_page(
        connection, "dashboard/overview.html", load, refresh_form=RefreshForm()
    )


@bp.post("/c/<int:connection_id>/refresh")
@login_required
def refresh(connection_id: int) -> Response:
    """The visible "Refresh" control: forget this connection's cached Kit data."""
    connection = own_connection(connection_id)
    if RefreshForm().validate_on_submit():
        data.invalidate(connection.id)
        flash("Fresh data from Kit.", "info")
    return redirect(url_for("dashboard.overview", connection_id=connection.id))


@bp.get("/accounts")
@login_required
def accounts() -> str:
    return render_template(
        "dashboard/accounts.html", connections=current_user.connections
    )
