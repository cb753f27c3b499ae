"""What a client call can fail with, by what the caller should do about it.

:class:`UnavailableError` is worth trying again later (the server is unreachable, busy
or restarting); :class:`RejectedError` never is (the server refused this body); an
:class:`AuthenticationError` needs other credentials or rights. Messages are one line.
"""

from __future__ import annotations

from logagg.errors import LogaggError, PermanentError, TransientError


class ClientError(LogaggError):
    """Root of the client's errors."""


class ConfigError(ClientError):
    """The connection settings are missing or malformed."""


class UnavailableError(ClientError, TransientError):
    """The server could not take the body after every attempt; ``retry_after`` is its hint."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RejectedError(ClientError, PermanentError):
    """The server refused the body for good (400, 413, 415 and other 4xx)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}" if code else f"{status}: {message}")
        self.status = status
        self.code = code


class AuthenticationError(RejectedError):
    """The credentials were refused (401 after a fresh login) or the user may not post (403)."""
