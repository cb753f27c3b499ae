"""The ingest API as the benchmarks call it: stdlib ``http.client``, one call each."""

from __future__ import annotations

import base64
import http.client
import json
import subprocess
import time


def call(
    port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> tuple[int, bytes]:
    """The status and raw answer of one request to ``127.0.0.1:port``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def login(port: int, username: str, password: str) -> str:
    """An access token from ``GET /auth/login`` with Basic credentials."""
    credentials = base64.b64encode(f"{username}:{password}".encode()).decode()
    status, body = call(port, "GET", "/auth/login", None, {"Authorization": f"Basic {credentials}"})
    if status != 200:
        raise RuntimeError(f"login failed: {status} {body!r}")
    return str(json.loads(body)["token"]["access"])


def register(port: int, admin_token: str, username: str, password: str) -> None:
    """Create a writer through the admin API (``POST /auth/register``)."""
    status, body = call(
        port,
        "POST",
        "/auth/register",
        json.dumps({"username": username, "password": password, "role": "writer"}).encode(),
        {"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"},
    )
    if status != 201:
        raise RuntimeError(f"register failed: {status} {body!r}")


def wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Wait until ``GET /readyz`` answers 200 (Redis reachable)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"ingest exited with {process.returncode}")
        try:
            if call(port, "GET", "/readyz", None, {})[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError("ingest did not become ready")
