"""`flask kit refresh-due` and `flask kit rotate-keys`: token upkeep.

`rotate_keys` re-encrypts every stored secret under the newest
`TOKEN_ENCRYPTION_KEYS` key. `refresh-due` enqueues the same tasks as beat's
"refresh-due" job (`app/jobs/token_refresh.py`) and waits for their outcomes.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

import click
from cryptography.fernet import InvalidToken
from flask.cli import with_appcontext
from sqlalchemy import Column, Table, Text, literal, select, type_coerce, update

from app import models  # noqa: F401 (every table in the metadata)
from app.crypto import EncryptedText, cipher
from app.extensions import db
from app.jobs.token_refresh import enqueue_due_refreshes
from app.kit import pairs, spool

log = logging.getLogger(__name__)


def encrypted_columns() -> list[tuple[Table, tuple[str, ...]]]:
    """Every encrypted column, by table, read from the models: a secret added
    later (tokens, verifiers, retired pairs, webhook signing secrets) is
    rotated with no list to update."""
    found = []
    for table in db.metadata.sorted_tables:
        names = tuple(
            c.name for c in table.columns if isinstance(c.type, EncryptedText)
        )
        if names:
            found.append((table, names))
    return found


def rotate_keys(batch_size: int = 500) -> Counter[str]:
    """Rotate every encrypted value; count `rotated`, `skipped` (changed meanwhile,
    so already written under the newest key) and `unreadable` (no key decrypts).

    Works on the ciphertext, never on the model attributes, and writes back with
    a compare-and-swap, so a refresh running at the same time is never undone.
    """
    summary: Counter[str] = Counter()
    for table, names in encrypted_columns():
        for name in names:
            _rotate_column(table, table.c[name], batch_size, summary)
    return summary


def _rotate_column(
    table: Table, column: Column, batch_size: int, summary: Counter[str]
) -> None:
    raw = type_coerce(column, Text)  # the stored ciphertext, not decrypted
    last_id = 0
    while True:
        rows = db.session.execute(
            select(table.c.id, raw)
            .where(table.c.id > last_id, column.is_not(None))
            .order_by(table.c.id)
            .limit(batch_size)
        ).all()
        if not rows:
            return
        for row_id, ciphertext in rows:
            try:
                rotated = cipher().rotate(ciphertext.encode()).decode()
            except InvalidToken:
                log.error(
                    "%s.%s of row %s decrypts with no key",
                    table.name,
                    column.name,
                    row_id,
                )
                summary["unreadable"] += 1
                continue
            result = db.session.execute(
                update(table)
                .where(table.c.id == row_id, raw == literal(ciphertext, Text))
                .values({column: literal(rotated, Text)})
            )
            summary["rotated" if result.rowcount else "skipped"] += 1  # type: ignore[attr-defined]
        db.session.commit()
        last_id = rows[-1][0]


def parse_duration(value: str) -> timedelta:
    """`90s`, `30m`, `2h`, `1d`, or plain seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    value = value.strip().lower()
    try:
        if value[-1:] in units:
            return timedelta(seconds=float(value[:-1]) * units[value[-1]])
        return timedelta(seconds=float(value))
    except ValueError:
        raise click.BadParameter(f"{value!r}: use a number with s, m, h or d") from None


@click.command("refresh-due")
@click.option(
    "--within",
    default="30m",
    show_default=True,
    help="Refresh tokens that expire within this time (90s, 30m, 2h, 1d).",
)
@click.option(
    "--batch-size", default=200, show_default=True, type=click.IntRange(1, 10_000)
)
@with_appcontext
def refresh_due_command(within: str, batch_size: int) -> None:
    """Refresh the tokens of connections that expire soon.

    One task per due connection: with REDIS_URL the Celery workers run them
    (beat's "refresh-due" job does the same every 5 minutes), without it they
    run here. Safe beside the web workers and twice at once: every refresh
    takes the connection's row lock. Exits 1 if a refresh failed for a reason
    other than a refused grant (Kit down, a misconfigured client).
    """
    seconds = int(parse_duration(within).total_seconds())
    replayed = pairs.replay_all()  # pairs kept while the database was away
    if replayed["written"] or replayed["dropped"]:
        click.echo(
            f"{replayed['written']} kept token pair written, "
            f"{replayed['dropped']} no longer newer than the stored one"
        )
    pages = list(enqueue_due_refreshes(seconds, batch_size, report=True))
    summary = Counter(outcome for page in pages for outcome in page.get())
    summary["due"] = sum(len(page) for page in pages)
    counts = ", ".join(
        f"{label} {summary[key]}"
        for key, label in [
            ("refreshed", "refreshed"),
            ("fresh", "already fresh"),
            ("needs_reconnect", "needs reconnect"),
            ("failed", "failed"),
        ]
    )
    click.echo(f"due {summary['due']}: {counts}")
    if summary["failed"]:
        raise SystemExit(1)


@click.command(
    "rotate-keys", short_help="Re-encrypt stored tokens under the newest key."
)
@with_appcontext
def rotate_keys_command() -> None:
    """Re-encrypt every stored token under the first TOKEN_ENCRYPTION_KEYS key.

    To rotate: put a new key first in TOKEN_ENCRYPTION_KEYS (keep the old ones
    after it), deploy, run this, then remove the old keys. Exits 1 if a value
    decrypts with none of the keys.
    """
    summary = rotate_keys()
    kept, unreadable = spool.rotate()  # token pairs kept on disk, if any
    summary["rotated"] += kept
    summary["unreadable"] += unreadable
    click.echo(
        f"rotated {summary['rotated']}, changed meanwhile {summary['skipped']}, "
        f"unreadable {summary['unreadable']}"
    )
    if summary["unreadable"]:
        raise SystemExit(1)
