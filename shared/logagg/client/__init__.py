"""Clients of the ingest service, on the standard library alone.

- :class:`LogaggHandler`: a ``logging`` handler that never blocks the application.
- :class:`Transport`: login, token refresh, gzip, timeouts and retries for ``POST /log``.
- :class:`ClientConfig`: where to send and as whom (URL and credentials, the original
  client's JSON block, or ``LOGAGG_URL``/``LOGAGG_USERNAME``/``LOGAGG_PASSWORD``).

The ``logagg ship`` and ``logagg tail`` commands live in :mod:`logagg.client.ship` and
:mod:`logagg.client.tail`; importing this package never imports them.
"""

from logagg.client.config import ClientConfig, resolve_config
from logagg.client.errors import (
    AuthenticationError,
    ClientError,
    ConfigError,
    RejectedError,
    UnavailableError,
)
from logagg.client.handler import HandlerCounters, LogaggHandler, UtcFormatter
from logagg.client.transport import Accepted, Transport

__all__ = [
    "Accepted",
    "AuthenticationError",
    "ClientConfig",
    "ClientError",
    "ConfigError",
    "HandlerCounters",
    "LogaggHandler",
    "RejectedError",
    "Transport",
    "UnavailableError",
    "UtcFormatter",
    "resolve_config",
]
