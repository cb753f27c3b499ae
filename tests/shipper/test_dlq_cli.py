"""``logagg dlq`` against an in-memory store."""

from __future__ import annotations

import io
import json

import pytest
from redis import Redis

from logagg.queues import SHIP_ES, job_queue
from logagg.shipper import dlq_cli
from logagg.shipper.deadletter import DeadLetter, DeadLetterStore
from logagg.shipper.dlq_cli import _parser, run

from .events import make_event


def fill(store: DeadLetterStore) -> None:
    for n, reason in enumerate(["document_parsing_exception"] * 2 + ["s3:SlowDown"]):
        store.add(
            [
                DeadLetter(
                    id=f"elasticsearch:b-{n}",
                    sink="elasticsearch",
                    reason=reason,
                    detail=f"detail {n}",
                    time="2025-04-18T10:00:00.000Z",
                    attempts=1,
                    batch_id="b",
                    service="svc",
                    events=[make_event("b", n)],
                )
            ]
        )


def cli(store: DeadLetterStore, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = run(_parser().parse_args(list(argv)), store, out)
    return code, out.getvalue()


def test_list_shows_reasons_and_details(deadletters: DeadLetterStore) -> None:
    fill(deadletters)
    code, text = cli(deadletters, "list", "--reason", "document_parsing_exception")
    assert code == 0
    assert "elasticsearch:b-0" in text
    assert "detail 1" in text
    assert "s3:SlowDown" not in text


@pytest.mark.parametrize("command", ["stats", "count"])
def test_stats_groups_by_reason(deadletters: DeadLetterStore, command: str) -> None:
    fill(deadletters)
    code, text = cli(deadletters, command)
    assert code == 0
    lines = text.splitlines()
    assert lines[0].split() == ["2", "elasticsearch", "document_parsing_exception"]
    assert lines[1].split() == ["1", "elasticsearch", "s3:SlowDown"]
    assert lines[2].split()[:2] == ["3", "total"]


def test_stats_as_json_counts_by_sink_and_reason_and_the_dropped(fake_redis: Redis) -> None:
    store = DeadLetterStore(fake_redis, max_entries=2)
    fill(store)  # three entries: the oldest is dropped over the cap
    code, text = cli(store, "stats", "--json")
    assert code == 0
    assert json.loads(text) == {
        "total": 2,
        "by_sink": {"elasticsearch": {"document_parsing_exception": 1, "s3:SlowDown": 1}},
        "dropped_over_cap": 1,
    }
    code, text = cli(store, "stats", "--json", "--reason", "s3:SlowDown")
    assert json.loads(text)["total"] == 1


def test_help_shows_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--help"], ["stats", "--help"], ["replay", "--help"], ["purge", "--help"]):
        with pytest.raises(SystemExit) as exited:
            _parser().parse_args(argv)
        assert exited.value.code == 0
        out = capsys.readouterr().out
        assert "examples:\n  logagg dlq " in out, argv


def test_bad_settings_are_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REDIS_URL", "http://not-redis")
    monkeypatch.setenv("LOGAGG_DLQ_MAX_ENTRIES", "many")
    assert dlq_cli.main(["stats"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("logagg dlq: invalid settings: REDIS_URL: scheme must be one of")
    assert "LOGAGG_DLQ_MAX_ENTRIES: not an integer" in err
    assert len(err.strip().splitlines()) == 1


def test_purge_needs_yes(deadletters: DeadLetterStore) -> None:
    fill(deadletters)
    assert cli(deadletters, "purge")[0] == 2
    assert len(deadletters) == 3
    code, text = cli(deadletters, "purge", "--yes", "--reason", "s3:SlowDown")
    assert (code, len(deadletters)) == (0, 2)
    assert "purged 1" in text


def test_replay_reports_the_events(deadletters: DeadLetterStore) -> None:
    fill(deadletters)
    code, text = cli(deadletters, "replay", "--id", "elasticsearch:b-1")
    assert (code, text.strip()) == (0, "re-enqueued 1 event(s)")
    assert len(deadletters) == 2
    (job,) = job_queue(SHIP_ES, deadletters.redis).get_jobs()
    assert job.args[0]["batch_id"] == "b"
    assert [event["event"]["id"] for event in job.args[0]["events"]] == ["b-1"]
