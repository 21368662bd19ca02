"""Kit's App Store, on Kit's web origin: the app's page, its Install button
(a hop to the app's Authorization URL), the app's install link for installs
started on the app's own site (``/apps/<id>/install?k_app_id=k_<id>&return_to=``)
and the "App installed" page that the install journey ends on (or, with a
``return_to``, the hop back to the app's page it started from)."""

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
    return_to = request.args.get("return_to")
    if return_to is not None and not return_to_allowed(config, return_to):
        return _return_to_refused(return_to)
    if request.args.get("success") == "true":
        # Kit registers an install only when the flow comes back here.
        with state.lock:
            state.install_completions += 1
        finish_install(state)
        if return_to is not None:
            # An install started on the app's site ends there (Kit's
            # `return_to`); without one, Kit keeps the creator on Kit.
            return redirect(return_to)
        return render_template(
            "sandbox/installed.html",
            config=config,
            dashboard_url=app_dashboard_url(config),
        )
    return render_template(
        "sandbox/app_store.html",
        config=config,
        permission=PERMISSION,
        return_to=return_to,
    )


@bp.get("/apps/<int:app_id>/install")
def install(app_id: int) -> Response | tuple[str, int]:
    """Send the browser to the app's Authorization URL, as Kit's Install does;
    also the app's install link (``?k_app_id=k_<id>``, for installs started on
    the app's own site), whose ``return_to`` must be on one of the app's
    allow-listed domains: the "installed" step then sends the creator there.
    """
    config = current_state().config
    if app_id != config.app_id:
        return _unknown_app(app_id)
    return_to = request.args.get("return_to")
    if return_to is not None and not return_to_allowed(config, return_to):
        return _return_to_refused(return_to)
    k_app_id = request.args.get("k_app_id")
    if k_app_id is not None and k_app_id != f"k_{app_id}":
        return error_page(
            "This install link is broken",
            f"Its k_app_id is {k_app_id[:40]!r}; for this app it is k_{app_id}.",
            400,
        )
    if config.has_plugins and request.args.get("plugin") != "done":
        # Plugin OAuth first (KIT_PLATFORM §8); it comes back here with the
        # return_to it was given.
        return plugin_authorize_redirect(return_to)
    back_to_kit = url_for(
        "store.app_store",
        app_id=app_id,
        success="true",
        return_to=return_to,
        _external=True,
    )
    return redirect(with_query(config.authorization_url, {"redirect": back_to_kit}))


def return_to_allowed(config: SandboxConfig, url: str) -> bool:
    """Kit's check of ``return_to``: an http(s) URL whose host is one of the
    app's allow-listed domains (or a subdomain of one), with no user info."""
    if len(url) > 2048 or any(ord(c) <= 32 or c == "\\" for c in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host or "@" in parts.netloc:
        return False
    return any(
        host == domain.lower() or host.endswith("." + domain.lower())
        for domain in config.return_to_domains
    )


def app_dashboard_url(config: SandboxConfig) -> str:
    """The app's ``/dashboard``, on the origin of its Authorization URL."""
    parts = urlsplit(config.authorization_url)
    return urlunsplit((parts.scheme, parts.netloc, "/dashboard", "", ""))


def _return_to_refused(return_to: str) -> tuple[str, int]:
    config = current_state().config
    return error_page(
        "This return address is not allowed",
        f"{config.app_name} may send you back only to "
        f"{', '.join(config.return_to_domains) or 'no domain'} (its allow-listed "
        f"return_to domains), not to {return_to[:200]}.",
        400,
    )


def _unknown_app(app_id: int) -> tuple[str, int]:
    config = current_state().config
    return error_page(
        "App not found",
        f"This sandbox only has one app, {config.app_name} (id {config.app_id}), "
        f"not {app_id}.",
        404,
    )
