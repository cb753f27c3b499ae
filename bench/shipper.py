"""Benchmark of the shipper against a real Elasticsearch and the S3 server.

Run ``.venv/bin/python -m bench.shipper`` (or ``make bench-shipper``); ``--quick`` for a
short run. It starts its own Redis, Elasticsearch (the test distribution in
``.cache/elasticsearch``) and moto S3 server, makes parser-shaped events in 1,000-event
batches, and measures, in each round:

- **direct**: the same documents bulk-loaded straight into Elasticsearch, already encoded,
  in requests of the shipper's bulk size, into indices with the shipper's templates, over
  one and over two connections at once. The better of the two is the ceiling on this
  machine: no queue, no job, no JSON work on the client.
- **shipper**: one, and two, real ``python -m logagg.shipper es`` processes (shippers
  scale by adding workers) wait on ``ship-es``; the batches are enqueued at once, and the
  rate runs from then until RQ counts the last job done, so process start-up and
  shut-down are not counted. The better of the two is compared with the ceiling.
- **archive**: the same batches through one ``python -m logagg.shipper s3`` into the S3
  server: objects/s and compressed MB/s, timed the same way.

Elasticsearch is warmed up first with one unmeasured direct load. The order of the runs
reverses from one round to the next, each run writes fresh indices, and the figures
reported are medians over the rounds (the ratio is the median of the per-round ratios).
Results are printed and written to ``bench/results/shipper-<time>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from elasticsearch import Elasticsearch
from redis import Redis
from rq import Worker

from bench.bulk import BULK_DOCS, direct_load
from logagg.elasticsearch_client import connect_elasticsearch
from logagg.embedded import ElasticsearchNode, RedisServer, S3Server
from logagg.embedded.elasticsearch_node import find_distribution
from logagg.queues import (
    SHIP_ES_JOB,
    SHIP_S3_JOB,
    JobSpec,
    ParsedBatch,
    encode_batch,
    enqueue,
    job_queue,
    queue_key,
)
from logagg.s3_client import connect_s3
from logagg.settings import ElasticsearchSettings, S3Settings
from logagg.shipper.elasticsearch.cluster import prepare_cluster

REPO = Path(__file__).resolve().parents[1]
BATCH_EVENTS = 1_000
PARALLEL = (1, 2)  # direct streams and shipper worker processes compared
BUCKET = "bench-archive"
LEVELS = ("info", "info", "info", "debug", "warn", "error")
SERVICES = ("billing", "search", "auth", "checkout")


def make_batches(count: int, seed: int = 7) -> list[ParsedBatch]:
    """``count`` batches of parser-shaped events, spread over two hours of event time."""
    rng = random.Random(seed)
    start = datetime(2025, 4, 18, 10, 0, tzinfo=UTC)
    batches = []
    for b in range(count):
        batch_id = f"bench{b:05d}"
        service = SERVICES[b % len(SERVICES)]
        events = []
        for n in range(BATCH_EVENTS):
            moment = start + timedelta(milliseconds=rng.randrange(2 * 3600 * 1000))
            status = rng.choice((200, 200, 200, 201, 304, 404, 500, 502))
            method = rng.choice(("GET", "GET", "POST", "PUT"))
            path = f"/api/v1/{rng.choice(('orders', 'users', 'items'))}/{rng.randrange(10**6)}"
            line = (
                f'10.0.{n % 256}.{b % 256} - - [18/Apr/2025:10:12:01 +0000] "{method} {path} '
                f'HTTP/1.1" {status} {rng.randrange(100, 50_000)} "-" "curl/8.5.0"'
            )
            events.append(
                {
                    "@timestamp": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    "message": line,
                    "log": {"level": rng.choice(LEVELS), "logger": f"{service}.http"},
                    "event": {
                        "id": f"{batch_id}-{n}",
                        "original": line,
                        "ingested": "2025-04-18T12:00:00.000Z",
                        "dataset": "http.access",
                    },
                    "service": {"name": service},
                    "source": {"ip": "10.0.0.1"},
                    "host": {"ip": "10.0.0.1", "hostname": f"web-{b % 4}"},
                    "client": {"ip": f"10.0.{n % 256}.{b % 256}"},
                    "process": {"pid": 4242, "thread": {"name": "worker-1"}},
                    "http": {
                        "request": {"method": method},
                        "response": {
                            "status_code": status,
                            "body": {"bytes": rng.randrange(100, 50_000)},
                        },
                    },
                    "url": {"original": path},
                    "user_agent": {"original": "curl/8.5.0"},
                    "labels": {"region": rng.choice(("eu", "us")), "shard": n % 8},
                }
            )
        batches.append(ParsedBatch(batch_id=batch_id, service=service, events=events))
    return batches


@dataclass
class _Workers:
    """Real shipper processes, as a deployment runs them (not in burst mode).

    Their stderr goes to a temporary file each: a pipe nobody reads while they work
    could fill and stall them.
    """

    sink: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[IO[bytes]] = field(default_factory=list)

    def start(self, env: dict[str, str], workers: int) -> None:
        for n in range(workers):
            log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
            self.logs.append(log)
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "logagg.shipper", self.sink, "--name", f"bench{n}"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
            )

    def check_alive(self, what: str) -> None:
        for process, log in zip(self.processes, self.logs, strict=True):
            if process.poll() is not None:
                raise SystemExit(f"a shipper {self.sink} exited while {what}:\n{_tail(log)}")

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process, log in zip(self.processes, self.logs, strict=True):
            process.wait(timeout=120)
            if process.returncode != 0:
                raise SystemExit(f"shipper {self.sink} failed:\n{_tail(log)}")
            log.close()


def _tail(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-3000:]


def _jobs_done(redis: Redis, workers: int) -> int:
    """Jobs the bench workers finished, ok or failed, as RQ counts them per worker."""
    done = 0
    with redis.pipeline(transaction=False) as pipe:
        for n in range(workers):
            pipe.hmget(f"rq:worker:bench{n}", "successful_job_count", "failed_job_count")
        for counts in pipe.execute():
            done += sum(int(count or 0) for count in counts)
    return done


def _wait(check: Callable[[], bool], what: str, workers: _Workers, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        workers.check_alive(what)
        if time.monotonic() > deadline:
            raise SystemExit(f"not {what} after {timeout:.0f} s")
        time.sleep(0.005)


def run_shipper(
    sink: str,
    spec: JobSpec,
    env: dict[str, str],
    redis: Redis,
    batches: list[ParsedBatch],
    workers: int = 1,
) -> dict[str, float]:
    """Time ``workers`` real shipper processes over every batch.

    The processes start first and wait on the empty queue, as deployed shippers do; the
    clock starts when all the batches are enqueued at once and stops when RQ has
    counted the last one done. Process start-up and shut-down are not in the figure.
    Finished jobs are deleted at once (as in production): what arrived is counted in
    the sink itself.
    """
    redis.flushall()
    if sink == "es":
        # the first start installs the templates, so the timed workers all start alike
        prepare = connect_elasticsearch(
            ElasticsearchSettings.from_env({"ELASTICSEARCH_URL": env["ELASTICSEARCH_URL"]})
        )
        prepare_cluster(
            prepare, prefix="bench", namespace=env["LOGAGG_ES_NAMESPACE"], layout="auto"
        )
        prepare.close()
    queue = job_queue(spec.queue, redis)
    running = _Workers(sink)
    try:
        running.start(env, workers)
        _wait(
            lambda: len(Worker.all(queue=queue)) == workers,
            "waiting on the queue",
            running,
            timeout=120,
        )
        with redis.pipeline() as pipe:
            for batch in batches:
                # what the parser enqueues: Elasticsearch's batches come encoded
                enqueue(spec, encode_batch(batch) if sink == "es" else batch, redis, pipeline=pipe)
            started = time.perf_counter()
            pipe.execute()
        _wait(
            lambda: _jobs_done(redis, workers) >= len(batches),
            "done with every batch",
            running,
            timeout=600,
        )
        seconds = time.perf_counter() - started
    finally:
        running.stop()
    failed = len(job_queue(spec.queue, redis).failed_job_registry)
    if failed or redis.llen(queue_key(spec.queue)):
        raise SystemExit(f"shipper {sink}: {failed} jobs failed or jobs were left waiting")
    documents = sum(len(b["events"]) for b in batches)
    figures: dict[str, Any] = {
        "documents": documents,
        "seconds": seconds,
        "docs_per_s": documents / seconds,
    }
    if sink == "es":
        es = Elasticsearch(env["ELASTICSEARCH_URL"], request_timeout=120)
        pattern = f"logs-*-{env['LOGAGG_ES_NAMESPACE']}"
        es.indices.refresh(index=pattern)
        created = es.count(index=pattern)["count"]
        es.close()
        if created != documents:
            raise SystemExit(f"shipper indexed {created} of {documents} documents")
    else:
        s3 = connect_s3(
            S3Settings.from_env(
                {"S3_BUCKET": BUCKET, "AWS_ENDPOINT_URL_S3": env["AWS_ENDPOINT_URL_S3"]}
            )
        )
        prefix = env.get("LOGAGG_S3_PREFIX", "logs/")
        figures["objects"] = sum(
            page.get("KeyCount", 0)
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
        )
        figures["objects_per_s"] = figures["objects"] / seconds
    return figures


def archive_bytes(endpoint: str) -> int:
    s3 = connect_s3(S3Settings.from_env({"S3_BUCKET": BUCKET, "AWS_ENDPOINT_URL_S3": endpoint}))
    total = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        total += sum(item["Size"] for item in page.get("Contents", []))
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer batches and rounds")
    parser.add_argument("--rounds", type=int, help="rounds (default 5, quick 3; at least 3)")
    args = parser.parse_args(argv)
    batch_count = 20 if args.quick else 100
    rounds = max(3, args.rounds or (3 if args.quick else 5))
    batches = make_batches(batch_count)

    work = Path(tempfile.mkdtemp(prefix="logagg-bench-shipper-"))
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    redis_server = RedisServer(work / "redis", appendonly=False)
    s3_server = S3Server(work / "s3")
    node = ElasticsearchNode(
        find_distribution(REPO / ".cache" / "elasticsearch"), work / "es", heap="1g"
    )
    report: dict[str, Any] = {
        "batches": batch_count,
        "events_per_batch": BATCH_EVENTS,
        "bulk_docs": BULK_DOCS,
        "cpus": os.cpu_count(),
        "rounds": [],
    }
    try:
        work.chmod(0o755)
        print(f"starting Redis, S3 and Elasticsearch under {work} ...", flush=True)
        redis_server.start()
        s3_server.start()
        node.start()
        redis = Redis(host="127.0.0.1", port=redis_server.port)
        connect_s3(
            S3Settings.from_env(
                {"S3_BUCKET": BUCKET, "AWS_ENDPOINT_URL_S3": s3_server.endpoint_url}
            )
        ).create_bucket(Bucket=BUCKET)
        base_env = {
            **os.environ,
            "REDIS_URL": redis_server.url,
            "ELASTICSEARCH_URL": node.url,
            "LOGAGG_ES_TIMEOUT": "120",
            "LOGAGG_SHIPPER_METRICS_PORT": "0",
            "LOGAGG_LOG_LEVEL": "warning",
            "LOGAGG_ES_TEMPLATE_PREFIX": "bench",
            "S3_BUCKET": BUCKET,
            "AWS_ENDPOINT_URL_S3": s3_server.endpoint_url,
        }
        # A fresh JVM runs its first bulk loads several times slower: warm it up first.
        print("warming up Elasticsearch ...", flush=True)
        direct_load(node.url, "benchwarmup", batches)
        for r in range(rounds):
            round_figures: dict[str, Any] = {}
            kinds = [f"direct{n}" for n in PARALLEL] + [f"shipper{n}" for n in PARALLEL]
            for kind in kinds if r % 2 == 0 else kinds[::-1]:
                namespace = f"bench{kind}r{r}"
                parallel = int(kind[-1])
                if kind.startswith("direct"):
                    round_figures[kind] = direct_load(node.url, namespace, batches, parallel)
                else:
                    env = {**base_env, "LOGAGG_ES_NAMESPACE": namespace}
                    round_figures[kind] = run_shipper(
                        "es", SHIP_ES_JOB, env, redis, batches, parallel
                    )
            round_figures["direct"] = max(
                (round_figures[f"direct{n}"] for n in PARALLEL), key=lambda f: f["docs_per_s"]
            )
            round_figures["shipper"] = max(
                (round_figures[f"shipper{n}"] for n in PARALLEL), key=lambda f: f["docs_per_s"]
            )
            s3_server.reset()
            connect_s3(
                S3Settings.from_env(
                    {"S3_BUCKET": BUCKET, "AWS_ENDPOINT_URL_S3": s3_server.endpoint_url}
                )
            ).create_bucket(Bucket=BUCKET)
            archive = run_shipper(
                "s3", SHIP_S3_JOB, {**base_env, "LOGAGG_S3_PREFIX": f"round{r}/"}, redis, batches
            )
            archive["bytes"] = archive_bytes(s3_server.endpoint_url)
            archive["mb_per_s"] = archive["bytes"] / 1e6 / archive["seconds"]
            round_figures["archive"] = archive
            round_figures["ratio"] = (
                round_figures["shipper"]["docs_per_s"] / round_figures["direct"]["docs_per_s"]
            )
            report["rounds"].append(round_figures)
            rates = ", ".join(f"{kind} {round_figures[kind]['docs_per_s']:,.0f}" for kind in kinds)
            print(
                f"round {r + 1}/{rounds}: docs/s {rates}; best shipper / best direct"
                f" {round_figures['ratio']:.2f}; archive {archive['objects']} objects"
                f" {archive['objects_per_s']:,.1f} objects/s {archive['mb_per_s']:.2f} MB/s",
                flush=True,
            )
    finally:
        node.stop()
        s3_server.stop()
        redis_server.stop()
        shutil.rmtree(work, ignore_errors=True)

    def median(kind: str, key: str) -> float:
        return statistics.median(r[kind][key] for r in report["rounds"])

    report["median"] = {
        **{
            f"{kind}{n}_docs_per_s": median(f"{kind}{n}", "docs_per_s")
            for kind in ("direct", "shipper")
            for n in PARALLEL
        },
        "direct_docs_per_s": median("direct", "docs_per_s"),
        "shipper_docs_per_s": median("shipper", "docs_per_s"),
        "ratio": statistics.median(r["ratio"] for r in report["rounds"]),
        "archive_objects_per_s": median("archive", "objects_per_s"),
        "archive_mb_per_s": median("archive", "mb_per_s"),
        "archive_objects": median("archive", "objects"),
    }
    m = report["median"]
    m["ratio_of_medians"] = m["shipper_docs_per_s"] / m["direct_docs_per_s"]
    documents = batch_count * BATCH_EVENTS
    print(
        f"\nmedian of {rounds} rounds, {documents:,} documents in {batch_count} batches, "
        f"{os.cpu_count()} CPUs:\n"
        f"  direct bulk load, 1 stream     {m['direct1_docs_per_s']:>10,.0f} docs/s\n"
        f"  direct bulk load, 2 streams    {m['direct2_docs_per_s']:>10,.0f} docs/s\n"
        f"  shipper, 1 worker process      {m['shipper1_docs_per_s']:>10,.0f} docs/s\n"
        f"  shipper, 2 worker processes    {m['shipper2_docs_per_s']:>10,.0f} docs/s\n"
        f"  ceiling (best direct)          {m['direct_docs_per_s']:>10,.0f} docs/s\n"
        f"  best shipper                   {m['shipper_docs_per_s']:>10,.0f} docs/s\n"
        f"  ratio, median of the rounds'   {m['ratio']:>10.2f}  (target >= 0.80)\n"
        f"  ratio of the medians           {m['ratio_of_medians']:>10.2f}\n"
        f"  archive to S3 (1 worker)       {m['archive_objects_per_s']:>10,.1f} objects/s, "
        f"{m['archive_mb_per_s']:.2f} MB/s compressed ({m['archive_objects']:.0f} objects)"
    )
    results = REPO / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (results / f"shipper-{stamp}.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
