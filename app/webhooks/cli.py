"""`flask kit webhooks ...`: each connection's webhook endpoint at Kit.

- `list`: endpoint status, Kit's endpoint id, the last delivery, and with
  `--check` Kit's own view (its status, and the failed deliveries in its
  history);
- `rotate CONNECTION_ID`: a new signing secret, the old one still accepted
  until Kit's rotation window closes;
- `revoke-previous CONNECTION_ID | --all`: close that window now (the old
  secret may have leaked): deliveries signed with it are refused;
- `recover CONNECTION_ID --since --until`: store the events of Kit's
  deliveries in a time range (its history keeps 30 days), once each;
- `legacy list|follow|unfollow`: the legacy webhook rules (legacy_cli.py).

Never prints a secret.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.extensions import db
from app.kit import webhook_endpoints as kit_webhooks
from app.kit.errors import KitAPIError, KitError
from app.kit.times import parse_time
from app.kit_cache import client_for, invalidate
from app.models import KitConnection, WebhookEndpoint
from app.webhooks import rotation, store
from app.webhooks.legacy_cli import legacy_command

HEADERS = ("CONNECTION", "ACCOUNT", "ENDPOINT", "KIT ID", "LAST DELIVERY", "FAILURES")


@click.group("webhooks")
def webhooks_command() -> None:
    """Webhook endpoints at Kit: list, rotate a secret (and close the rotation
    window), recover missed events; legacy webhook rules."""


webhooks_command.add_command(legacy_command)


@webhooks_command.command("list")
@click.option("--check", is_flag=True, help="Ask Kit: its status and failures.")
@with_appcontext
def list_command(check: bool) -> None:
    """Each connection's endpoint: status, Kit id, last delivery, failures
    (Kit's failed deliveries, with --check; else what is stored)."""
    rows = db.session.execute(
        select(KitConnection, WebhookEndpoint)
        .outerjoin(WebhookEndpoint, WebhookEndpoint.connection_id == KitConnection.id)
        .order_by(KitConnection.id)
    ).all()
    cells = [HEADERS]
    for connection, endpoint in rows:
        status = endpoint.status if endpoint else "none"
        kit_id = (endpoint.kit_endpoint_id if endpoint else None) or "-"
        last = endpoint.last_delivery_at if endpoint else None
        failures = (endpoint.last_error if endpoint else None) or "-"
        live = endpoint is not None and endpoint.status != WebhookEndpoint.GONE
        if check and live and endpoint.kit_endpoint_id:
            status, failures = _ask_kit(connection.id, endpoint.kit_endpoint_id)
        cells.append(
            (
                str(connection.id),
                f"{connection.kit_account_id} {connection.account_name}".strip(),
                status,
                kit_id,
                last.strftime("%Y-%m-%d %H:%M:%S") if last else "never",
                failures,
            )
        )
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADERS))]
    for line in cells:
        click.echo(
            "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
        )


def _ask_kit(connection_id: int, kit_id: str) -> tuple[str, str]:
    """Kit's status of the endpoint, and how many deliveries it marked failed."""
    db.session.commit()  # nothing open while Kit answers
    client = client_for(connection_id)
    try:
        endpoint = kit_webhooks.get_endpoint(client, kit_id)
        failed = sum(
            1 for _ in kit_webhooks.deliveries(client, kit_id, status="failed")
        )
    except KitError as exc:
        return f"? ({type(exc).__name__})", "?"
    return f"{endpoint.status} at Kit", str(failed)


def _endpoint(connection_id: int) -> WebhookEndpoint:
    endpoint = db.session.scalar(
        select(WebhookEndpoint).where(WebhookEndpoint.connection_id == connection_id)
    )
    if (
        endpoint is None
        or not endpoint.kit_endpoint_id
        or endpoint.status == WebhookEndpoint.GONE
    ):
        raise click.ClickException(
            f"Connection {connection_id} has no endpoint at Kit "
            "(see `flask kit webhooks list`)."
        )
    return endpoint


