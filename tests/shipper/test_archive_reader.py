"""Reading the archive back for ``logagg replay``: prefixes, selection, batches (no network)."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import fakeredis
import pytest

from logagg.queues import SHIP_ES, SHIP_ES_JOB, ParsedBatch, job_queue
from logagg.shipper.archive.keys import object_key
from logagg.shipper.archive.local import LocalObjectStore
from logagg.shipper.archive.objects import ArchiveObject, plan_chunks
from logagg.shipper.archive.reader import (
    Window,
    decode_events,
    events_in_window,
    partition_prefixes,
    read_events,
    replay_batch_id,
    replay_batches,
    select_objects,
    service_of_key,
    service_prefix,
)
from logagg.shipper.errors import ArchiveReadFailed
from logagg.shipper.replay_cli import parse_window, replay

from .events import make_batch, make_event


def window(since: str, until: str) -> Window:
    return Window(datetime.fromisoformat(since), datetime.fromisoformat(until))


def test_a_window_inside_one_day_is_its_hours() -> None:
    assert partition_prefixes(window("2026-11-28T10:15:00Z", "2026-11-28T12:00:00Z")) == [
        "date=2026-11-28/hour=10/",
        "date=2026-11-28/hour=11/",
    ]


def test_an_until_inside_an_hour_takes_that_hour() -> None:
    assert partition_prefixes(window("2026-11-28T23:59:59Z", "2026-11-29T00:00:01Z")) == [
        "date=2026-11-28/hour=23/",
        "date=2026-11-29/hour=00/",
    ]


def test_whole_days_are_one_prefix_each_and_cut_days_their_hours() -> None:
    assert partition_prefixes(window("2026-11-27T22:00:00Z", "2026-11-30T01:30:00Z")) == [
        "date=2026-11-27/hour=22/",
        "date=2026-11-27/hour=23/",
        "date=2026-11-28/",
        "date=2026-11-29/",
        "date=2026-11-30/hour=00/",
        "date=2026-11-30/hour=01/",
    ]


def test_windows_in_other_zones_are_placed_in_utc_partitions() -> None:
    assert partition_prefixes(window("2026-11-28T01:30:00+02:00", "2026-11-28T02:00:00+02:00")) == [
        "date=2026-11-27/hour=23/"
    ]


def test_an_empty_or_reversed_window_is_refused() -> None:
    with pytest.raises(ValueError, match="the window is empty"):
        window("2026-11-28T10:00:00Z", "2026-11-28T10:00:00Z")
    with pytest.raises(ValueError, match="time zone"):
        Window(datetime(2026, 11, 28), datetime(2026, 11, 29))


def test_the_command_line_window_defaults_until_to_now() -> None:
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    assert parse_window("2026-11-28", None, now) == Window(datetime(2026, 11, 28, tzinfo=UTC), now)
    assert parse_window("2h", "1h", now) == Window(
        datetime(2026, 11, 28, 10, tzinfo=UTC), datetime(2026, 11, 28, 11, tzinfo=UTC)
    )
    with pytest.raises(ValueError, match="not a time"):
        parse_window("last tuesday", None, now)


def test_service_names_in_keys_round_trip() -> None:
    assert service_prefix("logs", "billing") == "logs/service=billing/"
    key = service_prefix("logs/", "pay ments/eu") + "date=2026-11-28/hour=10/b.ndjson.gz"
    assert key == "logs/service=pay%20ments%2Feu/date=2026-11-28/hour=10/b.ndjson.gz"
    assert service_of_key(key, "logs/") == "pay ments/eu"
    with pytest.raises(ValueError, match="not an archive object key"):
        service_of_key("logs/date=2026-11-28/b.ndjson.gz", "logs/")


def test_only_events_in_the_half_open_window_are_kept() -> None:
    events = [
        make_event("b", 0, at="2026-11-28T09:59:59.999Z"),
        make_event("b", 1, at="2026-11-28T10:00:00.000Z"),
        make_event("b", 2, at="2026-11-28T10:59:59.999Z"),
        make_event("b", 3, at="2026-11-28T11:00:00.000Z"),
    ]
    kept = events_in_window(events, window("2026-11-28T10:00:00Z", "2026-11-28T11:00:00Z"))
    assert [e["event"]["id"] for e in kept] == ["b-1", "b-2"]


def test_replay_batches_are_bounded_and_their_ids_deterministic() -> None:
    events = [make_event("b", n) for n in range(5)]
    the_window = window("2025-04-18T00:00:00Z", "2025-04-19T00:00:00Z")
    key = "logs/service=billing/date=2025-04-18/hour=10/b.ndjson.gz"
    batches = replay_batches(key, "billing", events, the_window, 2)
    assert [len(b["events"]) for b in batches] == [2, 2, 1]
    assert [b["events"] for b in batches] == [events[0:2], events[2:4], events[4:5]]
    assert {b["service"] for b in batches} == {"billing"}
    ids = [b["batch_id"] for b in batches]
    assert ids == [replay_batch_id(key, the_window, n) for n in range(3)]
    assert len(set(ids)) == 3
    assert replay_batches(key, "billing", events, the_window, 2)[0]["batch_id"] == ids[0]
    other_window = window("2025-04-18T10:00:00Z", "2025-04-19T00:00:00Z")
    assert replay_batch_id(key, other_window, 0) != ids[0]
    assert replay_batch_id(key.replace("b.nd", "c.nd"), the_window, 0) != ids[0]


# -- over a local-folder archive ----------------------------------------------------------


class RecordingStore(LocalObjectStore):
    """The folder store, noting which prefixes were listed."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.listed: list[str] = []

    def list_keys(self, prefix: str) -> Iterator[str]:
        self.listed.append(prefix)
        return super().list_keys(prefix)


