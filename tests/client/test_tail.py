"""Following files through rotation and truncation (tmp files, in-memory transport)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest

from logagg.client.state import OffsetStore
from logagg.client.tail import Tailer

from .fakes import FakeTransport


def _args(**changes: object) -> argparse.Namespace:
    values = {
        "batch_lines": 1000,
        "batch_bytes": 1 << 20,
        "batch_age": 0.0,
        "from_end": False,
    }
    return argparse.Namespace(**{**values, **changes})


def _append(path: Path, numbers: range) -> None:
    with path.open("a") as out:
        out.write("".join(f"line {n}\n" for n in numbers))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[OffsetStore]:
    with OffsetStore(tmp_path / "offsets.json", "svc@http://ingest.invalid:3001") as opened:
        yield opened


def _numbers(transport: FakeTransport) -> list[int]:
    return [int(line.split()[1]) for line in transport.records()]


def test_rename_and_create_reads_the_old_file_to_its_end(
    tmp_path: Path, store: OffsetStore
) -> None:
    log = tmp_path / "app.log"
    _append(log, range(3))
    transport = FakeTransport()
    tailer = Tailer([str(log)], transport, store, _args())  # type: ignore[arg-type]
    tailer.poll()
    tailer.poll()
    assert _numbers(transport) == [0, 1, 2]

    log.rename(tmp_path / "app.log.1")
    _append(tmp_path / "app.log.1", range(3, 5))
    with (tmp_path / "app.log.1").open("a") as out:
        out.write("line 5")  # the writer's last line, never ended
    _append(log, range(6, 8))
    for _ in range(4):
        tailer.poll()

    assert _numbers(transport) == list(range(8))
    tailer.close()


def test_truncation_in_place_starts_the_file_over(tmp_path: Path, store: OffsetStore) -> None:
    log = tmp_path / "app.log"
    _append(log, range(10))
    transport = FakeTransport()
    tailer = Tailer([str(log)], transport, store, _args())  # type: ignore[arg-type]
    tailer.poll()
    tailer.poll()

    with log.open("r+") as handle:
        handle.truncate(0)
    _append(log, range(100, 103))  # shorter than before
    tailer.poll()
    tailer.poll()
    with log.open("r+") as handle:
        handle.truncate(0)
    _append(log, range(200, 230))  # longer than before: known by its first bytes
    tailer.poll()
    tailer.poll()

    assert _numbers(transport) == [*range(10), *range(100, 103), *range(200, 230)]
    tailer.close()


def test_offsets_are_saved_after_delivery_only(tmp_path: Path, store: OffsetStore) -> None:
    log = tmp_path / "app.log"
    _append(log, range(4))
    transport = FakeTransport()
    transport.down = True
    tailer = Tailer([str(log)], transport, store, _args())  # type: ignore[arg-type]
    tailer.poll()
    tailer.poll()
    assert store.entries_for(str(log)) == []

    transport.down = False
    tailer.retry_at = 0.0
    tailer.poll()
    (entry,) = store.entries_for(str(log))
    assert entry.offset == log.stat().st_size
    assert _numbers(transport) == [0, 1, 2, 3]
    tailer.close()


def test_lines_wait_for_their_batch_until_batch_age(tmp_path: Path, store: OffsetStore) -> None:
    log = tmp_path / "app.log"
    _append(log, range(5))
    transport = FakeTransport()
    tailer = Tailer([str(log)], transport, store, _args(batch_age=3600, batch_lines=10))  # type: ignore[arg-type]
    tailer.poll()
    tailer.poll()
    assert transport.records() == []
    _append(log, range(5, 12))
    tailer.poll()
    assert _numbers(transport) == list(range(10))
    tailer.poll(stopping=True)
    assert _numbers(transport) == list(range(12))
    tailer.close()
