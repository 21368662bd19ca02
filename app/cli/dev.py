"""`flask kit dev`: the app for development, with the Kit sandbox beside it.

The one module of `app/` that knows about `kit_sandbox/`, and only if it is
there: a fork that deletes the sandbox keeps a working app, whose `make run`
asks for Kit credentials instead.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.serving import run_simple
from werkzeug.utils import redirect

from app import mail
from app.cli.plugins import plugin_settings
from app.extensions import db
from app.kit.outcomes import mark_needs_reconnect_in
from app.kit.settings import KitSettings
from app.models import KitConnection

if TYPE_CHECKING:
    from flask import Flask

try:
    import kit_sandbox
    from kit_sandbox import testing as sandbox_testing  # doctor --review's journeys
    from kit_sandbox.cli import default_smtp_port
    from kit_sandbox.cli import sandbox as sandbox_command
    from kit_sandbox.persistence import forget as forget_sandbox_state
except ModuleNotFoundError as missing:
    if missing.name != "kit_sandbox":
        raise  # the sandbox is there but broken: say so, don't hide it
    kit_sandbox = None  # type: ignore[assignment]
    sandbox_testing = None  # type: ignore[assignment]
    sandbox_command = None  # type: ignore[assignment]
    default_smtp_port = None  # type: ignore[assignment]
    forget_sandbox_state = None  # type: ignore[assignment]

NO_SANDBOX = (
    "No Kit credentials and no sandbox: set KIT_CLIENT_ID (and KIT_CLIENT_SECRET, "
    "see .env.example), or restore kit_sandbox/."
)

#: In the instance folder: the sandbox's accounts, grants and data, kept
#: across restarts and reloads (kit_sandbox/persistence.py).
SANDBOX_STATE_FILE = "kit-sandbox-state.pickle"

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]"})


@click.command(short_help="Run the app for development (and the Kit sandbox).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--reload/--no-reload",
    default=True,
    show_default=True,
    help="Restart when a Python file changes (templates reload without it).",
)
@click.option(
    "--reset-sandbox",
    is_flag=True,
    help="Start the sandbox from its seed data: forget its saved accounts, "
    "grants and data (instance/kit-sandbox-state.pickle).",
)
@click.option(
    "--sandbox-state",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where the sandbox keeps its state. Default: "
    "instance/kit-sandbox-state.pickle.",
)
@click.option(
    "--extra-file",
    "extra_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Also reload when this file changes (as `flask run --extra-files`).",
)
@with_appcontext
def dev(
    host: str,
    port: int,
    reload: bool,
    reset_sandbox: bool,
    sandbox_state: Path | None,
    extra_files: tuple[str, ...],
) -> None:
    """Run the app for development; in sandbox mode, the Kit sandbox beside it.

    With no KIT_CLIENT_ID the app talks to the Kit sandbox on KIT_SANDBOX_URL
    (http://127.0.0.1:5001 by default), started here in the same process, and
    sends its mail to the sandbox's outbox (SMTP on the sandbox's port + 24,
    read at /_sandbox/outbox). Open http://HOST:PORT and click "Install from
    the Kit sandbox".

    The sandbox keeps its accounts, grants and data in the instance folder
    across restarts; --reset-sandbox starts it over. With the reloader (the
    default) the first process only watches the files, and the one it starts
    serves the app and the sandbox, again after every reload.
    """
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    origin = f"http://{host}:{port}"
    if not app.config["KIT_REDIRECT_URI"]:
        app.config["KIT_REDIRECT_URI"] = f"{origin}/kit/oauth/callback"
    state_file = sandbox_state or Path(app.instance_path) / SANDBOX_STATE_FILE
    watching = reload and os.environ.get("WERKZEUG_RUN_MAIN") != "true"
    # The first process resets, not the one a reload starts, which must not
    # forget the state again.
    first = watching or not reload
    if (
        reset_sandbox
        and first
        and forget_sandbox_state is not None
        and forget_sandbox_state(state_file)
    ):
        click.echo(f" * Forgot the Kit sandbox's state ({state_file})")
    if watching:
        click.echo(f" * {app.config['APP_NAME']} on {origin} (reloads on changes)")
    else:
        if app.config["KIT_SANDBOX"]:
            sandbox = start_sandbox(app, origin, state_file=state_file)
            atexit.register(sandbox.stop)  # a reload ends this process
            click.echo(
                f" * Kit sandbox on {sandbox.url} (App Store page: {sandbox.url}/)"
            )
            click.echo(f" * The app's mail: {sandbox.url}/_sandbox/outbox")
            kept = "restored from" if sandbox.restored else "kept in"
            click.echo(f" * The sandbox's state: {kept} {state_file}")
            dead = dead_grants(sandbox.state)
            mark_dead_grants(dead)
            warn_dead_grants(dead)
            db.session.remove()  # this context lasts as long as the server
        elif app.config["MAIL_BACKEND"] == "console":
            click.echo(" * No MAIL_SERVER: the app's mail is printed here")
        if not reload:
            click.echo(f" * {app.config['APP_NAME']} on {origin}")
    app.config["TEMPLATES_AUTO_RELOAD"] = True
    app.jinja_env.auto_reload = True
    # Not app.run(): Flask ignores it inside a `flask` command.
    run_simple(
        host,
        port,
        one_host(app, app.config["KIT_REDIRECT_URI"]),
        threaded=True,
        use_reloader=reload,
        extra_files=list(extra_files),
    )


def one_host(app: Callable[..., Any], redirect_uri: str) -> Callable[..., Any]:
    """Send a browser that opened the app on another loopback name
    (localhost for 127.0.0.1) to the same URL on the redirect URI's host.

    The session cookie belongs to one host: a creator who signs in on
    localhost and installs would come back from Kit to 127.0.0.1, signed
    out, and land on "Create your account" with no word why. Only GET and
    HEAD move; only loopback names (a developer's machine) are rewritten.
    """
    target = urlsplit(redirect_uri)
    if target.hostname is None or _host_name(target.netloc) not in LOOPBACK_NAMES:
        return app

    def middleware(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        asked = environ.get("HTTP_HOST", "")
        if (
            asked
            and asked != target.netloc
            and _host_name(asked) in LOOPBACK_NAMES
            and environ["REQUEST_METHOD"] in ("GET", "HEAD")
        ):
            # The path as the browser sent it (WSGI hands it over as latin-1),
            # the query untouched.
            path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
            there = urlunsplit(
                (
                    target.scheme,
                    target.netloc,
                    quote(path.encode("latin-1"), safe="/:@!$&'()*+,;=%~"),
                    environ.get("QUERY_STRING", ""),
                    "",
                )
            )
            return redirect(there, 302)(environ, start_response)  # type: ignore[no-any-return]
        return app(environ, start_response)  # type: ignore[no-any-return]

    return middleware


def _host_name(netloc: str) -> str:
    """`localhost` for `localhost:5000`, `[::1]` for `[::1]:5000`."""
    if netloc.startswith("["):
        return netloc.split("]", 1)[0] + "]"
    return netloc.rsplit(":", 1)[0].lower()


def dead_grants(state: Any) -> list[KitConnection]:
    """Connections the app calls active whose refresh token the sandbox does
    not know (a sandbox started fresh or reset) or has revoked: each needs
    Reconnect, which the app only learns at its next refresh."""
    try:
        active = db.session.scalars(
            db.select(KitConnection).where(KitConnection.status == KitConnection.ACTIVE)
        ).all()
    except SQLAlchemyError:  # no tables yet: `flask db upgrade` comes first
        db.session.rollback()
        return []
    dead = []
    for connection in active:
        tokens = state.find_refresh_token(connection.refresh_token or "")
        if tokens is None or tokens.revoked:
            dead.append(connection)
    return dead


def mark_dead_grants(connections: list[KitConnection]) -> None:
    """Mark them "Reconnect needed" now, as the sandbox's `invalid_grant`
    would at their next refresh: /accounts must not call them Active."""
    if not connections:
        return
    reason = "The Kit sandbox no longer knows this grant (its state was reset)"
    for connection in connections:
        mark_needs_reconnect_in(db.session, connection, reason)
    db.session.commit()


def warn_dead_grants(connections: list[KitConnection]) -> None:
    if not connections:
        return
    click.secho(
        f" ! The Kit sandbox does not know the grants of {len(connections)} "
        "connection(s); each is now marked Reconnect needed "
        "(/accounts, then Reconnect):",
        fg="yellow",
        err=True,
    )
    for connection in connections:
        name = connection.account_name or f"Kit account {connection.kit_account_id}"
        click.secho(f"   - {name} (connection {connection.id})", fg="yellow", err=True)


def start_sandbox(app: Flask, origin: str, state_file: Path | None = None) -> Any:
    """Serve the sandbox on KIT_SANDBOX_URL, registered for the app at `origin`,
    and make the app its client: the credentials are the sandbox's own. With
    `state_file`, the sandbox's state is loaded from and kept in that file."""
    if kit_sandbox is None:
        raise click.ClickException(NO_SANDBOX)
    with app.app_context():
        blocks = plugin_settings()["blocks"]
    config = kit_sandbox.SandboxConfig(
        redirect_uris=[app.config["KIT_REDIRECT_URI"]],
        authorization_url=f"{origin}/kit/oauth",
        app_name=app.config["APP_NAME"],
        # The blocks as a developer pastes them into Kit (`flask kit plugins`).
        plugin_blocks=blocks,
    )
    # The app's own host may be a return_to (Kit's allow-list for its install
    # link), and the app uses that link as it would with Kit: "Connect a Kit
    # account" goes through the sandbox's install link and back, so the dev
    # journey is the production one (docs/app-store.md).
    app_host = urlsplit(origin).hostname
    if app_host and app_host not in config.return_to_domains:
        config.return_to_domains.append(app_host)
    app.config["KIT_APP_ID"] = str(config.app_id)
    app.config["KIT_CLIENT_ID"] = config.client_id
    app.config["KIT_CLIENT_SECRET"] = config.client_secret
    give_plugin_access(app, config, origin)
    app.extensions["kit_settings"] = KitSettings.from_config(app.config)
    where = urlsplit(app.config["KIT_SANDBOX_URL"])
    host, port = where.hostname or "127.0.0.1", where.port or 5001
    server = kit_sandbox.SandboxServer(
        config,
        host=host,
        port=port,
        smtp_port=default_smtp_port(port),
        state_file=state_file,
    ).start()
    if not app.config["MAIL_SERVER_FROM_ENV"]:
        # The sandbox's outbox receives the mail (a MAIL_SERVER set in the
        # environment wins: a developer testing their real mail service).
        app.config.update(
            MAIL_BACKEND="smtp", MAIL_SERVER=host, MAIL_PORT=server.smtp_port
        )
        mail.init_app(app)
    return server


def give_plugin_access(app: Flask, config: Any, origin: str) -> None:
    """Register the app's plugin OAuth server at the sandbox, as a developer
    enters it in Kit's app settings (docs/plugins.md): Install then runs the
    plugin OAuth first."""
    if not app.config["KIT_PLUGIN_CLIENT_ID"]:
        return
    for step in ("authorize", "token", "refresh", "revoke"):
        setattr(config, f"plugin_{step}_url", f"{origin}/plugins/oauth/{step}")
    config.plugin_client_id = app.config["KIT_PLUGIN_CLIENT_ID"]
    config.plugin_client_secret = app.config["KIT_PLUGIN_CLIENT_SECRET"]
