"""Many Kit connections in a database at once, for the refresh benchmarks: a
fresh schema, real grants from the sandbox, bulk inserts of users and
connections holding real ciphertext, and the count of refreshes the database
recorded.

Not a benchmark itself; imported by refresh_due_scale and refresh_due_celery
(`python -m bench.NAME`). Call these in an app context: the tokens are
encrypted with that app's key.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import Table, Text, column, func, insert, select, table, text
from sqlalchemy.sql.expression import TableClause

from app.crypto import EncryptedText, cipher
from app.extensions import db
from app.kit import oauth
from app.models import ConnectionEvent, KitConnection, User
from bench.common import migrate, real_grant
from kit_sandbox import SandboxServer

CHUNK = 10_000  # rows per executemany


def raw(model_table: Table) -> TableClause:
    """The table with its encrypted columns as plain text, so that ciphertext
    made once can be inserted as it is (the model's type would encrypt again)."""
    return table(
        model_table.name,
        *(
            column(c.name, Text() if isinstance(c.type, EncryptedText) else c.type)
            for c in model_table.columns
        ),
    )


# The model's plain defaults ("" time zone, every event kind kept...): an
# insert through `raw` skips the ORM, which would fill them in.
SCALAR_DEFAULTS = {
    c.name: c.default.arg
    for c in KitConnection.__table__.columns
    if c.default is not None and c.default.is_scalar
}


def fresh_schema() -> None:
    """Drop what a last run left in the database, then migrate it."""
    db.session.remove()  # a transaction left open would hold DROP TABLE back
    db.drop_all()
    db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.session.commit()
    migrate()


def real_grants(kit: SandboxServer, count: int) -> list[oauth.TokenSet]:
    """`count` token pairs, each from a code exchange at the sandbox's endpoint."""

    def exchange(_: int) -> oauth.TokenSet:
        return real_grant(kit)

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(exchange, range(count)))


def populate(size: int, due_ids: set[int], grants: list[oauth.TokenSet]) -> None:
    """Insert `size` users, each with one active connection; ids 1..size."""
    now = datetime.now(UTC)
    seal = cipher().encrypt
    shared = (seal(b"not-due-access").decode(), seal(b"not-due-refresh").decode())
    due_tokens = {
        connection_id: (
            seal(grant.access_token.encode()).decode(),
            seal(grant.refresh_token.encode()).decode(),
        )
        for connection_id, grant in zip(sorted(due_ids), grants, strict=True)
    }
    users, connections = raw(User.__table__), raw(KitConnection.__table__)
    with db.engine.begin() as conn:
        for first in range(1, size + 1, CHUNK):
            ids = range(first, min(first + CHUNK, size + 1))
            conn.execute(
                insert(users),
                [
                    {
                        "id": i,
                        "email": f"creator{i}@example.com",
                        "password_hash": "!",  # never signs in
                        "session_token": f"bench-{i}",
                        "created_at": now,
                    }
                    for i in ids
                ],
            )
            rows = []
            for i in ids:
                due = i in due_ids
                access, refresh = due_tokens[i] if due else shared
                rows.append(
                    {
                        **SCALAR_DEFAULTS,
                        "id": i,
                        "user_id": i,
                        "kit_account_id": str(i),
                        "tenant_name": "",
                        "account_name": f"Creator {i}",
                        "account_email": "",
                        "access_token": access,
                        "refresh_token": refresh,
                        "expires_at": now
                        + (timedelta(minutes=10) if due else timedelta(days=30)),
                        "token_issued_at": now,
                        "status": KitConnection.ACTIVE,
                        "last_refreshed_at": None,
                        "last_error": None,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            conn.execute(insert(connections), rows)
        if conn.dialect.name == "postgresql":
            # Explicit ids leave the sequences behind: catch them up.
            for name in ("users", "kit_connections"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                        f"(SELECT max(id) FROM {name}))"
                    )
                )
        # Planner statistics, as a database that has lived a while would have.
        conn.execute(text("ANALYZE"))


def refreshed_events() -> int:
    """How many refreshes the database recorded (one event per refresh)."""
    return db.session.scalar(
        select(func.count()).where(ConnectionEvent.kind == ConnectionEvent.REFRESHED)
    )
