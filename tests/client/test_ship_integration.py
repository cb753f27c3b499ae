"""``logagg ship`` against a real ingest: batches, resumption, nothing sent twice."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from logagg.client import ship

from .conftest import WRITER, Ingest

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGAGG_PASSWORD", WRITER[1])
    monkeypatch.delenv("LOGAGG_URL", raising=False)
    monkeypatch.delenv("LOGAGG_USERNAME", raising=False)


def _args(ingest: Ingest, state: Path, *extra: str) -> list[str]:
    return ["--url", ingest.url, "--username", WRITER[0], "--state", str(state), *extra]


def test_an_interrupted_ship_resumes_without_duplicates(
    make_ingest: Callable[..., Ingest], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # No parser drains the queue: after 3 batches ingest answers 429 until the test does.
    ingest = make_ingest(LOGAGG_MAX_BACKLOG="3", LOGAGG_BACKLOG_RETRY_AFTER="1")
    log = tmp_path / "app.log"
    log.write_text("".join(f"line {n}\n" for n in range(450)) + "still being written")
    state = tmp_path / "offsets.json"

    first = ship.main(_args(ingest, state, "--batch-lines", "100", "--attempts", "2", str(log)))

    assert first == 1
    error = capsys.readouterr().err.strip().splitlines()
    assert error[-1].startswith("logagg ship: error: ")
    assert "429" in error[-1]
    assert [len(job["lines"]) for job in ingest.jobs()] == [100, 100, 100]
    sent_first = ingest.take_lines()
    assert sent_first == [f"line {n}" for n in range(300)]

    second = ship.main(_args(ingest, state, "--batch-lines", "100", str(log)))

    assert second == 0
    assert ingest.take_lines() == [f"line {n}" for n in range(300, 450)]
    assert "--final" in capsys.readouterr().err  # the last line has no newline yet

    assert ship.main(_args(ingest, state, "--batch-lines", "100", str(log))) == 0
    assert ingest.jobs() == []  # nothing twice

    assert ship.main(_args(ingest, state, "--final", str(log))) == 0
    assert ingest.take_lines() == ["still being written"]
    saved = json.loads(state.read_text())
    (entries,) = saved["destinations"].values()
    (entry,) = entries.values()
    assert entry["offset"] == log.stat().st_size


def test_a_replaced_file_is_sent_from_its_start(ingest: Ingest, tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("old 1\nold 2\n")
    state = tmp_path / "offsets.json"
    assert ship.main(_args(ingest, state, str(log))) == 0
    assert ingest.take_lines() == ["old 1", "old 2"]

    replacement = tmp_path / "new.log"
    replacement.write_text("new 1\nnew 2\nnew 3\n")
    replacement.replace(log)
    assert ship.main(_args(ingest, state, str(log))) == 0

    assert ingest.take_lines() == ["new 1", "new 2", "new 3"]


def test_ship_reads_the_original_config_file(
    ingest: Ingest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOGAGG_PASSWORD")
    config = tmp_path / "client.json"
    config.write_text(
        json.dumps(
            {
                "protocol": "http",
                "host": "127.0.0.1",
                "port": ingest.server.port,
                "endpoint": "/log",
                "username": WRITER[0],
                "password": WRITER[1],
                "login": "/auth/login",
            }
        )
    )
    log = tmp_path / "app.log"
    log.write_text("".join(f"line {n}\n" for n in range(25)))

    state = tmp_path / "offsets.json"
    code = ship.main(
        ["--config", str(config), "--state", str(state), "--batch-lines", "10", str(log)]
    )

    assert code == 0
    assert [len(job["lines"]) for job in ingest.jobs()] == [10, 10, 5]
