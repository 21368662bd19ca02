"""Keeping a sandbox's state in a file, so a restart (or a reload of `flask
kit dev`) does not forget the grants the app holds.

What is kept: the accounts, the tokens (with their grants and revocations),
every account's data with the writes made through the API, the webhook
endpoints and the legacy webhook rules. What is dropped: codes (single use,
minutes long), faults, request logs, rate-limit counts, deliveries and queued
events.

The file is a version-stamped pickle: the state is a web of dataclasses that
share objects (one ``IssuedTokens`` indexed by its access and its refresh
token), which pickle keeps as they are. A pickle runs code when loaded, so
load only a file the sandbox wrote itself: the developer's own instance
folder, never a path from a request or from someone else.

Writes are debounced: ``StateKeeper.changed()`` marks the state dirty, and a
background thread writes it at most once every ``interval`` seconds, then once
more on ``stop()``.
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
from pathlib import Path
from typing import Any

from .state import SandboxState

logger = logging.getLogger(__name__)

#: Bump when the shape of what ``snapshot`` keeps changes: an older file is
#: then ignored (and the sandbox starts fresh) instead of half-loaded.
SNAPSHOT_VERSION = 1


def snapshot(state: SandboxState) -> dict[str, Any]:
    """What survives a restart, as one picklable dict (taken under the lock)."""
    with state.lock:
        hub = state.webhooks
        return {
            "version": SNAPSHOT_VERSION,
            "seeded_at": state.seeded_at,
            "accounts": state.accounts,
            "tokens": list(state._by_access.values()),
            "ids": state._ids,
            "account_data": state._account_data,
            "endpoints": hub.endpoints,
            "disabled_accounts": hub.disabled_accounts,
            "activity_runs": hub.activity_runs,
            "endpoint_ids": hub._endpoint_ids,
            "legacy_rules": hub.legacy.rules,
            "legacy_rule_ids": hub.legacy._rule_ids,
        }


def restore(state: SandboxState, saved: dict[str, Any]) -> None:
    """Put a snapshot back into a freshly made ``state``."""
    with state.lock:
        hub = state.webhooks
        state.seeded_at = saved["seeded_at"]
        state.accounts = saved["accounts"]
        state._by_access = {tokens.access_token: tokens for tokens in saved["tokens"]}
        state._by_refresh = {tokens.refresh_token: tokens for tokens in saved["tokens"]}
        state._ids = saved["ids"]
        state._account_data = saved["account_data"]
        hub.endpoints = saved["endpoints"]
        hub.disabled_accounts = saved["disabled_accounts"]
        hub.activity_runs = saved["activity_runs"]
        hub._endpoint_ids = saved["endpoint_ids"]
        # (A file written before legacy webhooks existed has none.)
        hub.legacy.rules = saved.get("legacy_rules", {})
        hub.legacy._rule_ids = saved.get("legacy_rule_ids", hub.legacy._rule_ids)


def save(state: SandboxState, path: str | Path) -> None:
    """Write the snapshot atomically: a crash mid-write leaves the old file."""
    path = Path(path)
    with state.lock:
        data = pickle.dumps(snapshot(state), protocol=pickle.HIGHEST_PROTOCOL)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def load(state: SandboxState, path: str | Path) -> bool:
    """Restore ``state`` from ``path``; False (state untouched) when there is
    no file, or one this version cannot read."""
    path = Path(path)
    if not path.exists():
        return False
    try:
        saved = pickle.loads(path.read_bytes())  # noqa: S301 (our own file, see above)
    except Exception as error:  # a truncated or foreign file: start fresh
        logger.warning("Ignoring the sandbox state in %s: %s", path, error)
        return False
    if not isinstance(saved, dict) or saved.get("version") != SNAPSHOT_VERSION:
        logger.warning("Ignoring the sandbox state in %s: another version", path)
        return False
    restore(state, saved)
    return True


def forget(path: str | Path) -> bool:
    """Delete the state file (the reset); True if there was one."""
    try:
        Path(path).unlink()
    except FileNotFoundError:
        return False
    return True


class StateKeeper:
    """Writes ``state`` to ``path`` at most every ``interval`` seconds after a
    change, from a daemon thread, and once more on ``stop()``."""

    def __init__(
        self, state: SandboxState, path: str | Path, interval: float = 1.0
    ) -> None:
        self.state = state
        self.path = Path(path)
        self.interval = interval
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def changed(self) -> None:
        self._dirty.set()

    def start(self) -> StateKeeper:
        self._thread = threading.Thread(
            target=self._run, name="kit-sandbox-state", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._dirty.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.flush()

    def flush(self) -> None:
        """Write now if anything changed since the last write."""
        if self._dirty.is_set():
            self._dirty.clear()
            save(self.state, self.path)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._dirty.wait()
            if self._stopping.is_set():
                return
            try:
                self.flush()
            except OSError as error:
                logger.warning("Could not save the sandbox state: %s", error)
            self._stopping.wait(self.interval)
