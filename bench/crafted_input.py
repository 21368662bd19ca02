"""Crafted input: the requests a security tester found 500s with, counted.

Against the app as in production (gunicorn, gunicorn.conf.py, --workers
workers, SQLite or --database-url), with one creator signed in and installed:

- every list page with query parameters the page does not know
  (`?endpoint=x`, `?_method=DELETE`, `?after=x&endpoint=y`);
- every route with a connection id, with ids beyond the databases' integer
  ranges (2^31 and 2^63), negative and zero;
- every route that takes a POST, with a JSON body (`123`, `[1]`,
  `{"email": {"a": 1}}`) and a valid CSRF token in the `X-CSRFToken` header;
- `/`, `/login` and `/healthz` with a malformed `Host`, and through
  `X-Forwarded-Host` (the app trusting one proxy hop, PROXY_FIX_HOPS=1);
- the requests a second round found 500s with: a non-ASCII `state` at the
  callback, a NUL in a webhook key (PostgreSQL refuses it in a query), control
  characters in a path.

Printed: the requests sent and how many got a 5xx, with the first few of
them. A benchmark: it prints figures whatever they are.

    .venv/bin/python -m bench.crafted_input [--workers 2] [--app-root PATH]
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from pathlib import Path

import requests
from cryptography.fernet import Fernet
from werkzeug.routing import Rule

from app import create_app
from bench.common import ROOT, argument_parser, gunicorn, redis_server
from bench.slow_kit import add_creators, sign_in_and_install
from kit_sandbox import SandboxConfig, SandboxServer

UNKNOWN_PARAMETERS = ("?endpoint=x", "?_method=DELETE", "?after=x&endpoint=y")
BAD_IDS = ("2147483648", "9223372036854775808", "99999999999999999999", "-1", "0")
JSON_BODIES = ("123", "[1]", '{"email": {"a": 1}}', '{"email_address": null}')
ODD_REQUESTS = (
    ("GET", "/kit/oauth/callback?state=%C3%A9&code=x"),
    ("GET", "/kit/oauth/callback?state=%00&code=%00"),
    ("GET", "/kit/oauth?redirect=%C3%A9%00&tenant_name=%00"),
    ("POST", "/webhooks/kit/%00abc"),
    ("POST", "/webhooks/kit/" + "%C3%A9" * 40),
    ("GET", "/login%0d%0aforged%20line%1b[31m"),
)
BAD_HOSTS = ("..", "a..b", "a" * 64 + ".example.com", "x:99999", "-bad-.example.com")


def rules(database_url: str) -> list[tuple[str, Rule]]:
    """Every (method, rule) of the app's url_map, but static files."""
    app = create_app(
        {
            "SECRET_KEY": "x",
            "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "DATABASE_URL": database_url,
            "APP_ENV": "development",
        }
    )
    return [
        (method, rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]


def path(rule: Rule, connection_id: str = "1") -> str:
    """The rule's path with `connection_id`, and 1 for any other argument."""
    out = rule.rule
    for name in rule.arguments:
        value = connection_id if name == "connection_id" else "1"
        out = re.sub(rf"<(?:[^:<>]+:)?{name}>", value, out)
    return out


def main() -> None:
    parser = argument_parser(__name__, __doc__, workers=2, database_url=True)
    parser.add_argument(
        "--app-root",
        type=Path,
        default=ROOT,
        help="the checkout whose app/ gunicorn serves (default: this one)",
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="crafted-"))
    database_url = args.database_url or f"sqlite:///{workdir}/crafted.db"
    statuses: Counter[str] = Counter()
    failures: list[str] = []
    with (
        SandboxServer(SandboxConfig()).start() as kit,
        redis_server() as redis_url,
        gunicorn(
            kit,
            database_url,
            args.workers,
            workdir,
            None,
            args.app_root,
            REDIS_URL=redis_url,
            PROXY_FIX_HOPS="1",
        ) as app_url,
    ):
        [creator] = add_creators(database_url, 1)
        browser = sign_in_and_install(app_url, *creator)
        page = browser.get(f"{app_url}/dashboard", timeout=30)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        csrf = token.group(1) if token else ""

        def send(method: str, url_path: str, **kwargs: object) -> None:
            try:
                answer = browser.request(
                    method,
                    f"{app_url}{url_path}",
                    timeout=30,
                    allow_redirects=False,
                    **kwargs,  # type: ignore[arg-type]
                )
                status = answer.status_code
            except (requests.RequestException, ValueError) as exc:
                statuses[type(exc).__name__] += 1
                return
            statuses["5xx" if status >= 500 else f"{status // 100}xx"] += 1
            if status >= 500:
                body = kwargs.get("data")
                shown = body if isinstance(body, str) else ""
                headers = dict(kwargs.get("headers") or {})  # type: ignore[call-overload]
                headers.pop("X-CSRFToken", None)
                failures.append(f"{status} {method} {url_path} {shown} {headers}")

        # Sign-out last: a body it accepts would sign the browser out.
        found = sorted(rules(database_url), key=lambda r: r[1].rule == "/logout")
        for method, rule in found:
            if method == "GET" and "connection_id" in rule.arguments:
                for query in UNKNOWN_PARAMETERS:
                    send("GET", path(rule) + query)
            if "connection_id" in rule.arguments:
                for bad in BAD_IDS:
                    send(method, path(rule, bad), data={"csrf_token": csrf})
            if method == "POST":
                for body in JSON_BODIES:
                    send(
                        "POST",
                        path(rule),
                        data=body,
                        headers={
                            "Content-Type": "application/json",
                            "X-CSRFToken": csrf,
                        },
                    )
        # An install started, so the callback has a state of this browser's
        # to compare the crafted one with.
        browser.get(f"{app_url}/kit/oauth", timeout=30, allow_redirects=False)
        for method, url_path in ODD_REQUESTS:
            send(method, url_path, data=b"[]")
        for host in BAD_HOSTS:
            for url_path in ("/", "/login", "/healthz"):
                send("GET", url_path, headers={"Host": host})
                send("GET", url_path, headers={"X-Forwarded-Host": host})

    sent = sum(statuses.values())
    print(f"{sent} crafted requests to {len(found)} (method, route) pairs")
    print(f"answers: {dict(sorted(statuses.items()))}")
    print(f"5xx: {statuses['5xx']}")
    for line in failures[:12]:
        print("  " + line)


if __name__ == "__main__":
    main()
