"""Fixtures for the ingest tests: settings with cheap hashing, an app on fakeredis, users."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import fakeredis
import pytest
from flask import Flask
from flask.testing import FlaskClient

from logagg.ingest.app import create_app
from logagg.ingest.auth.users import Role
from logagg.ingest.context import current
from logagg.ingest.settings import IngestSettings

JWT_SECRET = "test-secret-long-enough-for-hs256-and-hs512-0123456789abcdefghijklmnop"
ADMIN = ("admin", "admin-password-1")
WRITER = ("service-a", "writer-password-1")

# Hashing as cheap as argon2 allows: the tests check behaviour, not cost.
BASE_ENV = {
    "LOGAGG_JWT_SECRET": JWT_SECRET,
    "LOGAGG_ARGON2_TIME_COST": "1",
    "LOGAGG_ARGON2_MEMORY": "8KiB",
    "LOGAGG_ARGON2_PARALLELISM": "1",
}


def make_settings(**env: str) -> IngestSettings:
    """Settings from the test defaults plus ``env``."""
    return IngestSettings.from_env({**BASE_ENV, **env})


def basic(username: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def fake_server() -> fakeredis.FakeServer:
    return fakeredis.FakeServer()


@pytest.fixture
def redis(fake_server: fakeredis.FakeServer) -> fakeredis.FakeRedis:
    return fakeredis.FakeRedis(server=fake_server)


@pytest.fixture
def app_factory(redis: fakeredis.FakeRedis) -> Callable[..., Flask]:
    """Build an app on the fake Redis with extra settings; admin and writer exist."""

    def build(**env: str) -> Flask:
        app = create_app(make_settings(**env), redis=redis)
        with app.app_context():
            context = current()
            for (name, password), role in ((ADMIN, Role.ADMIN), (WRITER, Role.WRITER)):
                if context.users.get(name) is None:
                    context.users.create(name, context.hashing.hash(password), role)
        return app

    return build


@pytest.fixture
def app(app_factory: Callable[..., Flask]) -> Flask:
    return app_factory()


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as test_client:
        yield test_client


def login(client: FlaskClient, username: str, password: str) -> dict[str, Any]:
    """The token pair for a user (asserting the login worked)."""
    response = client.get("/auth/login", headers=basic(username, password))
    assert response.status_code == 200, response.get_json()
    token: dict[str, Any] = response.get_json()["token"]
    return token


@pytest.fixture
def admin_token(client: FlaskClient) -> str:
    return str(login(client, *ADMIN)["access"])


@pytest.fixture
def writer_token(client: FlaskClient) -> str:
    return str(login(client, *WRITER)["access"])
