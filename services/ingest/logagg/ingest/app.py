"""The application factory: ``create_app(settings)`` builds the Flask app, connecting nothing."""

from __future__ import annotations

import time

from flask import Flask, Response, g, request
from redis import Redis

from logagg.ingest.auth.keys import KeyStore, hashing_key
from logagg.ingest.auth.passwords import PasswordHashing
from logagg.ingest.auth.throttle import LoginThrottle, ThrottlePolicy
from logagg.ingest.auth.tokens import TokenService
from logagg.ingest.auth.users import UserStore
from logagg.ingest.auth.verified_passwords import VerifiedPasswords
from logagg.ingest.batches import BatchLimits
from logagg.ingest.bodies import BodyLimits
from logagg.ingest.context import EXTENSION_KEY, IngestContext, secret_source
from logagg.ingest.errors import register_error_handlers
from logagg.ingest.metrics import IngestMetrics
from logagg.ingest.routes import auth as auth_routes
from logagg.ingest.routes import elastic as elastic_routes
from logagg.ingest.routes import health as health_routes
from logagg.ingest.routes import keys as key_routes
from logagg.ingest.routes import logs as log_routes
from logagg.ingest.routes import otlp as otlp_routes
from logagg.ingest.routes import pages as page_routes
from logagg.ingest.routes import receipts as receipt_routes
from logagg.ingest.settings import IngestSettings
from logagg.redis_connection import connect_redis

# Room for the JSON of the auth routes and headers; /log bodies are bounded by the settings.
_MIN_CONTENT_LENGTH = 64 * 1024


def create_app(
    settings: IngestSettings,
    *,
    redis: Redis | None = None,
    metrics: IngestMetrics | None = None,
) -> Flask:
    """Build the ingest app from ``settings``; ``redis`` may be given (tests pass fakeredis)."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = max(settings.max_body_bytes, _MIN_CONTENT_LENGTH)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    client = redis if redis is not None else connect_redis(settings.redis)
    jwt_secret = secret_source(settings, client)
    api_key_secret = settings.api_key_secret.reveal() if settings.api_key_secret else None
    app.extensions[EXTENSION_KEY] = IngestContext(
        settings=settings,
        redis=client,
        users=UserStore(client),
        hashing=PasswordHashing(
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        ),
        tokens=TokenService(
            jwt_secret,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            access_ttl=settings.access_token_ttl,
            refresh_ttl=settings.refresh_token_ttl,
        ),
        keys=KeyStore(client, lambda: hashing_key(api_key_secret, jwt_secret())),
        throttle=LoginThrottle(
            client,
            ThrottlePolicy(
                max_per_user=settings.login_max_failures_per_user,
                max_per_address=settings.login_max_failures_per_address,
                window_seconds=int(settings.login_failure_window),
            ),
        ),
        passwords=VerifiedPasswords(),
        metrics=metrics or IngestMetrics(),
        body_limits=BodyLimits(
            max_body_bytes=settings.max_body_bytes,
            max_decompressed_bytes=settings.max_decompressed_bytes,
            max_line_bytes=settings.max_line_bytes,
            max_lines=settings.max_lines_per_request,
            max_compression_ratio=settings.max_compression_ratio,
            max_gzip_members=settings.max_gzip_members,
        ),
        batch_limits=BatchLimits(
            max_lines=settings.batch_max_lines, max_bytes=settings.batch_max_bytes
        ),
    )
    register_error_handlers(app)
    app.register_blueprint(auth_routes.blueprint)
    app.register_blueprint(key_routes.blueprint)
    app.register_blueprint(log_routes.blueprint)
    app.register_blueprint(receipt_routes.blueprint)
    app.register_blueprint(health_routes.blueprint)
    app.register_blueprint(page_routes.blueprint)
    app.register_blueprint(elastic_routes.blueprint)
    app.register_blueprint(otlp_routes.blueprint)
    _count_requests(app)
    return app


def _count_requests(app: Flask) -> None:
    context: IngestContext = app.extensions[EXTENSION_KEY]
    metrics = context.metrics

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        metrics.requests.labels(route, request.method, str(response.status_code)).inc()
        started = g.get("started")
        if started is not None:
            metrics.request_seconds.labels(route).observe(time.perf_counter() - started)
        if response.status_code in (413, 415):
            metrics.refused.labels(str(response.status_code), "body").inc()
        return response
