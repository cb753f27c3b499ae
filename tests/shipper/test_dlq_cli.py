"""``logagg dlq`` against an in-memory store."""

from __future__ import annotations

import io

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


def test_count_groups_by_reason(deadletters: DeadLetterStore) -> None:
    fill(deadletters)
    code, text = cli(deadletters, "count")
    assert code == 0
    lines = text.splitlines()
    assert lines[0].split() == ["2", "elasticsearch", "document_parsing_exception"]
    assert lines[1].split() == ["1", "elasticsearch", "s3:SlowDown"]
    assert lines[2].split()[:2] == ["3", "total"]


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
