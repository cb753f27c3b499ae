"""First start: make sure an admin exists (exactly once, however many replicas start)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from logagg.ingest.auth.passwords import PasswordHashing
from logagg.ingest.auth.users import UserStore, check_username
from logagg.ingest.settings import IngestSettings


def _banner(username: str, password: str) -> str:
    rule = "=" * 72
    return "\n".join(
        [
            rule,
            "LogAggregator: no admin existed, so one was created.",
            f"  username: {username}",
            f"  password: {password}",
            "This password is shown once and never again: store it now, then change it",
            "with PUT /auth/user/password (or set LOGAGG_ADMIN_PASSWORD before first start).",
            rule,
        ]
    )


def ensure_admin(
    settings: IngestSettings,
    users: UserStore,
    hashing: PasswordHashing,
    announce: Callable[[str], None],
) -> bool:
    """Create the first admin if none exists; return whether this call created it.

    With ``LOGAGG_ADMIN_PASSWORD`` set, that is the password; otherwise a random one is
    drawn and passed to ``announce`` once, by the one replica that created the admin.
    """
    username = check_username(settings.admin_username)
    given = settings.admin_password
    password = given.reveal() if given is not None else secrets.token_urlsafe(18)
    created = users.create_first_admin(username, hashing.hash(password))
    if created is None:
        return False
    if given is None:
        announce(_banner(username, password))
    else:
        announce(f"LogAggregator: created admin {username!r} with LOGAGG_ADMIN_PASSWORD")
    return True


def wait_for_redis(
    redis: Redis, timeout: float, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Return once Redis answers ``PING``; raise its last error after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.1
    while True:
        try:
            redis.ping()
            return
        except (RedisConnectionError, RedisTimeoutError):
            if time.monotonic() >= deadline:
                raise
            sleep(delay)
            delay = min(delay * 2, 2.0)
