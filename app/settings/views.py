"""`/kit/settings`: the page Kit links a creator to, and its actions. Thin
views: each checks the connection is the signed-in user's
(`own_connection`: 404 for anyone else's), calls one function of
`app.creator_data`, and renders, streams or redirects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required

from app.auth.access import own_connection, selected_connection
from app.creator_data import export
from app.creator_data.erase import delete_kit_data
from app.creator_data.kept import Periods, kept
from app.creator_data.kinds import kinds, set_not_kept
from app.errors import problem
from app.extensions import limiter
from app.models import KitConnection
from app.settings import bp
from app.settings.forms import (
    DeleteDataForm,
    EventKindsForm,
    FollowForm,
    UnfollowForm,
)
from app.webhooks.legacy_follow import followed

FORMATS = {
    "json": ("application/json", "json", export.json_chunks),
    "csv": ("application/zip", "zip", export.csv_zip_chunks),
}


@bp.app_context_processor
def kept_periods() -> dict[str, Periods]:
    """How long each kind of data is kept, for every page that says so
    (the notice before consent is on the sign-up and connect pages)."""
    return {"kept_periods": Periods.of(current_app.config)}


def _count(number: int, word: str) -> str:
    return f"{number:,} {word}{'' if number == 1 else 's'}"


def _page_of(connection: KitConnection) -> str:
    return url_for("settings.page", connection=connection.id)


@bp.get("/kit/settings")
@login_required
def page() -> str | tuple[Any, int]:
    """`?connection=<id>` picks one of the user's connections; without it, the
    one they last looked at."""
    wanted = request.args.get("connection")
    if wanted is None:
        connection = selected_connection()
    elif wanted.isdigit() and len(wanted) <= 12:
        connection = own_connection(int(wanted))
    else:
        return problem(
            404,
            "No such Kit account",
            "That link names no Kit account of yours.",
            [("App settings", url_for("settings.page"))],
        )
    if connection is None:
        return render_template("settings/page.html", connection=None)
    return render_page(connection)


def render_page(
    connection: KitConnection, follow_form: FollowForm | None = None
) -> str:
    """The page for `connection`; `follow_form` with its errors after a
    refused follow (`following.py`)."""
    return render_template(
        "settings/page.html",
        connection=connection,
        connections=current_user.connections,
        kept=kept(connection.id),
        kinds=kinds(connection),
        kinds_form=EventKindsForm(),
        followed=followed(connection.id),
        follow_form=follow_form or FollowForm(formdata=None),
        unfollow_form=UnfollowForm(formdata=None),
    )


@bp.post("/kit/settings/<id:connection_id>/events")
@login_required
def event_kinds(connection_id: int) -> Response:
    connection = own_connection(connection_id)
    back = _page_of(connection)
    if not EventKindsForm().validate_on_submit():
        return redirect(back)
    subscribed = {kind.type for kind in kinds(connection)}
    keep = set(request.form.getlist("keep")) & subscribed
    deleted = set_not_kept(connection.id, subscribed - keep)
    note = (
        f" Deleted {_count(deleted, 'kept event')} of those kinds." if deleted else ""
    )
    flash(
        f"Saved: {len(keep)} of {len(subscribed)} kinds of events are kept for "
        f"{connection.label}.{note}",
        "success",
    )
    return redirect(back)


@bp.get("/kit/settings/<id:connection_id>/export")
@login_required
@limiter.limit("10 per minute")
def download(connection_id: int) -> Response | tuple[Any, int]:
    """`?format=json` (one document) or `?format=csv` (a zip of CSV files)."""
    connection = own_connection(connection_id)
    chosen = FORMATS.get(request.args.get("format", "json"))
    if chosen is None:
        return problem(
            400,
            "Unknown format",
            "Your data can be downloaded as JSON or as CSV files.",
            [("App settings", _page_of(connection))],
        )
    mimetype, extension, chunks = chosen
    day = datetime.now(UTC).date().isoformat()
    name = f"kit-data-{connection.kit_account_id}-{day}.{extension}"
    return Response(
        stream_with_context(chunks(connection.id)),
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/kit/settings/<id:connection_id>/delete")
@login_required
def confirm_delete(connection_id: int) -> str:
    """Ask first: say what goes and what stays."""
    connection = own_connection(connection_id)
    return render_template(
        "settings/delete.html",
        connection=connection,
        kept=kept(connection.id),
        form=DeleteDataForm(),
    )


@bp.post("/kit/settings/<id:connection_id>/delete")
@login_required
def delete(connection_id: int) -> Response:
    connection = own_connection(connection_id)
    back = _page_of(connection)
    if not DeleteDataForm().validate_on_submit():
        return redirect(back)
    erased = delete_kit_data(connection.id, "Deleted by you on the settings page")
    flash(
        f"Deleted the data kept for {connection.label}: "
        f"{_count(erased.events, 'event')} and "
        f"{_count(erased.days, 'day')} of figures.",
        "success",
    )
    return redirect(back)
