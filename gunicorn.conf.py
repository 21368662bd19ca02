"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py 'app:create_app()'`.

Used by `make serve`, the Procfile and the Dockerfile. Every value can be
changed from the environment, as hosting platforms expect:

- `PORT` (8000): the port to listen on, on every interface.
- `WEB_CONCURRENCY` (2 x CPUs + 1): worker processes.
- `GUNICORN_THREADS` (4): threads per worker.
- `FORWARDED_ALLOW_IPS` (127.0.0.1,::1): the proxies whose X-Forwarded-Proto
  gunicorn believes. The app's own `PROXY_FIX_HOPS` does the same for Flask.

In production, more than one worker needs `REDIS_URL` (shared rate limits and
cache): without it gunicorn refuses to start and says so (`on_starting`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gunicorn.glogging import Logger

from app.config import default_workers
from app.logs import RedactSecrets

ROOT = Path(__file__).resolve().parent

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"  # noqa: S104 (a server's job)
workers = int(os.environ.get("WEB_CONCURRENCY") or default_workers())
# Threaded workers (gthread): a dashboard page waits on Kit for up to
# KIT_HTTP_TIMEOUT, and a thread waiting on Kit should not hold a whole process.
# The app is thread-safe: one pooled requests.Session per process, one token
# refresh at a time per connection through the database row lock. The app
# keeps one thread per worker free of requests waiting on Kit
# (KIT_REQUESTS_PER_WORKER, app/kit_capacity.py).
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
# A buffering reverse proxy in front is REQUIRED in production (nginx, Caddy,
# or the platform's router): a gthread worker's thread is held for as long as
# a client takes to send its request and read the answer, so a dozen slow
# clients (a phone on a bad network, or anyone on purpose) hold every thread
# and even /healthz stops answering. The proxy reads whole requests and
# answers at its own pace and hands them over fast. See docs/deploying.md.

# The request line and headers, read by gunicorn before the app sees anything:
# no URL of this app comes near 4 KB, and browsers send about 20 headers.
# Request *bodies* are limited by the app (MAX_CONTENT_LENGTH, 64 KiB, checked
# against Content-Length before a byte is read) and should be by the proxy in
# front too (nginx's client_max_body_size): gunicorn has no body limit.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190

# A worker that stops answering the arbiter for 30 s is restarted; on a restart
# or deploy, requests in flight get 30 s to finish. Keep-alive for the proxy.
timeout = 30
graceful_timeout = 30
keepalive = 5

# No preload_app: each worker builds the app after the fork, so no database
# connection or HTTP pool is ever shared between processes.

forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

accesslog = "-"
errorlog = "-"
# The path without its query string (%(U)s, not the request line %(r)s): Kit's
# callback carries the authorization `code` and `state` in the query. No
# Referer either, since it can hold the same URL.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'


class EscapingLogger(Logger):
    """gunicorn's logger, its records redacted and their control characters
    escaped as the app's are (`app.logs`): `%(U)s` is the *decoded* path, so
    `%0d%0a` or `%1b` in a URL would otherwise forge a line or drive the
    reader's terminal (ASVS V7.3.1). On gunicorn's own handlers, so the
    arbiter's lines and a worker's before the app is built are covered too."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if not any(isinstance(f, RedactSecrets) for f in handler.filters):
                    handler.addFilter(RedactSecrets())


logger_class = EscapingLogger

# gunicorn 25.1+ opens a control socket (for `gunicornc`) in $HOME by default:
# two servers on one machine would fight over its path, and nothing here uses it.
control_socket_disable = True

# Heartbeat files in memory: on a container's overlay filesystem a slow disk
# write can make the arbiter kill a healthy worker.
if os.path.isdir("/dev/shm"):  # noqa: S108
    worker_tmp_dir = "/dev/shm"  # noqa: S108


def on_starting(server: Any) -> None:
    """Before binding: read the app's settings as the workers will (a .env file
    included) and refuse a configuration that cannot work, with the fix.

    Several workers in production without REDIS_URL would each keep their own
    rate limit counts and cache (app.config.require_shared_store). A
    ConfigError here ends gunicorn with "Error: <the message>" and exit 1.
    """
    from dotenv import load_dotenv

    from app.config import load_config, require_shared_store

    load_dotenv(ROOT / ".env")
    require_shared_store(load_config(ROOT / "instance"), server.cfg.workers)
