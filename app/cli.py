"""`flask --app app kit ...`: run the app with its Kit sandbox, or the sandbox alone."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from app.config import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET

if TYPE_CHECKING:
    from app.sandbox import SandboxConfig


@click.group()
def kit() -> None:
    """Kit tools: the development server, the sandbox, connections, token upkeep."""


def parse_duration(value: str) -> timedelta:
    """`90s`, `30m`, `2h`, `1d`, or plain seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    value = value.strip().lower()
    try:
        if value[-1:] in units:
            return timedelta(seconds=float(value[:-1]) * units[value[-1]])
        return timedelta(seconds=float(value))
    except ValueError:
        raise click.BadParameter(f"{value!r}: use a number with s, m, h or d") from None


@kit.command("refresh-due")
@click.option(
    "--within",
    default="30m",
    show_default=True,
    help="Refresh tokens that expire within this time (90s, 30m, 2h, 1d).",
)
@click.option(
    "--batch-size", default=200, show_default=True, type=click.IntRange(1, 10_000)
)
@with_appcontext
def refresh_due_command(within: str, batch_size: int) -> None:
    """Refresh the tokens of connections that expire soon.

    Run it from a scheduler every few minutes. Safe beside the web workers and
    twice at once: every refresh takes the connection's row lock. Exits 1 if a
    refresh failed for a reason other than a refused grant (Kit down, a
    misconfigured client), so the scheduler can alert.
    """
    from app.kit.refresh import refresh_due

    summary = refresh_due(
        current_app.extensions["kit_settings"], parse_duration(within), batch_size
    )
    counts = ", ".join(
        f"{label} {summary[key]}"
        for key, label in [
            ("refreshed", "refreshed"),
            ("fresh", "already fresh"),
            ("needs_reconnect", "needs reconnect"),
            ("failed", "failed"),
        ]
    )
    click.echo(f"due {summary['due']}: {counts}")
    if summary["failed"]:
        raise SystemExit(1)


@kit.command("rotate-keys", short_help="Re-encrypt stored tokens under the newest key.")
@with_appcontext
def rotate_keys_command() -> None:
    """Re-encrypt every stored token under the first TOKEN_ENCRYPTION_KEYS key.

    To rotate: put a new key first in TOKEN_ENCRYPTION_KEYS (keep the old ones
    after it), deploy, run this, then remove the old keys. Exits 1 if a value
    decrypts with none of the keys.
    """
    from app.keys import rotate_keys

    summary = rotate_keys()
    click.echo(
        f"rotated {summary['rotated']}, changed meanwhile {summary['skipped']}, "
        f"unreadable {summary['unreadable']}"
    )
    if summary["unreadable"]:
        raise SystemExit(1)


@kit.command("connections", short_help="List every Kit connection (never a token).")
@click.option(
    "--status",
    type=click.Choice(["active", "needs_reconnect", "revoked"]),
    help="Only the connections with this status.",
)
@click.option("as_json", "--json", is_flag=True, help="Print JSON instead of a table.")
@with_appcontext
def connections_command(status: str | None, as_json: bool) -> None:
    """List every Kit connection: user, Kit account, status, token expiry.

    Never prints a token or any other secret. Times are UTC; `--json` gives
    ISO 8601 times and `expires_in_seconds` (negative once expired).
    """
    import json

    from app.connection_list import connection_rows, render_table

    rows = connection_rows(status)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    elif not rows:
        click.echo("No connections" + (f" with status {status}." if status else "."))
    else:
        click.echo(render_table(rows))


