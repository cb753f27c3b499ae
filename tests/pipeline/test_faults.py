"""Faults under a steady load: what was acknowledged with 200 is what arrives, once.

Each scenario starts a pipeline of its own (ingest, a parser, one shipper per sink, as
``make run`` does) on a Redis of its own with AOF on, an Elasticsearch node of this
module's (so it can be stopped), and the session's S3 server behind a proxy that can be
cut. Client processes (``loadgen.py``) post numbered lines throughout and honour
``Retry-After``; at the end every acknowledged line must be in Elasticsearch and in the
archive exactly once. The figures go to the table printed after the session.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from elasticsearch import ApiError, TransportError
from redis import Redis

from logagg.embedded import ElasticsearchNode, RedisServer, S3Server
from logagg.embedded.elasticsearch_node import throwaway_node
from logagg.receipts import KEY_PREFIX, batch_key
from logagg.stack import ServiceProcess

from .api import register
from .faults import (
    RESULTS,
    Delivery,
    Load,
    TcpProxy,
    kill_group,
    process_tree_rss,
    queue_state,
    wait_delivered,
)
from .stack import WRITER_PASSWORD, Pipeline, running_pipeline

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
OUTAGE_SECONDS = 30.0
DRAIN_TIMEOUT = 240.0
# A small bound, so that an outage of a sink fills the backlog within seconds.
MAX_BACKLOG = 20
# What a Redis killed with ``appendfsync everysec`` may not have kept: it writes its log
# once a second, and postpones a write by up to 2 s while a previous fsync is slow.
FSYNC_WINDOW_SECONDS = 3.0
SERVICE = "faults"
# Staged archive chunks become an object after this long: short, so that the archive
# keeps up within a scenario, and longer than Redis' fsync window, as it must be.
FLUSH_AGE_SECONDS = 3.0


@pytest.fixture(scope="module")
def fault_elasticsearch() -> Iterator[ElasticsearchNode]:
    """A node of this module's, stopped and started again on the same port and data."""
    with throwaway_node(REPO / ".cache" / "elasticsearch", prefix="logagg-test-es-faults-") as node:
        yield node


