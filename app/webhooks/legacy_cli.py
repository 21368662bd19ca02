"""`flask kit webhooks legacy ...`: each connection's legacy webhook rules at
Kit (`app.webhooks.legacy_rules`).

- `list`: every rule: connection, event, what it follows, status, Kit's id,
  the last delivery;
- `follow CONNECTION_ID --link URL | --product ID`: clicks on a link, or
  purchases of a product (Kit needs one rule per link or product); the App
  settings page does the same for a creator (`app/settings/following.py`);
- `unfollow CONNECTION_ID --link URL | --product ID`: stop; the rule at Kit
  is deleted by the registration that follows.

Never prints a rule's key (only its hash is kept anyway).
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.extensions import db
from app.models import KitConnection, LegacyWebhook
from app.webhooks.legacy_follow import BadRule, checked, find, follow, unfollow
from app.webhooks.legacy_rules import register_legacy_rules

HEADERS = ("CONNECTION", "EVENT", "FOLLOWS", "STATUS", "KIT ID", "LAST DELIVERY")


@click.group("legacy")
def legacy_command() -> None:
    """Legacy webhook rules at Kit: purchases, product purchases, link clicks."""


def _target(link: str | None, product: str | None) -> tuple[str, str]:
    if (link is None) == (product is None):
        raise click.UsageError("give one of --link or --product")
    if link is not None:
        return "subscriber.link_click", link
    return "subscriber.product_purchase", str(product)


def _connection(connection_id: int) -> KitConnection:
    connection = db.session.get(KitConnection, connection_id)
    if connection is None or connection.status != KitConnection.ACTIVE:
        raise click.ClickException(f"no active connection {connection_id}")
    return connection


@legacy_command.command("list")
@with_appcontext
def list_command() -> None:
    rows = db.session.scalars(
        select(LegacyWebhook).order_by(LegacyWebhook.connection_id, LegacyWebhook.id)
    ).all()
    cells = [HEADERS] + [
        (
            str(row.connection_id),
            row.event,
            row.param or "-",
            row.status + (f" ({row.last_error})" if row.last_error else ""),
            row.kit_rule_id or "-",
            row.last_delivery_at.isoformat(timespec="seconds")
            if row.last_delivery_at
            else "-",
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADERS))]
    for line in cells:
        click.echo(
            "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
        )


@legacy_command.command("follow")
@click.argument("connection_id", type=int)
@click.option("--link", help="A link URL in your emails: its clicks.")
@click.option("--product", help="A product id at Kit: its purchases.")
@with_appcontext
def follow_command(connection_id: int, link: str | None, product: str | None) -> None:
    event, param = _target(link, product)
    _connection(connection_id)
    try:
        follow(connection_id, event, param)
    except BadRule as bad:
        raise click.BadParameter(str(bad)) from None
    status = register_legacy_rules(connection_id)
    click.echo(f"Following {event} {param}: {status}")
    if status != "active":
        raise SystemExit(1)


@legacy_command.command("unfollow")
@click.argument("connection_id", type=int)
@click.option("--link")
@click.option("--product")
@with_appcontext
def unfollow_command(connection_id: int, link: str | None, product: str | None) -> None:
    event, param = _target(link, product)
    _connection(connection_id)
    try:
        row = find(connection_id, event, checked(event, param))
    except BadRule as bad:
        raise click.BadParameter(str(bad)) from None
    if row is not None:
        unfollow(connection_id, row.id)
    # The rule at Kit is now a leftover: the registration deletes it.
    status = register_legacy_rules(connection_id)
    click.echo(f"No longer following {event} {param}: {status}")
