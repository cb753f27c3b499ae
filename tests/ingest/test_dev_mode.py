"""Dev mode: without LOGAGG_JWT_SECRET a key is generated once and shared through Redis."""

from __future__ import annotations

import fakeredis

from logagg.ingest.app import create_app
from logagg.ingest.auth.users import Role
from logagg.ingest.context import DEV_SECRET_KEY, current
from logagg.ingest.settings import IngestSettings

from .conftest import BASE_ENV, WRITER, bearer, login


def test_replicas_in_dev_mode_share_one_generated_key(redis: fakeredis.FakeRedis) -> None:
    env = {k: v for k, v in BASE_ENV.items() if k != "LOGAGG_JWT_SECRET"}
    settings = IngestSettings.from_env({**env, "LOGAGG_DEV_MODE": "true"})
    first, second = create_app(settings, redis=redis), create_app(settings, redis=redis)
    with first.app_context():
        context = current()
        context.users.create(WRITER[0], context.hashing.hash(WRITER[1]), Role.WRITER)
    token = login(first.test_client(), *WRITER)["access"]
    assert second.test_client().post("/log", data="x", headers=bearer(token)).status_code == 200
    stored = redis.get(DEV_SECRET_KEY)
    assert stored is not None
    assert len(stored) >= 32


def test_configured_secret_is_used_not_a_generated_one(redis: fakeredis.FakeRedis) -> None:
    app = create_app(IngestSettings.from_env(BASE_ENV), redis=redis)
    with app.app_context():
        context = current()
        context.users.create(WRITER[0], context.hashing.hash(WRITER[1]), Role.WRITER)
    login(app.test_client(), *WRITER)
    assert redis.get(DEV_SECRET_KEY) is None
