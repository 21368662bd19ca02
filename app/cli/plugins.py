"""`flask kit plugins`: what a developer pastes into Kit's app settings for
plugin access.

The plugin OAuth URLs (authorize, token, refresh, revoke) with the client id
and secret the app issued to Kit, then each content block: its name, request
URL, search URLs and settings JSON. Every URL is on PUBLIC_BASE_URL (Kit
calls it from outside), never on a request's Host. `--json` prints the same
as one object, for tools and for the sandbox's editor (`plugin_blocks`).

It prints the client secret: it is the developer's own, to paste into Kit,
on their own terminal. It is never logged.
"""

from __future__ import annotations

import json
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.routing import BuildError

from app.auth.links import public_url
from app.plugins.blocks import BLOCKS, describe

OAUTH_URLS = {
    "authorize_url": "plugins.authorize",
    "token_url": "plugins.token",
    "refresh_url": "plugins.refresh",
    "revoke_url": "plugins.revoke",
}
NOT_SET = "(not set: plugins are off until KIT_PLUGIN_CLIENT_ID/_SECRET are)"


def plugin_settings() -> dict[str, Any]:
    """Everything Kit's app settings need for plugin access, as plain data."""
    config = current_app.config
    oauth: dict[str, Any] = {
        name: _url(endpoint) for name, endpoint in OAUTH_URLS.items()
    }
    oauth["client_id"] = config.get("KIT_PLUGIN_CLIENT_ID")
    oauth["client_secret"] = config.get("KIT_PLUGIN_CLIENT_SECRET")
    return {"oauth": oauth, "blocks": [describe(b, public_url) for b in BLOCKS]}


def _url(endpoint: str) -> str | None:
    try:
        return public_url(endpoint)
    except BuildError:  # an app without the plugin OAuth server's routes
        return None


@click.command("plugins", short_help="Print what Kit's app settings need for plugins.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object, for tools.")
@with_appcontext
def plugins_command(as_json: bool) -> None:
    """Print the plugin OAuth URLs, the client id and secret, and each
    content block's name, request URL, search URLs and settings JSON: what
    to enter in the app's settings at Kit (Plugins)."""
    settings = plugin_settings()
    if as_json:
        click.echo(json.dumps(settings, indent=2))
        return
    oauth = settings["oauth"]
    click.echo("Plugin OAuth (App settings > OAuth for plugins):")
    for name in (*OAUTH_URLS, "client_id", "client_secret"):
        click.echo(f"  {name.replace('_', ' '):<14} {oauth[name] or NOT_SET}")
    for block in settings["blocks"]:
        kind = "dynamic content block" if block["dynamic"] else "content block"
        click.echo(f"\n{block['name']} ({kind}, identifier {block['identifier']})")
        click.echo(f"  description    {block['description']}")
        click.echo(f"  request URL    {block['request_url']}")
        for field, url in block["search_urls"].items():
            click.echo(f"  search {field:<8}{url}")
        click.echo("  settings JSON:")
        for line in json.dumps(block["settings"], indent=2).splitlines():
            click.echo(f"    {line}")
