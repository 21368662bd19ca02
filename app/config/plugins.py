"""The client id and secret the app issues to Kit for plugin access (Kit is
the client of the app's own OAuth server, app/plugins/)."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from app.config.values import Text


def plugin_config(text: Text, production: bool, instance: Path) -> dict[str, Any]:
    """KIT_PLUGIN_CLIENT_ID and KIT_PLUGIN_CLIENT_SECRET as given; in
    development, generated once and kept in the instance folder (as the
    secret key is), so `flask kit plugins` prints the same pair every time.
    In production plugins are off (both None) unless both are set."""
    client_id = text("KIT_PLUGIN_CLIENT_ID")
    secret = text("KIT_PLUGIN_CLIENT_SECRET")
    if not (client_id and secret):
        client_id, secret = (None, None) if production else _instance_pair(instance)
    return {"KIT_PLUGIN_CLIENT_ID": client_id, "KIT_PLUGIN_CLIENT_SECRET": secret}


def _instance_pair(instance: Path) -> tuple[str, str]:
    path = instance / "plugin_client.json"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        pair = {
            "client_id": f"kit-plugins-{secrets.token_hex(6)}",
            "client_secret": secrets.token_urlsafe(32),
        }
        # Written aside and renamed: two processes starting at once both end
        # up reading one whole pair.
        spare = path.with_name(f".{path.name}.{os.getpid()}")
        spare.write_text(json.dumps(pair))
        spare.chmod(0o600)
        os.replace(spare, path)
    pair = json.loads(path.read_text())
    return str(pair["client_id"]), str(pair["client_secret"])
