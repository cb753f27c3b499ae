"""HTTP errors: one exception type carrying status, code and message, rendered as JSON.

Every error the app answers has the body ``{"error": code, "message": text}``, whether it
comes from a route (:class:`ApiError`), from Werkzeug (404, 405, 413) or from Redis
being unreachable (503).
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException

from logagg.errors import LogaggError
from logagg.ingest.bodies import BodyError

log = logging.getLogger(__name__)

# Werkzeug's exceptions mapped to stable, machine-readable codes.
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    431: "headers_too_large",
    500: "internal_error",
    503: "unavailable",
}

# How long a client should wait before retrying after a 503 (Redis unreachable).
UNAVAILABLE_RETRY_AFTER = 5


class ApiError(LogaggError):
    """An answer other than success, with its HTTP status and a stable error code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    """A JSON error response ``{"error": code, "message": message}``."""
    response = jsonify(error=code, message=message)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="logagg"')
    return response


def register_error_handlers(app: Flask) -> None:
    """Make every error, expected or not, answer JSON."""

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return error_response(error.status, error.code, error.message, error.headers)

    @app.errorhandler(BodyError)
    def _body_error(error: BodyError) -> Response:
        return error_response(error.status, error.code, error.message)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        headers: dict[str, str] = {}
        if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
            headers["Allow"] = ", ".join(sorted(error.valid_methods))  # type: ignore[attr-defined]
        return error_response(
            status, _HTTP_CODES.get(status, f"http_{status}"), error.description or "", headers
        )

    @app.errorhandler(RedisError)
    def _redis_error(error: RedisError) -> Response:
        log.warning("redis unavailable: %s", error)
        return error_response(
            503,
            "unavailable",
            "the state store is unreachable; nothing was stored, try again",
            {"Retry-After": str(UNAVAILABLE_RETRY_AFTER)},
        )

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "internal error")
