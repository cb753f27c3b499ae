"""The Redis connection every process uses, built from :class:`RedisSettings`.

Connections are made explicitly and passed on (``connection=`` everywhere, as RQ asks);
nothing connects at import time. Every new connection first checks that the server is
recent enough (Redis 6.2, Valkey 7.2): the commands the project and RQ send exist from
there on, and an older server would fail later, command by command, in ways that read
like outages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from redis import Redis
from redis.backoff import ExponentialBackoff
from redis.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from logagg.errors import LogaggError
from logagg.settings import RedisSettings

# The oldest servers the project runs on: RQ takes jobs with (B)LMOVE onto its
# intermediate queue, a Redis 6.2 command (older servers get a BLPOP that leaves a job in
# no list while it starts); the project's own commands are all 6.2 or older. Valkey's
# first release was a fork of Redis 7.2.
MINIMUM_REDIS = (6, 2)
MINIMUM_VALKEY = (7, 2)

_VERSION = re.compile(r"(\d{1,9})\.(\d{1,9})(?:\.(\d{1,9}))?")


class RedisTooOld(LogaggError):
    """The server is older than the oldest one the project supports."""


def _parse_version(text: str) -> tuple[int, ...] | None:
    match = _VERSION.match(text.strip())
    if match is None:
        return None
    return tuple(int(part) for part in match.groups() if part is not None)


def _floor_text(floor: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in floor)


def version_refusal(
    info: Mapping[str, Any],
    *,
    minimum_redis: tuple[int, ...] | None = None,
    minimum_valkey: tuple[int, ...] | None = None,
) -> str | None:
    """Why the server described by ``INFO server`` is too old, or ``None`` if it will do.

    Valkey reports a frozen ``redis_version`` (7.2.4) for clients that look for one, and
    its own release in ``valkey_version``; that is the one compared, against Valkey's
    floor. The floors are the module's unless given. A server that names no version at
    all is let through: refusing it would be a guess, and the commands themselves still
    answer for their arguments.
    """
    valkey = info.get("valkey_version")
    if valkey is not None:
        name, reported, floor = "valkey", str(valkey), minimum_valkey or MINIMUM_VALKEY
    elif info.get("redis_version") is not None:
        name, reported = "redis", str(info["redis_version"])
        floor = minimum_redis or MINIMUM_REDIS
    else:
        return None
    version = _parse_version(reported)
    if version is None or version[: len(floor)] >= floor:
        return None
    return f"{name} {reported} is older than {_floor_text(floor)}, the oldest this needs"


def require_supported_server(redis: Redis) -> None:
    """Raise :class:`RedisTooOld` when the server ``redis`` talks to is too old."""
    refusal = version_refusal(redis.info("server"))
    if refusal is not None:
        raise RedisTooOld(refusal)


def _check_on_connect(opened: AbstractConnection) -> None:
    # The handshake redis-py would do (AUTH, SELECT, protocol), then one INFO on this
    # fresh socket; pooled connections are checked once, when they are opened.
    connection: Any = opened  # redis-py leaves these two untyped
    connection.on_connect()
    connection.send_command("INFO", "server")
    raw = connection.read_response()
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    info = dict(line.split(":", 1) for line in text.splitlines() if ":" in line and line[0] != "#")
    refusal = version_refusal(info)
    if refusal is not None:
        raise RedisTooOld(refusal)


def connect_redis(settings: RedisSettings) -> Redis:
    """Return a client for ``settings.url`` (no I/O until the first command).

    Responses stay bytes: RQ stores pickled or JSON payloads that must not be decoded
    by the client. A few quick retries absorb a blip; a Redis that stays down surfaces
    as ``redis.exceptions.ConnectionError`` to the caller, which decides (503, retry).
    A server older than the supported floor raises :class:`RedisTooOld` on the first
    command, which the services' start-up turns into a one-line refusal.
    """
    return Redis.from_url(
        settings.url,
        socket_timeout=settings.socket_timeout,
        socket_connect_timeout=settings.socket_timeout,
        health_check_interval=int(settings.health_check_interval),
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=2),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        redis_connect_func=_check_on_connect,
    )
