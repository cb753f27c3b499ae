"""The supported Redis range: the pure comparison, and the refusal on a real server."""

from __future__ import annotations

import importlib
import os
import re
import sys
from pathlib import Path

import pytest
from redis import Redis

from logagg import cli, redis_connection
from logagg.redis_connection import (
    RedisTooOld,
    connect_redis,
    require_supported_server,
    version_refusal,
)
from logagg.settings import RedisSettings

REFUSAL = re.compile(r"^(redis|valkey) \d+\.\d+\.\d+ is older than 99\.0, the oldest this needs$")


@pytest.mark.parametrize(
    ("version", "refusal"),
    [
        ("6.0.16", "redis 6.0.16 is older than 6.2, the oldest this needs"),
        ("5.0.14", "redis 5.0.14 is older than 6.2, the oldest this needs"),
        ("6.1.99", "redis 6.1.99 is older than 6.2, the oldest this needs"),
        ("6.2.0", None),
        ("6.2.14", None),
        ("7.4.2", None),
        ("8.0.0", None),
        ("10.0.0", None),
    ],
)
def test_redis_versions_against_the_floor(version: str, refusal: str | None) -> None:
    assert version_refusal({"redis_version": version}) == refusal


def test_valkey_is_judged_by_its_own_version() -> None:
    # What Valkey 9 answers to INFO server: a frozen redis_version next to its own.
    valkey_9 = {"redis_version": "7.2.4", "server_name": "valkey", "valkey_version": "9.1.2"}
    assert version_refusal(valkey_9) is None
    assert version_refusal({"redis_version": "7.2.4", "valkey_version": "7.2.5"}) is None
    assert (
        version_refusal({"redis_version": "7.2.4", "valkey_version": "7.0.1"})
        == "valkey 7.0.1 is older than 7.2, the oldest this needs"
    )
    assert (
        version_refusal(valkey_9, minimum_valkey=(10, 0))
        == "valkey 9.1.2 is older than 10.0, the oldest this needs"
    )


def test_no_version_or_an_unreadable_one_is_let_through() -> None:
    assert version_refusal({}) is None
    assert version_refusal({"redis_version": "unstable"}) is None
    assert version_refusal({"redis_version": "6.0.16"}, minimum_redis=(6, 0)) is None


@pytest.fixture
def floor_above_every_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redis_connection, "MINIMUM_REDIS", (99, 0))
    monkeypatch.setattr(redis_connection, "MINIMUM_VALKEY", (99, 0))


@pytest.mark.integration
def test_the_session_server_is_the_chosen_end_of_the_range(redis_url: str) -> None:
    info = Redis.from_url(redis_url).info("server")
    if os.environ.get("LOGAGG_TEST_REDIS", "valkey") == "redis6.2":
        assert str(info["redis_version"]).startswith("6.2.")
        assert "valkey_version" not in info
    else:
        assert "valkey_version" in info
    require_supported_server(Redis.from_url(redis_url))
    assert connect_redis(RedisSettings.from_env({"REDIS_URL": redis_url})).ping()


@pytest.mark.integration
@pytest.mark.usefixtures("floor_above_every_server")
def test_a_server_below_the_floor_is_refused_on_connecting(redis_url: str) -> None:
    with pytest.raises(RedisTooOld, match=REFUSAL):
        require_supported_server(Redis.from_url(redis_url))
    with pytest.raises(RedisTooOld, match=REFUSAL):
        connect_redis(RedisSettings.from_env({"REDIS_URL": redis_url})).set("k", "v")
    assert Redis.from_url(redis_url).get("k") is None


@pytest.mark.integration
@pytest.mark.usefixtures("floor_above_every_server")
@pytest.mark.parametrize("command", [["parser", "--burst"], ["status"], ["dlq", "stats"]])
def test_commands_refuse_in_one_line(
    redis_url: str,
    command: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    assert cli.main(command) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert REFUSAL.match(lines[0])


@pytest.mark.integration
@pytest.mark.usefixtures("floor_above_every_server")
def test_gunicorn_master_refuses_before_starting_workers(
    redis_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("LOGAGG_JWT_SECRET", "x" * 64)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.delitem(sys.modules, "logagg.ingest.gunicorn_conf", raising=False)
    gunicorn_conf = importlib.import_module("logagg.ingest.gunicorn_conf")
    with pytest.raises(SystemExit) as stopped:
        gunicorn_conf.on_starting(None)
    assert stopped.value.code == 2
    assert REFUSAL.match(capsys.readouterr().err.strip())


@pytest.mark.integration
@pytest.mark.usefixtures("floor_above_every_server")
def test_logagg_run_refuses_before_starting_anything(
    redis_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from logagg import stack

    monkeypatch.setattr(stack.signal, "signal", lambda *_: None)  # keep pytest's Ctrl-C
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("LOGAGG_DATA_DIR", str(tmp_path / "data"))
    assert cli.main(["run"]) == 2
    printed = capsys.readouterr()
    err = printed.err.strip().splitlines()
    assert len(err) == 1
    assert REFUSAL.match(err[0])
    assert "starting" not in printed.out
    assert not (tmp_path / "data" / "elasticsearch").exists()
    assert not (tmp_path / "data" / "admin-password").exists()