class BatchWriter:
    """Writes a batch as one object per partition named by the batch id, as the archive
    did before compaction (readers take those objects as they take compacted ones)."""

    def __init__(self, store: LocalObjectStore, prefix: str) -> None:
        self.store, self.prefix = store, prefix

    def ship(self, batch: ParsedBatch) -> None:
        for chunk in plan_chunks(batch):
            key = object_key(self.prefix, chunk.partition, batch["batch_id"])
            self.store.put(ArchiveObject(key, chunk.body, chunk.event_count, chunk.chunk_id))


@pytest.fixture
def archive(tmp_path: Path) -> RecordingStore:
    store = RecordingStore(tmp_path / "archive")
    store.check()
    sink = BatchWriter(store, "logs/")
    # billing: 10:40 .. 11:30 on the 18th (two objects), web: 11:05 .. 11:07, billing on the 19th
    sink.ship(make_batch("a", 6, start="2025-04-18T10:40:00.000Z", step_seconds=600))
    sink.ship(make_batch("b", 3, service="web", start="2025-04-18T11:05:00.000Z", step_seconds=60))
    sink.ship(make_batch("c", 2, start="2025-04-19T09:00:00.000Z", step_seconds=1))
    (
        tmp_path / "archive" / "logs" / "service=web" / "date=2025-04-18" / "hour=11" / ".x.partial"
    ).write_bytes(b"")
    return store


def test_selection_lists_only_the_windows_partitions(archive: RecordingStore) -> None:
    the_window = window("2025-04-18T11:00:00Z", "2025-04-18T11:30:00Z")
    keys = select_objects(archive, "logs/", the_window)
    assert keys == [
        "logs/service=billing/date=2025-04-18/hour=11/a.ndjson.gz",
        "logs/service=web/date=2025-04-18/hour=11/b.ndjson.gz",
    ]
    assert archive.listed == [
        "logs/service=billing/date=2025-04-18/hour=11/",
        "logs/service=web/date=2025-04-18/hour=11/",
    ]
    assert select_objects(archive, "logs/", the_window, ["web"]) == [keys[1]]
    assert select_objects(archive, "logs/", the_window, ["nobody"]) == []


def test_whole_days_are_listed_by_their_day(archive: RecordingStore) -> None:
    keys = select_objects(archive, "logs", window("2025-04-18T00:00:00Z", "2025-04-20T00:00:00Z"))
    assert len(keys) == 4
    assert archive.listed == [
        "logs/service=billing/date=2025-04-18/",
        "logs/service=billing/date=2025-04-19/",
        "logs/service=web/date=2025-04-18/",
        "logs/service=web/date=2025-04-19/",
    ]


def test_replay_enqueues_bounded_ship_es_jobs_and_replaces_its_own(
    archive: RecordingStore,
) -> None:
    redis = fakeredis.FakeRedis()
    the_window = window("2025-04-18T11:00:00Z", "2025-04-18T11:25:00Z")
    report = replay(archive, "logs/", the_window, ["billing"], redis, batch_events=2)
    assert (report.objects, report.events, report.batches) == (1, 3, 2)
    jobs = job_queue(SHIP_ES, redis).get_jobs()
    assert [len(job.args[0]["events"]) for job in jobs] == [2, 1]
    assert [e["event"]["id"] for job in jobs for e in job.args[0]["events"]] == [
        "a-2",
        "a-3",
        "a-4",
    ]
    assert {job.id for job in jobs} == {SHIP_ES_JOB.job_id(job.args[0]["batch_id"]) for job in jobs}
    again = replay(archive, "logs/", the_window, ["billing"], redis, batch_events=2)
    assert (again.batches, again.already_waiting) == (2, 2)
    assert job_queue(SHIP_ES, redis).get_job_ids() == [job.id for job in jobs]


def test_a_dry_run_describes_and_enqueues_nothing(archive: RecordingStore) -> None:
    out = io.StringIO()
    the_window = window("2025-04-18T00:00:00Z", "2025-04-19T00:00:00Z")
    report = replay(archive, "logs/", the_window, [], None, out=out)
    assert (report.objects, report.events) == (3, 9)
    assert [line.split() for line in out.getvalue().splitlines()] == [
        ["2", "logs/service=billing/date=2025-04-18/hour=10/a.ndjson.gz"],
        ["4", "logs/service=billing/date=2025-04-18/hour=11/a.ndjson.gz"],
        ["3", "logs/service=web/date=2025-04-18/hour=11/b.ndjson.gz"],
    ]


def test_an_object_that_is_not_gzip_ndjson_is_a_read_failure(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    (tmp_path / "bad.ndjson.gz").write_bytes(b"plain text")
    with pytest.raises(ArchiveReadFailed, match=r"bad\.ndjson\.gz is not gzip NDJSON"):
        read_events(store, "bad.ndjson.gz", window("2025-04-18T00:00:00Z", "2025-04-19T00:00:00Z"))
    assert decode_events(gzip.compress(b'{"a":1}\n\n{"a":2}\n')) == [{"a": 1}, {"a": 2}]
