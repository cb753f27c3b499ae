"""What the routes share: settings and the services built from them, one set per app."""

from __future__ import annotations

import dataclasses
import secrets
import threading
from collections.abc import Callable

from flask import current_app
from redis import Redis

from logagg.ingest.auth.keys import KeyStore
from logagg.ingest.auth.passwords import PasswordHashing
from logagg.ingest.auth.throttle import LoginThrottle
from logagg.ingest.auth.tokens import TokenService
from logagg.ingest.auth.users import UserStore
from logagg.ingest.auth.verified_passwords import VerifiedPasswords
from logagg.ingest.batches import BatchLimits
from logagg.ingest.bodies import BodyLimits
from logagg.ingest.metrics import IngestMetrics
from logagg.ingest.settings import IngestSettings

EXTENSION_KEY = "logagg.ingest"
# The Redis key holding the generated key (the name of a secret, not a secret).
DEV_SECRET_KEY = "logagg:dev:jwt-secret"  # noqa: S105


@dataclasses.dataclass(frozen=True, slots=True)
class IngestContext:
    """The app's collaborators, built once by :func:`logagg.ingest.app.create_app`."""

    settings: IngestSettings
    redis: Redis
    users: UserStore
    hashing: PasswordHashing
    tokens: TokenService
    keys: KeyStore
    throttle: LoginThrottle
    passwords: VerifiedPasswords
    metrics: IngestMetrics
    body_limits: BodyLimits
    batch_limits: BatchLimits


def current() -> IngestContext:
    """The context of the app handling the current request."""
    context: IngestContext = current_app.extensions[EXTENSION_KEY]
    return context


def dev_secret(redis: Redis) -> str:
    """The dev-mode signing key, generated once and shared by every replica through Redis."""
    redis.set(DEV_SECRET_KEY, secrets.token_urlsafe(48), nx=True)
    value = redis.get(DEV_SECRET_KEY)
    if value is None:  # deleted between the two commands: try again
        return dev_secret(redis)
    return value.decode() if isinstance(value, bytes) else str(value)


def secret_source(settings: IngestSettings, redis: Redis) -> Callable[[], str]:
    """Where the token service gets its key: the setting, or in dev mode, Redis (lazily)."""
    if settings.jwt_secret is not None:
        configured = settings.jwt_secret.reveal()
        return lambda: configured
    cache: list[str] = []
    lock = threading.Lock()

    def fetch() -> str:
        if not cache:
            with lock:
                if not cache:
                    cache.append(dev_secret(redis))
        return cache[0]

    return fetch
