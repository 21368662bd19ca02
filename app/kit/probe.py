"""Is Kit reachable from here? For `flask kit doctor`: one request to each of
Kit's endpoints, and the clock Kit reports, without credentials."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests

from app.kit.api import http_session
from app.kit.settings import KitSettings


@dataclass(frozen=True)
class Probe:
    """One endpoint's answer: its HTTP status, or why there was none."""

    name: str
    url: str
    status: int | None = None
    error: str = ""
    date: str | None = None  # Kit's Date header

    @property
    def answered(self) -> bool:
        """Any answer below 500 will do (400 and 401 mean Kit is there)."""
        return self.status is not None and self.status < 500


def probe_endpoints(settings: KitSettings) -> list[Probe]:
    """Ask Kit's authorize, token and API endpoints, unauthenticated."""
    timeout = min(settings.timeout, 5.0)
    targets = [
        ("Kit authorize", "GET", settings.authorize_url),
        ("Kit token", "POST", settings.token_url),
        ("Kit API", "GET", f"{settings.api_url}/v4/account"),
    ]
    probes = []
    for name, method, url in targets:
        try:
            response = http_session().request(
                method,
                url,
                timeout=timeout,
                allow_redirects=False,
                headers={"User-Agent": settings.user_agent},
            )
        except requests.RequestException as exc:
            probes.append(Probe(name, url, error=type(exc).__name__))
            continue
        date = response.headers.get("Date")
        probes.append(Probe(name, url, response.status_code, date=date))
    return probes


def clock_skew(kit_date: str) -> float:
    """Seconds our clock is ahead of Kit's (negative: behind)."""
    return (datetime.now(UTC) - parsedate_to_datetime(kit_date)).total_seconds()
