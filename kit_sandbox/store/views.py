"""Kit's App Store, on Kit's web origin: the app's page, its Install button
(a hop to the app's Authorization URL) and the "App installed" page that the
install journey ends on."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from flask import Blueprint, Response, redirect, render_template, request, url_for

from ..error_page import error_page
from ..plugins.views import finish_install, plugin_authorize_redirect
from ..registration import PERMISSION, SandboxConfig
from ..state import current_state
from ..urls import with_query

bp = Blueprint("store", __name__)


@bp.get("/")
def index() -> Response:
    return redirect(url_for("store.app_store", app_id=current_state().config.app_id))


@bp.get("/apps/<int:app_id>")
def app_store(app_id: int) -> Response | tuple[str, int] | str:
    state = current_state()
    config = state.config
    if app_id != config.app_id:
        return _unknown_app(app_id)
    if request.args.get("success") == "true":
        # Kit registers an install only when the flow comes back here.
        with state.lock:
            state.install_completions += 1
        finish_install(state)
        return render_template(
            "sandbox/installed.html",
            config=config,
            dashboard_url=app_dashboard_url(config),
        )
    return render_template(
        "sandbox/app_store.html", config=config, permission=PERMISSION
    )


@bp.get("/apps/<int:app_id>/install")
def install(app_id: int) -> Response | tuple[str, int]:
    """Send the browser to the app's Authorization URL, as Kit's Install does."""
    config = current_state().config
    if app_id != config.app_id:
        return _unknown_app(app_id)
    if config.has_plugins and request.args.get("plugin") != "done":
        return plugin_authorize_redirect()  # plugin OAuth first (KIT_PLATFORM §8)
    back_to_kit = url_for(
        "store.app_store", app_id=app_id, success="true", _external=True
    )
    return redirect(with_query(config.authorization_url, {"redirect": back_to_kit}))


def app_dashboard_url(config: SandboxConfig) -> str:
    """The app's ``/dashboard``, on the origin of its Authorization URL."""
    parts = urlsplit(config.authorization_url)
    return urlunsplit((parts.scheme, parts.netloc, "/dashboard", "", ""))


def _unknown_app(app_id: int) -> tuple[str, int]:
    config = current_state().config
    return error_page(
        "App not found",
        f"This sandbox only has one app, {config.app_name} (id {config.app_id}), "
        f"not {app_id}.",
        404,
    )
