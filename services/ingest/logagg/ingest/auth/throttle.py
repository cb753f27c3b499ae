"""Login throttling: failures counted per username and per address, in Redis.

Counters live in Redis so every replica sees the same numbers. Each counter opens a
window at its first failure; once it reaches its limit, logins for that name (or from
that address) are refused with a ``Retry-After`` until the window closes, even with the
right password, so guessing gains nothing.
"""

from __future__ import annotations

import dataclasses

from redis import Redis

from logagg.errors import LogaggError

KEY_PREFIX = "logagg:login-failures:"


class LoginThrottled(LogaggError):
    """Too many failures; try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; retry in {retry_after}s")
        self.retry_after = retry_after


@dataclasses.dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """How many failures are allowed per username and per address, within what window."""

    max_per_user: int
    max_per_address: int
    window_seconds: int


def _user_key(username: str) -> str:
    return f"{KEY_PREFIX}user:{username.lower()}"


def _address_key(address: str) -> str:
    return f"{KEY_PREFIX}addr:{address}"


class LoginThrottle:
    """Counts failed logins and refuses attempts past the policy's limits."""

    def __init__(self, redis: Redis, policy: ThrottlePolicy) -> None:
        self._redis = redis
        self._policy = policy

    def check(self, username: str, address: str) -> None:
        """Raise :class:`LoginThrottled` if either counter has reached its limit."""
        keys = (_user_key(username), _address_key(address))
        limits = (self._policy.max_per_user, self._policy.max_per_address)
        with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.get(key)
                pipe.ttl(key)
            replies = pipe.execute()
        for index, limit in enumerate(limits):
            count, ttl = replies[2 * index], replies[2 * index + 1]
            if count is not None and int(count) >= limit:
                raise LoginThrottled(max(int(ttl), 1))

    def record_failure(self, username: str, address: str) -> None:
        """Count one failed attempt against ``username`` and ``address``."""
        with self._redis.pipeline(transaction=True) as pipe:
            for key in (_user_key(username), _address_key(address)):
                pipe.incr(key)
                pipe.expire(key, self._policy.window_seconds, nx=True)
            pipe.execute()

    def record_success(self, username: str) -> None:
        """Forget ``username``'s failures (the address's stay: it may be guessing others)."""
        self._redis.delete(_user_key(username))
