"""HTTP calls to ingest as a client makes them: stdlib only, JSON answers."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any


def call(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> tuple[int, Any]:
    """The status and decoded JSON answer (``None`` for an empty body) of one request."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    return status, json.loads(raw) if raw else None


def basic(username: str, password: str) -> dict[str, str]:
    credentials = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {credentials}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(base_url: str, username: str, password: str) -> str:
    """The access token from ``GET /auth/login`` with Basic credentials (the original flow)."""
    status, answer = call(f"{base_url}/auth/login", headers=basic(username, password))
    assert status == 200, answer
    assert answer["message"] == "Logged in"
    return str(answer["token"]["access"])


def register(base_url: str, admin_token: str, username: str, password: str) -> None:
    """Create a writer through the admin API."""
    body = json.dumps({"username": username, "password": password, "role": "writer"})
    status, answer = call(
        f"{base_url}/auth/register",
        method="POST",
        body=body.encode(),
        headers={**bearer(admin_token), "Content-Type": "application/json"},
    )
    assert status == 201, answer


def post_log(base_url: str, token: str, body: bytes, content_type: str) -> dict[str, Any]:
    """``POST /log``; asserts the 200 and returns its answer."""
    status, answer = call(
        f"{base_url}/log",
        method="POST",
        body=body,
        headers={**bearer(token), "Content-Type": content_type},
    )
    assert status == 200, answer
    assert isinstance(answer, dict)
    return answer
