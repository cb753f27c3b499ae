"""The original client's flow against a real gunicorn and a real Redis."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib

from logagg.embedded import RedisServer
from logagg.queues import PARSE, job_queue

from .conftest import BASE_ENV
from .servers import running_ingest


def call(
    url: str, *, method: str = "GET", body: bytes | None = None, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def basic_login(base: str, username: str, password: str) -> dict[str, Any]:
    """``GET /auth/login`` with Basic credentials, as the original client does."""
    credentials = base64.b64encode(f"{username}:{password}".encode()).decode()
    status, _, body = call(f"{base}/auth/login", headers={"Authorization": f"Basic {credentials}"})
    assert status == 200, body
    answer: dict[str, Any] = json.loads(body)
    assert answer["message"] == "Logged in"
    return answer


def generated_password(log: Path) -> str:
    lines = log.read_text().splitlines()
    marked = [line for line in lines if line.strip().startswith("password:")]
    assert len(marked) == 1, "the generated admin password is printed exactly once"
    return marked[0].split(":", 1)[1].strip()


@pytest.mark.integration
def test_original_client_flow_on_gunicorn(redis_url: str, tmp_path: Path) -> None:
    log = tmp_path / "ingest.log"
    env = {**BASE_ENV, "REDIS_URL": redis_url, "LOGAGG_INGEST_WORKERS": "2"}
    with running_ingest(env, log) as base:
        admin = basic_login(base, "admin", generated_password(log))["token"]["access"]
        status, _, _ = call(
            f"{base}/auth/register",
            method="POST",
            body=json.dumps({"username": "billing", "password": "billing-password"}).encode(),
            headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/json"},
        )
        assert status == 201

        # The client's configuration: login at /auth/login, endpoint /log.
        token = basic_login(base, "billing", "billing-password")["token"]["access"]
        log_file = b"2026-11-28 00:00:00 INFO started\r\n2026-11-28 00:00:01 ERROR it broke\n"
        status, _, body = call(
            f"{base}/log",
            method="POST",
            body=log_file,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        assert status == 200, body
        answer = json.loads(body)
        assert answer["accepted"] == 2

        client = redis_lib.Redis.from_url(redis_url)
        (job,) = job_queue(PARSE, client).get_jobs()
        payload = job.args[0]
        assert payload["batch_id"] == answer["batches"][0]
        assert payload["service"] == "billing"
        assert payload["source_ip"] == "127.0.0.1"
        assert payload["lines"] == [
            "2026-11-28 00:00:00 INFO started",
            "2026-11-28 00:00:01 ERROR it broke",
        ]

        # Errors from gunicorn-served routes are JSON too.
        status, _, body = call(f"{base}/nowhere", headers={})
        assert status == 404
        assert json.loads(body)["error"] == "not_found"

        # Metrics add up over both workers.
        for _ in range(6):
            call(f"{base}/healthz", headers={})
        status, _, body = call(f"{base}/metrics", headers={})
        assert status == 200
        text = body.decode()
        assert "logagg_ingest_lines_accepted_total 2.0" in text
        assert 'route="/healthz",status="200"} 6.0' in text


@pytest.mark.integration
def test_given_admin_password_and_redis_loss_gives_503(tmp_path: Path) -> None:
    # A Redis of its own, so that stopping it leaves the session's Redis alone.
    server = RedisServer(tmp_path / "redis", appendonly=False)
    server.start()
    env = {
        **BASE_ENV,
        "REDIS_URL": server.url,
        "LOGAGG_ADMIN_PASSWORD": "given-admin-password",
        "LOGAGG_INGEST_WORKERS": "1",
        "LOGAGG_REDIS_TIMEOUT": "1s",
    }
    log = tmp_path / "ingest.log"
    try:
        with running_ingest(env, log) as base:
            token = basic_login(base, "admin", "given-admin-password")["token"]["access"]
            assert "password:" not in log.read_text()
            server.stop()
            status, headers, body = call(
                f"{base}/log",
                method="POST",
                body=b"line",
                headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"},
            )
            assert status == 503, body
            assert json.loads(body)["error"] == "unavailable"
            assert "Retry-After" in headers
            status, _, body = call(f"{base}/readyz", headers={})
            assert status == 503
            assert json.loads(body)["error"] == "unavailable"
            status, _, _ = call(f"{base}/healthz", headers={})
            assert status == 200
    finally:
        server.stop()
