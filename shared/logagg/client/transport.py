"""One connection to ingest, shared by the handler and the commands.

Logs in once (``GET /auth/login`` with Basic credentials) and keeps the token pair; on a
``401`` gets a new access token with the refresh token, or logs in again when that is
refused too. Bodies go gzip-compressed over one keep-alive connection; every socket
operation has ``timeout``. Failed calls are retried as :mod:`logagg.client.retry`
decides, each wait interruptible by :meth:`Transport.interrupt`.
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import http.client
import json
import random
import ssl
import threading
from typing import Any

from logagg.client.config import ClientConfig
from logagg.client.errors import AuthenticationError, RejectedError, UnavailableError
from logagg.client.retry import Verdict, classify, parse_retry_after, retry_delay

USER_AGENT = "logagg-client/1"

# A keep-alive connection the server closed while idle fails like this on first use; the
# request never reached the application, so it is sent again at once on a new connection.
_STALE_CONNECTION = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


@dataclasses.dataclass(frozen=True, slots=True)
class Accepted:
    """The ``200`` answer of ``POST /log``."""

    batch_id: str
    batches: tuple[str, ...]
    accepted: int
    truncated: int


@dataclasses.dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def error(self) -> tuple[str, str]:
        """The error code and message of an error answer (``{"error", "message"}``)."""
        document = self.json()
        if isinstance(document, dict):
            return str(document.get("error", "")), str(document.get("message", ""))
        text = self.body[:200].decode("utf-8", "replace").strip().replace("\n", " ")
        return "", text or http.client.responses.get(self.status, "")


class _Retryable(Exception):
    def __init__(self, problem: str, retry_after: float | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.retry_after = retry_after


def compress(body: bytes, level: int = 6) -> bytes:
    """``body`` as one gzip member (no file name, no time: the same bytes every time)."""
    return gzip.compress(body, compresslevel=level, mtime=0)


class Transport:
    """Sends bodies to ``POST /log`` with authentication, compression and retries.

    Thread-safe (one request at a time). ``retries`` counts the calls sent again after a
    failure, ``requests`` the HTTP requests that got an answer, ``rejected`` the calls
    refused for good (:class:`RejectedError`, never retried).
    """

    def __init__(self, config: ClientConfig, *, rng: random.Random | None = None) -> None:
        self.config = config
        self.retries = 0
        self.requests = 0
        self.rejected = 0
        self._rng = rng or random.Random()
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._connection: http.client.HTTPConnection | None = None
        self._reused = False
        self._access: str | None = None
        self._refresh: str | None = None

    # -- public -----------------------------------------------------------------------
    def post_log(
        self,
        body: bytes,
        content_type: str,
        *,
        compressed: bool = False,
        attempts: int | None = None,
    ) -> Accepted:
        """Send one body; the ``200`` answer, else :class:`RejectedError` (never worth
        retrying), :class:`AuthenticationError`, or :class:`UnavailableError` after
        ``attempts`` tries."""
        data = body if compressed else compress(body, self.config.gzip_level)
        headers = {"Content-Type": content_type, "Content-Encoding": "gzip"}
        with self._lock:
            answer = self._authorized("POST", self.config.log_path, data, headers, attempts)
        document = answer.json()
        if not isinstance(document, dict):
            raise RejectedError(answer.status, "", "the answer to POST /log is not JSON")
        return Accepted(
            batch_id=str(document.get("batch_id", "")),
            batches=tuple(str(b) for b in document.get("batches", [])),
            accepted=int(document.get("accepted", 0)),
            truncated=int(document.get("truncated", 0)),
        )

    def get_json(self, route: str, *, attempts: int | None = None) -> Any:
        """``GET route`` with the access token (e.g. a receipt); the decoded answer."""
        with self._lock:
            return self._authorized("GET", route, None, {}, attempts).json()

    def login(self) -> None:
        """Log in now (otherwise the first call does)."""
        with self._lock:
            self._retrying(self._login, self.config.attempts)

    def interrupt(self) -> None:
        """Cut short any wait between attempts (the call then raises UnavailableError)."""
        self._stop.set()

    def resume(self) -> None:
        self._stop.clear()

    def close(self) -> None:
        with self._lock:
            self._drop_connection()

    # -- the retry loop ----------------------------------------------------------------
    def _retrying(self, call: Any, attempts: int | None) -> Any:
        limit = attempts or self.config.attempts
        failures = 0
        while True:
            try:
                return call()
            except RejectedError:
                self.rejected += 1
                raise
            except _Retryable as signal:
                problem, hint = signal.problem, signal.retry_after
            except (OSError, http.client.HTTPException) as error:
                self._drop_connection()
                problem, hint = _describe(error), None
            failures += 1
            if failures >= limit:
                raise UnavailableError(
                    f"{self.config.url}: {problem} ({failures} attempt"
                    f"{'s' if failures > 1 else ''})",
                    retry_after=hint,
                )
            delay = retry_delay(
                failures,
                base=self.config.backoff_base,
                cap=self.config.backoff_cap,
                rng=self._rng,
                retry_after=hint,
                max_retry_after=self.config.max_retry_after,
            )
            self.retries += 1
            if self._stop.wait(delay):
                raise UnavailableError(f"{self.config.url}: stopped while waiting to retry")

    def _authorized(
        self,
        method: str,
        route: str,
        body: bytes | None,
        headers: dict[str, str],
        attempts: int | None,
    ) -> _Answer:
        renewed = False

        def once() -> _Answer:
            nonlocal renewed
            while True:
                if self._access is None:
                    self._login()
                answer = self._send(
                    method, route, body, {**headers, "Authorization": f"Bearer {self._access}"}
                )
                verdict = classify(answer.status)
                if verdict is Verdict.ACCEPTED:
                    return answer
                code, message = answer.error()
                if verdict is Verdict.REAUTHENTICATE:
                    if renewed:
                        raise AuthenticationError(answer.status, code, message)
                    renewed = True
                    self._renew()
                    continue
                if verdict is Verdict.REJECTED:
                    error = AuthenticationError if answer.status == 403 else RejectedError
                    raise error(answer.status, code, message)
                raise _Retryable(
                    f"{answer.status} {code or message}".strip(),
                    parse_retry_after(answer.headers.get("Retry-After")),
                )

        answer: _Answer = self._retrying(once, attempts)
        return answer

    # -- authentication ----------------------------------------------------------------
    def _login(self) -> None:
        credentials = f"{self.config.username}:{self.config.password}".encode()
        basic = base64.b64encode(credentials).decode("ascii")
        answer = self._send(
            "GET", self.config.login_path, None, {"Authorization": f"Basic {basic}"}
        )
        verdict = classify(answer.status)
        code, message = answer.error()
        if verdict is Verdict.RETRY:
            raise _Retryable(
                f"login: {answer.status} {code or message}".strip(),
                parse_retry_after(answer.headers.get("Retry-After")),
            )
        if verdict is not Verdict.ACCEPTED:
            raise AuthenticationError(
                answer.status, code, f"login as {self.config.username!r} refused: {message}"
            )
        document = answer.json()
        token = document.get("token") if isinstance(document, dict) else None
        if not isinstance(token, dict) or not isinstance(token.get("access"), str):
            raise AuthenticationError(answer.status, "", "the login answer holds no token")
        self._access = token["access"]
        refresh = token.get("refresh")
        self._refresh = refresh if isinstance(refresh, str) else None

    def _renew(self) -> None:
        """A new access token: from the refresh token if it still works, else a new login."""
        self._access = None
        if self._refresh is not None:
            answer = self._send(
                "POST",
                self.config.refresh_path,
                b"",
                {"Authorization": f"Bearer {self._refresh}"},
            )
            verdict = classify(answer.status)
            if verdict is Verdict.ACCEPTED:
                document = answer.json()
                token = document.get("token") if isinstance(document, dict) else None
                if isinstance(token, dict) and isinstance(token.get("access"), str):
                    self._access = token["access"]
                    return
            elif verdict is Verdict.RETRY:
                code, message = answer.error()
                raise _Retryable(
                    f"refresh: {answer.status} {code or message}".strip(),
                    parse_retry_after(answer.headers.get("Retry-After")),
                )
            self._refresh = None
        self._login()

    # -- HTTP --------------------------------------------------------------------------
    def _send(
        self, method: str, route: str, body: bytes | None, headers: dict[str, str]
    ) -> _Answer:
        full_headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **headers}
        path = self.config.path(route)
        while True:
            connection, reused = self._open()
            try:
                connection.request(method, path, body=body, headers=full_headers)
                response = connection.getresponse()
                data = response.read()
            except _STALE_CONNECTION:
                self._drop_connection()
                if reused:
                    continue
                raise
            except BaseException:
                self._drop_connection()
                raise
            self.requests += 1
            if response.will_close:
                self._drop_connection()
            else:
                self._reused = True
            return _Answer(response.status, response.headers, data)

    def _open(self) -> tuple[http.client.HTTPConnection, bool]:
        if self._connection is None:
            config = self.config
            if config.scheme == "https":
                self._connection = http.client.HTTPSConnection(
                    config.host,
                    config.port,
                    timeout=config.timeout,
                    context=ssl.create_default_context(),
                )
            else:
                self._connection = http.client.HTTPConnection(
                    config.host, config.port, timeout=config.timeout
                )
            self._reused = False
        return self._connection, self._reused

    def _drop_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._reused = False


def _describe(error: BaseException) -> str:
    """A short, one-line description of a connection failure."""
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, http.client.RemoteDisconnected):
        return "the server closed the connection"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return str(error).splitlines()[0] if str(error) else type(error).__name__
