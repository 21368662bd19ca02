"""Closing a signing secret's rotation window before Kit's time is up.

After `flask kit webhooks rotate`, deliveries signed with the previous secret
are accepted until Kit's `previous_secret_expires_at`. When the previous
secret may have leaked, that window must close now: `revoke_previous` drops
it here first (from then on a delivery signed only with it gets 401, whatever
Kit does), then tells Kit to stop signing with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select, update

from app.extensions import db
from app.kit import webhook_endpoints as kit_webhooks
from app.kit.errors import KitError
from app.kit_cache import client_for
from app.models import WebhookEndpoint

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Revoked:
    """One endpoint's window closed here; `kit_error` names what failed when
    Kit could not be told (it then still signs with both until its window
    ends, which changes nothing here: the new secret's signature is checked)."""

    connection_id: int
    kit_endpoint_id: str
    kit_error: str | None


def endpoints_with_a_secret(connection_id: int | None) -> list[WebhookEndpoint]:
    """The live endpoints (of `connection_id`, else all) that have a secret at Kit."""
    query = (
        select(WebhookEndpoint)
        .where(
            WebhookEndpoint.kit_endpoint_id.is_not(None),
            WebhookEndpoint.secret.is_not(None),
            WebhookEndpoint.status != WebhookEndpoint.GONE,
        )
        .order_by(WebhookEndpoint.connection_id)
    )
    if connection_id is not None:
        query = query.where(WebhookEndpoint.connection_id == connection_id)
    return list(db.session.scalars(query))


def revoke_previous(endpoint: WebhookEndpoint) -> Revoked:
    """Drop the endpoint's previous secret now (committed), then ask Kit to
    end its window. No transaction is open while Kit answers."""
    connection_id, kit_id = endpoint.connection_id, endpoint.kit_endpoint_id
    assert kit_id is not None
    db.session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint.id)
        .values(previous_secret=None, previous_secret_expires_at=None)
    )
    db.session.commit()
    try:
        kit_webhooks.revoke_previous_secret(client_for(connection_id), kit_id)
    except KitError as exc:
        log.warning(
            "Closed the rotation window of endpoint %s here; Kit not told: %s",
            kit_id,
            type(exc).__name__,
        )
        return Revoked(connection_id, kit_id, type(exc).__name__)
    log.info("Closed the rotation window of endpoint %s", kit_id)
    return Revoked(connection_id, kit_id, None)
