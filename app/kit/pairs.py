"""Writing a pair Kit issued: at once, or kept on disk until the database takes it.

Kit has killed the refresh token we spent, so the pair it answered with is the
only live copy of the grant. `write` keeps it encrypted on disk first
(`app.kit.spool`, a few milliseconds once per refresh), then stores it in a
short transaction and drops the file. If the database refuses (locked,
restarting), it retries the write for a bounded time (about one API call,
`KIT_HTTP_TIMEOUT`) and, failing that, raises the database's error (a 503)
with the pair safe on disk. `replay_in` writes kept pairs back: before
any refresh of that connection (so the dead refresh token is never spent
again), and `replay_all` from beat's refresh-due and `flask kit refresh-due`.

A pair counts only while the row holds the refresh token it replaced: then it
is the newer one. If the row holds something else, a reinstall or a disconnect
came in between: the pair is retired (revoked at Kit by the sweep), never
stored over the newer grant.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.extensions import db
from app.kit import grants, spool
from app.kit.errors import KitError, NeedsReconnect
from app.kit.locking import Claim, live_claim, locked_connection, release_claim_in
from app.kit.oauth import TokenSet
from app.kit.settings import KitSettings
from app.models import ConnectionEvent, KitConnection, RetiredGrant

log = logging.getLogger(__name__)
Applied = Literal["stored", "already", "retired"]
FIRST_PAUSE, LONGEST_PAUSE = 0.05, 1.0  # seconds between write attempts


def write(
    connection_id: int, claim: Claim, tokens: TokenSet, settings: KitSettings
) -> str:
    """Store the pair Kit answered `claim`'s refresh with; return the access
    token to use. Never drops the pair: see the module docstring."""
    assert claim.refresh_token is not None
    # On disk before the first attempt: an attempt can wait a busy timeout
    # (15 s on SQLite), and a worker killed meanwhile must leave the pair.
    kept = _keep(connection_id, claim.refresh_token, tokens)
    deadline = time.monotonic() + settings.timeout
    pause, refused = FIRST_PAUSE, False
    while True:
        try:
            token = _write_once(connection_id, claim, tokens)
        except DBAPIError:
            if not refused:
                refused = True
                _log_refusal(connection_id, kept)
            if time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE)
            continue
        except NeedsReconnect:
            # Committed: the pair went to retired_grants instead.
            if kept is not None:
                spool.discard(kept)
            raise
        if kept is not None:
            spool.discard(kept)
        return token


def _keep(connection_id: int, spent: str, tokens: TokenSet) -> Path | None:
    try:
        return spool.keep(connection_id, spent, tokens)
    except OSError as exc:
        log.error(
            "The new Kit token pair of connection %s could not be kept on disk "
            "(%s); writing it to the database only",
            connection_id,
            type(exc).__name__,
        )
        return None


def _log_refusal(connection_id: int, kept: Path | None) -> None:
    if kept is None:
        log.critical(
            "The database refused the new Kit token pair of connection %s, which "
            "is not kept on disk either; still trying the database",
            connection_id,
        )
    else:
        log.error(
            "The database refused the new Kit token pair of connection %s; it is "
            "kept encrypted in %s until the database takes it",
            connection_id,
            kept.parent,
        )


def _write_once(connection_id: int, claim: Claim, tokens: TokenSet) -> str:
    failure: KitError | None = None
    assert claim.refresh_token is not None
    with locked_connection(connection_id) as (session, connection):
        release_claim_in(connection, claim)
        applied = apply(
            session, connection, tokens, spool.token_hash(claim.refresh_token)
        )
        token = connection.access_token or ""
        if applied == "retired" and (
            connection.status != KitConnection.ACTIVE or not token
        ):
            failure = NeedsReconnect(connection.label)
    if failure is not None:
        raise failure
    return token


def apply(
    session: Session, connection: KitConnection, tokens: TokenSet, spent: str
) -> Applied:
    """Put a pair on the locked row if it is newer than the stored one."""
    current = connection.refresh_token
    if current == tokens.refresh_token:
        return "already"
    if current and spool.token_hash(current) == spent:
        store(session, connection, tokens)
        return "stored"
    log.warning(
        "Connection %s got a new grant during a refresh; the refreshed pair is retired",
        connection.id,
    )
    grants.retire(
        session,
        tokens.access_token,
        tokens.refresh_token,
        RetiredGrant.LOST_RACE,
        connection.id,
        queued=False,
    )
    return "retired"


def store(session: Session, connection: KitConnection, tokens: TokenSet) -> None:
    """The new pair replaces the one it was refreshed from."""
    now = datetime.now(UTC)
    connection.access_token = tokens.access_token
    connection.refresh_token = tokens.refresh_token
    connection.expires_at = tokens.expires_at
    connection.token_issued_at = now
    connection.last_refreshed_at = now
    connection.last_error = None
    connection.unsettled_refresh = None
    if connection.status == KitConnection.NEEDS_RECONNECT:
        # The row held the very token this pair replaced: Kit's refusal of
        # that token (seen while this pair waited on disk) is explained.
        connection.status = KitConnection.ACTIVE
    session.add(
        ConnectionEvent(connection_id=connection.id, kind=ConnectionEvent.REFRESHED)
    )
    log.info("Refreshed the Kit token of connection %s", connection.id)


def replay_in(session: Session, connection: KitConnection) -> list[Path]:
    """Apply the kept pairs of the locked row, oldest link of a chain first;
    returns their files, to `discard` once the transaction has committed."""
    waiting = spool.kept(connection.id)
    if not waiting:
        return []
    paths = [pair.path for pair in waiting]
    progress = True
    while progress:
        progress = False
        for pair in list(waiting):
            token = connection.refresh_token
            if token and spool.token_hash(token) == pair.spent:
                store(session, connection, pair.tokens)
                waiting.remove(pair)
                progress = True
    for pair in waiting:  # older than the stored pair, or outrun by a reinstall
        apply(session, connection, pair.tokens, pair.spent)
    if not live_claim(connection):
        connection.refresh_claim = None  # left by the worker that kept them
        connection.refresh_claimed_until = None
    return paths


def discard(paths: list[Path]) -> None:
    for path in paths:
        spool.discard(path)


def replay_all() -> Counter[str]:
    """Write every kept pair of this database; count `written` and `dropped`
    (no longer newer than the stored pair: retired, or already there)."""
    summary: Counter[str] = Counter()
    for connection_id in sorted({pair.connection_id for pair in spool.kept()}):
        before = {pair.path for pair in spool.kept(connection_id)}
        try:
            with locked_connection(connection_id) as (session, connection):
                previous = connection.refresh_token
                paths = replay_in(session, connection)
                changed = connection.refresh_token != previous
        except LookupError:  # the connection was deleted: revoke its pairs
            paths = _retire_orphans(connection_id)
            changed = False
        discard(paths)
        summary["written"] += int(changed)
        summary["dropped"] += len(before) - int(changed)
    if summary["written"]:
        log.info("Wrote %s kept token pair(s) to the database", summary["written"])
    return summary


def _retire_orphans(connection_id: int) -> list[Path]:
    pairs = spool.kept(connection_id)
    with Session(db.engine) as session, session.begin():
        for pair in pairs:
            grants.retire(
                session,
                pair.tokens.access_token,
                pair.tokens.refresh_token,
                RetiredGrant.LOST_RACE,
                None,
                queued=False,
            )
    return [pair.path for pair in pairs]
