"""``logagg tail`` against a real ingest: rotation, truncation, restart, clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import WRITER, Ingest, wait_until

pytestmark = pytest.mark.integration


def _append(path: Path, numbers: range) -> None:
    with path.open("a") as out:
        out.write("".join(f"line {n}\n" for n in numbers))


def _numbers(ingest: Ingest) -> list[int]:
    return [int(line.split()[1]) for line in ingest.lines()]


class Tail:
    def __init__(self, ingest: Ingest, state: Path, log: Path, output: Path) -> None:
        self.command = [
            sys.executable,
            "-m",
            "logagg.client.tail",
            "--state",
            str(state),
            "--poll",
            "0.05",
            str(log),
        ]
        self.env = {
            **os.environ,
            "LOGAGG_URL": ingest.url,
            "LOGAGG_USERNAME": WRITER[0],
            "LOGAGG_PASSWORD": WRITER[1],
        }
        self.output = output
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *extra: str) -> None:
        with self.output.open("ab") as out:
            self.process = subprocess.Popen(
                [*self.command[:-1], *extra, self.command[-1]],
                env=self.env,
                stdout=out,
                stderr=out,
            )

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=15)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def tail(ingest: Ingest, tmp_path: Path) -> Iterator[Tail]:
    follower = Tail(ingest, tmp_path / "offsets.json", tmp_path / "app.log", tmp_path / "out")
    yield follower
    follower.kill()


def test_tail_follows_rotation_and_truncation_and_resumes(
    ingest: Ingest, tail: Tail, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    _append(log, range(50))
    tail.start("--batch-age", "0.1")
    wait_until(lambda: len(ingest.lines()) == 50, "the first 50 lines")

    # rename + create: lines written to the old file after the rename still count
    log.rename(tmp_path / "app.log.1")
    _append(tmp_path / "app.log.1", range(50, 60))
    _append(log, range(60, 90))
    wait_until(lambda: len(ingest.lines()) == 90, "the lines around the rotation")

    # copytruncate: the file is emptied in place and written again from its start
    with log.open("r+") as handle:
        handle.truncate(0)
    _append(log, range(90, 100))
    wait_until(lambda: len(ingest.lines()) == 100, "the lines after the truncation")

    assert tail.stop() == 0

    # while it is stopped: more lines, and a rotation
    _append(log, range(100, 110))
    log.rename(tmp_path / "app.log.2")
    _append(log, range(110, 130))

    # a batch age longer than the test: the rest goes out on SIGTERM
    tail.start("--batch-age", "60")
    wait_until(lambda: len(ingest.lines()) == 110, "the file rotated while stopped")
    assert tail.stop() == 0

    assert _numbers(ingest) == list(range(130)), (tmp_path / "out").read_text()


def test_tail_waits_for_a_missing_file(ingest: Ingest, tail: Tail, tmp_path: Path) -> None:
    tail.start("--batch-age", "0.1")
    log = tmp_path / "app.log"
    _append(log, range(5))
    wait_until(lambda: len(ingest.lines()) == 5, "the lines of the file created later")
    assert tail.stop() == 0
    assert _numbers(ingest) == list(range(5))
