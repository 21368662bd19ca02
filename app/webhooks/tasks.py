"""Each connection's Webhooks 2.0 endpoint at Kit: registered when the
connection is made, kept working by an hourly upkeep; and the daily prune of
old events. A disconnect revokes the grant first (`app.install.disconnect`), so
the endpoint it leaves at Kit is deleted by the next grant for the account.

`register_endpoint` does whatever the connection's endpoint needs: create it
at Kit (pending, failed, or missing there), re-enable it (disabled at Kit),
or nothing. Kit's 404 means webhooks are not enabled for the account: the row
says `unavailable` and is asked again at most daily. No transaction is open
while Kit answers; the result is written under a condition, so of two jobs
registering the same connection at once one endpoint is kept and the other
job deletes its own at Kit.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from celery import shared_task
from flask import current_app
from sqlalchemy import select, update

from app.config import public_base_url
from app.extensions import db
from app.jobs import enqueue
from app.kit import webhook_endpoints as kit_webhooks
from app.kit.api import KitClient
from app.kit.errors import KitError, KitUnavailable, NeedsReconnect
from app.kit_cache import client_for
from app.models import KitConnection, WebhookEndpoint
from app.webhooks import store
from app.webhooks.feed import EVENTS
from app.webhooks.legacy_rules import register_legacy_rules

log = logging.getLogger(__name__)

UNAVAILABLE_RECHECK = timedelta(days=1)


class NoPublicURL(KitError):
    """PUBLIC_BASE_URL (or KIT_REDIRECT_URI) is needed to tell Kit where to deliver."""


def endpoint_url(key: str) -> str:
    base = public_base_url(current_app.config)
    if not base:
        raise NoPublicURL("set PUBLIC_BASE_URL")
    return f"{base}/webhooks/kit/{key}"


# The name predates this module: beat and queued messages use it.
@shared_task(name="app.jobs.webhooks.register_endpoint")
def register_endpoint(connection_id: int, force: bool = False) -> str:
    """Make the connection's endpoint at Kit exist, enabled, for EVENTS; returns
    the endpoint's status (`skipped` when the connection is not active).
    `force`: ask Kit again even if it said "not enabled" within the day."""
    connection = db.session.get(KitConnection, connection_id)
    if connection is None or connection.status != KitConnection.ACTIVE:
        db.session.commit()
        return "skipped"
    row = store.endpoint_row(connection_id)
    now = datetime.now(UTC)
    if (
        row.status == WebhookEndpoint.UNAVAILABLE
        and not force
        and row.checked_at is not None
        and now - row.checked_at < UNAVAILABLE_RECHECK
    ):
        db.session.commit()
        return row.status
    row_id, key, kit_id, has_secret = (
        row.id,
        row.key,
        row.kit_endpoint_id,
        bool(row.secret),
    )
    db.session.commit()  # nothing open while Kit answers
    try:
        url = endpoint_url(key)
        client = client_for(connection_id)
        if kit_id and has_secret:
            return _repair(client, row_id, kit_id, url)
        if kit_id:
            _delete_leftover(client, kit_id)
        return _register(client, row_id, kit_id, url)
    except kit_webhooks.WebhooksUnavailable:
        log.info("Kit webhooks are not enabled for connection %s", connection_id)
        status = _mark(row_id, WebhookEndpoint.UNAVAILABLE, "not enabled at Kit")
        # The subscriber events come through the legacy webhooks instead.
        enqueue(register_legacy_rules, connection_id)
        return status
    except NeedsReconnect:
        return "skipped"
    except KitError as exc:
        log.warning(
            "Webhook endpoint of connection %s not registered: %s",
            connection_id,
            type(exc).__name__,
        )
        return _mark(row_id, WebhookEndpoint.FAILED, type(exc).__name__)


def _register(client: KitClient, row_id: int, before: str | None, url: str) -> str:
    created = kit_webhooks.create_endpoint(client, url, EVENTS)
    if not created.secret:
        _delete_quietly(client, created.id)
        raise KitUnavailable("Kit created an endpoint without a secret")
    now = datetime.now(UTC)
    unchanged = (
        WebhookEndpoint.kit_endpoint_id.is_(None)
        if before is None
        else WebhookEndpoint.kit_endpoint_id == before
    )
    result = db.session.execute(
        update(WebhookEndpoint)
        .where(
            WebhookEndpoint.id == row_id,
            WebhookEndpoint.status != WebhookEndpoint.GONE,
            unchanged,
        )
        .values(
            kit_endpoint_id=created.id,
            secret=created.secret,
            previous_secret=None,
            previous_secret_expires_at=None,
            status=WebhookEndpoint.ACTIVE,
            last_error=None,
            checked_at=now,
            updated_at=now,
        )
    )
    db.session.commit()
    if result.rowcount != 1:  # type: ignore[attr-defined]
        # Another job registered (or the creator disconnected) meanwhile.
        _delete_quietly(client, created.id)
        status = db.session.scalar(
            select(WebhookEndpoint.status).where(WebhookEndpoint.id == row_id)
        )
        db.session.commit()
        return status or WebhookEndpoint.GONE
    log.info("Registered webhook endpoint %s at Kit", created.id)
    return WebhookEndpoint.ACTIVE


def _repair(client: KitClient, row_id: int, kit_id: str, url: str) -> str:
    """Ours is listed at Kit: enable it (and fix its URL and events) if need
    be. Missing: register a new one."""
    endpoints = kit_webhooks.list_endpoints(client)
    ours = next((e for e in endpoints if e.id == kit_id), None)
    if ours is None:
        log.warning("Webhook endpoint %s is gone at Kit; registering anew", kit_id)
        return _register(client, row_id, kit_id, url)
    for stray in endpoints:
        # Same URL, secret unknown: left by a job that died before storing it.
        if stray.url == url and stray.id != kit_id:
            _delete_quietly(client, stray.id)
    changes: dict[str, object] = {}
    if ours.status != "active":
        changes["status"] = "active"
    if ours.url != url:
        changes["url"] = url
    if set(EVENTS) - set(ours.events):
        changes["events"] = list(EVENTS)
    if changes:
        kit_webhooks.update_endpoint(client, kit_id, **changes)
        log.info("Repaired webhook endpoint %s at Kit: %s", kit_id, sorted(changes))
    return _mark(row_id, WebhookEndpoint.ACTIVE, None)


def _mark(row_id: int, status: str, error: str | None) -> str:
    now = datetime.now(UTC)
    db.session.execute(
        update(WebhookEndpoint)
        .where(
            WebhookEndpoint.id == row_id,
            WebhookEndpoint.status != WebhookEndpoint.GONE,
        )
        .values(status=status, last_error=error, checked_at=now, updated_at=now)
    )
    db.session.commit()
    return status


def _delete_leftover(client: KitClient, kit_id: str) -> None:
    """The endpoint a disconnect left at Kit (its grant, revoked, could not
    delete it; the row kept its id, without a secret): deleted with this
    grant. Another account's, or gone already: nothing to do. KitUnavailable
    propagates: the row is marked failed and the upkeep tries again."""
    try:
        if kit_webhooks.delete_endpoint(client, kit_id):
            log.info("Deleted webhook endpoint %s left at Kit by a disconnect", kit_id)
    except KitUnavailable:
        raise
    except KitError as exc:
        log.warning(
            "Could not delete webhook endpoint %s at Kit: %s",
            kit_id,
            type(exc).__name__,
        )


def _delete_quietly(client: KitClient, endpoint_id: str) -> None:
    try:
        kit_webhooks.delete_endpoint(client, endpoint_id)
    except KitError as exc:
        log.warning(
            "Could not delete webhook endpoint %s at Kit: %s",
            endpoint_id,
            type(exc).__name__,
        )


# The name predates this module: beat and queued messages use it.
@shared_task(name="app.jobs.webhooks.check_webhook_endpoints")
def check_webhook_endpoints() -> int:
    """Queue a `register_endpoint` and a `register_legacy_rules` (which check
    and repair) for every active connection; returns how many connections."""
    connection_ids = db.session.scalars(
        select(KitConnection.id).where(KitConnection.status == KitConnection.ACTIVE)
    ).all()
    db.session.commit()
    for connection_id in connection_ids:
        enqueue(register_endpoint, connection_id)
        enqueue(register_legacy_rules, connection_id)
    return len(connection_ids)


# The name predates this module: beat and queued messages use it.
@shared_task(name="app.jobs.webhooks.prune_webhook_events")
def prune_webhook_events() -> int:
    """Delete the events received more than WEBHOOK_EVENTS_KEPT_DAYS ago."""
    pruned = store.prune(current_app.config["WEBHOOK_EVENTS_KEPT_DAYS"])
    if pruned:
        log.info("Pruned %s webhook events", pruned)
    return pruned
