"""What an install queues once the connection is saved: the backfill of its
stored days, the registration of its webhook endpoint at Kit, and the
revocation of the token pairs it retired (`app.install.flow`)."""

from __future__ import annotations

from app.extensions import db
from app.jobs import enqueue
from app.jobs.figures import backfill_figures
from app.jobs.grant_revocation import revoke_grant
from app.kit import grants
from app.kit.oauth import TokenSet
from app.models import RetiredGrant
from app.webhooks.legacy_rules import register_legacy_rules
from app.webhooks.tasks import register_endpoint


def queue_backfill(connection_id: int) -> None:
    """Queue the backfill of the connection's finished days of the last 90 (the
    overview's longest period), so that its first overview reads them from the
    database.

    Without REDIS_URL it runs here and now: one batch of parallel calls. It
    never fails the install: the connection is saved, and the hourly sync (or
    the overview itself) fetches whatever is still missing.
    """
    enqueue(
        backfill_figures,
        connection_id,
        about=f"the backfill of connection {connection_id}",
    )


def queue_webhook_registration(connection_id: int) -> None:
    """Queue the registration of the connection's webhook endpoint at Kit, and
    of its legacy webhook rules (on install and reconnect). Like the backfill,
    it never fails the install: a failed or lost registration is retried by
    the hourly upkeep."""
    enqueue(
        register_endpoint,
        connection_id,
        force=True,
        about=f"the webhook registration of connection {connection_id}",
    )
    enqueue(
        register_legacy_rules,
        connection_id,
        about=f"the legacy webhooks of connection {connection_id}",
    )


def queue_revocation(retired_id: int) -> None:
    """Queue the revocation of a retired pair (committed already). If queueing
    fails, beat's sweep finds the row once its lease runs out."""
    enqueue(
        revoke_grant, retired_id, about=f"the revocation of retired grant {retired_id}"
    )


def retire_orphan(tokens: TokenSet) -> None:
    """The install stops after Kit issued `tokens`: have them revoked."""
    retired = grants.retire(
        db.session, tokens.access_token, tokens.refresh_token, RetiredGrant.ORPHANED
    )
    db.session.commit()
    queue_revocation(retired.id)
