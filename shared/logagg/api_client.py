"""A small HTTP client of the running ingest service, for operator commands (stdlib only).

Logs in with Basic credentials (``GET /auth/login``) and calls the JSON routes with the
access token. A refusal becomes :class:`IngestRefused` carrying the server's own
message, a network failure :class:`IngestUnreachable`; both read well on one line.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any

from logagg.errors import LogaggError


class IngestError(LogaggError):
    """The ingest service could not do what was asked."""


class IngestUnreachable(IngestError):
    """No HTTP answer: refused, timed out, name not found."""


class IngestRefused(IngestError):
    """An HTTP error answer; ``str()`` is the server's message and status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{message} (HTTP {status} {code})")
        self.status = status
        self.code = code
        self.message = message


def _refusal(error: urllib.error.HTTPError) -> IngestRefused:
    raw = error.read()
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return IngestRefused(error.code, str(body.get("error", "error")), body["message"])
    text = raw.decode("utf-8", "replace").strip()[:200] or str(error.reason)
    return IngestRefused(error.code, "error", text)


class IngestClient:
    """Calls to the ingest service at ``base_url`` (e.g. ``http://127.0.0.1:3001``)."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.token: str | None = None

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The JSON answer of ``method path``; raises :class:`IngestError` subclasses."""
        sent = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        if self.token and "Authorization" not in sent:
            sent["Authorization"] = f"Bearer {self.token}"
        url = f"{self.base_url}{path}"
        request = urllib.request.Request(url, data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            raise _refusal(error) from error
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise IngestUnreachable(f"cannot reach ingest at {self.base_url}: {reason}") from error
        try:
            answer = json.loads(raw) if raw else {}
        except ValueError as error:
            raise IngestError(f"{url} answered something that is not JSON") from error
        if not isinstance(answer, dict):
            raise IngestError(f"{url} answered JSON that is not an object")
        return answer

    def login(self, username: str, password: str) -> None:
        """Log in (``GET /auth/login`` with Basic credentials) and keep the access token."""
        pair = base64.b64encode(f"{username}:{password}".encode()).decode()
        answer = self.request("GET", "/auth/login", headers={"Authorization": f"Basic {pair}"})
        token = answer.get("token", {})
        access = token.get("access") if isinstance(token, dict) else None
        if not isinstance(access, str):
            raise IngestError(f"{self.base_url}/auth/login answered without an access token")
        self.token = access
