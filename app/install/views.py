"""The install blueprint: Kit's Authorization URL and redirect URI (callback),
and what a creator does with a connection afterwards: its page (history,
reconnect) and disconnect. Reconnecting is installing again: `start` with the
connection's label."""

from __future__ import annotations

import hmac
import re
from typing import Any
from urllib.parse import urlsplit

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.auth.access import own_connection, remember_selected
from app.creator_data.agreement import has_agreed
from app.errors import problem
from app.extensions import db, limiter
from app.install import bp
from app.install.before_kit import ask_first
from app.install.disconnect import disconnect_connection
from app.install.failures import InstallFailed, failure_page
from app.install.flow import (
    begin_attempt,
    consume_attempt,
    finish_install,
    was_reconnect,
)
from app.install.forms import DisconnectForm
from app.install.install_link import take_intent, through_kit
from app.kit import oauth
from app.kit.errors import KitUnavailable
from app.kit.settings import KitSettings
from app.models import KitConnection
from app.plugins.links import link_pending_grant
from app.redirects import is_kit_url
from app.security import OAUTH_LIMIT

SESSION_STATES = "kit_oauth_states"
# state -> the connection a "Reconnect" / "Connect again" link meant to restore
SESSION_RECONNECTS = "kit_oauth_reconnects"
MAX_PENDING = 5  # attempts one browser may have open at once (several tabs)
# `oauth.new_state()` makes 43 letters and digits: anything else (non-ASCII,
# NUL, a page of text) was not made here, and is refused before it is
# compared or hashed.
STATE = re.compile(r"[A-Za-z0-9_-]{16,128}")


def _settings() -> KitSettings:
    return current_app.extensions["kit_settings"]


def _redirect_uri() -> str:
    return current_app.config["KIT_REDIRECT_URI"] or url_for(
        "install.callback", _external=True
    )


@bp.get("/kit/oauth")
@limiter.limit(OAUTH_LIMIT)
def start() -> Response | tuple[Any, int]:
    """The Authorization URL registered at Kit: `?redirect=<kit url>[&tenant_name=]`."""
    return_to = request.args.get("redirect")
    tenant_name = (request.args.get("tenant_name") or "").strip()
    if "redirect" in request.args and not is_kit_url(
        return_to, current_app.config["KIT_APP_URL"]
    ):
        return failure_page(InstallFailed("redirect_not_kit"))
    if len(tenant_name) > 255 or not tenant_name.isprintable():
        return failure_page(InstallFailed("bad_tenant_name"))
    if other_host := _canonical_host_redirect():
        return redirect(other_host)
    if current_user.is_authenticated and not has_agreed(current_user):
        return ask_first()  # once, before any install goes on to Kit
    reconnect = request.args.get("reconnect", "")
    if "redirect" not in request.args and current_app.config["KIT_APP_ID"]:
        meant = _reconnecting(reconnect) if current_user.is_authenticated else None
        return through_kit(tenant_name, meant)
    if "redirect" in request.args and not (tenant_name or reconnect):
        # Back from Kit's install link: what the creator asked for here.
        tenant_name, kept = take_intent(
            session, current_app.config["OAUTH_ATTEMPT_TTL"]
        )
        reconnect = str(kept or "")
    if not current_user.is_authenticated:
        flash("Create an account, or sign in, to connect your Kit account.", "info")
        return redirect(url_for("auth.signup", next=request.full_path))

    state, verifier = begin_attempt(current_user, return_to, tenant_name)
    _remember_state(state, _reconnecting(reconnect))
    return redirect(
        oauth.authorize_url(
            _settings(),
            redirect_uri=_redirect_uri(),
            state=state,
            code_verifier=verifier,
            tenant_name=tenant_name,
        )
    )


@bp.get("/kit/oauth/callback")
@limiter.limit(OAUTH_LIMIT)
def callback() -> Response | tuple[Any, int]:
    """The redirect URI registered at Kit: `?code=...&state=...` or `?error=...`."""
    state = request.args.get("state", "")
    try:
        if not state:
            raise InstallFailed("no_state")
        if not STATE.fullmatch(state):
            raise InstallFailed("unknown_state")
        if not current_user.is_authenticated:
            raise InstallFailed("signed_out")
        meant = _take_reconnect(state)
        attempt = consume_attempt(
            state,
            current_user,
            current_app.config["OAUTH_ATTEMPT_TTL"],
            started_in_this_browser=_take_state_from_session(state),
        )
        connection = finish_install(
            current_user, attempt, request.args, _settings(), _redirect_uri()
        )
    except InstallFailed as failed:
        return failure_page(failed)
    # An install with plugin access: Kit's plugin OAuth came first, in this
    # browser; its grant now serves this connection.
    link_pending_grant(current_user, connection)
    # The dashboard opens the account just connected, now (no Kit `redirect`)
    # or whenever the creator comes back from Kit.
    remember_selected(connection)
    other = _other_account(meant, connection)
    if other is not None:
        flash(_landed_elsewhere(other, connection), "warning")
    else:
        done = "Reconnected" if was_reconnect(connection, attempt) else "Connected"
        flash(f"{done} {connection.label}.", "success")
    return redirect(attempt.return_to or url_for("dashboard.index"))


