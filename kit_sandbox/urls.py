"""Building the URLs the sandbox sends a browser to."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


def with_query(url: str, params: Mapping[str, str | None]) -> str:
    """``url`` with ``params`` appended (``None`` values skipped), query kept."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(key, value) for key, value in params.items() if value is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))
