"""Benchmark of the logging handler: a real ingest (gunicorn) and Redis on loopback.

Run ``.venv/bin/python bench/client.py`` (or ``make bench-client``); ``--quick`` for a
short run. It starts its own Redis (``logagg.embedded.RedisServer``) and ingest
(``logagg.embedded.IngestServer``, as ``python -m logagg.ingest``), registers a writer,
and measures ``LogaggHandler`` in this process:

- the cost of one ``logger.info("...%d...", n)`` call in the application thread: each of
  ``--calls`` calls timed on its own (median and p99), and the whole loop divided by the
  calls (no timer in the loop; wall time, and this thread's CPU time, which the server
  processes and other load on the machine do not inflate), while the handler's thread
  sends batches to the server; next to the same logger with a ``NullHandler`` (what
  ``logging`` itself costs);
- records/s delivered end to end: ``--records`` records logged as fast as possible, until
  the last batch's ``200`` (every record in a parse job in Redis, counted there).

Both in the default text format and with ``fields=True``. Results are printed and
written to ``bench/results/client-<time>.json``.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from logagg.client import ClientConfig, LogaggHandler
from logagg.embedded import IngestServer, RedisServer
from logagg.queues import PARSE, job_queue

REPO = Path(__file__).resolve().parents[1]
TARGET_CALL_SECONDS = 20e-6
ADMIN_PASSWORD = "bench-admin-password"  # noqa: S105 - the benchmark's own throwaway server
WRITER = ("bench-client", "bench-client-password")


def _register(url: str) -> None:
    basic = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    request = urllib.request.Request(
        f"{url}/auth/login", headers={"Authorization": f"Basic {basic}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        token = json.loads(response.read())["token"]["access"]
    body = json.dumps({"username": WRITER[0], "password": WRITER[1]}).encode()
    request = urllib.request.Request(
        f"{url}/auth/register",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30):
        pass


def _percentile(values: list[int], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _logger(name: str, handler: logging.Handler) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.handlers.clear()
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return logger


def time_calls(logger: logging.Logger, calls: int) -> dict[str, float]:
    """Per-call times (median, p99) and the loop's total over the calls, in µs."""
    info = logger.info
    clock = time.perf_counter_ns
    for n in range(min(calls, 5000)):  # warm-up
        info("order %d paid amount=%s currency=EUR", n, "19.99")
    samples = [0] * calls
    for n in range(calls):
        start = clock()
        info("order %d paid amount=%s currency=EUR", n, "19.99")
        samples[n] = clock() - start
    started = time.perf_counter()
    cpu = time.thread_time()
    for n in range(calls):
        info("order %d paid amount=%s currency=EUR", n, "19.99")
    cpu = time.thread_time() - cpu
    total = time.perf_counter() - started
    return {
        "median_us": statistics.median(samples) / 1000,
        "p99_us": _percentile(samples, 0.99) / 1000,
        "mean_us_untimed_loop": total / calls * 1e6,
        # this thread's own CPU time: what other processes on the machine cannot inflate
        "cpu_us_untimed_loop": cpu / calls * 1e6,
    }


def delivered_lines(redis: Any) -> int:
    queue = job_queue(PARSE, redis)
    return sum(len(job.args[0]["lines"]) for job in queue.get_jobs())


def empty_queue(redis: Any) -> None:
    for key in redis.scan_iter(match="rq:*", count=1000):
        redis.delete(key)