@webhooks_command.command("rotate")
@click.argument("connection_id", type=int)
@click.option("--force", is_flag=True, help="Even if a rotation window is open.")
@with_appcontext
def rotate_command(connection_id: int, force: bool) -> None:
    """Rotate the endpoint's signing secret at Kit. Deliveries signed with the
    old secret are accepted until Kit's rotation window closes."""
    endpoint = _endpoint(connection_id)
    endpoint_id, kit_id = endpoint.id, endpoint.kit_endpoint_id
    db.session.commit()
    assert kit_id is not None
    try:
        rotated = kit_webhooks.rotate_secret(
            client_for(connection_id), kit_id, force=force
        )
    except KitAPIError as exc:
        if exc.status == 409:
            raise click.ClickException(
                "A rotation window is open already: wait for it to close, or "
                "use --force."
            ) from None
        raise click.ClickException(f"Kit refused: {exc}") from None
    except KitError as exc:
        unavailable = f"Kit is unavailable: {type(exc).__name__}"
        raise click.ClickException(unavailable) from None
    if not rotated.secret:
        raise click.ClickException("Kit's answer has no new secret; nothing stored.")
    row = db.session.get(WebhookEndpoint, endpoint_id)
    assert row is not None
    row.previous_secret = row.secret
    row.previous_secret_expires_at = rotated.previous_secret_expires_at
    row.secret = rotated.secret
    db.session.commit()
    until = rotated.previous_secret_expires_at
    click.echo(
        f"Rotated the secret of endpoint {kit_id}; the old one is accepted until "
        f"{until.isoformat() if until else 'now (no window)'}."
    )


@webhooks_command.command("revoke-previous")
@click.argument("connection_id", type=int, required=False)
@click.option("--all", "every", is_flag=True, help="Every connection's endpoint.")
@with_appcontext
def revoke_previous_command(connection_id: int | None, every: bool) -> None:
    """Close a rotation window now: the previous secret is dropped here first
    (deliveries signed only with it are refused from then on), then Kit is
    told to stop signing with it."""
    if (connection_id is None) == (not every):
        raise click.UsageError("Give a CONNECTION_ID or --all (not both).")
    endpoints = rotation.endpoints_with_a_secret(None if every else connection_id)
    if not endpoints:
        if every:
            click.echo("No endpoint at Kit: nothing to do.")
            return
        assert connection_id is not None
        _endpoint(connection_id)  # says why, if it can
        raise click.ClickException(
            f"Connection {connection_id}'s endpoint has no secret yet: nothing to do."
        )
    failed = 0
    for endpoint in endpoints:
        done = rotation.revoke_previous(endpoint)
        if done.kit_error:
            failed += 1
            click.echo(
                f"Connection {done.connection_id}: the previous secret of endpoint "
                f"{done.kit_endpoint_id} is refused here; Kit was not told "
                f"({done.kit_error}): run this again."
            )
        else:
            click.echo(
                f"Connection {done.connection_id}: the previous secret of endpoint "
                f"{done.kit_endpoint_id} is revoked, here and at Kit."
            )
    if failed:
        raise click.ClickException(f"Kit was not told for {failed} endpoint(s).")


def _option_time(value: str) -> datetime:
    try:
        return parse_time(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time") from None


@webhooks_command.command("recover")
@click.argument("connection_id", type=int)
@click.option("--since", required=True, help="ISO 8601, e.g. 2026-11-28T10:00Z")
@click.option("--until", "until_", required=True, help="ISO 8601")
@with_appcontext
def recover_command(connection_id: int, since: str, until_: str) -> None:
    """Store the events of Kit's deliveries made between --since and --until
    (its history keeps 30 days), each event once."""
    start, end = _option_time(since), _option_time(until_)
    if end <= start:
        raise click.BadParameter("--until must be after --since")
    endpoint = _endpoint(connection_id)
    kit_id = endpoint.kit_endpoint_id
    db.session.commit()
    assert kit_id is not None
    client = client_for(connection_id)
    deliveries = events = stored = skipped = 0
    try:
        for summary in list(kit_webhooks.deliveries(client, kit_id)):
            if summary.created_at is None or not start <= summary.created_at < end:
                continue
            full = kit_webhooks.delivery(client, kit_id, summary.id)
            try:
                parsed = store.parse_delivery(store.json_bytes(full.payload))
            except store.BadDelivery:
                skipped += 1
                continue
            deliveries += 1
            events += len(parsed.events)
            stored += store.insert_events(connection_id, parsed, datetime.now(UTC))
            db.session.commit()
    except KitError as exc:
        raise click.ClickException(
            f"Kit failed after {deliveries} deliveries ({stored} events stored): "
            f"{type(exc).__name__}; run it again, nothing is stored twice."
        ) from None
    if stored:
        invalidate(connection_id)
    click.echo(
        f"{deliveries} deliveries, {events} events: {stored} stored, "
        f"{events - stored} already there"
        + (f"; {skipped} deliveries without a usable payload" if skipped else "")
    )
