"""Gunicorn settings for `make serve` (gunicorn -c gunicorn.conf.py wsgi:app), read from the environment.

BIND            address to listen on (default 127.0.0.1:8000; a reverse proxy faces the internet)
PORT            port on 127.0.0.1 when BIND is not set
WEB_CONCURRENCY worker processes (default 2 x cores + 1, at most 8)
THREADS         threads per worker (default 4)
TRUST_PROXY     1 to believe X-Forwarded-* headers from FORWARDED_ALLOW_IPS (default 127.0.0.1,::1)
MAX_REQUESTS    requests before a worker is replaced (default 1000, 0 never)
"""

from __future__ import annotations

import os

MAX_DEFAULT_WORKERS = 8


def _int(name: str, default: int, minimum: int = 0) -> int:
    value = int(os.environ.get(name) or default)
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value}")
    return value


def _cores() -> int:
    # The cores this process may use, which in a container can be fewer than the machine has.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def default_workers(cores: int) -> int:
    # 2 x cores + 1 keeps every core busy while others wait on the database; more than 8 workers
    # (each with its own connection pool) adds database connections rather than speed.
    return max(1, min(2 * cores + 1, MAX_DEFAULT_WORKERS))


bind = [os.environ.get("BIND") or f"127.0.0.1:{_int('PORT', 8000, 1)}"]
workers = _int("WEB_CONCURRENCY", default_workers(_cores()), 1)
worker_class = "gthread"
threads = _int("THREADS", 4, 1)

timeout = 30
# A worker told to stop gets this long to finish the requests it has (e.g. an award decision).
graceful_timeout = 30
# Behind a reverse proxy that reuses connections; a little longer than gunicorn's 2 seconds.
keepalive = 5

# Replace each worker now and then so slow leaks cannot grow; jitter stops them all restarting at once.
max_requests = _int("MAX_REQUESTS", 1000)
max_requests_jitter = _int("MAX_REQUESTS_JITTER", max(max_requests // 10, 0))

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
proc_name = "grants"

# Gunicorn trusts X-Forwarded-Proto from 127.0.0.1 by default; trust nobody unless the app is told
# it sits behind a proxy (TRUST_PROXY=1, which also turns on the app's ProxyFix).
if os.environ.get("TRUST_PROXY", "0") == "1":
    forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS") or "127.0.0.1,::1"
else:
    forwarded_allow_ips = ""
