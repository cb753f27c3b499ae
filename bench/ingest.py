"""Load benchmark of the ingest service: a real gunicorn and Redis on loopback.

Run ``.venv/bin/python -m bench.ingest`` (or ``make bench-ingest``); ``--quick`` for a short
run. It starts its own Redis (``logagg.embedded``) and its own gunicorn
(``python -m logagg.ingest``), logs in once as a writer, then drives load from separate
processes over keep-alive connections and reports:

- lines/s accepted with 1,000-line text batches (closed loop, saturating);
- requests/s with one-line requests (closed loop, saturating);
- p50/p99 latency of each, and of an open-loop run at half the target load, timed from
  each request's scheduled start (so a slow server cannot hide its queueing);
- resident memory of the gunicorn workers;
- CPU milliseconds per accepted request in gunicorn and in Redis, which other load on a
  shared machine does not change (throughput figures it does).

``--profile`` also profiles the app in this process (no HTTP server) on the same Redis
and prints where a one-line and a 1,000-line request spend their CPU time.

Results are printed and written to ``bench/results/ingest-<time>.json``.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.httpapi import call, login, wait_ready
from logagg.embedded import RedisServer
from logagg.embedded.process import free_port

REPO = Path(__file__).resolve().parents[1]

TARGET_BATCH_LINES_PER_S = 150_000
TARGET_ONE_LINE_REQUESTS_PER_S = 1_500
TARGET_P99_SECONDS = 0.050
# Throwaway credentials of the benchmark's own, short-lived server.
ADMIN_PASSWORD = "bench-admin-password"  # noqa: S105
WRITER = ("bench-writer", "bench-writer-password")


@dataclass
class LoadResult:
    """What one load phase measured."""

    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0

    def merge(self, other: LoadResult) -> None:
        self.requests += other.requests
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count
        self.latencies.extend(other.latencies)
        self.elapsed = max(self.elapsed, other.elapsed)


# (path, Content-Type) of the endpoints a phase can load.
LOG_ENDPOINT = ("/log", "text/plain")
BULK_ENDPOINT = ("/_bulk", "application/x-ndjson")
OTLP_ENDPOINT = ("/v1/logs", "application/x-protobuf")


def bulk_body(lines: list[str]) -> bytes:
    """An Elasticsearch bulk body: one ``create`` action and one document per line."""
    action = b'{"create":{"_index":"bench"}}\n'
    return b"".join(
        action + json.dumps({"message": line, "log.level": "info"}).encode() + b"\n"
        for line in lines
    )


def otlp_body(lines: list[str]) -> bytes:
    """An OTLP ``ExportLogsServiceRequest`` (binary protobuf) with one record per line."""
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
        ExportLogsServiceRequest,
    )

    message = ExportLogsServiceRequest()
    records = message.resource_logs.add().scope_logs.add().log_records
    for line in lines:
        record = records.add()
        record.time_unix_nano = time.time_ns()
        record.severity_number = 9
        record.severity_text = "INFO"
        record.body.string_value = line
    return message.SerializeToString()


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _connection_loop(
    port: int,
    token: str,
    body: bytes,
    endpoint: tuple[str, str],
    duration: float,
    interval: float | None,
    start_at: float,
    result: LoadResult,
    lock: threading.Lock,
) -> None:
    """One keep-alive connection sending ``body`` until ``duration`` is over.

    With ``interval`` the requests follow a fixed schedule (open loop) and latency is
    counted from the scheduled time; without, each request follows the previous answer.
    """
    path, content_type = endpoint
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": content_type,
        "Content-Length": str(len(body)),
    }
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    local = LoadResult()
    end = start_at + duration
    scheduled = start_at
    while True:
        now = time.perf_counter()
        if interval is not None:
            if scheduled > now:
                time.sleep(scheduled - now)
            begin = scheduled
            scheduled += interval
        else:
            begin = now
        if begin >= end:
            break
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        except (OSError, http.client.HTTPException):
            status = 0
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        local.latencies.append(time.perf_counter() - begin)
        local.requests += 1
        local.statuses[status] = local.statuses.get(status, 0) + 1
    local.elapsed = time.perf_counter() - start_at
    connection.close()
    with lock:
        result.merge(local)


def _load_process(
    port: int,
    token: str,
    body: bytes,
    duration: float,
    connections: int,
    rate: float | None,
    start_at_wall: float,
    endpoint: tuple[str, str],
) -> dict[str, Any]:
    """A load-generator process: ``connections`` threads, each its own connection."""
    # Align the processes on a wall-clock start, converted to this process's perf clock.
    start_at = time.perf_counter() + max(0.0, start_at_wall - time.time())
    interval = connections / rate if rate else None
    result = LoadResult()
    lock = threading.Lock()
    threads = [
        threading.Thread(
            target=_connection_loop,
            args=(
                port,
                token,
                body,
                endpoint,
                duration,
                interval,
                # Spread the open-loop schedules so connections do not fire together.
                start_at + (interval or 0) * index / connections,
                result,
                lock,
            ),
        )
        for index in range(connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "requests": result.requests,
        "statuses": result.statuses,
        "latencies": result.latencies,
        "elapsed": result.elapsed,
    }


def run_load(
    port: int,
    token: str,
    body: bytes,
    *,
    duration: float,
    processes: int,
    connections: int,
    rate: float | None = None,
    endpoint: tuple[str, str] = LOG_ENDPOINT,
) -> LoadResult:
    """Drive load from ``processes`` separate processes; ``rate`` is the total req/s."""
    per_process_rate = rate / processes if rate else None
    start_at_wall = time.time() + 0.5
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as pool:
        outcomes = pool.starmap(
            _load_process,
            [
                (
                    port,
                    token,
                    body,
                    duration,
                    connections,
                    per_process_rate,
                    start_at_wall,
                    endpoint,
                )
                for _ in range(processes)
            ],
        )
    total = LoadResult()
    for outcome in outcomes:
        total.merge(
            LoadResult(
                requests=outcome["requests"],
                statuses={int(k): v for k, v in outcome["statuses"].items()},
                latencies=outcome["latencies"],
                elapsed=outcome["elapsed"],
            )
        )
    return total


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time of ``pids`` so far (threads included)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _summary(name: str, result: LoadResult, lines_per_request: int) -> dict[str, Any]:
    seconds = result.elapsed or float("nan")
    accepted = result.statuses.get(200, 0)
    return {
        "phase": name,
        "requests": result.requests,
        "statuses": result.statuses,
        "seconds": round(seconds, 3),
        "requests_per_s": round(accepted / seconds, 1),
        "lines_per_s": round(accepted * lines_per_request / seconds, 1),
        "p50_ms": round(_percentile(result.latencies, 0.50) * 1000, 2),
        "p99_ms": round(_percentile(result.latencies, 0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(result.latencies) * 1000, 2)
        if result.latencies
        else None,
    }


def profile_in_process(redis_url: str, token_settings: dict[str, str]) -> None:
    """cProfile the WSGI app itself on one-line and 1,000-line bodies; print the top."""
    import cProfile
    import io
    import pstats

    from logagg.ingest.app import create_app
    from logagg.ingest.auth.tokens import TokenType
    from logagg.ingest.auth.users import Role
    from logagg.ingest.context import current
    from logagg.ingest.settings import IngestSettings

    settings = IngestSettings.from_env({**token_settings, "REDIS_URL": redis_url})
    app = create_app(settings)
    with app.app_context():
        context = current()
        user = context.users.get("profiled") or context.users.create(
            "profiled", context.hashing.hash("profiled-password"), Role.WRITER
        )
        token = context.tokens.issue(user.username, user.generation, TokenType.ACCESS)

    def environ(body: bytes) -> dict[str, Any]:
        return {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/log",
            "SERVER_NAME": "bench",
            "SERVER_PORT": "3001",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": "text/plain",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_AUTHORIZATION": f"Bearer {token}",
        }

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        if not status.startswith("200"):
            raise RuntimeError(status)

    line = b"2026-11-28T00:52:52.123Z INFO [worker-3] app.payments: charge accepted\n"
    for lines, count in ((1, 2000), (1000, 200)):
        body = line * lines
        for _ in range(50):
            b"".join(app(environ(body), start_response))
        cpu = time.process_time()
        for _ in range(count):
            b"".join(app(environ(body), start_response))
        per_request = (time.process_time() - cpu) / count * 1000
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(count):
            b"".join(app(environ(body), start_response))
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        print(f"\n== in-process profile, {lines}-line requests: {per_request:.3f} ms CPU each")
        print(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short phases (a smoke run)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--duration", type=float, default=None, help="seconds per phase")
    parser.add_argument("--processes", type=int, default=2, help="load-generator processes")
    parser.add_argument(
        "--profile", action="store_true", help="also profile the app in this process"
    )
    args = parser.parse_args(argv)
    duration = args.duration or (3.0 if args.quick else 15.0)

    import subprocess

    work = Path(tempfile.mkdtemp(prefix="logagg-bench-ingest-"))
    redis_server = RedisServer(work / "redis", appendonly=True)
    redis_server.start()
    port = free_port()
    env = {
        **os.environ,
        "REDIS_URL": redis_server.url,
        "LOGAGG_JWT_SECRET": base64.b64encode(os.urandom(48)).decode(),
        "LOGAGG_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "LOGAGG_INGEST_HOST": "127.0.0.1",
        "LOGAGG_INGEST_PORT": str(port),
        "LOGAGG_INGEST_WORKERS": str(args.workers),
        "LOGAGG_INGEST_THREADS": str(args.threads),
        # No consumer drains the parse queue here: the bound must not stop the run.
        "LOGAGG_MAX_BACKLOG": "100000000",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log_path = work / "gunicorn.log"
    with log_path.open("wb") as log:
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "logagg.ingest"], env=env, stdout=log, stderr=log
        )
    try:
        wait_ready(port, gunicorn)
        admin = login(port, "admin", ADMIN_PASSWORD)
        status, body = call(
            port,
            "POST",
            "/auth/register",
            json.dumps({"username": WRITER[0], "password": WRITER[1]}).encode(),
            {"Authorization": f"Bearer {admin}", "Content-Type": "application/json"},
        )
        if status != 201:
            raise RuntimeError(f"register failed: {status} {body!r}")
        token = login(port, *WRITER)

        line = (
            "2026-11-28T00:52:52.123Z INFO [worker-3] app.payments: charge accepted "
            "order=8731 amount=19.99 currency=EUR latency_ms=12"
        )
        batch_body = ("\n".join(f"{line} seq={i}" for i in range(1000)) + "\n").encode()
        one_line = (line + "\n").encode()
        phases: list[dict[str, Any]] = []
        redis = redis_server.client()

        batch_lines = [f"{line} seq={i}" for i in range(1000)]

        def phase(name: str, body: bytes, lines: int, **load: Any) -> dict[str, Any]:
            # Empty the queues between phases (users and the rest stay).
            for key in redis.scan_iter(match="rq:*", count=1000):
                redis.delete(key)
            servers = [gunicorn.pid, *_children(gunicorn.pid)]
            redis_pid = [redis_server.pid] if redis_server.pid else []
            app_cpu, redis_cpu = _cpu_seconds(servers), _cpu_seconds(redis_pid)
            result = run_load(port, token, body, duration=duration, **load)
            summary = _summary(name, result, lines)
            # CPU per accepted request: what the work costs, whatever else the machine runs.
            accepted = max(result.statuses.get(200, 0), 1)
            summary["gunicorn_cpu_ms_per_request"] = round(
                (_cpu_seconds(servers) - app_cpu) * 1000 / accepted, 3
            )
            summary["redis_cpu_ms_per_request"] = round(
                (_cpu_seconds(redis_pid) - redis_cpu) * 1000 / accepted, 3
            )
            phases.append(summary)
            print(json.dumps(summary), flush=True)
            return summary

        processes = args.processes
        phase("warm-up", one_line, 1, processes=processes, connections=2)
        batches = max(
            (
                phase(
                    f"batches-1000-lines-{processes * c}-connections",
                    batch_body,
                    1000,
                    processes=processes,
                    connections=c,
                )
                for c in (1, 2)
            ),
            key=lambda summary: float(summary["requests_per_s"]),
        )
        # The shippers' intake: the same 1,000 lines as bulk documents and OTLP records.
        for endpoint_name, body, endpoint in (
            ("bulk", bulk_body(batch_lines), BULK_ENDPOINT),
            ("otlp", otlp_body(batch_lines), OTLP_ENDPOINT),
        ):
            phase(
                f"{endpoint_name}-1000-records-{processes * 2}-connections",
                body,
                1000,
                processes=processes,
                connections=2,
                endpoint=endpoint,
            )
        # Small requests are sensitive to concurrency (thread hand-offs, the GIL on both
        # sides): sweep it and keep the best.
        singles = max(
            (
                phase(
                    f"one-line-{processes * c}-connections",
                    one_line,
                    1,
                    processes=processes,
                    connections=c,
                )
                for c in (1, 2, 4)
            ),
            key=lambda summary: float(summary["requests_per_s"]),
        )
        open_loop = {"processes": processes, "connections": 16}
        phase(
            "batches-1000-lines-at-half-target",
            batch_body,
            1000,
            rate=TARGET_BATCH_LINES_PER_S / 2 / 1000,
            **open_loop,
        )
        phase(
            "one-line-at-half-target",
            one_line,
            1,
            rate=TARGET_ONE_LINE_REQUESTS_PER_S / 2,
            **open_loop,
        )
        # Half of what this run sustained: the latency of a server with headroom.
        phase(
            "batches-1000-lines-at-half-measured",
            batch_body,
            1000,
            rate=max(batches["requests_per_s"] / 2, 1.0),
            **open_loop,
        )
        phase(
            "one-line-at-half-measured",
            one_line,
            1,
            rate=max(singles["requests_per_s"] / 2, 1.0),
            **open_loop,
        )
        workers = _children(gunicorn.pid)
        rss = {str(pid): _rss_kib(pid) for pid in workers}
        report = {
            "machine_cpus": os.cpu_count(),
            "gunicorn_workers": args.workers,
            "threads_per_worker": args.threads,
            "load_processes": processes,
            "seconds_per_phase": duration,
            "phases": phases[1:],
            "worker_rss_kib": rss,
            "targets": {
                "batch_lines_per_s": TARGET_BATCH_LINES_PER_S,
                "one_line_requests_per_s": TARGET_ONE_LINE_REQUESTS_PER_S,
                "p99_ms_at_half_load": TARGET_P99_SECONDS * 1000,
            },
        }
        results = REPO / "bench" / "results"
        results.mkdir(parents=True, exist_ok=True)
        out = results / f"ingest-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
        out.write_text(json.dumps(report, indent=2))
        if args.profile:
            profile_in_process(
                redis_server.url,
                {
                    "LOGAGG_JWT_SECRET": env["LOGAGG_JWT_SECRET"],
                    "LOGAGG_MAX_BACKLOG": env["LOGAGG_MAX_BACKLOG"],
                },
            )
        print(f"worker RSS (KiB): {rss}")
        print(f"written to {out}")
        return 0
    finally:
        gunicorn.terminate()
        try:
            gunicorn.wait(timeout=20)
        except subprocess.TimeoutExpired:
            gunicorn.kill()
        redis_server.stop()


if __name__ == "__main__":
    sys.exit(main())
