"""`flask kit dev`: the app for development, with the Kit sandbox beside it.

The one module of `app/` that knows about `kit_sandbox/`, and only if it is
there: a fork that deletes the sandbox keeps a working app, whose `make run`
asks for Kit credentials instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from app import mail
from app.kit.settings import KitSettings

if TYPE_CHECKING:
    from flask import Flask

try:
    import kit_sandbox
    from kit_sandbox.cli import default_smtp_port
    from kit_sandbox.cli import sandbox as sandbox_command
except ModuleNotFoundError as missing:
    if missing.name != "kit_sandbox":
        raise  # the sandbox is there but broken: say so, don't hide it
    kit_sandbox = None  # type: ignore[assignment]
    sandbox_command = None  # type: ignore[assignment]
    default_smtp_port = None  # type: ignore[assignment]

NO_SANDBOX = (
    "No Kit credentials and no sandbox: set KIT_CLIENT_ID (and KIT_CLIENT_SECRET, "
    "see .env.example), or restore kit_sandbox/."
)


@click.command(short_help="Run the app for development (and the Kit sandbox).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def dev(host: str, port: int) -> None:
    """Run the app for development; in sandbox mode, the Kit sandbox beside it.

    With no KIT_CLIENT_ID the app talks to the Kit sandbox on KIT_SANDBOX_URL
    (http://127.0.0.1:5001 by default), started here in the same process, and
    sends its mail to the sandbox's outbox (SMTP on the sandbox's port + 24,
    read at /_sandbox/outbox). Open http://HOST:PORT and click "Install from
    the Kit sandbox".
    """
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    origin = f"http://{host}:{port}"
    if not app.config["KIT_REDIRECT_URI"]:
        app.config["KIT_REDIRECT_URI"] = f"{origin}/kit/oauth/callback"
    if app.config["KIT_SANDBOX"]:
        sandbox = start_sandbox(app, origin)
        click.echo(f" * Kit sandbox on {sandbox.url} (App Store page: {sandbox.url}/)")
        click.echo(f" * The app's mail: {sandbox.url}/_sandbox/outbox")
    elif app.config["MAIL_BACKEND"] == "console":
        click.echo(" * No MAIL_SERVER: the app's mail is printed here")
    click.echo(f" * {app.config['APP_NAME']} on {origin}")
    # Not app.run(): Flask ignores it inside a `flask` command.
    run_simple(host, port, app, threaded=True)


def start_sandbox(app: Flask, origin: str) -> Any:
    """Serve the sandbox on KIT_SANDBOX_URL, registered for the app at `origin`,
    and make the app its client: the credentials are the sandbox's own."""
    if kit_sandbox is None:
        raise click.ClickException(NO_SANDBOX)
    config = kit_sandbox.SandboxConfig(
        redirect_uris=[app.config["KIT_REDIRECT_URI"]],
        authorization_url=f"{origin}/kit/oauth",
        app_name=app.config["APP_NAME"],
    )
    app.config["KIT_CLIENT_ID"] = config.client_id
    app.config["KIT_CLIENT_SECRET"] = config.client_secret
    app.extensions["kit_settings"] = KitSettings.from_config(app.config)
    where = urlsplit(app.config["KIT_SANDBOX_URL"])
    host, port = where.hostname or "127.0.0.1", where.port or 5001
    server = kit_sandbox.SandboxServer(
        config, host=host, port=port, smtp_port=default_smtp_port(port)
    ).start()
    if not app.config["MAIL_SERVER_FROM_ENV"]:
        # The sandbox's outbox receives the mail (a MAIL_SERVER set in the
        # environment wins: a developer testing their real mail service).
        app.config.update(
            MAIL_BACKEND="smtp", MAIL_SERVER=host, MAIL_PORT=server.smtp_port
        )
        mail.init_app(app)
    return server
