"""Is the stored access token good enough to skip a refresh? The fast path of
`app.kit.tokens.valid_access_token` and the due-sweep's window ask here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.models import KitConnection


def is_fresh(
    connection: KitConnection,
    leeway: int,
    now: datetime | None = None,
    *,
    cap_leeway: bool = True,
) -> bool:
    """Valid for longer than the leeway.

    On the request path the leeway is capped at half the token's lifetime, so
    that a short-lived token is not refreshed on every call. `refresh-due`
    passes `cap_leeway=False`: its operator asked for that window on purpose.
    """
    now = now or datetime.now(UTC)
    margin = float(leeway)
    if cap_leeway:
        issued = connection.token_issued_at or connection.created_at
        lifetime = (connection.expires_at - issued).total_seconds()
        margin = min(margin, max(lifetime, 0) / 2)
    return connection.expires_at - timedelta(seconds=margin) > now


@dataclass(frozen=True)
class Want:
    """What a caller needs from the stored row before it will skip a refresh."""

    leeway: int
    rejected_token: str | None = None
    cap_leeway: bool = True

    def usable(self, connection: KitConnection, seen: str | None = None) -> bool:
        """The stored token will do. `seen`: the token stored when this caller
        started waiting for another worker's claim; a different one now is that
        worker's fresh token."""
        token = connection.access_token
        if not token:
            return False
        if self.rejected_token is None and is_fresh(
            connection, self.leeway, cap_leeway=self.cap_leeway
        ):
            return True
        stale = self.rejected_token if self.rejected_token is not None else seen
        if stale is None or token == stale:
            return False
        return connection.expires_at > datetime.now(UTC)
