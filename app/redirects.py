"""Checks on URLs that arrive from the browser, before we redirect to them."""

from __future__ import annotations

from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def safe_next(target: str | None) -> str | None:
    """A local path to return to after signing in, or None.

    Only paths on this site: no scheme, no host, no `//host` or `/\\host` (which
    browsers read as another host), no control characters.
    """
    if not target or not target.startswith("/") or len(target) > 2048:
        return None
    if target.startswith(("//", "/\\")) or any(
        ord(c) < 32 or c == "\\" for c in target
    ):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def is_kit_url(url: str | None, kit_app_url: str) -> bool:
    """True when `url` points at Kit's web app: same scheme, host and port as
    `kit_app_url`, no user info, nothing a browser could read differently.

    Kit's `redirect` arrives from the browser, so anyone can craft it; we only
    ever send a creator back to Kit itself.
    """
    if not url or len(url) > 2048:
        return False
    # Browsers strip tabs/newlines and treat backslashes as slashes: refuse any
    # URL where our parser and a browser could disagree.
    if any(ord(c) <= 32 or c == "\\" or ord(c) == 127 for c in url):
        return False
    try:
        got, want = urlsplit(url), urlsplit(kit_app_url)
        got_port = got.port or _DEFAULT_PORTS.get(got.scheme)
        want_port = want.port or _DEFAULT_PORTS.get(want.scheme)
    except ValueError:  # malformed port, bad IPv6 literal
        return False
    return (
        got.scheme == want.scheme
        and got.scheme in _DEFAULT_PORTS
        and got.username is None
        and got.password is None
        and "@" not in got.netloc
        and got.hostname is not None
        and got.hostname == want.hostname
        and got_port == want_port
    )
