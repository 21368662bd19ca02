"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py 'app:create_app()'`.

Used by `make serve`, the Procfile and the Dockerfile. Every value can be
changed from the environment, as hosting platforms expect:

- `PORT` (8000): the port to listen on, on every interface.
- `WEB_CONCURRENCY` (2 x CPUs + 1): worker processes.
- `GUNICORN_THREADS` (4): threads per worker.
- `FORWARDED_ALLOW_IPS` (127.0.0.1,::1): the proxies whose X-Forwarded-Proto
  gunicorn believes. The app's own `PROXY_FIX_HOPS` does the same for Flask.
"""

from __future__ import annotations

import os


def _cpu_count() -> int:
    # The CPUs this process may run on (a container's cpuset), not the host's.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"  # noqa: S104 (a server's job)
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * _cpu_count() + 1)
# Threaded workers (gthread): a dashboard page waits on Kit for up to
# KIT_HTTP_TIMEOUT, and a thread waiting on Kit should not hold a whole process.
# The app is thread-safe: one pooled requests.Session per process, one token
# refresh at a time per connection through the database row lock.
threads = int(os.environ.get("GUNICORN_THREADS") or 4)

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

# gunicorn 25.1+ opens a control socket (for `gunicornc`) in $HOME by default:
# two servers on one machine would fight over its path, and nothing here uses it.
control_socket_disable = True

# Heartbeat files in memory: on a container's overlay filesystem a slow disk
# write can make the arbiter kill a healthy worker.
if os.path.isdir("/dev/shm"):  # noqa: S108
    worker_tmp_dir = "/dev/shm"  # noqa: S108
