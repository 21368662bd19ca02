"""The App settings page's "Links and products you follow": a creator follows
a link's clicks or a product's purchases through Kit's legacy webhooks, or
stops (`app.webhooks.legacy_follow`; `flask kit webhooks legacy follow` does
the same from a shell).

A follow or unfollow only writes the row, then queues `register_legacy_rules`
(`app.jobs.enqueue`): with workers the request does not wait on Kit, and in
any case no transaction is open while Kit answers. Kit down, slow, or the
broker unreachable: the row is kept, the page says it is waiting to be set
up at Kit, and the hourly `check_webhook_endpoints` queues the registration
again.
"""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, url_for
from flask_login import login_required

from app.auth.access import own_connection
from app.errors import problem
from app.extensions import limiter
from app.jobs import enqueue
from app.models import KitConnection, LegacyWebhook
from app.settings import bp
from app.settings.forms import FollowForm, UnfollowForm
from app.settings.views import render_page
from app.webhooks.legacy_follow import (
    KINDS,
    BadRule,
    Followed,
    follow,
    status_of,
    unfollow,
)
from app.webhooks.legacy_rules import register_legacy_rules

# Each follow or unfollow costs a registration: a few Kit calls. As the page's
# download, per client address.
FOLLOW_LIMIT = "10 per minute"


def _back(connection: KitConnection) -> str:
    # The top of the page, where the flash says what came of it.
    return url_for("settings.page", connection=connection.id)


def _register(connection_id: int) -> None:
    enqueue(
        register_legacy_rules,
        connection_id,
        about=f"the legacy webhook rules of connection {connection_id}",
    )


def _what(kind: str, param: str) -> str:
    return f"the link {param}" if kind == "link" else f"product {param}"


def _after_follow(item: Followed) -> tuple[str, str]:
    """The flash after a follow: what the registration did, if it ran already
    (no broker: in the request), else that it is on its way."""
    what = _what(item.kind, item.param)
    each = "click" if item.kind == "link" else "purchase"
    if item.status == LegacyWebhook.ACTIVE:
        return f"Following {what}: Kit now tells this app about each {each}.", "success"
    if item.refused:
        return (
            f"Kit refused {what}. Check it in Kit, then unfollow it here and follow "
            "the right one.",
            "error",
        )
    if item.status == LegacyWebhook.UNAVAILABLE:
        return (
            f"Following {what}, but Kit has not enabled webhooks for this account. "
            "The app asks Kit again every hour.",
            "warning",
        )
    if item.status == LegacyWebhook.FAILED:
        return (
            f"Following {what}, but Kit did not answer. It is waiting to be set up "
            "at Kit: the app tries again within the hour.",
            "warning",
        )
    return (
        f"Following {what}. It is waiting to be set up at Kit, which takes a moment.",
        "info",
    )


@bp.post("/kit/settings/<id:connection_id>/follow")
@login_required
@limiter.limit(FOLLOW_LIMIT)
def follow_link_or_product(connection_id: int) -> Response | tuple[Any, int]:
    connection = own_connection(connection_id)
    if connection.status != KitConnection.ACTIVE:
        return problem(
            409,
            "Reconnect first",
            f"{connection.label} is not connected: this app cannot reach Kit for "
            "it. Reconnect it, then follow links and products.",
            [("App settings", _back(connection))],
        )
    form = FollowForm()
    if form.validate_on_submit():
        try:
            row = follow(
                connection.id, KINDS[form.what.data], form.target.data, new_only=True
            )
        except BadRule as bad:
            form.target.errors = [f"{str(bad).capitalize()}."]
        else:
            rule_id = row.id
            _register(connection.id)
            item = status_of(connection.id, rule_id)
            if item is not None:  # (else unfollowed in another tab meanwhile)
                flash(*_after_follow(item))
            return redirect(_back(connection))
    return render_page(connection, form), 400


@bp.post("/kit/settings/<id:connection_id>/unfollow")
@login_required
@limiter.limit(FOLLOW_LIMIT)
def unfollow_link_or_product(connection_id: int) -> Response | tuple[Any, int]:
    connection = own_connection(connection_id)
    form = UnfollowForm()
    if not form.validate_on_submit():
        return problem(
            400,
            "Nothing to unfollow",
            "That form names no link or product. Reload App settings and try again.",
            [("App settings", _back(connection))],
        )
    item = status_of(connection.id, int(form.rule.data))
    if item is None or not unfollow(connection.id, item.id):
        # Unfollowed already (a second click, another tab).
        flash("That link or product was not followed any more.", "info")
        return redirect(_back(connection))
    what = _what(item.kind, item.param)
    if connection.status == KitConnection.ACTIVE:
        _register(connection.id)
        flash(
            f"No longer following {what}. This app keeps nothing more from it; its "
            "rule at Kit is deleted now, or by the hourly check if Kit does not "
            "answer.",
            "success",
        )
    else:  # its rule at Kit went with the disconnect, or goes at the reconnect
        flash(f"No longer following {what}.", "success")
    return redirect(_back(connection))
