"""One `register_legacy_rules` run at a time per connection.

A run lists the rules at Kit and deletes the ones of ours it does not know
(leftovers of a run that died between Kit's answer and our write). Two runs
at once (the install's job and the hourly upkeep, or a retry) would take
each other's new rule for a leftover: the one just created at Kit, not yet
written here, gets deleted, and the row says active for a rule Kit no longer
has. So a run first claims the connection (`legacy_rules_until`, a
conditional UPDATE in a short transaction of its own, as the token refresh
claims it: no lock is held while Kit answers); another run waits for the
claim to end, then runs with what the first one wrote. A claim left by a
dead worker ends by itself.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, update

from app.extensions import db
from app.models import KitConnection

CLAIM = timedelta(seconds=60)  # longer than a run's Kit calls can take
WAIT = 0.05  # between two tries of a busy claim


@contextmanager
def one_at_a_time(connection_id: int) -> Iterator[bool]:
    """Hold the connection's claim for the block; yields False (and nothing
    is claimed) when another run still held it after a whole claim's time."""
    until = _claim(connection_id)
    give_up = time.monotonic() + CLAIM.total_seconds()
    while until is None and time.monotonic() < give_up:
        time.sleep(WAIT)
        until = _claim(connection_id)
    try:
        yield until is not None
    finally:
        if until is not None:
            db.session.rollback()  # whatever the run left open
            db.session.execute(
                update(KitConnection)
                .where(
                    KitConnection.id == connection_id,
                    KitConnection.legacy_rules_until == until,
                )
                .values(legacy_rules_until=None)
            )
            db.session.commit()


def _claim(connection_id: int) -> datetime | None:
    now = datetime.now(UTC).replace(microsecond=0)
    until = now + CLAIM
    result = db.session.execute(
        update(KitConnection)
        .where(
            KitConnection.id == connection_id,
            or_(
                KitConnection.legacy_rules_until.is_(None),
                KitConnection.legacy_rules_until < now,
            ),
        )
        .values(legacy_rules_until=until)
    )
    db.session.commit()
    return until if result.rowcount == 1 else None  # type: ignore[attr-defined]
