"""Kit API v4 client: pooled HTTP, timeouts, retries, typed errors, pagination.

`KitClient(connection_id)` is what views and jobs use. It gets its token
through `app.kit.tokens` (never from the row), refreshes and retries once on a
401, backs off on 429 and 5xx, and maps Kit's `{"errors": [...]}` to the typed
exceptions of `app.kit.errors`.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import requests
from requests.adapters import HTTPAdapter

from app.kit.errors import (
    AccessTokenExpired,
    AccessTokenInvalid,
    KitAPIError,
    KitNotFound,
    KitRateLimited,
    KitUnavailable,
    KitValidationError,
)
from app.kit.settings import KitSettings
from app.kit.tokens import call_with_token, valid_access_token

MAX_PER_PAGE = 1000
RETRIES = 3  # after the first try: 4 attempts in all
BACKOFF_BASE = 0.25  # seconds; doubles each retry, with full jitter
BACKOFF_CAP = 4.0
CONNECT_TIMEOUT = 3.05

_session: requests.Session | None = None
_session_pid = 0
_session_lock = threading.Lock()


def http_session() -> requests.Session:
    """The process's one pooled `requests.Session`: keep-alive connections to
    Kit, shared by every thread (urllib3's pool is thread-safe; we keep no
    cookies or per-call state on it). A forked worker builds its own, so no
    two processes ever share a socket."""
    global _session, _session_pid
    if _session is None or _session_pid != os.getpid():
        with _session_lock:
            if _session is None or _session_pid != os.getpid():
                session = requests.Session()
                adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32)
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                _session, _session_pid = session, os.getpid()
    return _session


def request(
    settings: KitSettings,
    access_token: str,
    method: str,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    json: dict[str, Any] | None = None,
    sleep: Any = time.sleep,
    on_status: Callable[[int], None] | None = None,
) -> Any:
    """One API call with retries; returns the decoded JSON body.

    GETs are retried on 429, 5xx and network errors; POSTs only on 429 (Kit did
    not process the request, so sending it again cannot do it twice).
    """
    url = f"{settings.api_url}/v4/{path.lstrip('/')}"
    headers = {
        "Authorization": f"Bearer {access_token}",
        "Accept": "application/json",
        "User-Agent": settings.user_agent,
    }
    for attempt in range(RETRIES + 1):
        retry_after: float | None = None
        try:
            response = http_session().request(
                method,
                url,
                headers=headers,
                params=params,
                json=json,
                timeout=(CONNECT_TIMEOUT, settings.timeout),
            )
            if on_status is not None:
                on_status(response.status_code)
            return decode(response)
        except KitRateLimited as exc:
            error: Exception = exc
            retry_after = _retry_after(exc)
        except KitUnavailable as exc:
            if method != "GET":
                raise
            error = exc
        except requests.RequestException as exc:
            if method != "GET":
                raise KitUnavailable(
                    f"Kit API unreachable: {type(exc).__name__}"
                ) from None
            error = KitUnavailable(f"Kit API unreachable: {type(exc).__name__}")
        if attempt == RETRIES:
            raise error
        sleep(retry_after if retry_after is not None else backoff(attempt))
    raise AssertionError("unreachable")  # pragma: no cover


def backoff(attempt: int) -> float:
    """Capped exponential backoff with full jitter (AWS's recipe): spreads the
    retries of many workers instead of having them all hit Kit again together."""
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))  # noqa: S311


def _retry_after(exc: KitRateLimited) -> float | None:
    value = getattr(exc, "retry_after", None)
    return min(float(value), BACKOFF_CAP) if value is not None else None


def decode(response: requests.Response) -> Any:
    """The JSON body of a success, or the typed error for a failure."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    if 200 <= status < 300:
        if body is None and status != 204:
            raise KitUnavailable("Kit API answered with a body that is not JSON")
        return body
    messages = _messages(body) or [response.reason or f"HTTP {status}"]
    if status >= 500:
        raise KitUnavailable(f"Kit API answered {status}")
    if status == 401:
        if any("expired" in m.lower() for m in messages):
            raise AccessTokenExpired(401, messages)
        raise AccessTokenInvalid(401, messages)
    if status == 404:
        raise KitNotFound(404, messages)
    if status == 422:
        raise KitValidationError(422, messages)
    if status == 429:
        # Kit may answer in plain text and without Retry-After.
        limited = KitRateLimited(429, ["Kit's rate limit was reached"])
        header = response.headers.get("Retry-After", "")
        limited.retry_after = float(header) if header.isdigit() else None  # type: ignore[attr-defined]
        raise limited
    raise KitAPIError(status, messages)


def _messages(body: Any) -> list[str]:
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return [str(m) for m in body["errors"]]
    return []


def get(settings: KitSettings, access_token: str, path: str, **params: Any) -> Any:
    """GET with a token in hand (the install callback, before a connection exists)."""
    return request(settings, access_token, "GET", path, params=params or None)


T = TypeVar("T")
U = TypeVar("U")


@dataclass
class Page(Generic[T]):
    """One page of a cursor-paginated list: Kit's items (`Page[dict]`), or
    typed ones (`Page[Subscriber]`) once `map`ped."""

    items: list[T]
    has_next: bool = False
    has_previous: bool = False
    start_cursor: str | None = None
    end_cursor: str | None = None
    total_count: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def map(self, parse: Callable[[T], U]) -> Page[U]:
        """The same page, each item passed through `parse`."""
        return Page(
            [parse(item) for item in self.items],
            self.has_next,
            self.has_previous,
            self.start_cursor,
            self.end_cursor,
            self.total_count,
            self.extra,
        )


class KitClient:
    """The Kit API as one connection sees it."""

    def __init__(self, connection_id: int, settings: KitSettings, leeway: int = 300):
        self.connection_id = connection_id
        self.settings = settings
        self.leeway = leeway

    def call(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        on_status: Callable[[int], None] | None = None,
    ) -> Any:
        return call_with_token(
            self.connection_id,
            self.settings,
            lambda token: request(
                self.settings,
                token,
                method,
                path,
                params=params,
                json=json,
                on_status=on_status,
            ),
            leeway=self.leeway,
        )

    def ensure_token(self) -> None:
        """Refresh now if needed, once, before fanning calls out to threads that
        would otherwise each find the token stale at the same moment."""
        valid_access_token(self.connection_id, self.settings, leeway=self.leeway)

    def get(self, path: str, **params: Any) -> Any:
        return self.call(
            "GET", path, params={k: v for k, v in params.items() if v is not None}
        )

    def post(self, path: str, json: dict[str, Any]) -> Any:
        return self.call("POST", path, json=json)

    def post_created(self, path: str, json: dict[str, Any]) -> tuple[Any, bool]:
        """POST, and whether Kit made something new (201) rather than
        answering with what it had (200), as `POST /v4/tags` does."""
        statuses: list[int] = []
        body = self.call("POST", path, json=json, on_status=statuses.append)
        return body, bool(statuses) and statuses[-1] == 201

    def delete(self, path: str, json: dict[str, Any] | None = None) -> Any:
        """DELETE; Kit answers 204 with no body (None here)."""
        return self.call("DELETE", path, json=json)

    def page(
        self,
        path: str,
        key: str,
        *,
        after: str | None = None,
        before: str | None = None,
        per_page: int = 50,
        include_total_count: bool = False,
        **filters: Any,
    ) -> Page[dict[str, Any]]:
        """One page. Ask for `include_total_count` on the first page only: Kit
        counts the whole filtered set for it, which is slow on big lists."""
        body = self.get(
            path,
            after=after,
            before=before if after is None else None,
            per_page=min(per_page, MAX_PER_PAGE),
            include_total_count="true" if include_total_count else None,
            **filters,
        )
        pagination = body.get("pagination") or {}
        return Page(
            items=list(body.get(key) or []),
            has_next=bool(pagination.get("has_next_page")),
            has_previous=bool(pagination.get("has_previous_page")),
            start_cursor=pagination.get("start_cursor"),
            end_cursor=pagination.get("end_cursor"),
            total_count=body.get("total_count"),
        )

    def iterate(
        self, path: str, key: str, *, per_page: int = MAX_PER_PAGE, **filters: Any
    ) -> Iterator[dict[str, Any]]:
        """Every item of a list, following `end_cursor` page after page."""
        after: str | None = None
        while True:
            page = self.page(path, key, after=after, per_page=per_page, **filters)
            yield from page.items
            if not page.has_next or not page.end_cursor:
                return
            after = page.end_cursor