def run_mode(
    config: ClientConfig, redis: Any, work: Path, *, fields: bool, calls: int, records: int
) -> dict[str, Any]:
    mode = "fields" if fields else "text"
    empty_queue(redis)
    handler = LogaggHandler(
        config, fields=fields, spool_dir=work / f"spool-{mode}", queue_size=max(records, 100_000)
    )
    logger = _logger(f"bench.client.{mode}", handler)
    per_call = time_calls(logger, calls)
    assert handler.drain(120), "the calls' records were not delivered"
    counted = handler.counters()

    # end to end: log as fast as possible, then wait for the last 200
    empty_queue(redis)
    sent_before = counted.sent
    started = time.perf_counter()
    for n in range(records):
        logger.info("order %d paid amount=%s currency=EUR", n, "19.99")
    logged = time.perf_counter() - started
    assert handler.drain(300), "not delivered within 300 s"
    elapsed = time.perf_counter() - started
    counters = handler.counters()
    lines = delivered_lines(redis)
    logger.removeHandler(handler)
    handler.close()
    return {
        "mode": mode,
        **{key: round(value, 2) for key, value in per_call.items()},
        "records": records,
        "logging_seconds": round(logged, 3),
        "delivered_seconds": round(elapsed, 3),
        "records_per_s": round(records / elapsed),
        "sent": counters.sent - sent_before,
        "lines_in_redis": lines,
        "dropped": counters.dropped,
        "spooled": counters.spooled,
        "retries": counters.retries,
    }


def baseline(calls: int) -> dict[str, float]:
    logger = _logger("bench.client.null", logging.NullHandler())
    return {key: round(value, 2) for key, value in time_calls(logger, calls).items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls and records")
    parser.add_argument("--calls", type=int, default=None, help="timed logger.info calls")
    parser.add_argument("--records", type=int, default=None, help="records end to end")
    args = parser.parse_args(argv)
    calls = args.calls or (20_000 if args.quick else 200_000)
    records = args.records or (50_000 if args.quick else 500_000)

    work = Path(tempfile.mkdtemp(prefix="logagg-bench-client-"))
    redis_server = RedisServer(work / "redis", appendonly=False)
    redis_server.start()
    ingest = IngestServer(
        {
            "REDIS_URL": redis_server.url,
            "LOGAGG_JWT_SECRET": base64.b64encode(os.urandom(48)).decode(),
            "LOGAGG_ADMIN_PASSWORD": ADMIN_PASSWORD,
            # no parser drains the queue here: the bound must not stop the run
            "LOGAGG_MAX_BACKLOG": "100000000",
        },
        work / "ingest.log",
    )
    try:
        ingest.start()
        _register(ingest.url)
        config = ClientConfig(ingest.url, *WRITER)
        redis = redis_server.client()
        null = baseline(calls)
        rows = [
            run_mode(config, redis, work, fields=fields, calls=calls, records=records)
            for fields in (False, True)
        ]
        report = {
            "machine_cpus": os.cpu_count(),
            "calls": calls,
            "null_handler": null,
            "modes": rows,
            "target_us_per_call": TARGET_CALL_SECONDS * 1e6,
        }
        print(f"\nlogger.info per call, {calls:,} calls (µs)")
        print(f"{'handler':<22}{'median':>9}{'p99':>9}{'loop/calls':>12}{'CPU/call':>10}")
        for name, row in [("NullHandler", null)] + [
            (f"LogaggHandler {row['mode']}", row) for row in rows
        ]:
            print(
                f"{name:<22}{row['median_us']:>9.2f}{row['p99_us']:>9.2f}"
                f"{row['mean_us_untimed_loop']:>12.2f}{row['cpu_us_untimed_loop']:>10.2f}"
            )
        print(f"\nend to end, {records:,} records logged as fast as possible")
        print(
            f"{'mode':<8}{'records/s':>11}{'logging s':>11}{'delivered s':>13}"
            f"{'in Redis':>10}{'dropped':>9}"
        )
        for row in rows:
            print(
                f"{row['mode']:<8}{row['records_per_s']:>11,}{row['logging_seconds']:>11}"
                f"{row['delivered_seconds']:>13}{row['lines_in_redis']:>10,}{row['dropped']:>9}"
            )
        results = REPO / "bench" / "results"
        results.mkdir(parents=True, exist_ok=True)
        out = results / f"client-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
        out.write_text(json.dumps(report, indent=2))
        print(f"\nwritten to {out}")
        return 0
    finally:
        ingest.stop()
        redis_server.stop()


if __name__ == "__main__":
    sys.exit(main())
