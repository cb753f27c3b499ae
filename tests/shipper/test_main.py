"""Start-up of a shipper worker: waiting for a sink that is starting, not for one that said no."""

from __future__ import annotations

import pytest

from logagg.shipper.__main__ import main, wait_until_ready
from logagg.shipper.errors import SinkUnavailable


class Sink:
    def __init__(self, failures: list[SinkUnavailable]) -> None:
        self.failures = failures
        self.calls = 0

    def make_ready(self) -> None:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)


def test_an_unreachable_sink_is_waited_for() -> None:
    sink = Sink([SinkUnavailable("down", unreachable=True)] * 2)
    waits: list[float] = []
    wait_until_ready(sink.make_ready, 60, sleep=waits.append)
    assert sink.calls == 3
    assert waits == [0.5, 1.0]


def test_a_refusal_is_reported_at_once() -> None:
    sink = Sink([SinkUnavailable("bucket missing")])
    waits: list[float] = []
    with pytest.raises(SinkUnavailable, match="bucket missing"):
        wait_until_ready(sink.make_ready, 60, sleep=waits.append)
    assert waits == []


def test_waiting_ends_at_the_timeout() -> None:
    sink = Sink([SinkUnavailable("down", unreachable=True)] * 5)
    with pytest.raises(SinkUnavailable, match="down"):
        wait_until_ready(sink.make_ready, 0, sleep=lambda _: None)
    assert sink.calls == 1


def test_bad_settings_stop_the_worker_before_it_connects(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOGAGG_SHIP_BULK_MAX_DOCS", "none")
    monkeypatch.setenv("LOGAGG_ES_INDEX_LAYOUT", "weekly")
    assert main(["es"]) == 2
    err = capsys.readouterr().err
    assert "LOGAGG_SHIP_BULK_MAX_DOCS" in err
    assert "LOGAGG_ES_INDEX_LAYOUT" in err
