"""A real gunicorn serving the ingest app on a free loopback port, for integration tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_ready(base_url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    """Poll ``/readyz`` until it answers 200; fail early if the server died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}/readyz", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{base_url} not ready after {timeout}s")


@contextmanager
def running_ingest(
    env: Mapping[str, str], log_path: Path, *, timeout: float = 30.0
) -> Iterator[str]:
    """Run ``python -m logagg.ingest`` with ``env``; yield its base URL; stop it after."""
    port = free_port()
    full_env = {
        **os.environ,
        "LOGAGG_INGEST_HOST": "127.0.0.1",
        "LOGAGG_INGEST_PORT": str(port),
        **env,
    }
    full_env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "logagg.ingest"], env=full_env, stdout=log, stderr=log
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(base_url, process, timeout)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
