"""Each connection's legacy webhook rules at Kit (`/v4/webhooks`): created with
the 2.0 endpoint, kept by the hourly upkeep, deleted at Kit on disconnect.

Which rules (`wanted`): `purchase.purchase_create` always (Webhooks 2.0
refuses purchases with 422); the products and links the creator follows
(`legacy_follow.follow`: Kit's `subscriber.product_purchase` and
`subscriber.link_click` need a product id or a link URL, one rule each); and,
while Kit answers 404 to 2.0 for the account, the subscriber events 2.0 would
have carried that the legacy API takes without a parameter (`legacy.AS_2_0`).

A rule's key is made when it is created at Kit and only its hash is kept, so
the rule found at Kit is ours when the key in its `target_url` hashes to the
row's and its URL is under this deployment's PUBLIC_BASE_URL (else it is made
again, and the old one deleted). Rules at Kit under our URL whose key no live
row knows (left by a disconnect whose grant could not delete them, or by a job
that died) are deleted; another origin's (a staging copy of the app) are not.
No transaction is open while Kit answers.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from celery import shared_task
from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.config import public_base_url
from app.extensions import db
from app.kit import legacy_webhooks as kit_legacy
from app.kit.api import KitClient
from app.kit.errors import KitError, KitUnavailable, NeedsReconnect
from app.kit_cache import client_for
from app.models import KitConnection, LegacyWebhook, WebhookEndpoint
from app.webhooks import legacy
from app.webhooks.legacy_turn import one_at_a_time

log = logging.getLogger(__name__)

PATH = "/webhooks/kit/legacy/"
FOLLOWED = ("subscriber.product_purchase", "subscriber.link_click")


def target_url(key: str) -> str:
    base = public_base_url(current_app.config)
    if not base:
        raise KitError("set PUBLIC_BASE_URL")
    return f"{base}{PATH}{key}"


def _key_of(url: str) -> str | None:
    """The key in one of our target URLs (of any origin), else None."""
    found = re.search(r"/webhooks/kit/legacy/([A-Za-z0-9_-]{16,64})$", url)
    return found.group(1) if found else None


def new_row(connection_id: int, event: str, param: str) -> LegacyWebhook:
    # A hash no key has: nothing is delivered to a rule before Kit has it.
    row = LegacyWebhook(
        connection_id=connection_id,
        event=event,
        param=param,
        key_hash=legacy.key_hash(legacy.new_key()),
    )
    db.session.add(row)
    return row


def wanted(connection_id: int) -> set[tuple[str, str]]:
    rules = {("purchase.purchase_create", "")}
    status = db.session.scalar(
        select(WebhookEndpoint.status).where(
            WebhookEndpoint.connection_id == connection_id
        )
    )
    if status == WebhookEndpoint.UNAVAILABLE:
        rules |= {(event, "") for event in legacy.AS_2_0}
    followed = db.session.execute(
        select(LegacyWebhook.event, LegacyWebhook.param).where(
            LegacyWebhook.connection_id == connection_id,
            LegacyWebhook.event.in_(FOLLOWED),
        )
    )
    return rules | {(event, param) for event, param in followed}


def _rows(connection_id: int) -> tuple[list[LegacyWebhook], list[LegacyWebhook]]:
    """(the rows to keep at Kit, made if missing; the rows no longer wanted)."""
    want = wanted(connection_id)
    rows = list(
        db.session.scalars(
            select(LegacyWebhook).where(LegacyWebhook.connection_id == connection_id)
        )
    )
    have = {(row.event, row.param) for row in rows}
    for event, param in sorted(want - have):
        rows.append(new_row(connection_id, event, param))
    for row in rows:
        if row.status == LegacyWebhook.GONE:  # connected again: a new key
            row.status = LegacyWebhook.PENDING
            row.key_hash = legacy.key_hash(legacy.new_key())
    try:
        db.session.commit()
    except IntegrityError:  # another job made the same row first: use its
        db.session.rollback()
        return _rows(connection_id)
    keep = [row for row in rows if (row.event, row.param) in want]
    return keep, [row for row in rows if (row.event, row.param) not in want]


@shared_task(name="app.webhooks.register_legacy_rules")
def register_legacy_rules(connection_id: int) -> str:
    """Make the connection's wanted rules exist at Kit; returns `active`,
    `unavailable`, `failed` or `skipped` (connection not active, or another
    run held it too long). One run at a time per connection (`legacy_turn`)."""
    with one_at_a_time(connection_id) as ours:
        if not ours:
            return "skipped"
        return _register(connection_id)


def _register(connection_id: int) -> str:
    connection = db.session.get(KitConnection, connection_id)
    if connection is None or connection.status != KitConnection.ACTIVE:
        db.session.commit()
        return "skipped"
    keep, drop = _rows(connection_id)
    mine = [(r.id, r.event, r.param, r.kit_rule_id, r.key_hash) for r in keep]
    old = [(r.id, r.kit_rule_id) for r in drop]
    known = set(
        db.session.scalars(
            select(LegacyWebhook.key_hash).where(
                LegacyWebhook.status != LegacyWebhook.GONE
            )
        )
    )
    db.session.commit()  # nothing open while Kit answers
    client = client_for(connection_id)
    try:
        at_kit = kit_legacy.list_rules(client)
        ours = target_url("")  # this deployment's; another's are left alone
        for rule in at_kit:
            key = _key_of(rule.target_url)
            if (
                key is not None
                and rule.target_url.startswith(ours)
                and legacy.key_hash(key) not in known
            ):
                _delete_quietly(client, rule.id)  # a leftover of ours
        for row_id, kit_id in old:
            if kit_id:
                _delete_quietly(client, kit_id)
            db.session.execute(
                LegacyWebhook.__table__.delete().where(LegacyWebhook.id == row_id)
            )
            db.session.commit()
        by_id = {rule.id: rule for rule in at_kit}
        status = "active"
        for row_id, event, param, kit_id, hashed in mine:
            there = by_id.get(kit_id or "")
            key = _key_of(there.target_url) if there else None
            if (
                there is not None
                and there.target_url.startswith(ours)
                and key is not None
                and legacy.key_hash(key) == hashed
            ):
                _mark(row_id, LegacyWebhook.ACTIVE, None)
                continue
            if not _create(client, row_id, event, param, kit_id):
                status = "failed"
            elif there is not None:  # ours, at an old PUBLIC_BASE_URL
                _delete_quietly(client, there.id)
        return status
    except kit_legacy.LegacyUnavailable:
        for row_id, *_ in mine:
            _mark(row_id, LegacyWebhook.UNAVAILABLE, "not enabled at Kit")
        return "unavailable"
    except NeedsReconnect:
        return "skipped"
    except KitError as exc:
        log.warning(
            "Legacy webhooks of connection %s not registered: %s",
            connection_id,
            type(exc).__name__,
        )
        for row_id, *_ in mine:
            _mark(row_id, LegacyWebhook.FAILED, type(exc).__name__, only_unsure=True)
        return "failed"


def _create(
    client: KitClient, row_id: int, event: str, param: str, before: str | None
) -> bool:
    """Create the rule at Kit under a new key; False when Kit refused it (a
    product or link it does not know: the row says why). Other errors of
    Kit's propagate."""
    key = legacy.new_key()
    try:
        created = kit_legacy.create_rule(client, target_url(key), event, param)
    except (kit_legacy.LegacyUnavailable, KitUnavailable, NeedsReconnect):
        raise
    except KitError as exc:
        _mark(row_id, LegacyWebhook.FAILED, f"Kit refused it: {type(exc).__name__}")
        return False
    unchanged = (
        LegacyWebhook.kit_rule_id.is_(None)
        if before is None
        else LegacyWebhook.kit_rule_id == before
    )
    result = db.session.execute(
        update(LegacyWebhook)
        .where(
            LegacyWebhook.id == row_id,
            LegacyWebhook.status != LegacyWebhook.GONE,
            unchanged,
        )
        .values(
            kit_rule_id=created.id,
            key_hash=legacy.key_hash(key),
            status=LegacyWebhook.ACTIVE,
            last_error=None,
            updated_at=datetime.now(UTC),
        )
    )
    db.session.commit()
    if result.rowcount != 1:  # type: ignore[attr-defined]
        _delete_quietly(client, created.id)  # another job, or a disconnect, won
    else:
        log.info("Created legacy webhook %s (%s) at Kit", created.id, event)
    return True


def _mark(
    row_id: int, status: str, error: str | None, only_unsure: bool = False
) -> None:
    query = update(LegacyWebhook).where(
        LegacyWebhook.id == row_id, LegacyWebhook.status != LegacyWebhook.GONE
    )
    if only_unsure:  # Kit down: a rule known to be there stays active
        query = query.where(LegacyWebhook.status != LegacyWebhook.ACTIVE)
    db.session.execute(query.values(status=status, last_error=error))
    db.session.commit()


def _delete_quietly(client: KitClient, rule_id: str) -> None:
    try:
        kit_legacy.delete_rule(client, rule_id)
    except (KitUnavailable, NeedsReconnect):
        raise
    except KitError as exc:
        log.warning(
            "Could not delete legacy webhook %s at Kit: %s", rule_id, type(exc).__name__
        )


# --- disconnect ---------------------------------------------------------------


def delete_at_kit(connection_id: int) -> None:
    """Before a disconnect's revoke, while the grant can: delete the
    connection's rules at Kit. KitUnavailable propagates (nothing is revoked:
    the creator tries again); a grant Kit no longer honours cannot delete
    them, and the next grant for the account does (as leftovers)."""
    rules = db.session.execute(
        select(LegacyWebhook.id, LegacyWebhook.kit_rule_id).where(
            LegacyWebhook.connection_id == connection_id,
            LegacyWebhook.kit_rule_id.is_not(None),
            LegacyWebhook.status != LegacyWebhook.GONE,
        )
    ).all()
    db.session.commit()
    if not rules:
        return
    client = client_for(connection_id)
    for row_id, kit_id in rules:
        try:
            _delete_quietly(client, kit_id)
        except NeedsReconnect:
            return
        db.session.execute(
            update(LegacyWebhook)
            .where(LegacyWebhook.id == row_id, LegacyWebhook.kit_rule_id == kit_id)
            .values(kit_rule_id=None, status=LegacyWebhook.PENDING)
        )
        db.session.commit()


def forget(connection_id: int) -> None:
    """After the revoke: the rules are gone, so a late delivery gets 410."""
    db.session.execute(
        update(LegacyWebhook)
        .where(LegacyWebhook.connection_id == connection_id)
        .values(status=LegacyWebhook.GONE, last_error=None)
    )
    db.session.commit()
