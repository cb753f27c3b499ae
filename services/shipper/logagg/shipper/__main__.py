"""``logagg shipper es|s3``: a shipper worker for one sink.

``logagg shipper install-templates`` only installs the Elasticsearch templates and exits
(a deployment's one-shot set-up step).

Validates the settings, makes the sink ready (templates installed, bucket or folder
checked) and only then takes jobs. A sink that cannot be made ready ends the process
with one clear message and a non-zero exit, which is what readiness checks and
orchestrators see. SIGTERM finishes the job in hand, then stops.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import time
from collections.abc import Callable

from logagg.errors import SettingsError
from logagg.logs import configure_logging
from logagg.queues import SHIP_ES, SHIP_S3
from logagg.redis_connection import connect_redis
from logagg.shipper.errors import SinkUnavailable
from logagg.shipper.jobs import install_runtime
from logagg.shipper.runtime import ShipperRuntime
from logagg.shipper.settings import ShipperSettings
from logagg.workers import run_worker

log = logging.getLogger("logagg.shipper")

SINK_QUEUES = {"es": SHIP_ES, "s3": SHIP_S3}
INSTALL_TEMPLATES = "install-templates"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="logagg shipper",
        description="Ship parsed batches to one sink: es (Elasticsearch) or s3 (the archive: "
        "S3, or a local folder with LOGAGG_ARCHIVE_URL=file:///path).",
    )
    parser.add_argument("sink", choices=[*sorted(SINK_QUEUES), INSTALL_TEMPLATES])
    parser.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    parser.add_argument("--name", help="the worker's name (default: queue.host.pid)")
    return parser


def wait_until_ready(
    make_ready: Callable[[], object], timeout: float, *, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Call ``make_ready`` until it succeeds, while the sink is unreachable and ``timeout``
    has not passed (a cluster starting alongside the shipper is normal in compose and
    Kubernetes). A sink that answers no is reported at once."""
    deadline = time.monotonic() + timeout
    delay = 0.5
    while True:
        try:
            make_ready()
            return
        except SinkUnavailable as error:
            if not error.unreachable or time.monotonic() + delay > deadline:
                raise
            log.warning("sink not ready yet, trying again in %.1fs: %s", delay, error)
            sleep(delay)
            delay = min(delay * 2, 10.0)


def tune_garbage_collection() -> None:
    """Keep the cyclic garbage collector from scanning the heap many times per job.

    A job decodes about a megabyte of JSON into tens of thousands of small acyclic
    objects, which reference counting frees; at the default thresholds the collector
    runs dozens of times per job and finds nothing, which costs as much as the decoding.
    Objects made at start-up are frozen out of its scans; it still runs, less often.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = ShipperSettings.from_env(os.environ)
    except SettingsError as error:
        print(f"logagg shipper: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.logging)
    redis = connect_redis(settings.redis)
    runtime = ShipperRuntime(settings, redis)
    install_runtime(runtime)
    make_ready = runtime.archive_sink if args.sink == "s3" else runtime.elasticsearch_sink
    try:
        wait_until_ready(make_ready, settings.startup_timeout)
    except SinkUnavailable as error:
        print(f"logagg shipper {args.sink}: not ready: {error}", file=sys.stderr)
        return 1
    if args.sink == INSTALL_TEMPLATES:
        log.info("Elasticsearch templates installed")
        return 0
    if settings.metrics_port:
        try:
            runtime.metrics.serve(settings.metrics_port)
        except OSError as error:
            # a port taken by another process costs the metrics, not the shipping
            log.warning("metrics not served on port %d: %s", settings.metrics_port, error)
    tune_garbage_collection()
    if args.sink == "s3":
        # staged chunks become objects on a timer of this worker's, however few jobs come
        runtime.start_compaction()
    try:
        run_worker(
            [SINK_QUEUES[args.sink]],
            redis,
            name=args.name,
            burst=args.burst,
            log_level=settings.logging.level,
        )
    finally:
        runtime.stop_compaction()
    return 0


if __name__ == "__main__":
    sys.exit(main())
