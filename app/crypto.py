"""Encryption at rest for Kit tokens (Fernet, several keys for rotation).

Columns typed `EncryptedText` hold Fernet tokens: the first key of
`TOKEN_ENCRYPTION_KEYS` encrypts, every key decrypts (MultiFernet), so a new key
can be put in front and old rows still read until they are re-encrypted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import DateTime, Text
from sqlalchemy.types import TypeDecorator

EXTENSION_KEY = "kit_token_cipher"


class TokenDecryptionError(RuntimeError):
    """A stored token does not decrypt with any configured key."""


def make_cipher(keys: list[str]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def cipher() -> MultiFernet:
    return current_app.extensions[EXTENSION_KEY]


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted; reads and writes plain `str` in Python."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return cipher().encrypt(value.encode()).decode()

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        try:
            return cipher().decrypt(value.encode()).decode()
        except InvalidToken:
            raise TokenDecryptionError(
                "A stored token does not decrypt with TOKEN_ENCRYPTION_KEYS: "
                "was a key removed before `flask kit rotate-keys` ran?"
            ) from None


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database.

    SQLite keeps no timezone and hands back naive values; comparing those with
    `datetime.now(UTC)` raises. This stores UTC and always returns aware UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs a timezone-aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
