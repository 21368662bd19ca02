"""Builds the sandbox: a Flask app of its own, not a blueprint of the main app."""

from __future__ import annotations

import secrets

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from . import api, control, oauth, outbox, plugins, store
from .error_page import error_page
from .plugins import editor
from .registration import SandboxConfig
from .state import SandboxState
from .webhooks import views as webhooks

# Pages are served to a browser that also talks to the main app; keep them
# framing-proof and script-free (the sandbox needs no JavaScript at all).
HTML_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "same-origin",
}


def create_sandbox_app(
    config: SandboxConfig | None = None,
    state: SandboxState | None = None,
    mail: outbox.Outbox | None = None,
) -> Flask:
    """A sandbox app serving ``state`` (a fresh one for ``config`` if None) and
    showing the mail in ``mail`` (a fresh, empty outbox if None)."""
    if state is None:
        state = SandboxState(config)
    elif config is not None and config is not state.config:
        raise ValueError("config and state.config differ: pass one or the other")

    # The package's own templates/ and static/ (Flask's defaults for a package).
    app = Flask("kit_sandbox", static_url_path="/_sandbox/static")
    app.config.update(
        # Nothing survives a restart anyway, so a per-process key is enough.
        SECRET_KEY=secrets.token_hex(32),
        # The main app runs on 127.0.0.1 too, and browsers share cookies across
        # ports: Flask's default "session" name would make the two apps
        # overwrite each other's session.
        SESSION_COOKIE_NAME="kit_sandbox_session",
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep Kit's order
    app.extensions["kit_sandbox"] = state
    app.extensions[outbox.views.EXTENSION] = (
        mail if mail is not None else outbox.Outbox()
    )

    app.register_blueprint(store.bp)
    app.register_blueprint(oauth.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(control.bp)
    app.register_blueprint(outbox.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(plugins.bp)
    app.register_blueprint(editor.bp)  # Kit's email editor: the app's blocks
    register_error_handlers(app)
    app.after_request(_security_headers)
    return app


def register_error_handlers(app: Flask) -> None:
    # Also catches unhandled exceptions: Flask wraps them in InternalServerError.
    app.register_error_handler(HTTPException, _http_error)


def _wants_json(path: str) -> bool:
    """API, token and control paths answer in JSON; pages answer in HTML."""
    if path.startswith("/_sandbox/static/") or path.endswith("/authorize"):
        return False
    return path.startswith(("/v4/", "/oauth/", "/_sandbox/"))


def _http_error(error: HTTPException) -> Response | tuple[str, int]:
    status = error.code or 500
    if _wants_json(request.path):
        if request.path.startswith("/_sandbox/"):
            response = jsonify(error=error.description)
        else:
            response = jsonify(errors=[error.name])
        response.status_code = status
        return response
    detail = (
        "Something went wrong inside the sandbox. The details are in the "
        "terminal that runs it."
        if status >= 500
        else error.description or error.name
    )
    return error_page(error.name, detail, status)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        for name, value in HTML_SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
    return response
