"""How long a content block takes to answer Kit's editor: warm, cold, and with
a slow Kit.

One creator signs up and installs through the app's pages, then the plugin
OAuth gives Kit its token (the grant linked to the connection, as an install
with plugin access does). Kit's editor then POSTs the blocks with Kit's
styles, through Flask's test client in this process:

- warm: "Latest broadcasts" with its broadcasts in the cache (no Kit call),
  the same for its search, and the dynamic "Personal greeting" (no Kit call
  ever);
- cold, Kit well: the cache dropped (Reload) before each, so each answer waits
  on one Kit call;
- cold, Kit slow: the sandbox adds --slow-ms to every Kit call; the block
  waits at most PLUGIN_BLOCK_BUDGET (--budget) and answers from the copy kept
  of Kit's last answer, the call finishing in the background.

Each p50 / p99 is told against `/healthz` (same client) and one Kit call with
Kit well (`GET /v4/account` at the sandbox), both measured in this run. A
benchmark: it prints figures and never fails on them.

    .venv/bin/python -m bench.blocks [--views 50] [--slow-ms 3000] [--budget 0.5]
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import kit_cache
from app.extensions import db
from app.models import KitConnection, PluginGrant
from app.plugins.links import link
from bench.common import (
    Baseline,
    against,
    argument_parser,
    bench_app,
    kit_call_seconds,
    migrate,
    percentile,
    sign_up_and_install,
    timed,
)
from kit_sandbox import SandboxConfig, SandboxServer
from kit_sandbox.plugins.choices import STYLES

CLIENT_ID, CLIENT_SECRET = "bench-plugins", "bench-plugin-secret"
BLOCK = "/plugins/blocks/latest_broadcasts"
SEARCH = f"{BLOCK}/search/pinned"
GREETING = "/plugins/blocks/personal_greeting"
BODY = {"settings": {"count": 5, "heading": "Latest"}, "styles": STYLES}


def plugin_token(app: Flask, client: FlaskClient) -> str:
    """Kit's plugin access token for the signed-in creator, their grant
    linked to their connection."""
    redirect_uri = f"{app.config['KIT_APP_URL']}/apps/install"
    query = urlencode(
        {"client_id": CLIENT_ID, "response_type": "code", "redirect_uri": redirect_uri}
    )
    allowed = client.post(f"/plugins/oauth/authorize?{query}", data={"allow": "x"})
    code = parse_qs(urlsplit(allowed.location).query)["code"][0]
    answer = client.post(
        "/plugins/oauth/token",
        data={
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
        },
    )
    with app.app_context():
        grant = db.session.scalars(select(PluginGrant)).one()
        link(grant, db.session.scalars(select(KitConnection)).one())
    token: str = answer.get_json()["access_token"]
    return token


def posts(
    app: Flask,
    client: FlaskClient,
    path: str,
    body: dict[str, Any],
    token: str,
    views: int,
    before_each: Callable[[], None] | None = None,
) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    seconds = []
    for _ in range(views):
        if before_each is not None:
            with app.app_context():
                before_each()
        one = timed(lambda: _ok(client.post(path, json=body, headers=headers)), 1)
        seconds += one
    return seconds


def _ok(answer: Any) -> None:
    assert answer.status_code == 200, (answer.status_code, answer.text)


def report(name: str, seconds: list[float], *baselines: Baseline) -> None:
    print(f"  {name}")
    for label, q in (("p50", 0.5), ("p99", 0.99)):
        print(f"    {label}: {against(percentile(seconds, q), *baselines)}")


def main() -> None:
    parser = argument_parser("bench.blocks", __doc__)
    parser.add_argument("--views", type=int, default=50)
    parser.add_argument("--slow-ms", type=int, default=3000)
    parser.add_argument("--budget", type=float, default=0.5)
    args = parser.parse_args()
    kit = SandboxServer(
        SandboxConfig(
            redirect_uris=["http://localhost/kit/oauth/callback"],
            authorization_url="http://localhost/kit/oauth",
            rate_limit=100_000,
        )
    ).start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            app = bench_app(
                kit,
                f"sqlite:///{folder}/bench.db",
                WTF_CSRF_ENABLED=False,
                KIT_PLUGIN_CLIENT_ID=CLIENT_ID,
                KIT_PLUGIN_CLIENT_SECRET=CLIENT_SECRET,
                PLUGIN_BLOCK_BUDGET=args.budget,
                RATELIMIT_ENABLED=False,
            )
            with app.app_context():
                migrate()
            run(app, kit, args.views, args.slow_ms, args.budget)
    finally:
        kit.stop()


def run(
    app: Flask, kit: SandboxServer, views: int, slow_ms: int, budget: float
) -> None:
    client = app.test_client()
    sign_up_and_install(client)
    token = plugin_token(app, client)
    client.get("/healthz")
    health = Baseline.of("/healthz p50", timed(lambda: client.get("/healthz"), 50))
    one_call = Baseline.of("one Kit call", kit_call_seconds(kit, 10))
    print(f"Content blocks, {views} requests each; baselines: {health}, {one_call}")

    def reload() -> None:
        kit_cache.invalidate(1)

    posts(app, client, BLOCK, BODY, token, 1)  # fills the cache and the kept copy
    warm = posts(app, client, BLOCK, BODY, token, views)
    report("Latest broadcasts, warm (cache)", warm, health, one_call)
    searched = posts(app, client, SEARCH, {"search": ""}, token, views)
    report("its search, warm", searched, health, one_call)
    greeting = posts(app, client, GREETING, BODY, token, views)
    report("Personal greeting (dynamic, no Kit call)", greeting, health, one_call)
    cold = posts(app, client, BLOCK, BODY, token, views, reload)
    report("Latest broadcasts, cold, Kit well", cold, health, one_call)
    kit.config.latency_ms = slow_ms
    try:
        slow = posts(app, client, BLOCK, BODY, token, max(5, views // 5), reload)
    finally:
        kit.config.latency_ms = 0
    report(
        f"Latest broadcasts, cold, Kit {slow_ms} ms slow (budget {budget} s, "
        "then the kept copy)",
        slow,
        health,
        one_call,
    )


if __name__ == "__main__":
    main()
