"""`python -m kit_sandbox`: the sandbox alone, as a stand-in for Kit.

Also offered as `flask --app app kit sandbox` while this package is there.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import click

from .persistence import forget
from .registration import SandboxConfig
from .server import SandboxServer

DEFAULTS = SandboxConfig()


def default_smtp_port(http_port: int) -> int:
    """The outbox's SMTP port beside the HTTP one: 5025 for 5001 (0 stays 0)."""
    return http_port + 24 if http_port else 0


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5001, show_default=True, type=int)
@click.option(
    "--smtp-port",
    type=int,
    default=None,
    help="Where the outbox receives the app's mail. Default: PORT + 24 (5025).",
)
@click.option(
    "--app-url",
    default="http://127.0.0.1:5000",
    show_default=True,
    help="Where the app runs: its /kit/oauth and /kit/oauth/callback are registered.",
)
@click.option("--app-name", default=DEFAULTS.app_name, show_default=True)
@click.option("--client-id", default=DEFAULTS.client_id, show_default=True)
@click.option(
    "--client-secret",
    default=DEFAULTS.client_secret,
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
@click.option(
    "--state-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Keep accounts, grants and data in this file across restarts "
    "(your own file only: it is a pickle). Default: nothing kept.",
)
@click.option(
    "--reset",
    is_flag=True,
    help="Start from the seed data: delete the --state-file first.",
)
def sandbox(
    host: str,
    port: int,
    smtp_port: int | None,
    app_url: str,
    app_name: str,
    client_id: str,
    client_secret: str,
    public: bool,
    token_lifetime: int | None,
    latency_ms: int,
    state_file: str | None,
    reset: bool,
) -> None:
    """Run the Kit sandbox alone, as a stand-in for Kit.

    Point an app at it with KIT_CLIENT_ID, KIT_CLIENT_SECRET and
    KIT_APP_URL=KIT_API_URL=http://HOST:PORT.
    """
    app_url = app_url.rstrip("/")
    config = SandboxConfig(
        client_id=client_id,
        client_secret=None if public else client_secret,
        redirect_uris=[f"{app_url}/kit/oauth/callback"],
        authorization_url=f"{app_url}/kit/oauth",
        app_name=app_name,
        latency_ms=latency_ms,
    )
    app_host = urlsplit(app_url).hostname
    if app_host and app_host not in config.return_to_domains:
        config.return_to_domains.append(app_host)
    if token_lifetime:
        config.access_token_lifetime = config.refreshed_token_lifetime = token_lifetime
    smtp_port = default_smtp_port(port) if smtp_port is None else smtp_port
    if reset and state_file and forget(state_file):
        click.echo(f" * Deleted the sandbox state in {state_file}")
    server = SandboxServer(
        config, host=host, port=port, smtp_port=smtp_port, state_file=state_file
    )
    click.echo(f" * Kit sandbox on http://{host}:{port} for the app at {app_url}")
    server_url = f"http://{host}:{port}"
    secret = "" if public else " and KIT_CLIENT_SECRET (the --client-secret value)"
    click.echo(
        f" * Point the app at it: KIT_CLIENT_ID={client_id}{secret}, "
        f"KIT_APP_URL={server_url}, KIT_API_URL={server_url}, "
        f"KIT_APP_ID={config.app_id} (installs from the app's site use its link)"
    )
    click.echo(
        f" * Outbox: SMTP on {host}:{smtp_port} (the app's MAIL_SERVER={host}, "
        f"MAIL_PORT={smtp_port}); read the mail at {server_url}/_sandbox/outbox"
    )
    if state_file:
        kept = "restored from" if server.restored else "starting fresh, kept in"
        click.echo(f" * State {kept} {state_file} (--reset starts over)")
    server.serve_forever()
