"""The on-disk spool: bounded, oldest first, one sender per batch."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from logagg.client.spool import Spool


def test_batches_come_back_oldest_first_with_their_counts(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool", max_bytes=1 << 20)
    for number in range(12):
        assert spool.put(
            gzip.compress(f'["record {number}"]'.encode()), 1 + number, "application/json"
        )

    batches = spool.batches()

    assert [batch.records for batch in batches] == list(range(1, 13))
    assert [gzip.decompress(batch.read()) for batch in batches][:2] == [
        b'["record 0"]',
        b'["record 1"]',
    ]
    assert {batch.content_type for batch in batches} == {"application/json"}
    assert spool.records() == sum(range(1, 13))


def test_the_size_bound_refuses_what_does_not_fit(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1000)
    assert spool.put(b"x" * 600, 1, "text/plain")
    assert not spool.put(b"x" * 600, 1, "text/plain")
    assert spool.put(b"x" * 400, 1, "text/plain")
    assert spool.size() == 1000
    assert len(spool.batches()) == 2


def test_a_claimed_batch_is_not_claimed_twice_and_is_gone_once_removed(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20)
    spool.put(b"body", 3, "text/plain")
    (batch,) = spool.batches()
    other = Spool(tmp_path, max_bytes=1 << 20)  # e.g. another process on the same folder

    with spool.claim(batch) as body:
        assert body == b"body"
        with other.claim(batch) as competing:
            assert competing is None
        spool.remove(batch)

    with other.claim(batch) as after:
        assert after is None
    assert spool.batches() == []


def test_half_written_files_and_strangers_are_ignored(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20)
    (tmp_path / ".tmp-00000000000000000001-1-000000-5").write_bytes(b"partial")
    (tmp_path / "notes.txt").write_text("not a batch")
    assert spool.batches() == []
    assert spool.size() == 0


def test_a_bound_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="positive"):
        Spool(tmp_path, max_bytes=0)
