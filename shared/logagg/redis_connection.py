"""The Redis connection every process uses, built from :class:`RedisSettings`.

Connections are made explicitly and passed on (``connection=`` everywhere, as RQ asks);
nothing connects at import time.
"""

from __future__ import annotations

from redis import Redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from logagg.settings import RedisSettings


def connect_redis(settings: RedisSettings) -> Redis:
    """Return a client for ``settings.url`` (no I/O until the first command).

    Responses stay bytes: RQ stores pickled or JSON payloads that must not be decoded
    by the client. A few quick retries absorb a blip; a Redis that stays down surfaces
    as ``redis.exceptions.ConnectionError`` to the caller, which decides (503, retry).
    """
    return Redis.from_url(
        settings.url,
        socket_timeout=settings.socket_timeout,
        socket_connect_timeout=settings.socket_timeout,
        health_check_interval=int(settings.health_check_interval),
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=2),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
