"""Kit App Starter: a Flask app that installs from Kit's App Store.

`create_app` reads as the table of contents of the application.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dotenv import load_dotenv
from flask import Flask, redirect, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

from app import redis_store
from app.config import load_config
from app.crypto import EXTENSION_KEY, make_cipher
from app.extensions import cache, csrf, db, limiter, login_manager, migrate
from app.jobs import celery_init_app
from app.kit.settings import KitSettings
from app.logs import configure_logging

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app. `test_config` overrides environment settings by name."""
    if test_config is None:
        load_dotenv(ROOT / ".env")
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    environ = {} if test_config is not None else None
    app.config.from_mapping(load_config(app.instance_path, environ, test_config))
    if test_config is None:
        app.config.from_prefixed_env()  # FLASK_SESSION_COOKIE_SECURE=false, ...

    configure_logging(app.config["LOG_LEVEL"])
    register_request_checks(app)
    register_proxy_fix(app)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_security(app)
    register_commands(app)
    return app


def register_request_checks(app: Flask) -> None:
    """Hosts, body sizes and types, ids in paths: see app/edge.py."""
    from app import edge

    edge.register(app)
    edge.register_converters(app)


def register_proxy_fix(app: Flask) -> None:
    """Behind a TLS proxy, believe its X-Forwarded-For/-Proto/-Host/-Port.

    Then the Redirect URI sent to Kit and every external URL are https on the
    public host, and `request.remote_addr` (rate limits, logs) is the client's.
    Only with PROXY_FIX_HOPS > 0: a client talking to the app directly could
    otherwise forge those headers.
    """
    hops = app.config["PROXY_FIX_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    cache.init_app(app)
    limiter.init_app(app)
    redis_store.init_app(app)  # /healthz's probe
    login_manager.init_app(app)
    app.extensions[EXTENSION_KEY] = make_cipher(app.config["TOKEN_ENCRYPTION_KEYS"])
    app.extensions["kit_settings"] = KitSettings.from_config(app.config)
    celery_init_app(app)


def register_blueprints(app: Flask) -> None:
    from app import (
        auth,
        dashboard,
        health,
        install,
        kit_capacity,
        pages,
        plugins,
        settings,
        webhooks,
    )

    app.register_blueprint(auth.bp)
    app.register_blueprint(install.bp)
    app.register_blueprint(dashboard.bp)
    kit_capacity.init_app(app)  # how many dashboard requests may wait on Kit
    app.register_blueprint(health.bp)
    app.register_blueprint(webhooks.bp)  # Kit's deliveries
    app.register_blueprint(settings.bp)  # the App settings URL Kit links to
    app.register_blueprint(pages.bp)  # help, support, privacy
    plugins.init_app(app)  # Kit calls us: its OAuth server and plugin routes
    # Browsers ask for /favicon.ico whatever the page links to.
    app.add_url_rule(
        "/favicon.ico",
        "favicon",
        lambda: redirect(url_for("static", filename="favicon.svg"), 301),
    )


def register_error_handlers(app: Flask) -> None:
    from app.errors import register

    register(app)


def register_security(app: Flask) -> None:
    from app import security

    security.register(app)


def register_commands(app: Flask) -> None:
    from app.cli import kit

    app.cli.add_command(kit)