@dataclasses.dataclass
class FaultStack:
    pipeline: Pipeline
    redis: RedisServer
    proxy: TcpProxy
    elasticsearch: ElasticsearchNode
    load: Load
    # the answers the clients got, from the last finish()
    summary: dict[str, Any] = dataclasses.field(default_factory=dict)

    def service(self, name: str) -> ServiceProcess:
        return next(s for s in self.pipeline.services if s.spec.name == name)

    def redis_client(self) -> Redis:
        return Redis.from_url(self.redis.url, socket_timeout=5, decode_responses=True)

    def wait(self, check: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                pytest.fail(f"{what}: not after {timeout:.0f}s\n{self.pipeline.diagnostics()}")
            time.sleep(0.2)

    def finish(
        self,
        scenario: str,
        *,
        timeout: float = DRAIN_TIMEOUT,
        lost_by_redis: frozenset[tuple[str, int]] = frozenset(),
    ) -> tuple[Delivery, float]:
        """Stop the clients, wait for delivery, check it, and return it with its time.

        ``lost_by_redis``: acknowledged lines a killed Redis did not keep (its fsync
        window), owed by no one afterwards.
        """
        summary = self.load.stop()
        acked = self.load.acked_lines() - lost_by_redis
        assert acked, f"{scenario}: nothing was acknowledged: {summary}"
        found, drained = wait_delivered(self.pipeline, SERVICE, acked, timeout)
        server_errors = {k: v for k, v in summary["answers"].items() if k.startswith("5")}
        server_errors.pop("503", None)
        assert server_errors == {}, f"{scenario}: 5xx answers {summary['answers']}"
        assert found.complete, (
            f"{scenario}: {found}\n{queue_state(self.redis_client())}\n"
            f"{self.pipeline.diagnostics()}"
        )
        assert found.duplicates_indexed == 0, found
        assert found.duplicates_archived == 0, found
        self.summary = summary
        return found, drained


@pytest.fixture
def stack(
    tmp_path: Path, fault_elasticsearch: ElasticsearchNode, s3_server: S3Server
) -> Iterator[FaultStack]:
    redis = RedisServer(tmp_path / "redis", appendonly=True)
    redis.start()
    endpoint = urlsplit(s3_server.endpoint_url)
    proxy = TcpProxy(endpoint.hostname or "127.0.0.1", endpoint.port or 80)
    proxy.up()
    try:
        with running_pipeline(
            tmp_path / "pipeline",
            redis_url=redis.url,
            elasticsearch_url=fault_elasticsearch.url,
            s3_endpoint_url=s3_server.endpoint_url,
            services_s3_endpoint_url=proxy.url,
            environment={
                "LOGAGG_MAX_BACKLOG": str(MAX_BACKLOG),
                "LOGAGG_BACKLOG_RETRY_AFTER": "1",
                "LOGAGG_ARCHIVE_FLUSH_AGE": f"{FLUSH_AGE_SECONDS:g}s",
            },
        ) as pipeline:
            register(pipeline.base_url, pipeline.admin_token(), SERVICE, WRITER_PASSWORD)
            load = Load(pipeline, SERVICE, WRITER_PASSWORD, tmp_path)
            fault_stack = FaultStack(pipeline, redis, proxy, fault_elasticsearch, load)
            try:
                yield fault_stack
            finally:
                for process in load.processes:
                    if process.poll() is None:
                        process.kill()
    finally:
        proxy.down()
        redis.stop()
        if not fault_elasticsearch.running:
            fault_elasticsearch.start()


def record(scenario: str, found: Delivery, recovery: str, **extra: Any) -> None:
    RESULTS.append(
        {
            "scenario": scenario,
            "acknowledged": found.acknowledged,
            "indexed": found.indexed,
            "archived": found.archived,
            "duplicates": found.duplicates_indexed + found.duplicates_archived,
            "recovery": recovery,
            **extra,
        }
    )


# -- 1. kill -9 of each worker in the middle of a job ----------------------------------


def _delivered_to(redis: Redis, batch_id: str, sinks: tuple[str, ...]) -> bool:
    receipt: dict[str, str] = redis.hgetall(f"{KEY_PREFIX}{batch_id}")  # type: ignore[assignment]
    events = receipt.get("events")
    return events is not None and all(receipt.get(f"{sink}.delivered") == events for sink in sinks)


def kill_mid_job(stack: FaultStack, service: str, queue: str) -> tuple[str, float]:
    """SIGKILL ``service`` while it runs a job of ``queue``; the job's batch id and when.

    The kill is retried (after a restart) until it lands while the job is unfinished:
    the job must still be in RQ's started registry after the worker is gone.
    """
    redis = stack.redis_client()
    started_key = f"rq:wip:{queue}"
    for _attempt in range(20):
        process = stack.service(service).process
        assert process is not None
        assert process.poll() is None, stack.pipeline.diagnostics()
        deadline = time.monotonic() + 30
        running: list[str] = []
        while not running and time.monotonic() < deadline:
            running = redis.zrange(started_key, 0, -1)  # type: ignore[assignment]
            if not running:
                time.sleep(0.002)
        assert running, f"no {queue} job started in 30 s\n{stack.pipeline.diagnostics()}"
        kill_group(process.pid)
        killed_at = time.monotonic()
        process.wait()
        stack.service(service).start()  # as a supervisor does
        if redis.zscore(started_key, running[0]) is not None:
            job_id = running[0].split(":", 1)[0]
            return job_id.removeprefix(f"{queue}-"), killed_at
    pytest.fail(f"{service} always finished its job before the kill landed")


def test_kill_9_of_each_worker_mid_job_loses_and_duplicates_nothing(stack: FaultStack) -> None:
    stack.load.start(1, rate=2.0, lines=1000)
    redis = stack.redis_client()
    stack.wait(lambda: stack.load.acked_batches() >= 3, "the first acknowledged batches")

    recoveries: dict[str, float] = {}
    for service, queue, sinks in (
        ("parser-0", "parse", ("elasticsearch", "archive")),
        ("shipper-es-0", "ship-es", ("elasticsearch",)),
        ("shipper-s3-0", "ship-s3", ("archive",)),
    ):
        batch_id, killed_at = kill_mid_job(stack, service, queue)
        stack.wait(
            partial(_delivered_to, redis, batch_id, sinks),
            f"batch {batch_id} delivered after the kill of {service}",
        )
        recoveries[service] = time.monotonic() - killed_at

    found, _ = stack.finish("kill -9")
    record(
        "kill -9 of the parser, the ES shipper, the S3 shipper, each mid-job",
        found,
        ", ".join(f"{name} {seconds:.0f} s" for name, seconds in recoveries.items()),
    )


# -- 2. Elasticsearch down for 30 s ------------------------------------------------------


def test_elasticsearch_down_pushes_back_with_429_and_loses_nothing(stack: FaultStack) -> None:
    stack.load.start(1, rate=2.0, lines=500)
    stack.wait(lambda: stack.load.acked_batches() >= 5, "the first acknowledged batches")

    stack.elasticsearch.stop()
    time.sleep(OUTAGE_SECONDS)
    stack.elasticsearch.start()
    restarted = time.monotonic()

    time.sleep(5)
    found, _ = stack.finish("Elasticsearch down")
    drained = time.monotonic() - restarted
    assert stack.summary["answers"].get("429", 0) > 0, stack.summary
    record(
        f"Elasticsearch stopped {OUTAGE_SECONDS:.0f} s, then started",
        found,
        f"all delivered {drained:.0f} s after the restart",
        answers=stack.summary["answers"],
    )


# -- 3. the S3 endpoint down for 30 s ----------------------------------------------------


def test_s3_down_does_not_stop_elasticsearch_and_the_archive_catches_up(
    stack: FaultStack,
) -> None:
    stack.load.start(1, rate=2.0, lines=500)
    stack.wait(lambda: stack.load.acked_batches() >= 5, "the first acknowledged batches")

    stack.proxy.down()
    indexed_before = stack.pipeline.count(service__name=SERVICE)
    time.sleep(OUTAGE_SECONDS)
    indexed_during = stack.pipeline.count(service__name=SERVICE)
    stack.proxy.up()
    back = time.monotonic()

    assert indexed_during > indexed_before, "Elasticsearch delivery stopped with S3"
    time.sleep(5)
    found, _ = stack.finish("S3 down")
    drained = time.monotonic() - back
    record(
        f"S3 endpoint down {OUTAGE_SECONDS:.0f} s",
        found,
        f"archive complete {drained:.0f} s after S3 returned; "
        f"{indexed_during - indexed_before} lines indexed meanwhile",
    )


# -- 4. Redis killed and restarted (AOF) -------------------------------------------------


def test_redis_kill_and_restart_answers_503_never_200_and_loses_nothing(
    stack: FaultStack,
) -> None:
    """What Redis kept across its kill is delivered, once; what it did not keep was
    acknowledged within its fsync window (``appendfsync everysec``) before the kill.

    A batch's receipt is written in the transaction that enqueues it, so the receipts
    found after the restart are exactly the acknowledged batches Redis kept.
    """
    stack.load.start(1, rate=2.0, lines=500)
    stack.wait(lambda: stack.load.acked_batches() >= 5, "the first acknowledged batches")

    killed_at = time.time()
    stack.redis.kill()
    killed = time.monotonic()
    time.sleep(5)
    stack.redis.start()
    down_for = time.monotonic() - killed
    restarted_at = time.monotonic()
    before = stack.load.acked_batches()
    stack.wait(
        lambda: stack.load.acked_batches() >= before + 5,
        "acknowledged batches after the restart",
    )
    reconnected = time.monotonic() - restarted_at

    redis = stack.redis_client()
    not_kept = [
        ack
        for ack in stack.load.acknowledgements()
        if ack.at < killed_at and not all(redis.exists(batch_key(b)) for b in ack.batches)
    ]
    outside_window = [ack for ack in not_kept if ack.at < killed_at - FSYNC_WINDOW_SECONDS]
    assert not outside_window, (
        f"acknowledged more than {FSYNC_WINDOW_SECONDS} s before the kill, "
        f"gone after the restart: {outside_window}"
    )
    lost_by_redis = frozenset(line for ack in not_kept for line in ack.lines)

    found, _ = stack.finish("Redis restart", lost_by_redis=lost_by_redis)
    assert stack.summary["answers"].get("503", 0) > 0, stack.summary
    # every service reconnected by itself: none exited
    for service in stack.pipeline.services:
        assert service.process is not None
        assert service.process.poll() is None, f"{service.spec.name} exited"
    record(
        f"Redis killed (kill -9), restarted after {down_for:.0f} s (AOF)",
        found,
        f"intake again {reconnected:.0f} s after the restart; "
        f"{len(lost_by_redis)} lines acknowledged in the last "
        f"{FSYNC_WINDOW_SECONDS:.0f} s before the kill not kept by Redis",
        answers=stack.summary["answers"],
    )


# -- 5. twice the sustainable load -------------------------------------------------------


def indexed_count(stack: FaultStack) -> int:
    """Lines of the clients indexed so far; 0 while the index is being created."""
    try:
        return stack.pipeline.count(service__name=SERVICE)
    except (ApiError, TransportError):
        return 0


def test_twice_the_sustainable_load_gets_429s_and_bounded_memory(stack: FaultStack) -> None:
    lines = 1000
    # The sustainable rate: what is indexed per second while clients post without pause.
    stack.load.start(2, rate=0.0, lines=lines)
    # counted from the first indexed lines on: the index exists, the workers are warm
    stack.wait(lambda: indexed_count(stack) > 0, "the first indexed lines")
    first = indexed_count(stack)
    started = time.monotonic()
    time.sleep(15)
    sustainable = (indexed_count(stack) - first) / (time.monotonic() - started)
    assert sustainable > 0, stack.pipeline.diagnostics()
    saturation = stack.load.stop()

    # Twice that, open-loop, for 30 s, with every process's memory sampled.
    peaks: dict[str, int] = {}
    redis_peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal redis_peak
        client = stack.redis_client()
        while not stop.wait(0.5):
            for service in stack.pipeline.services:
                if service.process is not None:
                    rss = process_tree_rss(service.process.pid)
                    peaks[service.spec.name] = max(peaks.get(service.spec.name, 0), rss)
            redis_peak = max(redis_peak, int(client.info("memory")["used_memory"]))

    sampler = threading.Thread(target=sample)
    sampler.start()
    clients = 2
    stack.load.start(clients, rate=2 * sustainable / lines / clients, lines=lines)
    time.sleep(OUTAGE_SECONDS)
    try:
        found, drained = stack.finish("twice the sustainable load")
    finally:
        stop.set()
        sampler.join()

    answers = stack.summary["answers"]
    assert answers.get("429", 0) > 0, answers
    assert answers.get("503", 0) == 0, answers
    for name, peak in peaks.items():
        assert peak < 250 * 2**20, f"{name} peaked at {peak / 2**20:.0f} MiB"
    assert redis_peak < 256 * 2**20, f"Redis peaked at {redis_peak / 2**20:.0f} MiB"
    record(
        f"Twice the sustainable load ({2 * sustainable:.0f} lines/s) for {OUTAGE_SECONDS:.0f} s",
        found,
        f"drained {drained:.0f} s after the load stopped",
        answers=answers,
        saturation_answers=saturation["answers"],
        peak_rss_mib={name: round(peak / 2**20) for name, peak in peaks.items()},
        redis_peak_mib=round(redis_peak / 2**20),
    )
