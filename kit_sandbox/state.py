"""The sandbox's in-memory store: accounts and their data, codes, tokens,
faults, rate-limit counts and the request log.

One ``threading.RLock`` guards everything, because the sandbox is served by a
threaded server and tests poke at the same object from their own thread.
Callers that read-then-write (a code exchange, a refresh) hold ``state.lock``
across the whole operation, so two racing requests can't both spend one code
or one refresh token.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app

from .audience import AccountData, IdSequence
from .ratelimit import RateLimiter
from .registration import SandboxConfig
from .seed import DemoAccount, seed_account_data, seed_accounts
from .webhooks import WebhookHub

#: Which failure each endpoint can be told to produce (see ``add_fault``).
FAULT_KINDS: dict[str, frozenset[str]] = {
    "token": frozenset({"500", "timeout", "hang", "not_json", "invalid_grant"}),
    "revoke": frozenset({"500", "timeout", "hang", "not_json"}),
    "api": frozenset({"500", "timeout", "hang", "not_json", "429", "401_invalid"}),
}

DEFAULT_TIMEOUT_SECONDS = 15.0

#: What Kit's API says with each status one path can be told to answer
#: (``add_path_fault``).
PATH_FAULT_MESSAGES = {
    "403": "You do not have access to this resource",
    "404": "Not Found",
    "422": "Unprocessable Entity",
    "500": "Internal server error",
    "502": "Bad Gateway",
    "503": "Service Unavailable",
}


@dataclass
class Fault:
    endpoint: str
    kind: str
    remaining: int


@dataclass
class CodeGrant:
    """An authorization code and everything the token request must match."""

    code: str
    client_id: str
    redirect_uri: str
    account_id: int
    tenant_name: str | None
    scope: str
    code_challenge: str | None
    expires_at: float
    used: bool = False


@dataclass
class IssuedTokens:
    """An access token and its refresh token, as the token endpoint issued
    them: they live and die together."""

    access_token: str
    refresh_token: str
    client_id: str
    account_id: int
    tenant_name: str | None
    scope: str
    created_at: int
    expires_in: int
    expires_at: float
    #: The code this set descends from (through any number of refreshes), so a
    #: replayed code can revoke everything it produced.
    grant_code: str
    revoked_reason: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_reason is not None

    def is_expired(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) >= self.expires_at


class SandboxState:
    """Everything the sandbox remembers. Safe to use from any thread."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.lock = threading.RLock()
        #: The moment the seed's dates count back from. Kept across reset(), so
        #: that a reset restores exactly the same data (not the same data a
        #: second later).
        self.seeded_at = datetime.now(UTC)
        #: How long a "timeout" fault sleeps before answering 504, and the
        #: longest a "hang" fault holds a request before doing its real work.
        self.timeout_seconds = DEFAULT_TIMEOUT_SECONDS
        #: Requests held by a "hang" fault right now, and what lets them go.
        self.hanging = 0
        self._release = threading.Event()
        self.accounts: dict[int, DemoAccount] = {}
        self.codes: dict[str, CodeGrant] = {}
        self.faults: list[Fault] = []
        #: API paths told to answer an error: path -> [kind, times left or None].
        self.path_faults: dict[str, list[Any]] = {}
        self.token_requests: list[dict[str, Any]] = []
        self.revoke_requests: list[dict[str, Any]] = []
        self.api_requests: list[dict[str, Any]] = []
        #: Every entry of the three logs above, in the order they were logged
        #: (the same dict objects): which came first, across the logs.
        self.journal: list[dict[str, Any]] = []
        #: Visits to the "App installed" page: the install journey ended on Kit.
        self.install_completions = 0
        #: Each account's email draft in the editor: the blocks placed in it
        #: (``plugins/editor.py``).
        self.editor_drafts: dict[int, list[dict[str, Any]]] = {}
        #: Requests per access token, for Kit's rate limit.
        self.rate_limiter = RateLimiter()
        self._by_access: dict[str, IssuedTokens] = {}
        self._by_refresh: dict[str, IssuedTokens] = {}
        self._ids = IdSequence()
        self._account_data: dict[int, AccountData] | None = None
        #: Plugin access: the token pair the app issued per account, and the
        #: pairs of installs not finished yet (``plugins/tokens.py``).
        self.plugin_pairs: dict[int, Any] = {}
        self.plugin_pending: dict[str, Any] = {}
        #: Webhooks 2.0: endpoints, queued events, deliveries (``webhooks/``).
        self.webhooks = WebhookHub(self.config, self.lock)
        self.reset()

    def reset(self) -> None:
        """Forget codes, tokens, faults, logs, rate-limit counts and every
        write made through the API; reseed the accounts.

        The config (including changes made through ``/_sandbox/settings``) and
        ``timeout_seconds`` are kept: they describe the setup, not the data.
        """
        self.release_hangs()
        with self.lock:
            self.accounts = seed_accounts()
            # Reseeded on first use (see account_data): tests reset before
            # each test, and most never look at a subscriber.
            self._account_data = None
            self.rate_limiter.clear()
            self.codes.clear()
            self.faults.clear()
            self.path_faults.clear()
            self.token_requests.clear()
            self.revoke_requests.clear()
            self.api_requests.clear()
            self.journal.clear()
            self.install_completions = 0
            self.editor_drafts.clear()
            self.plugin_pairs.clear()
            self.plugin_pending.clear()
            self._by_access.clear()
            self._by_refresh.clear()
            self.webhooks.reset()

    # -- account data -------------------------------------------------------

    def account_data(self, account_id: int) -> AccountData:
        """An account's subscribers, tags, forms...; hold ``lock`` while using it.

        The demo data (``seed/account_data.py``) is built on the first call after a
        reset, dated relative to that moment. Building Ada's 2,600 subscribers
        takes tens of milliseconds, which ``reset()`` should not pay every time.
        An account added to ``accounts`` later starts with no data.
        """
        with self.lock:
            if self._account_data is None:
                self._ids = IdSequence()
                self._account_data = seed_account_data(self.seeded_at, self._ids)
            data = self._account_data.get(account_id)
            if data is None:
                data = self._account_data[account_id] = AccountData(
                    account_id, self._ids
                )
            return data

    # -- codes and tokens ---------------------------------------------------

    def issue_code(
        self,
        *,
        client_id: str,
        redirect_uri: str,
        account_id: int,
        tenant_name: str | None,
        scope: str,
        code_challenge: str | None,
    ) -> CodeGrant:
        with self.lock:
            grant = CodeGrant(
                code=secrets.token_urlsafe(32),
                client_id=client_id,
                redirect_uri=redirect_uri,
                account_id=account_id,
                tenant_name=tenant_name,
                scope=scope,
                code_challenge=code_challenge,
                expires_at=time.time() + self.config.code_lifetime,
            )
            self.codes[grant.code] = grant
            return grant

    def issue_tokens(
        self,
        *,
        client_id: str,
        account_id: int,
        tenant_name: str | None,
        scope: str,
        expires_in: int,
        grant_code: str,
    ) -> IssuedTokens:
        created = time.time()
        tokens = IssuedTokens(
            access_token=secrets.token_urlsafe(32),
            refresh_token=secrets.token_urlsafe(32),
            client_id=client_id,
            account_id=account_id,
            tenant_name=tenant_name,
            scope=scope,
            created_at=int(created),
            expires_in=expires_in,
            expires_at=created + expires_in,
            grant_code=grant_code,
        )
        with self.lock:
            self._by_access[tokens.access_token] = tokens
            self._by_refresh[tokens.refresh_token] = tokens
        return tokens

    def find_access_token(self, token: str) -> IssuedTokens | None:
        with self.lock:
            return self._by_access.get(token)

    def find_refresh_token(self, token: str) -> IssuedTokens | None:
        with self.lock:
            return self._by_refresh.get(token)

    @property
    def token_sets(self) -> list[IssuedTokens]:
        """All the tokens ever issued (revoked ones included), oldest first."""
        with self.lock:
            return list(self._by_access.values())

    def revoke(self, tokens: IssuedTokens, reason: str) -> None:
        with self.lock:
            if tokens.revoked_reason is None:
                tokens.revoked_reason = reason

    def revoke_grant(self, grant_code: str, reason: str) -> int:
        """Revoke all the tokens descended from one authorization code."""
        return self._revoke_where(lambda ts: ts.grant_code == grant_code, reason)

    def revoke_all_for_account(self, account_id: int) -> int:
        """Simulate the creator uninstalling the app in Kit. Returns the count."""
        return self._revoke_where(lambda ts: ts.account_id == account_id, "uninstalled")

    def _revoke_where(
        self, matches: Callable[[IssuedTokens], bool], reason: str
    ) -> int:
        with self.lock:
            hits = [ts for ts in self._by_access.values() if matches(ts)]
            for tokens in hits:
                self.revoke(tokens, reason)
            return len(hits)

    def expire_access_tokens(self) -> None:
        """Make every access token issued so far expired, as of now."""
        now = time.time()
        with self.lock:
            for tokens in self._by_access.values():
                tokens.expires_at = min(tokens.expires_at, now)

    def expire_codes(self) -> None:
        """Make every authorization code issued so far expired, as of now."""
        now = time.time()
        with self.lock:
            for grant in self.codes.values():
                grant.expires_at = min(grant.expires_at, now)

    # -- faults -------------------------------------------------------------

    def add_fault(self, endpoint: str, kind: str, times: int = 1) -> None:
        """Make the next ``times`` calls to ``endpoint`` fail with ``kind``.

        Faults queue up per endpoint, first added first served.
        """
        if endpoint not in FAULT_KINDS:
            raise ValueError(
                f"endpoint must be one of {sorted(FAULT_KINDS)}, not {endpoint!r}"
            )
        if kind not in FAULT_KINDS[endpoint]:
            raise ValueError(
                f"kind for {endpoint!r} must be one of "
                f"{sorted(FAULT_KINDS[endpoint])}, not {kind!r}"
            )
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ValueError(f"times must be a positive integer, not {times!r}")
        with self.lock:
            self.faults.append(Fault(endpoint, kind, times))

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()
            self.path_faults.clear()

    def add_path_fault(self, path: str, kind: str, times: int | None = None) -> None:
        """Make the next ``times`` API requests to ``path`` (such as
        ``/v4/broadcasts/stats``; every one until ``clear_faults`` when None)
        answer the status ``kind`` ("404", "500", ...) with Kit's error body:
        one call of a page failing while the others answer."""
        if kind not in PATH_FAULT_MESSAGES:
            raise ValueError(f"kind must be one of {sorted(PATH_FAULT_MESSAGES)}")
        if times is not None and (isinstance(times, bool) or times < 1):
            raise ValueError(f"times must be a positive integer or None, not {times!r}")
        with self.lock:
            self.path_faults[path] = [kind, times]

    def take_path_fault(self, path: str) -> str | None:
        """Spend one planned fault for ``path``; return its kind, if any."""
        with self.lock:
            planned = self.path_faults.get(path)
            if planned is None:
                return None
            kind, left = planned
            if left is not None:
                if left <= 1:
                    del self.path_faults[path]
                else:
                    planned[1] = left - 1
            return str(kind)

    def take_fault(self, endpoint: str) -> str | None:
        """Spend one planned fault for ``endpoint``; return its kind, if any."""
        with self.lock:
            for fault in self.faults:
                if fault.endpoint == endpoint:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self.faults.remove(fault)
                    return fault.kind
        return None

    def hang(self) -> None:
        """Hold the calling request until ``release_hangs`` or for
        ``timeout_seconds``, whichever comes first (a Kit that takes its time:
        the request still does its real work afterwards)."""
        with self.lock:
            release = self._release
            self.hanging += 1
        try:
            release.wait(self.timeout_seconds)
        finally:
            with self.lock:
                self.hanging -= 1

    def release_hangs(self) -> int:
        """Let every request held by a "hang" fault go on; returns how many.
        Later "hang" faults hold their requests again."""
        with self.lock:
            released, self._release = self._release, threading.Event()
            count = self.hanging
        released.set()
        return count

    # -- request log --------------------------------------------------------

    def record(self, log: list[dict[str, Any]], entry: dict[str, Any]) -> None:
        with self.lock:
            log.append(entry)
            self.journal.append(entry)

    def stats(self) -> dict[str, int]:
        with self.lock:
            return {
                "token_requests": len(self.token_requests),
                "refresh_requests": sum(
                    1
                    for entry in self.token_requests
                    if entry["grant_type"] == "refresh_token"
                ),
                "revoke_requests": len(self.revoke_requests),
                "api_requests": len(self.api_requests),
                "install_completions": self.install_completions,
            }


def current_state() -> SandboxState:
    """The state of the sandbox app handling the current request."""
    state: SandboxState = current_app.extensions["kit_sandbox"]
    return state
