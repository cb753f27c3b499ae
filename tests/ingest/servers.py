"""A real gunicorn serving the ingest app on a free loopback port, for integration tests."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from logagg.embedded import IngestServer


@contextmanager
def running_ingest(
    env: Mapping[str, str], log_path: Path, *, timeout: float = 30.0
) -> Iterator[str]:
    """Run ``python -m logagg.ingest`` with ``env``; yield its base URL; stop it after."""
    server = IngestServer(env, log_path)
    server.start_timeout = timeout
    try:
        server.start()
        yield server.url
    finally:
        server.stop(timeout=15)
