"""The archive sink over the local-folder store: same keys as S3, atomic overwrite."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from logagg.shipper.archive.local import LocalObjectStore
from logagg.shipper.archive.objects import ArchiveObject
from logagg.shipper.archive.sink import ArchiveSink
from logagg.shipper.errors import ArchiveWriteFailed, SinkUnavailable, Undelivered

from .events import make_batch


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_a_batch_lands_in_the_s3_key_layout(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "archive")
    store.check()
    sink = ArchiveSink(store, prefix="logs/")
    batch = make_batch("b1", 4, start="2025-04-18T10:59:59.000Z", step_seconds=1)
    sink.ship(batch)
    root = tmp_path / "archive"
    assert files_under(root) == [
        "logs/service=billing/date=2025-04-18/hour=10/b1.ndjson.gz",
        "logs/service=billing/date=2025-04-18/hour=11/b1.ndjson.gz",
    ]
    events = []
    for name in files_under(root):
        events += [
            json.loads(line)
            for line in gzip.decompress((root / name).read_bytes()).split(b"\n")
            if line
        ]
    assert events == batch["events"]


def test_shipping_twice_leaves_one_object(tmp_path: Path) -> None:
    sink = ArchiveSink(LocalObjectStore(tmp_path), prefix="logs/")
    batch = make_batch("b2", 3)
    sink.ship(batch)
    first = {name: (tmp_path / name).read_bytes() for name in files_under(tmp_path)}
    sink.ship(batch)
    assert {name: (tmp_path / name).read_bytes() for name in files_under(tmp_path)} == first
    assert len(first) == 1


class BrokenStore:
    kind = "broken"

    def __init__(self) -> None:
        self.puts: list[str] = []

    def check(self) -> None:
        pass

    def put(self, obj: ArchiveObject) -> None:
        self.puts.append(obj.key)
        raise ArchiveWriteFailed("s3:SlowDown", "please reduce your request rate")


def test_a_failed_write_owes_the_whole_batch() -> None:
    sink = ArchiveSink(BrokenStore(), prefix="logs/")
    batch = make_batch("b3", 3)
    with pytest.raises(Undelivered) as raised:
        sink.ship(batch)
    assert raised.value.reason == "s3:SlowDown"
    assert raised.value.events == batch["events"]


def test_an_unwritable_folder_fails_the_check(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(SinkUnavailable, match="cannot be made"):
        LocalObjectStore(blocker / "archive").check()


def test_a_write_that_fails_is_transient_and_leaves_no_partial_file(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    (tmp_path / "logs").write_text("a file where a folder should be")
    obj = ArchiveObject("logs/service=a/x.ndjson.gz", b"data", 1, "b")
    with pytest.raises(ArchiveWriteFailed):
        store.put(obj)
    assert files_under(tmp_path) == ["logs"]
