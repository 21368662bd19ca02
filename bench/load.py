"""Load: the dashboard under gunicorn (several workers) against the Kit sandbox.

Starts the sandbox (in this process) and the app under gunicorn with
gunicorn.conf.py, installs one creator through the real OAuth flow, then drives
--clients concurrent clients on each of --paths (default /dashboard) for
--seconds. Prints requests, errors, throughput, p50 and p99 per path, and the
throughput ratio of the last path to the first. A benchmark: it prints
figures, never fails.

    .venv/bin/python bench/load.py [--clients 100] [--seconds 30] [--workers 4]
        [--latency-ms 0] [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import free_port, wait_until_up  # noqa: E402
from kit_sandbox import SandboxConfig, SandboxServer  # noqa: E402
from kit_sandbox.testing import form_with_button, forms  # noqa: E402

BIN = Path(sys.executable).parent


def install_creator(app_url: str) -> requests.Session:
    """Sign up and install through the real pages; returns the signed-in browser."""
    browser = requests.Session()
    page = browser.get(f"{app_url}/signup", timeout=10)
    [signup] = [f for f in forms(page.text, page.url) if "confirm" in f.fields]
    password = secrets.token_urlsafe(16)
    data = dict(signup.fields, email="load@example.com", password=password)
    data["confirm"] = password
    assert browser.post(signup.action, data=data, timeout=10).ok
    consent = browser.get(f"{app_url}/kit/oauth", timeout=10)
    form, button = form_with_button(consent.text, consent.url, "allow")
    back = browser.post(
        form.action, data=dict(form.fields, **{button: "allow"}), timeout=30
    )
    assert back.url.startswith(f"{app_url}/dashboard"), back.url
    return browser


def drive(url: str, cookies: dict, seconds: float, results: list, errors: list) -> None:
    session = requests.Session()
    session.cookies.update(cookies)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            response = session.get(url, timeout=30, allow_redirects=False)
            ok = response.status_code == 200
        except requests.RequestException:
            ok = False
        (results if ok else errors).append(time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--database-url")
    parser.add_argument(
        "--paths",
        nargs="+",
        default=["/dashboard"],
        help="one run per path, e.g. --paths /dashboard /healthz (throughput ratio)",
    )
    args = parser.parse_args()

    app_port = free_port()
    app_url = f"http://127.0.0.1:{app_port}"
    kit = SandboxServer(
        SandboxConfig(
            redirect_uris=[f"{app_url}/kit/oauth/callback"],
            authorization_url=f"{app_url}/kit/oauth",
            latency_ms=args.latency_ms,
        )
    ).start()
    env = dict(
        os.environ,
        APP_ENV="production",
        SECRET_KEY="load-test-" + "x" * 32,
        TOKEN_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        DATABASE_URL=args.database_url or f"sqlite:///{tempfile.mkdtemp()}/load.db",
        KIT_CLIENT_ID=kit.config.client_id,
        KIT_CLIENT_SECRET=kit.config.client_secret or "",
        KIT_APP_URL=kit.url,
        KIT_API_URL=kit.url,
        KIT_REDIRECT_URI=f"{app_url}/kit/oauth/callback",
        FLASK_SESSION_COOKIE_SECURE="false",
        FLASK_RATELIMIT_ENABLED="false",  # one client address drives everything
        LOG_LEVEL="WARNING",
        PORT=str(app_port),
        WEB_CONCURRENCY=str(args.workers),
    )
    subprocess.run(  # noqa: S603
        [str(BIN / "flask"), "--app", "app", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    server = subprocess.Popen(  # noqa: S603
        [
            str(BIN / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{app_port}",
            "--access-logfile",
            "/dev/null",
            "app:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    rows: list[tuple[str, int, int, float, float, float]] = []
    try:
        wait_until_up(f"{app_url}/healthz")
        browser = install_creator(app_url)
        cookies = browser.cookies.get_dict()
        for path in args.paths:
            browser.get(f"{app_url}{path}", timeout=30)  # warm the cache once
            rows.append(run_clients(f"{app_url}{path}", path, cookies, args))
    finally:
        server.terminate()
        server.wait(timeout=30)
        kit.stop()

    print(
        f"gunicorn ({args.workers} workers x 4 threads), {args.clients} clients, "
        f"{args.seconds:.0f} s per path, Kit latency {args.latency_ms} ms"
    )
    header = ("requests", "errors", "req/s", "p50 ms", "p99 ms")
    print(f"{'path':<14}" + "".join(f"{h:>9}" for h in header))
    for path, requests_, errors, rate, p50, p99 in rows:
        print(f"{path:<14}{requests_:>9}{errors:>9}{rate:>9.0f}{p50:>9.0f}{p99:>9.0f}")
    if len(rows) > 1 and rows[0][3]:
        print(
            f"req/s ratio {rows[-1][0]} / {rows[0][0]}: {rows[-1][3] / rows[0][3]:.1f}"
        )
    print(f"Kit API calls during the run: {kit.state.stats()['api_requests']}")


def run_clients(
    url: str, path: str, cookies: dict, args: argparse.Namespace
) -> tuple[str, int, int, float, float, float]:
    """--clients threads on one URL for --seconds: (path, requests, errors,
    requests per second, p50 ms, p99 ms)."""
    results: list[float] = []
    errors: list[float] = []
    clients = [
        threading.Thread(
            target=drive, args=(url, cookies, args.seconds, results, errors)
        )
        for _ in range(args.clients)
    ]
    started = time.perf_counter()
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(results) or [0.0]
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    total = len(results) + len(errors)
    return (
        path,
        total,
        len(errors),
        total / elapsed,
        statistics.median(ordered) * 1000,
        p99 * 1000,
    )


if __name__ == "__main__":
    main()
