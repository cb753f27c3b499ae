"""The logging handler against a real ingest and Redis."""

from __future__ import annotations

import gzip
import json
import logging
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from logagg.client import LogaggHandler

from .conftest import WRITER, Ingest, wait_until

pytestmark = pytest.mark.integration

TEXT_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO tests\.client\.app: order (\d+) paid$"
)


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    log = logging.getLogger("tests.client.app")
    log.setLevel(logging.INFO)
    log.propagate = False
    yield log
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()


def test_records_from_logger_calls_arrive_as_lines(
    ingest: Ingest, logger: logging.Logger, tmp_path: Path
) -> None:
    handler = LogaggHandler(ingest.config(), spool_dir=tmp_path / "spool", batch_age=0.2)
    logger.addHandler(handler)
    for number in range(250):
        logger.info("order %d paid", number)

    assert handler.drain(15)

    lines = ingest.lines()
    numbers = [int(TEXT_LINE.match(line).group(1)) for line in lines]  # type: ignore[union-attr]
    assert numbers == list(range(250))
    counters = handler.counters()
    assert (counters.sent, counters.spooled, counters.dropped, counters.rejected) == (250, 0, 0, 0)


def test_fields_mode_sends_one_object_per_record(
    ingest: Ingest, logger: logging.Logger, tmp_path: Path
) -> None:
    handler = LogaggHandler(
        ingest.config(), fields=True, spool_dir=tmp_path / "spool", batch_age=0.2
    )
    logger.addHandler(handler)
    logger.info("order %d paid", 7, extra={"order_id": 7, "amount": 19.5})
    try:
        raise ValueError("card declined")
    except ValueError:
        logger.exception("order %d failed", 8)

    assert handler.drain(15)

    paid, failed = ingest.lines()
    assert paid["message"] == "order 7 paid"
    assert paid["log.level"] == "info"
    assert paid["log.logger"] == "tests.client.app"
    assert (paid["order_id"], paid["amount"]) == (7, 19.5)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", paid["@timestamp"])
    assert failed["log.level"] == "error"
    assert failed["error.type"] == "ValueError"
    assert "card declined" in failed["error.stack_trace"]
    assert "Traceback" in failed["error.stack_trace"]


def test_records_logged_while_ingest_is_killed_are_spooled_and_arrive_once(
    ingest: Ingest, logger: logging.Logger, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    handler = LogaggHandler(
        ingest.config(timeout=2.0, attempts=2, backoff_base=0.05, backoff_cap=0.2),
        spool_dir=spool,
        batch_records=50,
        batch_age=0.1,
        offline_backoff_cap=0.5,
    )
    logger.addHandler(handler)

    for number in range(100):
        logger.info("order %d paid", number)
    wait_until(lambda: handler.counters().sent == 100, "the first 100 records delivered")

    ingest.crash()
    for number in range(100, 200):
        logger.info("order %d paid", number)
    wait_until(lambda: handler.counters().in_spool == 100, "100 records in the spool")
    assert list(spool.glob("*.gz"))

    ingest.server.start()  # same port
    for number in range(200, 300):
        logger.info("order %d paid", number)
    wait_until(lambda: handler.counters().sent == 300, "all 300 records delivered")

    numbers = [int(TEXT_LINE.match(line).group(1)) for line in ingest.lines()]  # type: ignore[union-attr]
    assert sorted(numbers) == list(range(300)), "each record exactly once"
    assert numbers[:200] == list(range(200)), "the spool is sent before newer records"
    counters = handler.counters()
    assert counters.spooled >= 100
    assert counters.dropped == 0
    assert counters.in_spool == 0
    assert not list(spool.glob("*.gz"))


def test_close_spools_what_cannot_be_sent_and_a_new_handler_sends_it(
    ingest: Ingest, logger: logging.Logger, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    config = ingest.config(timeout=2.0, attempts=1)
    ingest.server.stop()
    first = LogaggHandler(config, spool_dir=spool, batch_age=60, exit_timeout=1.0)
    logger.addHandler(first)
    for number in range(20):
        logger.info("order %d paid", number)
    logger.removeHandler(first)
    first.close()
    assert first.counters().spooled == 20
    (spooled,) = spool.glob("*.gz")
    assert len(json.loads(gzip.decompress(spooled.read_bytes()))) == 20

    ingest.server.start()
    second = LogaggHandler(config, spool_dir=spool, batch_age=0.1)
    logger.addHandler(second)
    wait_until(lambda: second.counters().sent == 20, "the spool of the first handler sent")
    numbers = [int(TEXT_LINE.match(line).group(1)) for line in ingest.lines()]  # type: ignore[union-attr]
    assert numbers == list(range(20))


def test_records_are_flushed_at_interpreter_exit(ingest: Ingest, tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import logging
        from logagg.client import ClientConfig, LogaggHandler
        config = ClientConfig({ingest.url!r}, {WRITER[0]!r}, {WRITER[1]!r})
        logger = logging.getLogger("tests.client.app")
        logger.setLevel(logging.INFO)
        logger.addHandler(LogaggHandler(config, spool_dir={str(tmp_path / "spool")!r},
                                        batch_age=3600))
        for number in range(40):
            logger.info("order %d paid", number)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    numbers = [int(TEXT_LINE.match(line).group(1)) for line in ingest.lines()]  # type: ignore[union-attr]
    assert numbers == list(range(40))