@bp.get("/connections/<id:connection_id>")
@login_required
def connection(connection_id: int) -> str:
    """A connection's details and history, with reconnect and disconnect."""
    connection = own_connection(connection_id)
    events = db.session.scalars(connection.events.select().limit(50)).all()
    return render_template(
        "install/connection.html",
        connection=connection,
        events=events,
        form=DisconnectForm(),
    )


@bp.get("/connections/<id:connection_id>/disconnect")
@login_required
def confirm_disconnect(connection_id: int) -> str | Response:
    """Ask first: name the account and say what disconnecting does at Kit."""
    connection = own_connection(connection_id)
    if connection.status == KitConnection.REVOKED:
        flash(f"{connection.label} is already disconnected.", "info")
        return redirect(url_for("install.connection", connection_id=connection.id))
    return render_template(
        "install/disconnect.html", connection=connection, form=DisconnectForm()
    )


@bp.post("/connections/<id:connection_id>/disconnect")
@login_required
def disconnect(connection_id: int) -> Response | tuple[Any, int]:
    connection = own_connection(connection_id)
    back = url_for("install.connection", connection_id=connection.id)
    if not DisconnectForm().validate_on_submit():
        return redirect(back)
    label = connection.label
    try:
        disconnect_connection(connection, _settings())
    except KitUnavailable:
        return problem(
            503,
            "Kit is unavailable right now",
            "We could not tell Kit to remove the app's access, so nothing was "
            "changed. Try again in a moment.",
            [("Back", back)],
        )
    flash(f"Disconnected {label}. The app no longer has access to it.", "success")
    return redirect(url_for("dashboard.accounts"))


# What a creator reads for each stored status: `revoked` is data, the word is
# "Disconnected" everywhere (badge, switcher, banner, flash, history).
STATUS_WORDS = {
    KitConnection.ACTIVE: "Active",
    KitConnection.NEEDS_RECONNECT: "Reconnect needed",
    KitConnection.REVOKED: "Disconnected",
}


@bp.app_template_filter("status_word")
def status_word(status: str) -> str:
    return STATUS_WORDS.get(status, status.replace("_", " ").capitalize())


def _canonical_host_redirect() -> str | None:
    """In development, move to the redirect URI's host before starting.

    Cookies are per host: a flow started on localhost:5000 that comes back to
    127.0.0.1:5000 finds no session and fails its state check.
    """
    configured = current_app.config["KIT_REDIRECT_URI"]
    if not configured or current_app.config["APP_ENV"] != "development":
        return None
    target = urlsplit(configured)
    if target.netloc == request.host:
        return None
    return f"{target.scheme}://{target.netloc}{request.full_path}"


def _remember_state(state: str, reconnect: int | None = None) -> None:
    """This browser started the attempt: keep its state (a few, for tabs),
    and which connection it means to restore, if it is a reconnect."""
    kept = session.get(SESSION_STATES, [])[-(MAX_PENDING - 1) :]
    session[SESSION_STATES] = [*kept, state]
    reconnects = session.get(SESSION_RECONNECTS)
    reconnects = reconnects if isinstance(reconnects, dict) else {}
    reconnects = {k: v for k, v in reconnects.items() if k in kept}
    if reconnect is not None:
        reconnects[state] = reconnect
    session[SESSION_RECONNECTS] = reconnects


def _reconnecting(wanted: str) -> int | None:
    """The creator's own connection named by `reconnect=<id>` (the links
    "Reconnect" and "Connect again" carry it), else None."""
    if not wanted.isdigit() or len(wanted) > 12:
        return None
    return next((c.id for c in current_user.connections if c.id == int(wanted)), None)


def _take_reconnect(state: str) -> int | None:
    reconnects = session.get(SESSION_RECONNECTS)
    if not isinstance(reconnects, dict) or state not in reconnects:
        return None
    meant = reconnects.pop(state)
    session[SESSION_RECONNECTS] = reconnects
    return meant if isinstance(meant, int) else None


def _other_account(
    meant: int | None, connection: KitConnection
) -> KitConnection | None:
    """The connection a reconnect meant to restore, when Kit's consent was
    given for another Kit account (the creator was signed in to Kit as it):
    that one stays as it was."""
    if meant is None or meant == connection.id:
        return None
    return db.session.get(KitConnection, meant)


def _landed_elsewhere(meant: KitConnection, connection: KitConnection) -> str:
    still = (
        "is still disconnected"
        if meant.status == KitConnection.REVOKED
        else "still needs reconnecting"
        if meant.status == KitConnection.NEEDS_RECONNECT
        else "is unchanged"
    )
    return (
        f"Kit signed you in as {connection.label}, not {meant.label}: "
        f"{connection.label} is connected, and {meant.label} {still}. To "
        f"reconnect {meant.label}, sign in to Kit as that account, then reconnect."
    )


def _take_state_from_session(state: str) -> bool:
    """Whether this browser started the attempt; forgets the state either way."""
    pending = [s for s in session.get(SESSION_STATES, []) if isinstance(s, str)]
    # Bytes: compare_digest refuses a str that is not ASCII.
    found = any(
        hmac.compare_digest(state.encode(), candidate.encode()) for candidate in pending
    )
    session[SESSION_STATES] = [s for s in pending if s != state]
    return found
