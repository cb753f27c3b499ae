"""The handler's batching, spooling, dropping and closing, on an in-memory transport."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from logagg.client import LogaggHandler, UtcFormatter

from .conftest import wait_until
from .fakes import FakeTransport


@pytest.fixture
def transport() -> FakeTransport:
    return FakeTransport()


@pytest.fixture
def handlers() -> Iterator[list[LogaggHandler]]:
    made: list[LogaggHandler] = []
    yield made
    for handler in made:
        handler.exit_timeout = 0.5
        handler.transport.interrupt()
        handler.close()


@pytest.fixture
def make(transport: FakeTransport, handlers: list[LogaggHandler], tmp_path: Path) -> Any:
    def build(**options: Any) -> tuple[LogaggHandler, logging.Logger]:
        options.setdefault("spool_dir", tmp_path / "spool")
        handler = LogaggHandler(transport=transport, **options)
        handlers.append(handler)
        logger = logging.getLogger(f"tests.client.unit.{len(handlers)}.{time.monotonic_ns()}")
        logger.propagate = False
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
        return handler, logger

    return build


def test_records_go_in_batches_of_at_most_batch_records(
    make: Any, transport: FakeTransport
) -> None:
    handler, logger = make(batch_records=10, batch_age=60)
    for number in range(25):
        logger.info("record %d", number)

    assert handler.drain(5)

    assert [len(items) for _, items in transport.bodies] == [10, 10, 5]
    assert [item.rsplit(" ", 1)[1] for item in transport.records()] == [str(n) for n in range(25)]
    assert handler.counters().sent == 25


def test_a_partial_batch_goes_once_its_oldest_record_is_batch_age_old(
    make: Any, transport: FakeTransport
) -> None:
    _handler, logger = make(batch_records=1000, batch_age=0.2)
    logger.warning("alone")
    wait_until(lambda: len(transport.records()) == 1, "the lone record sent", timeout=5)
    (line,) = transport.records()
    assert line.endswith("Z WARNING " + logger.name + ": alone")


def test_unavailable_batches_are_spooled_then_sent_oldest_first(
    make: Any, transport: FakeTransport, tmp_path: Path
) -> None:
    transport.down = True
    handler, logger = make(batch_records=5, batch_age=0.05, offline_backoff_cap=0.1)
    for number in range(12):
        logger.info("record %d", number)
    wait_until(lambda: handler.counters().in_spool == 12, "12 records spooled", timeout=5)
    assert transport.records() == []

    transport.down = False
    logger.info("record 12")
    wait_until(lambda: handler.counters().sent == 13, "everything sent", timeout=5)

    assert [item.rsplit(" ", 1)[1] for item in transport.records()] == [str(n) for n in range(13)]
    counters = handler.counters()
    # the last record joins the spool if it came before the next try, to keep the order
    assert counters.spooled in (12, 13)
    assert (counters.dropped, counters.in_spool) == (0, 0)
    assert counters.retries >= 1
    assert list((tmp_path / "spool").iterdir()) == []


def test_records_are_dropped_and_counted_only_when_buffer_and_spool_are_full(
    make: Any, transport: FakeTransport
) -> None:
    transport.down = True
    handler, logger = make(
        batch_records=10,
        batch_age=0.05,
        queue_size=20,
        spool_max_bytes=150,  # room for one small compressed batch
        offline_backoff_cap=60,
    )
    for number in range(10):
        logger.info("record %d", number)
    wait_until(lambda: handler.counters().in_spool == 10, "one batch spooled", timeout=5)
    for number in range(10, 20):
        logger.info("record %d", number)
    wait_until(lambda: handler.counters().buffered == 0, "the next batch held", timeout=5)
    assert handler.counters().dropped == 0
    for number in range(20, 60):
        logger.info("record %d", number)

    counters = handler.counters()
    # 10 in the spool, 10 held (the spool is full), 20 in the buffer, the rest dropped
    assert counters.spooled == 10
    assert counters.buffered == 20
    assert counters.dropped == 20
    assert handler.spool is not None
    assert handler.spool.size() <= 150


def test_emit_never_waits_for_a_slow_server(make: Any, transport: FakeTransport) -> None:
    transport.gate.clear()  # every send hangs
    handler, logger = make(batch_records=10, batch_age=0.01, queue_size=1000)
    logger.info("first")
    wait_until(lambda: handler.counters().buffered == 0, "the first batch taken", timeout=5)

    started = time.perf_counter()
    for number in range(500):
        logger.info("record %d", number)
    elapsed = time.perf_counter() - started

    assert elapsed < 1.0
    assert handler.counters().buffered == 500
    transport.gate.set()
    assert handler.drain(5)
    assert handler.counters().sent == 501


def test_refused_batches_are_counted_not_retried(make: Any, transport: FakeTransport) -> None:
    transport.reject = True
    handler, logger = make(batch_records=5, batch_age=60)
    for number in range(7):
        logger.info("record %d", number)
    assert handler.drain(5)
    counters = handler.counters()
    assert (counters.rejected, counters.sent, counters.spooled) == (7, 0, 0)
    assert transport.calls == 2


def test_close_spools_what_the_server_did_not_take(
    make: Any, transport: FakeTransport, tmp_path: Path
) -> None:
    transport.down = True
    handler, logger = make(batch_records=100, batch_age=60, exit_timeout=0.5)
    for number in range(30):
        logger.info("record %d", number)
    handler.close()
    assert handler.counters().spooled == 30
    assert handler.spool is not None
    assert handler.spool.records() == 30

    transport.down = False
    handler2, _ = make(batch_age=0.05)
    wait_until(lambda: handler2.counters().sent == 30, "the spool sent by a new handler", 5)


def test_without_a_spool_the_buffer_holds_and_then_drops(
    make: Any, transport: FakeTransport
) -> None:
    transport.down = True
    handler, logger = make(
        spool_dir=None, batch_records=5, batch_age=0.01, queue_size=5, offline_backoff_cap=60
    )
    for number in range(5):
        logger.info("record %d", number)
    wait_until(lambda: handler.counters().buffered == 0, "the batch held", timeout=5)
    for number in range(5, 15):
        logger.info("record %d", number)
    assert handler.counters().dropped == 5
    assert handler.spool is None


def test_fields_mode_captures_extras_and_exceptions(make: Any, transport: FakeTransport) -> None:
    handler, logger = make(fields=True, batch_age=60)
    logger.info("paid %s", "order-1", extra={"order": {"id": 1, "items": [1, 2]}})
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        logger.exception("failed")
    assert handler.drain(5)

    paid, failed = transport.records()
    assert paid["message"] == "paid order-1"
    assert paid["order"] == {"id": 1, "items": [1, 2]}
    assert paid["@timestamp"].endswith("Z")
    assert failed["error.type"] == "ZeroDivisionError"
    assert "division by zero" in failed["error.stack_trace"]


def test_a_value_json_cannot_hold_costs_only_its_own_record(
    make: Any, transport: FakeTransport
) -> None:
    handler, logger = make(fields=True, batch_age=60)
    cycle: dict[str, Any] = {}
    cycle["self"] = cycle
    logger.info("before")
    logger.info("odd", extra={"pair_keys": {(1, 2): "x"}, "cycle": cycle})
    logger.info("after")
    assert handler.drain(5)

    before, odd, after = transport.records()
    assert (before["message"], after["message"]) == ("before", "after")
    assert isinstance(odd, str)
    assert "'odd'" in odd
    assert handler.counters().sent == 3


def test_a_forked_child_sends_its_own_records_only(make: Any, transport: FakeTransport) -> None:
    transport.gate.clear()  # the parent's records stay unsent
    handler, logger = make(batch_records=1000, batch_age=0.01)
    logger.info("parent 1")
    wait_until(lambda: handler.counters().buffered == 0, "the parent's batch in flight", 5)
    logger.info("parent 2")

    pid = os.fork()
    if pid == 0:  # the child: exit status 0 only if it sent exactly its own record
        code = 1
        try:
            transport.gate.set()
            logger.info("child")
            if handler.drain(5) and [r.rsplit(" ", 1)[1] for r in transport.records()] == ["child"]:
                code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    transport.gate.set()
    assert handler.drain(5)
    assert [r.rsplit(" ", 1)[1] for r in transport.records()] == ["1", "2"]


def test_the_default_format_is_logging_formatter_output() -> None:
    reference = logging.Formatter(
        "%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s: %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S",
    )
    reference.converter = time.gmtime
    try:
        raise KeyError("missing")
    except KeyError:
        exc_info = sys.exc_info()
    records = [
        logging.LogRecord("app.db", logging.ERROR, "db.py", 3, "lost %s", ("db-1",), exc_info),
        logging.LogRecord("app", logging.INFO, "a.py", 1, "plain", None, None, sinfo="Stack:"),
        logging.LogRecord("app", logging.DEBUG, "a.py", 1, "%d%%", (5,), None),
    ]
    for record in records:
        expected = reference.format(logging.makeLogRecord(record.__dict__ | {"exc_text": None}))
        assert UtcFormatter().format(record) == expected
