"""``logagg ship`` and ``logagg tail`` without a server: help, and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from logagg import cli
from logagg.client import ship, tail


@pytest.fixture(autouse=True)
def _no_connection_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LOGAGG_URL", "LOGAGG_USERNAME", "LOGAGG_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("command", ["ship", "tail"])
def test_help_has_examples_and_the_variables(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main([command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    assert f"logagg {command} " in out
    for variable in ("LOGAGG_URL", "LOGAGG_USERNAME", "LOGAGG_PASSWORD"):
        assert variable in out


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_ship_without_a_server_setting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "app.log"
    log.write_text("line\n")
    assert ship.main([str(log), "--state", str(tmp_path / "s.json")]) == 1
    assert _error(capsys) == "logagg ship: error: no server: give --url, LOGAGG_URL or --config"


def test_ship_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = ship.main(
        [
            "--url",
            "http://127.0.0.1:1",
            "--username",
            "u",
            "--password",
            "p",
            "--state",
            str(tmp_path / "s.json"),
            str(tmp_path / "nope.log"),
        ]
    )
    assert code == 1
    assert _error(capsys) == f"logagg ship: error: {tmp_path / 'nope.log'}: no such file"


def test_ship_a_bad_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "client.json"
    config.write_text(json.dumps({"host": "h", "port": "eighty", "username": "u", "password": "p"}))
    log = tmp_path / "app.log"
    log.write_text("line\n")
    assert ship.main(["--config", str(config), str(log)]) == 1
    assert _error(capsys) == f"logagg ship: error: {config}: port must be a number, not 'eighty'"


def test_ship_a_bad_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "app.log"
    log.write_text("line\n")
    code = ship.main(["--url", "ftp://h", "--username", "u", "--password", "p", str(log)])
    assert code == 1
    assert "expected http://host:port" in _error(capsys)


def test_a_state_file_in_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from logagg.client.state import OffsetStore

    log = tmp_path / "app.log"
    log.write_text("line\n")
    state = tmp_path / "s.json"
    with OffsetStore(state, "x"):
        code = ship.main(
            [
                "--url",
                "http://127.0.0.1:1",
                "--username",
                "u",
                "--password",
                "p",
                "--state",
                str(state),
                str(log),
            ]
        )
    assert code == 1
    assert "is in use by another logagg ship or tail" in _error(capsys)


def test_bad_numbers_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        tail.main(["--batch-lines", "0", "app.log"])
    assert exited.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err


def test_tail_without_credentials_through_the_logagg_command(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOGAGG_")}
    env["LOGAGG_URL"] = "http://127.0.0.1:1"
    result = subprocess.run(
        [sys.executable, "-m", "logagg.cli", "tail", str(tmp_path / "app.log")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr == (
        "logagg tail: error: no username: give --username, LOGAGG_USERNAME or --config\n"
    )
