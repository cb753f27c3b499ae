"""moto's S3-compatible server as a separate process (an HTTP endpoint boto3 reaches)."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from logagg.embedded.process import ServerProcess, free_port


class S3Server(ServerProcess):
    """moto's server on ``127.0.0.1:port``; state lives in memory and dies with it."""

    name = "s3 (moto)"
    start_timeout = 60.0

    def __init__(self, log_dir: Path, *, port: int | None = None) -> None:
        super().__init__(log_dir / "s3-server.log")
        self.port = port or free_port()

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> Sequence[str]:
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]

    def is_ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint_url}/moto-api/", timeout=2):
                return True
        except (urllib.error.URLError, OSError):
            return False

    def reset(self) -> None:
        """Forget every bucket and object (between tests)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass
