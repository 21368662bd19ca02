"""Installs that start on the app's own site still go through Kit.

Kit counts an install only when it passes through Kit (KIT_PLATFORM.md §1):
so with `KIT_APP_ID` set, "Connect a Kit account" sends the creator to Kit's
install link, `{KIT_APP_URL}/apps/<id>/install?k_app_id=k_<id>&return_to=<URL>`.
Kit then opens our Authorization URL with its `redirect` as for any install,
and at the end sends the creator to `return_to`: the page they started from,
on our own public origin (Kit also checks it against the app's allow-list).

Kit's link carries neither a tenant label nor which connection a Reconnect
means to restore, so those wait in the session (`keep_intent`) until Kit
sends the browser to the Authorization URL (`take_intent`): single use, and
only for as long as an install attempt may take.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import current_app, redirect, request, session, url_for
from werkzeug.wrappers import Response

from app.config import public_base_url
from app.install.failures import InstallFailed, failure_page
from app.redirects import safe_next

SESSION_INTENT = "kit_install_intent"


def through_kit(tenant_name: str, reconnect: int | None) -> Response | tuple[Any, int]:
    """The answer of the Authorization URL opened from our own site: Kit's
    install link, back afterwards to the page the creator clicked on."""
    config = current_app.config
    return_to = return_to_url(
        public_base_url(config) or request.host_url.rstrip("/"),
        request.args.get("return_to"),
        _clicked_from(),
        url_for("dashboard.accounts"),
    )
    if return_to is None:
        return failure_page(InstallFailed("return_to_not_ours"))
    session.pop(SESSION_INTENT, None)
    if tenant_name or reconnect is not None:
        keep_intent(session, tenant_name, reconnect)
    return redirect(
        install_link(config["KIT_APP_URL"], config["KIT_APP_ID"], return_to)
    )


def keeping_clicked_from(full_path: str) -> str:
    """Our Authorization URL (`full_path`), with the page the creator clicked
    Connect on as its `return_to` when it has none: it outlives a stop on
    another page of ours on the way ("Before you connect Kit"), after which
    the Referer is that page."""
    parts = urlsplit(full_path)
    query = parse_qsl(parts.query, keep_blank_values=True)
    clicked = _clicked_from()
    if clicked is None or any(name == "return_to" for name, _ in query):
        return full_path
    return f"{parts.path}?{urlencode([*query, ('return_to', clicked)])}"


def _clicked_from() -> str | None:
    """The page of ours the creator clicked Connect on (the Referer, same host:
    Referrer-Policy is same-origin), not the Authorization URL itself."""
    try:
        referrer = urlsplit(request.referrer or "")
    except ValueError:  # "http://[" and the like: no page of ours
        return None
    if referrer.netloc != request.host or referrer.path == request.path:
        return None
    return referrer.path + (f"?{referrer.query}" if referrer.query else "")


def install_link(kit_app_url: str, app_id: str, return_to: str) -> str:
    query = urlencode({"k_app_id": f"k_{app_id}", "return_to": return_to})
    return f"{kit_app_url.rstrip('/')}/apps/{app_id}/install?{query}"


def return_to_url(
    public_base: str, wanted: str | None, clicked_from: str | None, fallback: str
) -> str | None:
    """Where Kit sends the creator after the install, always on our public
    origin: `wanted` (a `return_to` on our link: a path, or a URL on that
    origin), else `clicked_from` (the local path of the page the creator
    clicked on), else `fallback`. None when `wanted` points anywhere else:
    the link was not made here."""
    if wanted:
        path = own_path(public_base, wanted)
        return None if path is None else public_base + path
    return public_base + (safe_next(clicked_from) or fallback)


def own_path(public_base: str, url: str) -> str | None:
    """The path (and query) of `url` when it is a page of ours: a local path,
    or a URL on exactly `public_base`'s origin; None otherwise."""
    if url.startswith("/"):
        return safe_next(url)
    try:
        got, ours = urlsplit(url), urlsplit(public_base)
        same = (got.scheme, got.hostname, got.port) == (
            ours.scheme,
            ours.hostname,
            ours.port,
        )
    except ValueError:
        return None
    if not same or got.username or got.password or "@" in got.netloc:
        return None
    return safe_next((got.path or "/") + (f"?{got.query}" if got.query else ""))


def keep_intent(
    session: MutableMapping[str, Any], tenant_name: str, reconnect: int | None
) -> None:
    session[SESSION_INTENT] = {
        "tenant_name": tenant_name,
        "reconnect": reconnect,
        "at": time.time(),
    }


def take_intent(
    session: MutableMapping[str, Any], ttl_seconds: int
) -> tuple[str, int | None]:
    """The tenant label and reconnect kept before leaving for Kit, once."""
    kept = session.pop(SESSION_INTENT, None)
    if not isinstance(kept, dict) or not isinstance(kept.get("at"), int | float):
        return "", None
    if time.time() - kept["at"] > ttl_seconds:
        return "", None
    tenant = kept.get("tenant_name")
    reconnect = kept.get("reconnect")
    return (
        tenant if isinstance(tenant, str) else "",
        reconnect if isinstance(reconnect, int) else None,
    )
