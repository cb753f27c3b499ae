"""Container health check for every LogAggregator service in the one image.

``python /app/healthcheck.py [ingest|worker]``; without an argument the role is read
from the command line of the container's first process, so the image's ``HEALTHCHECK``
is right whichever service the container runs.

- ingest: ``GET /healthz`` on ``LOGAGG_INGEST_PORT`` answers 200.
- worker (parser, shipper): an RQ worker started in this container is registered in
  Redis; its registration expires when the worker stops sending heartbeats.
- dashboard (``logagg dashboard``): ``GET /healthz`` on ``LOGAGG_DASHBOARD_PORT`` answers
  200 (it does while Redis answers).

Exit status 0 means healthy, 1 unhealthy, as Docker and Kubernetes exec probes expect.
"""

from __future__ import annotations

import os
import socket
import sys
import urllib.request
from collections.abc import Iterable, Mapping

INGEST = "ingest"
WORKER = "worker"
DASHBOARD = "dashboard"
ROLES = (INGEST, WORKER, DASHBOARD)


def detect_role(cmdline: bytes) -> str:
    """The role of a container whose first process has ``cmdline`` (NUL-separated argv)."""
    args = [arg for arg in cmdline.decode("utf-8", "replace").split("\0") if arg]
    if any(arg in ("parser", "shipper") for arg in args):
        return WORKER
    if DASHBOARD in args:
        return DASHBOARD
    return INGEST


def ingest_url(env: Mapping[str, str]) -> str:
    """The liveness URL of the ingest process in this container."""
    port = env.get("LOGAGG_INGEST_PORT", "").strip() or "3001"
    return f"http://127.0.0.1:{port}/healthz"


def dashboard_url(env: Mapping[str, str]) -> str:
    """The health URL of the dashboard process in this container."""
    port = env.get("LOGAGG_DASHBOARD_PORT", "").strip() or "9181"
    return f"http://127.0.0.1:{port}/healthz"


def worker_registered(worker_hostnames: Iterable[str | None], hostname: str) -> bool:
    """Whether one of the live workers runs on ``hostname`` (this container)."""
    return hostname in worker_hostnames


def check_http(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def check_worker(env: Mapping[str, str]) -> bool:
    from redis import Redis
    from rq import Worker

    url = env.get("REDIS_URL", "").strip() or "redis://127.0.0.1:6379/0"
    try:
        with Redis.from_url(url, socket_timeout=4, socket_connect_timeout=4) as connection:
            hostnames = [worker.hostname for worker in Worker.all(connection=connection)]
    except OSError:
        return False
    except Exception as error:  # redis-py's errors do not all derive from OSError
        print(f"health check: {type(error).__name__}", file=sys.stderr)
        return False
    return worker_registered(hostnames, socket.gethostname())


def main(argv: list[str]) -> int:
    if argv:
        role = argv[0]
    else:
        try:
            with open("/proc/1/cmdline", "rb") as cmdline:
                role = detect_role(cmdline.read())
        except OSError:
            role = INGEST
    if role not in ROLES:
        print(f"usage: healthcheck.py [{'|'.join(ROLES)}]", file=sys.stderr)
        return 2
    if role == WORKER:
        healthy = check_worker(os.environ)
    else:
        healthy = check_http(
            ingest_url(os.environ) if role == INGEST else dashboard_url(os.environ)
        )
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
