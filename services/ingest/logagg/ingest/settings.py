"""The ingest service's settings, read once from the environment and frozen.

:class:`IngestSettings` holds everything the HTTP app, the token service, the user store
and the gunicorn configuration need; it composes the shared :class:`RedisSettings`.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from typing import Self

from logagg.ingest.auth.users import USERNAME_PATTERN
from logagg.settings import EnvReader, RedisSettings, Secret, SettingsBase

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# HMAC keys shorter than the hash output weaken HS256 (RFC 7518 section 3.2).
MIN_JWT_SECRET_LENGTH = 32


def _networks(read: EnvReader, name: str) -> tuple[IpNetwork, ...]:
    raw = read.optional_text(name)
    if raw is None:
        return ()
    networks: list[IpNetwork] = []
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            read.problems.append(f"{name}: not an IP address or CIDR network: {item!r}")
    return tuple(networks)


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class IngestSettings(SettingsBase):
    """Everything the ingest service reads from the environment."""

    redis: RedisSettings
    host: str
    port: int
    workers: int
    threads: int
    worker_timeout: float
    dev_mode: bool
    jwt_secret: Secret | None
    api_key_secret: Secret | None
    jwt_issuer: str
    jwt_audience: str
    access_token_ttl: float
    refresh_token_ttl: float
    admin_username: str
    admin_password: Secret | None
    password_min_length: int
    argon2_time_cost: int
    argon2_memory_kib: int
    argon2_parallelism: int
    login_max_failures_per_user: int
    login_max_failures_per_address: int
    login_failure_window: float
    max_body_bytes: int
    max_decompressed_bytes: int
    max_line_bytes: int
    max_lines_per_request: int
    max_compression_ratio: float
    max_gzip_members: int
    batch_max_lines: int
    batch_max_bytes: int
    max_backlog: int
    backlog_retry_after: int
    trusted_proxies: tuple[IpNetwork, ...]

    @classmethod
    def read(cls, read: EnvReader) -> Self:
        settings = cls(
            redis=RedisSettings.read(read),
            host=read.text("LOGAGG_INGEST_HOST", "0.0.0.0"),  # noqa: S104 - a server's bind address
            port=read.integer("LOGAGG_INGEST_PORT", 3001, minimum=1, maximum=65535),
            workers=read.integer("LOGAGG_INGEST_WORKERS", 2, minimum=1, maximum=256),
            threads=read.integer("LOGAGG_INGEST_THREADS", 4, minimum=1, maximum=256),
            worker_timeout=read.duration("LOGAGG_INGEST_WORKER_TIMEOUT", 30.0, minimum=1),
            dev_mode=read.boolean("LOGAGG_DEV_MODE", False),
            jwt_secret=read.secret("LOGAGG_JWT_SECRET"),
            api_key_secret=read.secret("LOGAGG_API_KEY_SECRET"),
            jwt_issuer=read.text("LOGAGG_JWT_ISSUER", "logagg"),
            jwt_audience=read.text("LOGAGG_JWT_AUDIENCE", "logagg-ingest"),
            access_token_ttl=read.duration("LOGAGG_ACCESS_TOKEN_TTL", 15 * 60.0, minimum=1),
            refresh_token_ttl=read.duration("LOGAGG_REFRESH_TOKEN_TTL", 30 * 86400.0, minimum=1),
            admin_username=read.text("LOGAGG_ADMIN_USERNAME", "admin"),
            admin_password=read.secret("LOGAGG_ADMIN_PASSWORD"),
            password_min_length=read.integer(
                "LOGAGG_PASSWORD_MIN_LENGTH", 12, minimum=1, maximum=1024
            ),
            argon2_time_cost=read.integer("LOGAGG_ARGON2_TIME_COST", 3, minimum=1),
            argon2_memory_kib=read.size("LOGAGG_ARGON2_MEMORY", 64 * 1024**2, minimum=8 * 1024)
            // 1024,
            argon2_parallelism=read.integer("LOGAGG_ARGON2_PARALLELISM", 4, minimum=1),
            login_max_failures_per_user=read.integer(
                "LOGAGG_LOGIN_MAX_FAILURES_PER_USER", 10, minimum=1
            ),
            login_max_failures_per_address=read.integer(
                "LOGAGG_LOGIN_MAX_FAILURES_PER_ADDRESS", 50, minimum=1
            ),
            login_failure_window=read.duration("LOGAGG_LOGIN_FAILURE_WINDOW", 900.0, minimum=1),
            max_body_bytes=read.size("LOGAGG_MAX_BODY_BYTES", 10 * 1024**2, minimum=1024),
            max_decompressed_bytes=read.size(
                "LOGAGG_MAX_DECOMPRESSED_BYTES", 50 * 1024**2, minimum=1024
            ),
            max_line_bytes=read.size("LOGAGG_MAX_LINE_BYTES", 32 * 1024, minimum=64),
            max_lines_per_request=read.integer(
                "LOGAGG_MAX_LINES_PER_REQUEST", 100_000, minimum=1, maximum=10_000_000
            ),
            max_compression_ratio=float(
                read.integer("LOGAGG_MAX_COMPRESSION_RATIO", 100, minimum=2, maximum=1100)
            ),
            max_gzip_members=read.integer(
                "LOGAGG_MAX_GZIP_MEMBERS", 1000, minimum=1, maximum=1_000_000
            ),
            batch_max_lines=read.integer("LOGAGG_BATCH_MAX_LINES", 5000, minimum=1),
            batch_max_bytes=read.size("LOGAGG_BATCH_MAX_BYTES", 1024**2, minimum=1024),
            max_backlog=read.integer("LOGAGG_MAX_BACKLOG", 5000, minimum=1),
            backlog_retry_after=read.integer("LOGAGG_BACKLOG_RETRY_AFTER", 5, minimum=1),
            trusted_proxies=_networks(read, "LOGAGG_TRUSTED_PROXIES"),
        )
        if settings.jwt_secret is None and not settings.dev_mode:
            read.problems.append(
                "LOGAGG_JWT_SECRET: is required (or set LOGAGG_DEV_MODE=true to generate one)"
            )
        if not USERNAME_PATTERN.fullmatch(settings.admin_username):
            read.problems.append(
                "LOGAGG_ADMIN_USERNAME: 1 to 64 letters, digits and . _ @ -, "
                f"starting with a letter or digit; got {settings.admin_username!r}"
            )
        if (
            settings.jwt_secret is not None
            and len(settings.jwt_secret.reveal()) < MIN_JWT_SECRET_LENGTH
        ):
            read.problems.append(
                f"LOGAGG_JWT_SECRET: must be at least {MIN_JWT_SECRET_LENGTH} characters"
            )
        if (
            settings.api_key_secret is not None
            and len(settings.api_key_secret.reveal()) < MIN_JWT_SECRET_LENGTH
        ):
            read.problems.append(
                f"LOGAGG_API_KEY_SECRET: must be at least {MIN_JWT_SECRET_LENGTH} characters"
            )
        if (
            settings.admin_password is not None
            and len(settings.admin_password.reveal()) < settings.password_min_length
        ):
            read.problems.append(
                "LOGAGG_ADMIN_PASSWORD: shorter than LOGAGG_PASSWORD_MIN_LENGTH "
                f"({settings.password_min_length})"
            )
        if settings.max_decompressed_bytes < settings.max_body_bytes:
            read.problems.append(
                "LOGAGG_MAX_DECOMPRESSED_BYTES: must be at least LOGAGG_MAX_BODY_BYTES"
            )
        if settings.batch_max_bytes < settings.max_line_bytes:
            read.problems.append("LOGAGG_BATCH_MAX_BYTES: must be at least LOGAGG_MAX_LINE_BYTES")
        if settings.argon2_memory_kib < 8 * settings.argon2_parallelism:
            read.problems.append(
                "LOGAGG_ARGON2_MEMORY: must be at least 8 KiB per LOGAGG_ARGON2_PARALLELISM lane"
            )
        return settings
