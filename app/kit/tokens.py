"""One way to get a valid access token for a connection, safe under concurrency.

Kit rotates refresh tokens: each refresh returns a new pair and kills the old
refresh token. Two workers refreshing the same connection at once would spend
the same refresh token twice, and the loser's `invalid_grant` would look like an
uninstall. So a refresh goes claim, commit, call, write:

1. In a short transaction under the row lock, re-read the row: another worker
   may have refreshed meanwhile (use its token) or be refreshing now (wait for
   its claim, bounded, then re-read). Otherwise write our claim and commit.
2. Call Kit's token endpoint with no transaction open.
3. Write the new pair in a second short transaction that checks the claim is
   still ours, or at least that the stored refresh token is still the one we
   spent (then our pair is the only live one, whoever holds the claim now).
   If the database refuses, the pair is kept on disk, encrypted, and written
   before anyone spends the stored token again (`app.kit.pairs`).

A refresh whose answer never came (Kit silent past `KIT_TOKEN_TIMEOUT`, a
worker killed at Kit, whose claim then ran out) may have rotated the pair or
not: the row notes it (`unsettled_refresh`), the next refresh tries the same
token once, and Kit refusing it then is "refresh outcome unknown", not a grant
the creator revoked.

So no lock or transaction spans a call to Kit: a hung token endpoint delays
only the callers that need this connection's token. See `app.kit.locking`.

Works inside and outside requests (views, CLI, jobs): it needs an app context
(for the database and the encryption keys), never a request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm.util import identity_key

from app.extensions import db
from app.kit import oauth, pairs, spool
from app.kit.errors import (
    AccessRefused,
    AccessTokenExpired,
    AccessTokenInvalid,
    KitError,
    KitUnavailable,
    NeedsReconnect,
    OAuthGrantError,
    TokenOutcomeUnknown,
)
from app.kit.freshness import Want
from app.kit.locking import (
    Claim,
    live_claim,
    locked_connection,
    refresh_claim_seconds,
    release_claim,
    take_claim,
    wait_for_claim,
    wait_seconds,
)
from app.kit.outcomes import (
    UNSETTLED,
    note_unsettled,
    settle_failure,
    settle_refusal,
    settle_unknown,
)
from app.kit.settings import KitSettings
from app.models import KitConnection

log = logging.getLogger(__name__)
T = TypeVar("T")


def valid_access_token(
    connection_id: int,
    settings: KitSettings,
    *,
    leeway: int = 300,
    rejected_token: str | None = None,
) -> str:
    """Return an access token for the connection that Kit should accept.

    Fast path: the stored token is fresh, so no lock and no call to Kit.
    `rejected_token` is a token Kit just answered 401 to: refresh unless another
    worker has replaced it already (then use theirs: one refresh per rejected
    token, however many callers saw the 401).
    """
    want = Want(leeway, rejected_token)
    # The fast path reads on a connection of its own, returned to the pool at
    # once: a caller about to wait on Kit (a page's parallel calls) must not
    # sit on a database connection meanwhile.
    with db.engine.connect() as conn:
        row = conn.execute(
            select(
                KitConnection.status,
                KitConnection.access_token,
                KitConnection.expires_at,
                KitConnection.token_issued_at,
                KitConnection.created_at,
            ).where(KitConnection.id == connection_id)
        ).one_or_none()
    if row is None:
        raise LookupError(f"no Kit connection {connection_id}")
    if row.status != KitConnection.ACTIVE or not row.access_token:
        # A pair kept on disk may be the answer to the refusal that marked it.
        if row.status != KitConnection.NEEDS_RECONNECT or not spool.files(
            connection_id
        ):
            raise NeedsReconnect(str(connection_id))
    elif want.usable(row):  # type: ignore[arg-type]
        return str(row.access_token)
    if not (db.session.new or db.session.dirty or db.session.deleted):
        # Give the caller's connection back to the pool while we claim and
        # wait: otherwise a storm of callers, each holding one connection and
        # waiting for a second, can drain the pool and wait on each other.
        db.session.commit()
    try:
        token, _ = refresh_or_wait(connection_id, settings, want)
    finally:
        forget_loaded_row(connection_id)
    return token


def forget_loaded_row(connection_id: int) -> None:
    """The claim's sessions wrote the row: make the caller's session reload its
    copy (if it has one) instead of showing stale status or tokens."""
    loaded = db.session.identity_map.get(identity_key(KitConnection, connection_id))
    if loaded is not None:
        db.session.expire(loaded)


def refresh_or_wait(
    connection_id: int, settings: KitSettings, want: Want
) -> tuple[str, bool]:
    """Refresh unless the stored token is what `want` needs, or another worker
    refreshes it first.

    Returns the access token and whether this call spent the refresh token.
    Raises `NeedsReconnect` (grant gone, connection marked), `RefreshBusy`
    (another worker's refresh outlasted our wait) or `KitUnavailable` (Kit
    failed, ours or the refresh we waited for; stored tokens untouched).
    """
    deadline = time.monotonic() + wait_seconds(settings)
    seen: str | None = None  # the stored token when we started waiting
    while True:
        failure: KitError | None = None
        token, claim, busy = "", None, None
        with locked_connection(connection_id) as (session, connection):
            # Pairs kept while the database was refusing writes go in first:
            # the stored refresh token may be one Kit has already killed.
            replayed = pairs.replay_in(session, connection)
            if connection.status != KitConnection.ACTIVE or not (
                connection.refresh_token
            ):
                failure = NeedsReconnect(connection.label)
            elif want.usable(connection, seen):
                token = connection.access_token or ""
            elif busy := live_claim(connection):
                seen = seen or connection.access_token or ""
            elif seen is not None and connection.refresh_claim is None:
                # The refresh we waited for ended without a new token: Kit
                # failed it. Trying again at once would only queue this caller
                # behind the same failure (a hung Kit, one caller at a time).
                failure = KitUnavailable(
                    connection.last_error or "Kit did not refresh the token"
                )
            else:  # free, or left past its time by a dead worker
                if connection.refresh_claim is not None:
                    # Its worker may have spent the token and died before
                    # writing what Kit answered: we cannot know.
                    note_unsettled(session, connection, UNSETTLED)
                claim = take_claim(connection, refresh_claim_seconds(settings))
        pairs.discard(replayed)
        if failure is not None:
            raise failure
        if token:
            return token, False
        if claim is not None:
            return _spend(connection_id, settings, claim), True
        assert busy is not None
        wait_for_claim(connection_id, busy, deadline)


def _spend(connection_id: int, settings: KitSettings, claim: Claim) -> str:
    """Call Kit with the claimed refresh token (no transaction open), then
    settle the outcome in a short transaction."""
    assert claim.refresh_token is not None
    try:
        tokens = oauth.refresh(settings, claim.refresh_token)
    except OAuthGrantError as exc:
        return settle_refusal(connection_id, claim, exc)
    except TokenOutcomeUnknown as exc:
        settle_unknown(connection_id, claim, str(exc))
        raise
    except KitUnavailable as exc:
        settle_failure(connection_id, claim, str(exc))
        raise
    except BaseException:
        release_claim(connection_id, claim)
        raise
    return _settle_success(connection_id, settings, claim, tokens)


def _settle_success(
    connection_id: int, settings: KitSettings, claim: Claim, tokens: oauth.TokenSet
) -> str:
    """Write the new pair if it is still the one that counts (`app.kit.pairs`).

    Kit has killed the refresh token we spent, so while the row still holds it,
    our pair is the only live one: written even if our claim ran out and
    another worker claimed meanwhile (that worker's refresh with the same token
    will get `invalid_grant`, find this pair and use it). If the row holds
    another refresh token, a reinstall stored a new grant while we were at
    Kit: that one stays, and ours is retired (the sweep revokes it at Kit).
    """
    return pairs.write(connection_id, claim, tokens, settings)


def call_with_token(
    connection_id: int,
    settings: KitSettings,
    call: Callable[[str], T],
    *,
    leeway: int = 300,
) -> T:
    """Run `call(access_token)`; on a 401 refresh once and retry once.

    A 401 ("expired" or "invalid") gets one refresh for the rejected token
    (none if another caller already replaced it) and one retry. A second 401
    raises `AccessRefused` (a 503 "try again") and leaves the connection as it
    is: a 401 alone never marks it; only the refresh's `invalid_grant` does.
    """
    token = valid_access_token(connection_id, settings, leeway=leeway)
    try:
        return call(token)
    except (AccessTokenExpired, AccessTokenInvalid):
        token = valid_access_token(
            connection_id, settings, leeway=leeway, rejected_token=token
        )
    try:
        return call(token)
    except (AccessTokenExpired, AccessTokenInvalid) as refused:
        log.warning(
            "Kit refused the token of connection %s again after a refresh (%s); "
            "the connection stays active",
            connection_id,
            type(refused).__name__,
        )
        raise AccessRefused("Kit refused access just now") from None
