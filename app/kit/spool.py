"""Token pairs Kit issued that the database could not take yet, kept on disk.

Once Kit has answered a refresh, the old refresh token is dead and the new pair
is the only live copy of the creator's grant. If the database refuses the write
(locked past its busy timeout, restarting), the pair is written here, outside
the failing database: one file per pair, encrypted with the app's Fernet keys
(`TOKEN_ENCRYPTION_KEYS`, like the token columns), written to a temporary name,
fsynced, renamed, and the folder fsynced, so a file either is complete or is
not there. `app.kit.pairs` writes it to the database later (the next token
request for that connection, beat's refresh-due, `flask kit refresh-due`), and
only while the row still holds the refresh token the pair replaced.

The folder is `KIT_PENDING_PAIRS_DIR` (default: the instance folder's
`pending_pairs`). A file's name says which database and connection it belongs
to, and nothing secret; its content never leaves this module decrypted except
as a `TokenSet`, and is never logged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.fernet import InvalidToken
from flask import current_app

from app.crypto import cipher
from app.extensions import db
from app.kit.oauth import TokenSet

log = logging.getLogger(__name__)
SUFFIX = ".pair"


def token_hash(token: str) -> str:
    """What a kept pair and the row note about a refresh token: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class KeptPair:
    """A pair waiting on disk: `spent` is the hash of the refresh token Kit
    took for it (the row must still hold that one for the pair to count)."""

    path: Path
    connection_id: int
    spent: str
    tokens: TokenSet

    def __repr__(self) -> str:
        return f"<KeptPair connection={self.connection_id} {self.path.name}>"


def directory() -> Path:
    configured = current_app.config.get("KIT_PENDING_PAIRS_DIR")
    return Path(configured or Path(current_app.instance_path) / "pending_pairs")


def writable() -> bool:
    """The folder exists and can be written, or can be created."""
    folder = directory()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


def _database() -> str:
    """A short name for this database, so that apps sharing a folder (a test
    run, a second deployment) never take each other's pairs."""
    url = db.engine.url.render_as_string(hide_password=True)
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def keep(connection_id: int, spent_refresh_token: str, tokens: TokenSet) -> Path:
    """Write the pair durably; returns its file. Raises OSError if it cannot."""
    folder = directory()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    record = {
        "v": 1,
        "connection_id": connection_id,
        "spent": token_hash(spent_refresh_token),
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "expires_at": tokens.expires_at.isoformat(),
    }
    blob = cipher().encrypt(json.dumps(record).encode())
    name = f"{_database()}-{connection_id}-{time.time_ns()}-{secrets.token_hex(4)}"
    partial, final = folder / f".{name}.tmp", folder / f"{name}{SUFFIX}"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(blob)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(partial, final)
    _sync(folder)
    return final


def files(connection_id: int | None = None) -> list[Path]:
    """This database's kept pairs (of one connection), oldest first."""
    folder = directory()
    if not folder.is_dir():
        return []
    which = "*" if connection_id is None else str(connection_id)
    return sorted(
        folder.glob(f"{_database()}-{which}-*{SUFFIX}"),
        key=lambda path: int(path.name.split("-")[2]),
    )


def kept(connection_id: int | None = None) -> list[KeptPair]:
    """The readable kept pairs, oldest first; a file no key decrypts is left
    where it is (`unreadable` counts it for `flask kit doctor`)."""
    pairs = []
    for path in files(connection_id):
        pair = _read(path)
        if pair is not None:
            pairs.append(pair)
    return pairs


def unreadable() -> list[Path]:
    return [path for path in files() if _read(path) is None]


def discard(path: Path) -> None:
    path.unlink(missing_ok=True)
    _sync(path.parent)


def rotate() -> tuple[int, int]:
    """Re-encrypt every kept pair under the newest key: (rotated, unreadable)."""
    rotated = failed = 0
    for path in files():
        try:
            blob = cipher().rotate(path.read_bytes())
        except (InvalidToken, OSError):
            failed += 1
            continue
        partial = path.with_name(f".{path.name}.tmp")
        partial.write_bytes(blob)
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, path)
        rotated += 1
    if rotated:
        _sync(directory())
    return rotated, failed


def _read(path: Path) -> KeptPair | None:
    try:
        record = json.loads(cipher().decrypt(path.read_bytes()))
        tokens = TokenSet(
            access_token=str(record["access_token"]),
            refresh_token=str(record["refresh_token"]),
            expires_at=datetime.fromisoformat(record["expires_at"]),
        )
        return KeptPair(
            path, int(record["connection_id"]), str(record["spent"]), tokens
        )
    except FileNotFoundError:
        return None  # written to the database by another process just now
    except (InvalidToken, OSError, ValueError, KeyError, TypeError):
        log.error("A kept token pair (%s) cannot be read with any key", path.name)
        return None


def _sync(folder: Path) -> None:
    """fsync the folder, so a rename or unlink survives a crash."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
