"""gunicorn configuration for the ingest service, from the same settings as the app.

Load with ``gunicorn -c python:logagg.ingest.gunicorn_conf logagg.ingest.wsgi:app``.
The master process reads this module once: it prepares the Prometheus multiprocess
directory before any worker imports ``prometheus_client``, and on start it waits for
Redis and creates the first admin.
"""

from __future__ import annotations

import glob
import logging
import os
import shutil
import sys
import tempfile
from typing import Any

from logagg.ingest.settings import IngestSettings

_settings = IngestSettings.from_env(os.environ)
_MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_owned_metrics_dir: str | None = None
if not os.environ.get(_MULTIPROC_ENV):
    _owned_metrics_dir = tempfile.mkdtemp(prefix="logagg-ingest-metrics-")
    os.environ[_MULTIPROC_ENV] = _owned_metrics_dir

_host = f"[{_settings.host}]" if ":" in _settings.host else _settings.host
bind = [f"{_host}:{_settings.port}"]
workers = _settings.workers
worker_class = "gthread"
threads = _settings.threads
timeout = int(_settings.worker_timeout)
graceful_timeout = int(_settings.worker_timeout)
keepalive = 5
# Request line and headers are bounded here; bodies by the app (LOGAGG_MAX_BODY_BYTES).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# Recycle workers now and then so that no slow leak grows without bound.
max_requests = 100_000
max_requests_jitter = 10_000
# Worker heartbeat files in memory, as gunicorn advises for containers with a disk-backed /tmp.
_SHM = "/dev/shm"  # noqa: S108 - owned by gunicorn, holds no data
if os.path.isdir(_SHM):
    worker_tmp_dir = _SHM
errorlog = "-"
loglevel = "info"
proc_name = "logagg-ingest"


def on_starting(server: Any) -> None:
    """Clear stale metric files, wait for Redis, create the first admin if needed."""
    from logagg.ingest.auth.passwords import PasswordHashing
    from logagg.ingest.auth.users import UserStore
    from logagg.ingest.bootstrap import ensure_admin, wait_for_redis
    from logagg.ingest.context import dev_secret
    from logagg.redis_connection import RedisTooOld, connect_redis

    for stale in glob.glob(os.path.join(os.environ[_MULTIPROC_ENV], "*.db")):
        os.remove(stale)
    log = logging.getLogger("gunicorn.error")
    redis = connect_redis(_settings.redis)
    try:
        wait_for_redis(redis, timeout=60.0)
    except RedisTooOld as error:
        # one line and out, before any worker starts to fail request by request
        print(error, file=sys.stderr, flush=True)
        sys.exit(2)
    if _settings.jwt_secret is None:
        dev_secret(redis)
        log.warning("LOGAGG_DEV_MODE: signing tokens with a generated key kept in Redis")
    hashing = PasswordHashing(
        time_cost=_settings.argon2_time_cost,
        memory_kib=_settings.argon2_memory_kib,
        parallelism=_settings.argon2_parallelism,
    )

    def announce(text: str) -> None:
        # Straight to stderr as one block, so the generated password is not interleaved.
        print(text, file=sys.stderr, flush=True)

    ensure_admin(_settings, UserStore(redis), hashing, announce)
    redis.close()


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    if _owned_metrics_dir is not None:
        shutil.rmtree(_owned_metrics_dir, ignore_errors=True)