@kit.command(short_help="Run the app for development (and the Kit sandbox).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def dev(host: str, port: int) -> None:
    """Run the app for development; in sandbox mode, the Kit sandbox beside it.

    With no KIT_CLIENT_ID the app talks to the built-in sandbox on
    KIT_SANDBOX_URL (http://127.0.0.1:5001 by default), started here in the same
    process. Open http://HOST:PORT and click "Install from the Kit sandbox".
    """
    from urllib.parse import urlsplit

    from app.sandbox import SandboxServer

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    origin = f"http://{host}:{port}"
    if not app.config["KIT_REDIRECT_URI"]:
        app.config["KIT_REDIRECT_URI"] = f"{origin}/kit/oauth/callback"
    if app.config["KIT_SANDBOX"]:
        sandbox_url = urlsplit(app.config["KIT_SANDBOX_URL"])
        sandbox = SandboxServer(
            _sandbox_config(
                origin, app.config["APP_NAME"], app.config["KIT_REDIRECT_URI"]
            ),
            host=sandbox_url.hostname or "127.0.0.1",
            port=sandbox_url.port or 5001,
        ).start()
        click.echo(f" * Kit sandbox on {sandbox.url} (App Store page: {sandbox.url}/)")
    click.echo(f" * {app.config['APP_NAME']} on {origin}")
    # Not app.run(): Flask ignores it inside a `flask` command.
    run_simple(host, port, app, threaded=True)


@kit.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5001, show_default=True, type=int)
@click.option(
    "--app-url",
    default="http://127.0.0.1:5000",
    show_default=True,
    help="Where the app runs: its /kit/oauth and /kit/oauth/callback are registered.",
)
@click.option("--client-id", default=SANDBOX_CLIENT_ID, show_default=True)
@click.option(
    "--client-secret",
    default=SANDBOX_CLIENT_SECRET,
    show_default=True,
    help="The app's secret at the sandbox.",
)
@click.option(
    "--public", is_flag=True, help="Register a public client (PKCE, no secret)."
)
@click.option(
    "--token-lifetime", type=int, default=None, help="expires_in, in seconds."
)
@click.option("--latency-ms", type=int, default=0, help="Added to every Kit call.")
@with_appcontext
def sandbox(
    host: str,
    port: int,
    app_url: str,
    client_id: str,
    client_secret: str,
    public: bool,
    token_lifetime: int | None,
    latency_ms: int,
) -> None:
    """Run the Kit sandbox alone, as a stand-in for Kit.

    Point an app at it with KIT_CLIENT_ID, KIT_CLIENT_SECRET and
    KIT_APP_URL=KIT_API_URL=http://HOST:PORT.
    """
    from app.sandbox import SandboxServer

    app_url = app_url.rstrip("/")
    config = _sandbox_config(app_url, current_app.config["APP_NAME"])
    config.client_id = client_id
    config.client_secret = None if public else client_secret
    config.latency_ms = latency_ms
    if token_lifetime:
        config.access_token_lifetime = config.refreshed_token_lifetime = token_lifetime
    server = SandboxServer(config, host=host, port=port)
    click.echo(f" * Kit sandbox on http://{host}:{port} for the app at {app_url}")
    server.serve_forever()


def _sandbox_config(
    app_url: str, app_name: str, redirect_uri: str | None = None
) -> SandboxConfig:
    from app.sandbox import SandboxConfig

    return SandboxConfig(
        client_id=SANDBOX_CLIENT_ID,
        client_secret=SANDBOX_CLIENT_SECRET,
        redirect_uris=[redirect_uri or f"{app_url}/kit/oauth/callback"],
        authorization_url=f"{app_url}/kit/oauth",
        app_name=app_name,
    )


@kit.command()
@with_appcontext
def doctor() -> None:
    """Check this deployment: secrets, redirect URI, cookies, database, Kit.

    One PASS / WARN / FAIL line per check, with the fix. WARN is fine for
    development and wrong for production (where it counts as FAIL). Exits 1
    if anything failed. Changes nothing.
    """
    from app.doctor import run_checks

    results = run_checks(current_app._get_current_object())  # type: ignore[attr-defined]
    for check in results:
        click.echo(check.line())
    failed = sum(check.status == "FAIL" for check in results)
    click.echo(f"{len(results)} checks, {failed} failed")
    if failed:
        raise SystemExit(1)
