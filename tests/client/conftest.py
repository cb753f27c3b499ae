"""Fixtures for the client tests: a real ingest (gunicorn) on the session's Redis, a writer
to log in as, and what ingest enqueued on the ``parse`` queue."""

from __future__ import annotations

import base64
import json
import os
import signal
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ingest.conftest import BASE_ENV
from redis import Redis

from logagg.client import ClientConfig
from logagg.embedded import IngestServer, RedisServer
from logagg.queues import PARSE, job_queue

ADMIN_PASSWORD = "client-tests-admin-password"
WRITER = ("client-writer", "client-writer-password")


def wait_until(check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout:.0f}s: {what}", pytrace=False)
        time.sleep(delay)
        delay = min(delay * 1.5, 0.2)


class Ingest:
    """A real ingest on a fixed port (restartable) and a view of the ``parse`` queue."""

    def __init__(self, server: IngestServer, redis: Redis) -> None:
        self.server = server
        self.redis = redis
        self.url = server.url

    def config(self, **changes: Any) -> ClientConfig:
        settings: dict[str, Any] = {"username": WRITER[0], "password": WRITER[1], **changes}
        return ClientConfig(url=self.url, **settings)

    def crash(self) -> None:
        """SIGKILL gunicorn's master and workers at once, as a lost machine would end them."""
        pid = self.server.pid
        assert pid is not None
        os.killpg(pid, signal.SIGKILL)  # the server runs in a session of its own
        self.server.kill()  # reaps the master

    def jobs(self) -> list[dict[str, Any]]:
        """The payloads of the parse jobs waiting, in queue order."""
        queue = job_queue(PARSE, self.redis)
        return [job.args[0] for job in queue.get_jobs()]

    def lines(self) -> list[Any]:
        """Every line of every waiting parse job, in order."""
        return [line for payload in self.jobs() for line in payload["lines"]]

    def take_lines(self) -> list[Any]:
        """The waiting lines, and the jobs removed (the backlog is empty after)."""
        queue = job_queue(PARSE, self.redis)
        jobs = queue.get_jobs()
        lines = [line for job in jobs for line in job.args[0]["lines"]]
        for job in jobs:
            job.delete()
        return lines


def _call(url: str, *, body: bytes | None = None, headers: dict[str, str]) -> Any:
    request = urllib.request.Request(url, data=body, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _register_writer(url: str) -> None:
    basic = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    token = _call(f"{url}/auth/login", headers={"Authorization": f"Basic {basic}"})["token"]
    body = json.dumps({"username": WRITER[0], "password": WRITER[1]}).encode()
    _call(
        f"{url}/auth/register",
        body=body,
        headers={"Authorization": f"Bearer {token['access']}", "Content-Type": "application/json"},
    )


@pytest.fixture
def make_ingest(
    redis_url: str, redis_server: RedisServer, tmp_path: Path
) -> Iterator[Callable[..., Ingest]]:
    """Start an ingest with extra settings; stopped after the test."""
    started: list[IngestServer] = []

    def start(**env: str) -> Ingest:
        server = IngestServer(
            {
                **BASE_ENV,
                "REDIS_URL": redis_url,
                "LOGAGG_ADMIN_PASSWORD": ADMIN_PASSWORD,
                "LOGAGG_INGEST_WORKERS": "1",
                "LOGAGG_INGEST_THREADS": "4",
                **env,
            },
            tmp_path / f"ingest-{len(started)}.log",
        )
        started.append(server)
        server.start()
        _register_writer(server.url)
        return Ingest(server, redis_server.client())

    yield start
    for server in started:
        server.stop(timeout=15)


@pytest.fixture
def ingest(make_ingest: Callable[..., Ingest]) -> Ingest:
    return make_ingest()
