"""Every route of the dashboard: the creator's home, the overview of a Kit
account, and the pages over its lists (subscribers, tags, forms, sequences,
broadcasts), and the activity feed of the events Kit delivered.

Each list page is the worked example of one Kit call: cursor pagination from
the query string, writes as POST + CSRF, Kit's 422 messages next to the field.
What the pages show comes from `data` (the overview from `overview`); how a
page renders when Kit cannot answer, from `render` (one failed call of
several blanks its own panel: `kit_cache.answers(optional=...)`). A request that
calls Kit (not one served from the cache) first takes one of the process's
slots for requests that wait on Kit (`capacity`, from `data`), waiting a
bounded time for one; with Kit slow, a 503 "try again".
The activity pages read only the app's own tables (`app.webhooks.feed`): no
call to Kit, no slot.
"""

from __future__ import annotations

from typing import Any

from flask import (
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app import kit_cache
from app.auth.access import own_connection, selected_connection
from app.dashboard import (
    bp,
    broadcast_stats,
    data,
    memberships,
    overview_cache,
    preview,
    query,
)
from app.dashboard.forms import ReloadForm
from app.dashboard.memberships import Kind
from app.dashboard.overview_page import overview_page
from app.dashboard.period import DEFAULT_PERIOD, period_days
from app.dashboard.render import (
    kit_page,
    missing,
    stored_page,
)
from app.kit.errors import KitError, KitNotFound
from app.models import KitConnection
from app.webhooks import feed


@bp.get("/")
def home() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    return render_template("dashboard/home.html")


@bp.get("/dashboard")
@login_required
def index() -> tuple[str, int] | Response:
    """The overview of the selected Kit account (or how to connect one)."""
    endpoints = overview_cache.own_connections()
    connection = selected_connection()
    if connection is None:
        return render_template("dashboard/empty.html"), 200
    return overview_page(connection, endpoints[connection.id])


@bp.get("/accounts")
@login_required
def accounts() -> str:
    return render_template(
        "dashboard/accounts.html", connections=current_user.connections
    )


@bp.get("/c/<id:connection_id>")
@login_required
def overview(connection_id: int) -> tuple[str, int] | Response:
    # The user's own connections, read once: the ownership check (another
    # user's id is a 404, before any cache or Kit) and the switcher.
    endpoints = overview_cache.own_connections()
    if connection_id not in endpoints:
        abort(404)
    [connection] = [c for c in current_user.connections if c.id == connection_id]
    return overview_page(connection, endpoints[connection_id])


@bp.post("/c/<id:connection_id>/reload")
@login_required
def reload(connection_id: int) -> Response:
    """The visible "Reload" control: forget this connection's cached Kit data
    (the finished days stored in the database stay: they no longer change)."""
    connection = own_connection(connection_id)
    if ReloadForm().validate_on_submit():
        kit_cache.invalidate(connection.id)
        flash("Reloaded from Kit.", "info")
    days = period_days(request.args.get("period"))
    return redirect(
        url_for(
            "dashboard.overview",
            connection_id=connection.id,
            period=None if days == DEFAULT_PERIOD else days,
        )
    )


# The subscribers and tags pages are in `audience`.


# --- forms, sequences, broadcasts ---------------------------------------------
# A form's and a sequence's own page (its subscribers) are in `lists`.

#: Per kind: the list's page of items.
FETCH = {"forms": data.forms, "sequences": data.sequences}


def _list_page(connection_id: int, kind: Kind) -> tuple[str, int]:
    connection, cursor = own_connection(connection_id), query.cursor()

    def load() -> dict[str, Any]:
        page = FETCH[kind](connection.id, cursor)
        ids = [item.id for item in page.items]
        return {"page": page, "counts": memberships.counts(connection.id, kind, ids)}

    return kit_page(
        connection,
        f"dashboard/{kind}.html",
        load,
        pager_args=query.pager_args(connection),
    )


@bp.get("/c/<id:connection_id>/forms")
@login_required
def forms(connection_id: int) -> tuple[str, int]:
    return _list_page(connection_id, "forms")


@bp.get("/c/<id:connection_id>/sequences")
@login_required
def sequences(connection_id: int) -> tuple[str, int]:
    return _list_page(connection_id, "sequences")


@bp.get("/c/<id:connection_id>/broadcasts")
@login_required
def broadcasts(connection_id: int) -> tuple[str, int]:
    connection, cursor = own_connection(connection_id), query.cursor()

    def load() -> dict[str, Any]:
        page, stats = broadcast_stats.broadcasts_with_stats(connection.id, cursor)
        return {"page": page, "stats": stats}

    return kit_page(
        connection,
        "dashboard/broadcasts.html",
        load,
        pager_args=query.pager_args(connection),
    )


@bp.get("/c/<id:connection_id>/broadcasts/<id:broadcast_id>")
@login_required
def broadcast(connection_id: int, broadcast_id: int) -> tuple[str, int]:
    """A broadcast with its figures, link clicks and a safe preview of its
    content (`preview`); `?images=1` is the creator's consent to its images."""
    connection = own_connection(connection_id)
    images = request.args.get("images") == "1"

    def load() -> dict[str, Any]:
        found = _broadcast_or_404(connection, broadcast_id)
        held = preview.sanitise(found.broadcast.content, images).held_back
        return {
            "broadcast": found.broadcast,
            "stats": found.stats,
            "clicks": found.clicks,
            "sent": found.broadcast.status in broadcast_stats.SENT,
            "held_back": held,
        }

    return kit_page(connection, "dashboard/broadcast.html", load, images=images)


@bp.get("/c/<id:connection_id>/broadcasts/<id:broadcast_id>/preview")
@login_required
def broadcast_preview(connection_id: int, broadcast_id: int) -> Response:
    """The broadcast's content alone, sanitised, under a policy of its own:
    the page's <iframe sandbox> shows it (`app.dashboard.preview`)."""
    connection = own_connection(connection_id)
    images = request.args.get("images") == "1"
    try:
        content = _broadcast_or_404(connection, broadcast_id).broadcast.content
        body, status = preview.page(content, images), 200
    except KitError:
        body, status = (
            preview.page("<p>The preview is unavailable right now.</p>", False),
            503,
        )
    response = make_response(body, status)
    response.headers["Content-Security-Policy"] = preview.policy(images)
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _broadcast_or_404(
    connection: KitConnection, broadcast_id: int
) -> broadcast_stats.BroadcastPage:
    try:
        return broadcast_stats.broadcast(connection.id, broadcast_id)
    except KitNotFound:
        missing(
            f"No broadcast #{broadcast_id} in this Kit account",
            "All broadcasts",
            url_for("dashboard.broadcasts", connection_id=connection.id),
        )


# --- activity -----------------------------------------------------------------


@bp.get("/c/<id:connection_id>/activity")
@login_required
def activity(connection_id: int) -> tuple[str, int]:
    """The events Kit delivered, newest first; `older` pages back, `type`
    filters. Complete without JavaScript; static/js/activity.js adds new
    events at the top as they arrive."""
    connection = own_connection(connection_id)
    wanted = request.args.get("type", "")

    def load() -> dict[str, Any]:
        kind = feed.event_type(wanted)
        return {
            "feed": feed.page(connection.id, request.args.get("older"), kind),
            "type_filter": kind or "",
            "first_page": not request.args.get("older"),
        }

    return stored_page(
        connection,
        "dashboard/activity.html",
        load,
        filters=feed.FILTERS,
        event_source=feed.source(connection.id),
    )


@bp.get("/c/<id:connection_id>/activity/new")
@login_required
def activity_new(connection_id: int) -> tuple[Response, int]:
    """Events stored after row `after` (and of `type`), for the live feed:
    their rows as HTML the page inserts, and the next `after`."""
    connection = own_connection(connection_id)
    try:
        kind = feed.event_type(request.args.get("type"))
        after = feed.event_id(request.args.get("after"))
    except feed.BadQuery as exc:
        return jsonify(error=str(exc)), 400
    found = feed.newer(connection.id, after, kind)
    response = jsonify(
        count=len(found.entries),
        newest=found.newest_id,
        more=found.more,
        html=render_template(
            "dashboard/_activity_rows.html",
            entries=found.entries,
            zone=connection.zone,
            connection_id=connection.id,
        ),
    )
    response.headers["Cache-Control"] = "no-store"
    return response, 200
