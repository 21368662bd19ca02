"""`flask kit doctor --review`: Kit's App Store review checklist
(KIT_PLATFORM.md §5c) run against this configuration and this app.

Every line is PASS or FAIL (a development shortcut is a FAIL here: Kit
reviews the production app), with what to fix. On top of `flask kit
doctor`'s checks: https on every URL Kit and creators see, the redirect URI
exact, the app id, a support contact, the pages Kit links to answering (help,
support, privacy, the App settings page), the plugin URLs when plugins are
on, and the OAuth paths Kit's reviewers try (review_journeys.py). Then the
values to paste into Kit's app details page.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

import requests
from flask import Flask, url_for

from app.cli.checks import Check
from app.config import public_base_url

# what Kit's app details call it -> (the setting that replaces our page, endpoint)
LISTING_PAGES = {
    "Help URL": ("HELP_URL", "pages.help"),
    "Support URL": ("SUPPORT_URL", "pages.support"),
    "Privacy policy URL": ("PRIVACY_URL", "pages.privacy"),
    "App settings URL": (None, "settings.page"),
}
# Plugin OAuth (KIT_PLATFORM.md §8): what Kit's plugin settings call each URL.
PLUGIN_ENDPOINTS = {
    "Plugin authorize URL": "plugins.authorize",
    "Plugin token URL": "plugins.token",
    "Plugin refresh URL": "plugins.refresh",
    "Plugin revoke URL": "plugins.revoke",
}
NOT_SERVED = "(not served by this app)"


def strict(checks: Iterable[Check]) -> list[Check]:
    """Kit reviews the production app: a development shortcut fails."""
    return [
        Check(c.name, "FAIL", c.detail, c.fix) if c.status == "WARN" else c
        for c in checks
    ]


def paste_values(app: Flask) -> dict[str, str]:
    """What to paste into Kit's app details, by Kit's names."""
    base = public_base_url(app.config) or ""
    with app.test_request_context(base_url=base or None):
        values = {
            "Authorization URL": url_for("install.start", _external=True),
            "Redirect URI": app.config["KIT_REDIRECT_URI"]
            or url_for("install.callback", _external=True),
        }
        for label, (setting, endpoint) in LISTING_PAGES.items():
            values[label] = (setting and app.config.get(setting)) or _url(endpoint)
        if app.config.get("KIT_PLUGIN_CLIENT_ID"):
            for label, endpoint in PLUGIN_ENDPOINTS.items():
                values[label] = _url(endpoint)
    values["return_to domain"] = urlsplit(base).hostname or "(set PUBLIC_BASE_URL)"
    return values


def _url(endpoint: str) -> str:
    try:
        return url_for(endpoint, _external=True)
    except Exception:  # werkzeug's BuildError: no such endpoint here
        return NOT_SERVED


def review_checks(app: Flask) -> list[Check]:
    values = paste_values(app)
    return [
        https_everywhere(values),
        redirect_uri_exact(app),
        app_id(app),
        support_contact(app),
        *listing_pages(app, values, live_app(app)),
        *plugin_urls(app, values),
    ]


def https_everywhere(values: dict[str, str]) -> Check:
    plain = [
        f"{label} {url}"
        for label, url in values.items()
        if url.startswith("http://") or (url.startswith("//"))
    ]
    if plain:
        return Check(
            "https everywhere",
            "FAIL",
            "not https: " + "; ".join(plain),
            "serve the app on https (PUBLIC_BASE_URL=https://…, KIT_REDIRECT_URI, "
            "PROXY_FIX_HOPS behind a TLS proxy) and use https for HELP_URL, "
            "SUPPORT_URL, PRIVACY_URL",
        )
    return Check("https everywhere", "PASS", f"{len(values) - 1} URLs on https")


def redirect_uri_exact(app: Flask) -> Check:
    """Kit compares the redirect URI character for character: the app must
    send one fixed value, on its public origin (where the session cookie is)."""
    configured = app.config["KIT_REDIRECT_URI"]
    base = public_base_url(app.config) or ""
    with app.test_request_context():
        path = url_for("install.callback")
    expected = f"{base}{path}"
    # Kit wants https: the fix names the https form even while the base is not.
    wanted = "https://" + expected.removeprefix("http://").removeprefix("https://")
    fix = f"set KIT_REDIRECT_URI={wanted} (and PUBLIC_BASE_URL to its origin); "
    fix += "register exactly that at Kit"
    if not configured:
        return Check("redirect URI exact", "FAIL", "taken from each request", fix)
    if configured != expected:
        return Check(
            "redirect URI exact",
            "FAIL",
            f"{configured} is not {expected} (PUBLIC_BASE_URL + {path})",
            fix,
        )
    return Check("redirect URI exact", "PASS", f"{configured}, one fixed value")


def app_id(app: Flask) -> Check:
    if app.config["KIT_APP_ID"]:
        return Check(
            "install link",
            "PASS",
            f"KIT_APP_ID={app.config['KIT_APP_ID']}: installs started here go "
            "through Kit's install link",
        )
    return Check(
        "install link",
        "FAIL",
        "no KIT_APP_ID: installs started on this site bypass Kit, which does "
        "not count them",
        "set KIT_APP_ID to the <id> of https://app.kit.com/apps/<id>",
    )


def support_contact(app: Flask) -> Check:
    if app.config["SUPPORT_URL"] or app.config["SUPPORT_EMAIL"]:
        where = app.config["SUPPORT_URL"] or app.config["SUPPORT_EMAIL"]
        return Check("support contact", "PASS", where)
    return Check(
        "support contact",
        "FAIL",
        "no SUPPORT_URL or SUPPORT_EMAIL: /support says there is no address",
        "set SUPPORT_EMAIL=support@<your domain> (or SUPPORT_URL=https://…)",
    )


def live_app(app: Flask) -> Check:
    """Whether the app answers at PUBLIC_BASE_URL from here (its /healthz):
    then its pages are checked there, as Kit's reviewers reach them; else
    in-process, through a copy of the app (before a deploy, or from a machine
    that does not reach it)."""
    url = f"{public_base_url(app.config)}/healthz"
    try:
        answer = requests.get(url, timeout=5, allow_redirects=False)
    except requests.RequestException as exc:
        detail = f"{url}: {type(exc).__name__}: pages checked in-process"
        fix = "run this where the app is reachable"
        return Check("live app", "SKIP", detail, fix)
    status = "PASS" if answer.status_code == 200 else "FAIL"
    detail = f"GET {url} → {answer.status_code}: pages checked over the network"
    return Check("live app", status, detail, "see the app's logs")


def listing_pages(app: Flask, values: dict[str, str], live: Check) -> list[Check]:
    """GET each page Kit links to: ours at the live app when it answers (else
    through the app itself), as served to a signed-out visitor; a configured
    address over the network."""
    results = [live]
    for label, (setting, endpoint) in LISTING_PAGES.items():
        name = label.removesuffix(" URL").replace(" policy", "")
        url = values[label]
        if url == NOT_SERVED:
            fix = f"add the page (endpoint {endpoint})"
            results.append(Check(name, "FAIL", f"not served ({endpoint})", fix))
        elif setting and app.config.get(setting):
            results.append(_remote(name, url, setting))
        elif live.status == "PASS":
            results.append(_over_the_network(name, url))
        else:
            results.append(_own(app, name, url))
    return results


def _own(app: Flask, name: str, url: str) -> Check:
    path = urlsplit(url).path
    answer = app.test_client().get(path, base_url=public_base_url(app.config))
    return _judged(name, f"GET {path}", answer.status_code, answer.location)


def _over_the_network(name: str, url: str) -> Check:
    try:
        answer = requests.get(url, timeout=10, allow_redirects=False)
    except requests.RequestException as exc:
        return Check(name, "FAIL", f"{url}: {type(exc).__name__}", "see the logs")
    return _judged(
        name, f"GET {url}", answer.status_code, answer.headers.get("Location")
    )


def _judged(name: str, asked: str, status_code: int, location: str | None) -> Check:
    # A page for signed-in creators (the App settings page) asks to sign in.
    signing_in = status_code == 302 and "/login" in (location or "")
    ok = status_code == 200 or signing_in
    detail = f"{asked} → {status_code}{' (sign in first)' if signing_in else ''}"
    return Check(name, "PASS" if ok else "FAIL", detail, "see the logs")


def _remote(name: str, url: str, setting: str) -> Check:
    try:
        answer = requests.get(url, timeout=10, allow_redirects=True)
    except requests.RequestException as exc:
        fix = f"check {setting}"
        return Check(name, "FAIL", f"{url}: {type(exc).__name__}", fix)
    status = "PASS" if answer.status_code == 200 else "FAIL"
    return Check(name, status, f"GET {url} → {answer.status_code}", f"check {setting}")


def plugin_urls(app: Flask, values: dict[str, str]) -> list[Check]:
    if not app.config.get("KIT_PLUGIN_CLIENT_ID"):
        return [Check("plugin URLs", "PASS", "no KIT_PLUGIN_CLIENT_ID: no plugins")]
    results = []
    client = app.test_client()
    for label, endpoint in PLUGIN_ENDPOINTS.items():
        name = label.removesuffix(" URL")
        url = values[label]
        if url == NOT_SERVED:
            fix = f"add the route (endpoint {endpoint})"
            results.append(Check(name, "FAIL", f"not served ({endpoint})", fix))
            continue
        path = urlsplit(url).path
        method = client.get if endpoint == "plugins.authorize" else client.post
        status = method(path, base_url=public_base_url(app.config)).status_code
        # No credentials sent: a refusal (4xx) or a sign-in (302) is right.
        ok = status < 500 and status not in (404, 405)
        results.append(
            Check(name, "PASS" if ok else "FAIL", f"{path} answers {status}", "")
        )
    return results
