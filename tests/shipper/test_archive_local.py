"""The archive over the local-folder store: same keys and compaction as S3, atomic overwrite."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import pytest

from logagg.queues import encode_batch
from logagg.shipper import jobs
from logagg.shipper.archive.local import LocalObjectStore
from logagg.shipper.archive.objects import ArchiveObject
from logagg.shipper.errors import ArchiveWriteFailed, SinkUnavailable

from .conftest import MakeRuntime
from .events import make_batch


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.mark.integration
def test_batches_land_compacted_in_the_s3_key_layout(
    tmp_path: Path, make_runtime: MakeRuntime
) -> None:
    root = tmp_path / "archive"
    runtime = make_runtime(LOGAGG_ARCHIVE_URL=root.as_uri(), LOGAGG_ARCHIVE_FLUSH_AGE="1s")
    compactor = runtime.archive_sink().compactor
    compactor.margin = 0.0  # no Redis is killed here
    first = make_batch("b1", 4, start="2025-04-18T10:59:59.000Z", step_seconds=1)
    second = make_batch("b2", 3, start="2025-04-18T11:00:10.000Z", step_seconds=1)
    for batch in (first, second):
        jobs.ship_to_archive(encode_batch(batch))
        jobs.ship_to_archive(batch)  # a repeated job stages nothing twice
    deadline = time.monotonic() + 30
    while compactor.step() < 2:
        assert time.monotonic() < deadline, "objects not written within 30s"
        time.sleep(0.1)
    names = files_under(root)
    assert [name.rsplit("/", 1)[0] for name in names] == [
        "logs/service=billing/date=2025-04-18/hour=10",
        "logs/service=billing/date=2025-04-18/hour=11",
    ]
    events = []
    for name in names:
        events += [
            json.loads(line)
            for line in gzip.decompress((root / name).read_bytes()).split(b"\n")
            if line
        ]
    # one object per hour; the second holds both batches' events of that hour, in order
    assert events == first["events"] + second["events"]


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
