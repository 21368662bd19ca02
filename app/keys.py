"""Re-encrypt every stored secret under the newest `TOKEN_ENCRYPTION_KEYS` key."""

from __future__ import annotations

import logging
from collections import Counter

from cryptography.fernet import InvalidToken
from sqlalchemy import Column, Table, Text, literal, select, type_coerce, update

from app.crypto import cipher
from app.extensions import db
from app.models import KitConnection, OAuthAttempt

log = logging.getLogger(__name__)

# Every encrypted column, by table.
ENCRYPTED = (
    (KitConnection.__table__, ("access_token", "refresh_token")),
    (OAuthAttempt.__table__, ("code_verifier",)),
)


def rotate_keys(batch_size: int = 500) -> Counter[str]:
    """Rotate every encrypted value; count `rotated`, `skipped` (changed meanwhile,
    so already written under the newest key) and `unreadable` (no key decrypts).

    Works on the ciphertext, never on the model attributes, and writes back with
    a compare-and-swap, so a refresh running at the same time is never undone.
    """
    summary: Counter[str] = Counter()
    for table, names in ENCRYPTED:
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
