"""Install with plugin access, and uninstall, as Kit runs them.

Install: the App Store's button sends the creator to the app's plugin
authorize URL first; the app sends them back to Kit's redirect URI
(``/apps/install``, or ``/apps``) with a code, which Kit exchanges at once;
then the usual API install runs (``store.install``), and the pair is filed
under the Kit account the creator chose on the consent screen when the
journey ends on "installed". Uninstall: Kit POSTs the app's revoke URL.
"""

from __future__ import annotations

import secrets

from flask import (
    Blueprint,
    Response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from ..error_page import error_page
from ..state import SandboxState, current_state
from ..urls import with_query
from . import tokens

bp = Blueprint("plugins", __name__)

STATE_KEY = "plugin_oauth_state"
PENDING_KEY = "plugin_pending"
RETURN_TO_KEY = "plugin_return_to"  # an install link's return_to, across the plugin hop
ACCOUNT_KEY = "kit_account_id"  # set by the consent screen (oauth/views.py)


def plugin_authorize_redirect(return_to: str | None = None) -> Response:
    """Install's first hop for an app with plugin access (`return_to`: where
    an install started on the app's site ends, kept for the second hop)."""
    config = current_state().config
    state = secrets.token_urlsafe(16)
    session[STATE_KEY] = state
    session[RETURN_TO_KEY] = return_to
    assert config.plugin_authorize_url is not None
    return redirect(
        with_query(
            config.plugin_authorize_url,
            {
                "client_id": config.plugin_client_id,
                "response_type": "code",
                "redirect_uri": url_for("plugins.installing", _external=True),
                "state": state,
            },
        )
    )


@bp.get("/apps/install")
@bp.get("/apps", endpoint="installing_apps")
def installing() -> Response | tuple[str, int]:
    """Kit's plugin redirect URI: exchange the code, then the API install."""
    state = current_state()
    expected = session.pop(STATE_KEY, None)
    if not expected or request.args.get("state") != expected:
        return error_page(
            "This install link has expired",
            "Start the install again from the App Store page.",
            400,
        )
    if error := request.args.get("error"):
        return error_page(
            "The install was cancelled",
            f"The app answered {error[:40]}. Nothing was installed.",
            400,
        )
    try:
        pair = tokens.exchange(
            state.config, request.args.get("code", ""), request.base_url
        )
    except tokens.PluginOAuthError as failed:
        return error_page("The app refused the install", str(failed), 502)
    pending = secrets.token_urlsafe(16)
    with state.lock:
        state.plugin_pending[pending] = pair
    session[PENDING_KEY] = pending
    return redirect(
        url_for(
            "store.install",
            app_id=state.config.app_id,
            plugin="done",
            return_to=session.pop(RETURN_TO_KEY, None),
        )
    )


def finish_install(state: SandboxState) -> None:
    """The journey ended on "installed": file the pair under the account the
    creator chose on the consent screen."""
    pending = session.pop(PENDING_KEY, None)
    account_id = session.get(ACCOUNT_KEY)
    with state.lock:
        pair = state.plugin_pending.pop(pending, None) if pending else None
        if pair is not None and isinstance(account_id, int):
            state.plugin_pairs[account_id] = pair


@bp.post("/apps/<int:app_id>/uninstall")
def uninstall(app_id: int) -> Response | tuple[str, int] | str:
    """ "Uninstall app": Kit's revoke call to the app, then the API grants end."""
    state = current_state()
    account_id = request.form.get("account_id", type=int) or session.get(ACCOUNT_KEY)
    if app_id != state.config.app_id or not isinstance(account_id, int):
        return error_page("Nothing to uninstall", "Install the app first.", 400)
    status = tokens.uninstall(state, account_id)
    return render_template(
        "sandbox/uninstalled.html", config=state.config, revoke_status=status
    )
