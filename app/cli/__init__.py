"""`flask --app app kit ...`: one module per concern.

- `dev`: run the app for development, with the Kit sandbox beside it in
  sandbox mode (the only place the app touches `kit_sandbox`);
- `token_upkeep`: `refresh-due`, `rotate-keys`;
- `connections`: list every connection, never a token;
- `webhooks`: each connection's webhook endpoint at Kit (list, rotate, recover);
- `doctor`: is this deployment ready?
- `plugins`: what Kit's app settings need for plugin access (blocks, URLs).
"""

from __future__ import annotations

import click

from app.cli import connections, dev, doctor, plugins, token_upkeep
from app.webhooks.cli import webhooks_command


@click.group()
def kit() -> None:
    """Kit tools: the development server, connections, token upkeep, checks."""


kit.add_command(dev.dev)
if dev.sandbox_command is not None:
    kit.add_command(dev.sandbox_command)
kit.add_command(connections.connections_command)
kit.add_command(token_upkeep.refresh_due_command)
kit.add_command(token_upkeep.rotate_keys_command)
kit.add_command(webhooks_command)
kit.add_command(doctor.doctor)
kit.add_command(plugins.plugins_command)
