"""`flask kit connections`: every Kit connection, and never more.

The query selects the listed columns one by one rather than whole
`KitConnection` rows: the tokens are not even read, so they cannot be printed,
and a column added to the model later stays out until someone lists it here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.extensions import db
from app.kit import spool
from app.kit.grants import pending_counts
from app.kit.times import AccountZone
from app.models import KitConnection, User

STATUSES = (
    KitConnection.ACTIVE,
    KitConnection.NEEDS_RECONNECT,
    KitConnection.REVOKED,
)
HEADERS = (
    "ID",
    "USER",
    "KIT ACCOUNT",
    "TENANT",
    "STATUS",
    "EXPIRES (UTC)",
    "LAST REFRESHED (UTC)",
)


def connection_rows(
    status: str | None = None, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Every connection (or those with `status`), oldest first, as plain data
    that `json.dumps` takes as it is: times are ISO 8601 in UTC."""
    now = now or datetime.now(UTC)
    query = (
        select(
            KitConnection.id,
            User.email,
            KitConnection.kit_account_id,
            KitConnection.account_name,
            KitConnection.tenant_name,
            KitConnection.status,
            KitConnection.expires_at,
            KitConnection.last_refreshed_at,
            KitConnection.last_error,
            KitConnection.unsettled_refresh,
        )
        .join(User, KitConnection.user_id == User.id)
        .order_by(KitConnection.id)
    )
    if status is not None:
        query = query.where(KitConnection.status == status)
    return [
        {
            "id": row.id,
            "user_email": row.email,
            "kit_account_id": row.kit_account_id,
            "account_name": row.account_name,
            "tenant_name": row.tenant_name,
            "status": row.status,
            "expires_at": row.expires_at.isoformat(),
            # Negative once the access token has expired.
            "expires_in_seconds": int((row.expires_at - now).total_seconds()),
            "last_refreshed_at": (
                row.last_refreshed_at.isoformat() if row.last_refreshed_at else None
            ),
            "refresh_outcome_unknown": outcome_unknown(
                row.status, row.last_error, row.unsettled_refresh
            ),
        }
        for row in db.session.execute(query)
    ]


def outcome_unknown(status: str, last_error: str | None, unsettled: str | None) -> bool:
    """A refresh of the stored token went unanswered (`KitConnection.
    refresh_outcome_unknown`, told without reading the token): the note is
    set with a `last_error`, and a refresh or a reinstall clears that error."""
    return bool(unsettled and last_error and status != KitConnection.REVOKED)


def unknown_outcomes() -> list[int]:
    """The ids of the connections whose last refresh outcome is unknown."""
    rows = db.session.execute(
        select(
            KitConnection.id,
            KitConnection.status,
            KitConnection.last_error,
            KitConnection.unsettled_refresh,
        ).where(KitConnection.unsettled_refresh.is_not(None))
    )
    return [row.id for row in rows if outcome_unknown(*row[1:])]


def token_pair_report() -> tuple[str, str, str]:
    """`flask kit doctor`'s line on the token pairs: (PASS/WARN/FAIL, what,
    the fix). Kept pairs wait for the database (app/kit/pairs.py); an unknown
    refresh outcome is a connection that may have lost its pair."""
    if not spool.writable():
        return (
            "FAIL",
            f"{spool.directory()} cannot be written: a pair the database refuses "
            "would be lost",
            "make KIT_PENDING_PAIRS_DIR a writable, durable folder",
        )
    if unreadable := spool.unreadable():
        return (
            "FAIL",
            f"{len(unreadable)} kept pair(s) decrypt with no TOKEN_ENCRYPTION_KEYS key",
            "put the removed key back, then run flask --app app kit refresh-due",
        )
    problems = []
    if kept := spool.files():
        problems.append(f"{len(kept)} pair(s) kept on disk for the database")
    if unknown := unknown_outcomes():
        ids = ", ".join(str(i) for i in unknown)
        problems.append(f"refresh outcome unknown for connection(s) {ids}")
    if problems:
        return (
            "WARN",
            "; ".join(problems),
            "flask --app app kit refresh-due writes kept pairs; a connection marked "
            "Reconnect needed comes back when its creator reconnects",
        )
    return ("PASS", "none kept on disk, no refresh outcome unknown", "")


def render_table(rows: list[dict[str, Any]], now: datetime | None = None) -> str:
    """The rows as a plain-text table with a header line, for a terminal."""
    now = now or datetime.now(UTC)
    cells = [HEADERS] + [
        (
            str(row["id"]),
            row["user_email"],
            f"{row['kit_account_id']} {row['account_name']}".strip(),
            row["tenant_name"] or "-",
            row["status"]
            + (" (refresh outcome unknown)" if row["refresh_outcome_unknown"] else ""),
            _expiry(row["expires_in_seconds"], row["expires_at"]),
            _last_refreshed(row["last_refreshed_at"], now),
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADERS))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) for cell, width in zip(line, widths, strict=True)
        ).rstrip()
        for line in cells
    )


def relative(seconds: float) -> str:
    """`in 3 h`, or `expired 12 min ago` once `seconds` is 0 or less."""
    if seconds > 0:
        return f"in {_span(seconds)}"
    return f"expired {_span(-seconds)} ago"


def _span(seconds: float) -> str:
    # Rounded down, in the largest unit that still reads at a glance.
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{seconds // 60} min"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def _expiry(seconds_left: int, iso: str) -> str:
    return f"{_minutes(iso)} ({relative(seconds_left)})"


def _last_refreshed(iso: str | None, now: datetime) -> str:
    if iso is None:
        return "never"
    ago = (now - datetime.fromisoformat(iso)).total_seconds()
    return f"{_minutes(iso)} ({_span(max(ago, 0))} ago)"


def _minutes(iso: str) -> str:
    # The pages' one format ("7 Dec 2026, 04:58"), here in UTC: the table
    # lists many accounts, each with a zone of its own.
    return AccountZone().shown(datetime.fromisoformat(iso))


@click.command("connections", short_help="List every Kit connection (never a token).")
@click.option(
    "--status",
    type=click.Choice(["active", "needs_reconnect", "revoked"]),
    help="Only the connections with this status.",
)
@click.option("as_json", "--json", is_flag=True, help="Print JSON instead of a table.")
@with_appcontext
def connections_command(status: str | None, as_json: bool) -> None:
    """List every Kit connection: user, Kit account, status, token expiry.

    Never prints a token or any other secret. Times are UTC; `--json` gives
    ISO 8601 times and `expires_in_seconds` (negative once expired).
    """
    rows = connection_rows(status)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No connections" + (f" with status {status}." if status else "."))
    else:
        click.echo(render_table(rows))
    if note := pending_revocations():
        click.echo(note)
    if kept := spool.files():
        click.echo(
            f"{len(kept)} token pair(s) Kit issued are kept on disk until the "
            "database takes them (`flask kit refresh-due` writes them)."
        )


def pending_revocations() -> str:
    """A line on the token pairs retired but not yet revoked at Kit (none: "")."""
    pending, given_up = pending_counts()
    if not pending:
        return ""
    pairs = "pair" if pending == 1 else "pairs"
    note = f"{pending} retired token {pairs} waiting to be revoked at Kit"
    if given_up:
        note += f" ({given_up} given up: see `app.kit.grants`)"
    return note + "."
