"""Kit's API rate limit: N requests per rolling window, per access token.

A sliding log (the times of the requests let through) rather than fixed
buckets, because Kit's window rolls: 600 requests at 12:00:59 leave no room
at 12:01:00. Refused requests are not logged, so a client that keeps retrying
gets back in once its oldest counted request leaves the window, as with a
real backoff.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class RateLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: dict[str, deque[float]] = {}

    def allow(
        self, key: str, limit: int, window: float, now: float | None = None
    ) -> bool:
        """Count one request for ``key`` unless ``limit`` were already made in
        the last ``window`` seconds; say whether it may go ahead."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            return True

    def clear(self) -> None:
        with self._lock:
            self._hits.clear()
