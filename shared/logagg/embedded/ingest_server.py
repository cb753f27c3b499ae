"""The ingest service (gunicorn) as a local process on a fixed loopback port.

For tests and benchmarks that need the real HTTP intake: started with
``python -m logagg.ingest`` (the service is never imported here), ready when ``/readyz``
answers 200, and restartable on the same port so that a client sees the same address
before and after a restart.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from logagg.embedded.process import ServerProcess, free_port


class IngestServer(ServerProcess):
    """``python -m logagg.ingest`` on ``127.0.0.1:port`` with ``env`` over this environment."""

    name = "ingest"
    start_timeout = 30.0

    def __init__(self, env: Mapping[str, str], log_path: Path, *, port: int | None = None):
        super().__init__(log_path)
        self.env = dict(env)
        self.port = port or free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> Sequence[str]:
        return [sys.executable, "-m", "logagg.ingest"]

    def environment(self) -> Mapping[str, str]:
        full = {
            **os.environ,
            "LOGAGG_INGEST_HOST": "127.0.0.1",
            "LOGAGG_INGEST_PORT": str(self.port),
            **self.env,
        }
        # each gunicorn master prepares a metrics folder of its own
        full.pop("PROMETHEUS_MULTIPROC_DIR", None)
        return full

    def is_ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/readyz", timeout=1) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False
