"""The stored days: the daily growth figures of finished days, kept in the
database (`growth_days`). The overview built on them is `app/dashboard/overview.py`;
the install's backfill and the hourly sync (`app.jobs.figures`) fill them, and a
disconnect drops them, so they have a room of their own outside the dashboard.

A finished day (one that has ended in the account's sending time zone: Kit
counts its days there, KIT_PLATFORM.md section 5) does not change any more:
it is fetched from Kit once, stored in `growth_days`, and read from there
after. So the overview asks Kit (through the cache) only for what still
moves: the account, its email stats, the latest sent broadcasts and today's
figures, four calls in flight at once.
Finished days still missing (a first view before the backfill ran, a gap the
hourly sync has not filled yet) join that same batch and are stored on the
way; so does, when its days are not all stored, one call for the previous
period's totals (finished days too: cached for long, under its dates).

`backfill` keeps the last 90 days (the longest period the overview offers)
without a page: right after an install, and from the hourly `sync_figures`
job (`app.jobs.figures`), in one batch of at most KIT_PARALLEL_CALLS calls at
once. Storing is idempotent (`INSERT ... ON CONFLICT DO NOTHING` on the unique
connection and day), so a view and a job, or two jobs, storing one day at
once store it once.

The zone is the one stored on the connection (read with the account at
install): `zone_of`. When the overview reads the account and Kit says another
zone (the creator changed it in Kit, or the row predates the column),
`follow_zone` stores it and drops the days counted in the old one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, fields
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.kit.api import KitClient
from app.kit.resources import GrowthStats
from app.kit.times import AccountZone
from app.kit_cache import answers, client_for
from app.models import GrowthDay, KitConnection

# Kept in the table: the longest period the overview offers, so every one is warm.
GROWTH_DAYS = 90
# Figures of finished days do not change: kept this long in the cache.
FINISHED_SECONDS = 7 * 24 * 3600
FIGURES = [getattr(GrowthDay, field.name) for field in fields(GrowthStats)]
# The databases the app runs on, and their INSERT with ON CONFLICT.
INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def window(today: date, length: int = GROWTH_DAYS) -> list[date]:
    """A period's days, oldest first: the finished ones, then today."""
    return [today - timedelta(days=n) for n in range(length - 1, -1, -1)]


def zone_of(connection_id: int) -> AccountZone:
    """The connection's stored zone (UTC when none is known): one indexed read."""
    row = db.session.execute(
        select(KitConnection.timezone, KitConnection.timezone_label).where(
            KitConnection.id == connection_id
        )
    ).one_or_none()
    if row is None:
        raise LookupError(f"no connection {connection_id}")
    return AccountZone.of(*row)


def follow_zone(connection_id: int, columns: tuple[str, str]) -> bool:
    """Store the zone Kit just gave with the account, `(name, label)` as
    `Account.zone_columns` has them, if it is not the one stored; the days
    stored under another zone's name are dropped (they are another zone's
    days, and some were kept before they had ended here). Returns whether
    anything changed. A zone Kit did not give (`("", "")`) changes nothing.

    In a transaction of its own, as `store`: the page's session is untouched.
    """
    if not columns[0]:
        return False
    with db.engine.begin() as connection:
        row = connection.execute(
            select(KitConnection.timezone, KitConnection.timezone_label).where(
                KitConnection.id == connection_id
            )
        ).one_or_none()
        if row is None or tuple(row) == columns:
            return False
        connection.execute(
            update(KitConnection)
            .where(KitConnection.id == connection_id)
            .values(timezone=columns[0], timezone_label=columns[1])
        )
        if row[0] != columns[0]:
            connection.execute(
                delete(GrowthDay).where(GrowthDay.connection_id == connection_id)
            )
    return True


# --- the table ---------------------------------------------------------------------


def stored(connection_id: int, days: Sequence[date]) -> dict[date, GrowthStats]:
    """The figures stored for these days (a day not stored yet is absent)."""
    if not days:
        return {}
    rows = db.session.execute(
        select(GrowthDay.day, *FIGURES).where(
            GrowthDay.connection_id == connection_id,
            GrowthDay.day.between(min(days), max(days)),
        )
    )
    wanted = set(days)
    return {day: GrowthStats(*figures) for day, *figures in rows if day in wanted}


def store(connection_id: int, kit_answers: Mapping[date, Any]) -> int:
    """Keep Kit's answers for finished days; a day already stored stays as it
    is. An answer without every figure is not kept (it is asked for again
    next time). Returns how many days were added.

    In a transaction of its own: a page's session, with what it has loaded,
    is neither committed nor expired by it.
    """
    rows = [
        {"connection_id": connection_id, "day": day, **asdict(stats)}
        for day, answer in kit_answers.items()
        if (stats := GrowthStats.complete_from_kit(answer)) is not None
    ]
    if not rows:
        return 0
    with db.engine.connect() as connection:
        insert = INSERTS[connection.dialect.name](GrowthDay).values(rows)
        added = connection.execute(
            insert.on_conflict_do_nothing(
                index_elements=["connection_id", "day"]
            ).returning(GrowthDay.day)
        ).all()  # only the rows inserted come back (rowcount is -1 on psycopg)
        # A disconnect deletes the figures: one that got in while Kit was
        # answering must not see them come back. The insert waits for a
        # disconnect under way (PostgreSQL: the foreign key's share lock on
        # the connection row; SQLite: the write lock), so this read is current.
        status = connection.scalar(
            select(KitConnection.status).where(KitConnection.id == connection_id)
        )
        if status != KitConnection.ACTIVE:
            connection.rollback()
            return 0
        connection.commit()
    return len(added)


def forget(connection_id: int) -> None:
    """Delete every stored day of the connection (on disconnect)."""
    db.session.execute(
        delete(GrowthDay).where(GrowthDay.connection_id == connection_id)
    )
    db.session.commit()


# --- Kit ---------------------------------------------------------------------------


def day_key(day: date) -> str:
    return f"growth_stats:{day.isoformat()}"


def ask_kit(client: KitClient, day: date) -> Callable[[], Any]:
    """The call for one whole day's figures."""
    return lambda: client.get(
        "account/growth_stats", starting=day.isoformat(), ending=day.isoformat()
    )


def backfill(connection_id: int, today: date | None = None) -> int:
    """Fetch and store the window's finished days that are not stored yet, all
    at once (the page's bounded thread pool); returns how many were added.

    Raises the Kit failure, if any, having stored nothing: all or none, the
    next run asks again for what is still missing.
    """
    days = window(today or zone_of(connection_id).today())[:-1]
    have = stored(connection_id, days)
    missing = [day for day in days if day not in have]
    if not missing:
        return 0
    client = client_for(connection_id)
    fetched = answers(
        client, {}, {day_key(day): ask_kit(client, day) for day in missing}
    )
    return store(connection_id, {day: fetched[day_key(day)] for day in missing})
