"""The whole pipeline on one machine: ``logagg run``, which ``make run`` starts.

Redis, Elasticsearch and the archive come from the environment when given, otherwise
from local defaults under the data folder (a Valkey server with AOF, the single-node
Elasticsearch the tests use, a local-folder archive in the S3 key layout). The services
run as child processes of this one, each started by the ``logagg`` command exactly as a
container would start it, restarted if it dies, and stopped in order on Ctrl-C: ingest
first (no new work), then the workers, which finish the job in hand, then the servers.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Self, TextIO

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from logagg.embedded import ElasticsearchNode, RedisServer, ServerStartError
from logagg.embedded.elasticsearch_node import find_distribution, find_java_home
from logagg.errors import SettingsError
from logagg.redis_connection import connect_redis
from logagg.settings import EnvReader, RedisSettings, SettingsBase

# A worker gets this long after SIGTERM to finish its job (the longest job timeout).
WORKER_STOP_TIMEOUT = 130.0
SHIPPER_METRICS_PORT = 9102


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class StackSettings(SettingsBase):
    """What ``logagg run`` starts, and where it keeps its files."""

    data_dir: Path
    redis_url: str | None
    redis_port: int
    elasticsearch_url: str | None
    elasticsearch_port: int
    elasticsearch_heap: str
    elasticsearch_cache: Path
    s3_bucket: str | None
    archive_url: str | None
    ingest_port: int
    parsers: int
    es_shippers: int
    archive_shippers: int
    # a short flush age, so that a newcomer sees the archive fill within seconds
    archive_flush_age: str = "10s"

    @classmethod
    def read(cls, read: EnvReader) -> Self:
        heap = read.text("LOGAGG_ES_HEAP", "1g")
        if not heap[:-1].isdigit() or heap[-1].lower() not in "mg":
            read.problems.append(f"LOGAGG_ES_HEAP: use e.g. 512m or 1g; got {heap!r}")
        return cls(
            data_dir=Path(read.text("LOGAGG_DATA_DIR", "data")).resolve(),
            redis_url=read.url("REDIS_URL", None, schemes=("redis", "rediss", "unix")),
            redis_port=read.integer("LOGAGG_REDIS_PORT", 6379, minimum=1, maximum=65535),
            elasticsearch_url=read.url("ELASTICSEARCH_URL", None),
            elasticsearch_port=read.integer("LOGAGG_ES_PORT", 9200, minimum=1, maximum=65535),
            elasticsearch_heap=heap,
            elasticsearch_cache=Path(read.text("LOGAGG_ES_CACHE", ".cache/elasticsearch")),
            s3_bucket=read.optional_text("S3_BUCKET"),
            archive_url=read.optional_text("LOGAGG_ARCHIVE_URL"),
            ingest_port=read.integer("LOGAGG_INGEST_PORT", 3001, minimum=1, maximum=65535),
            parsers=read.integer("LOGAGG_RUN_PARSERS", 1, minimum=1, maximum=32),
            es_shippers=read.integer("LOGAGG_RUN_ES_SHIPPERS", 1, minimum=1, maximum=32),
            archive_shippers=read.integer("LOGAGG_RUN_ARCHIVE_SHIPPERS", 1, minimum=1, maximum=32),
            archive_flush_age=read.text("LOGAGG_ARCHIVE_FLUSH_AGE", "10s"),
        )


@dataclasses.dataclass(frozen=True, slots=True)
class ServiceSpec:
    """One service process: its name, its ``logagg`` arguments and its environment."""

    name: str
    args: tuple[str, ...]
    env: Mapping[str, str]


def plan_services(
    settings: StackSettings,
    *,
    redis_url: str,
    elasticsearch_url: str | None,
    admin_password: str | None,
) -> list[ServiceSpec]:
    """The service processes to run and the environment each gets (a pure decision)."""
    env: dict[str, str] = {"REDIS_URL": redis_url, "LOGAGG_DEV_MODE": "true"}
    sinks = []
    if elasticsearch_url:
        env["ELASTICSEARCH_URL"] = elasticsearch_url
        sinks.append("elasticsearch")
    if settings.archive_url:
        env["LOGAGG_ARCHIVE_URL"] = settings.archive_url
    elif not settings.s3_bucket:
        env["LOGAGG_ARCHIVE_URL"] = (settings.data_dir / "archive").as_uri()
    sinks.append("s3")
    env["LOGAGG_SINKS"] = ",".join(sinks)
    env["LOGAGG_ARCHIVE_FLUSH_AGE"] = settings.archive_flush_age
    if admin_password is not None:
        env["LOGAGG_ADMIN_PASSWORD"] = admin_password
    env["LOGAGG_INGEST_PORT"] = str(settings.ingest_port)

    # Each shipper serves its metrics on a port of its own: 9102, 9103... for
    # Elasticsearch, 9112, 9113... for the archive.
    services = [ServiceSpec("ingest", ("ingest",), env)]
    services += [ServiceSpec(f"parser-{n}", ("parser",), env) for n in range(settings.parsers)]
    if elasticsearch_url:
        services += [
            ServiceSpec(
                f"shipper-es-{n}",
                ("shipper", "es"),
                {**env, "LOGAGG_SHIPPER_METRICS_PORT": str(SHIPPER_METRICS_PORT + n)},
            )
            for n in range(settings.es_shippers)
        ]
    services += [
        ServiceSpec(
            f"shipper-s3-{n}",
            ("shipper", "s3"),
            {**env, "LOGAGG_SHIPPER_METRICS_PORT": str(SHIPPER_METRICS_PORT + 10 + n)},
        )
        for n in range(settings.archive_shippers)
    ]
    return services


def first_start_password(data_dir: Path, environ: Mapping[str, str]) -> tuple[str | None, bool]:
    """The admin password to bootstrap with, and whether it is new (to print once).

    ``LOGAGG_ADMIN_PASSWORD`` wins; otherwise a random one is made on the first start and
    kept in ``<data>/admin-password`` (mode 0600), where the banner says it is.
    """
    if environ.get("LOGAGG_ADMIN_PASSWORD"):
        return None, False
    path = data_dir / "admin-password"
    if path.exists():
        return path.read_text().strip(), False
    password = secrets.token_urlsafe(18)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(password + "\n")
    return password, True


class ServiceProcess:
    """A child ``logagg`` process with its own log file, restarted when it dies."""

    def __init__(self, spec: ServiceSpec, log_dir: Path) -> None:
        self.spec = spec
        self.log_path = log_dir / f"{spec.name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._next_start = 0.0

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "logagg.cli", *self.spec.args],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **self.spec.env},
                start_new_session=True,  # Ctrl-C reaches the supervisor, which stops us in order
            )

    def check(self, out: TextIO) -> None:
        """Restart the process if it died, with a growing pause between attempts."""
        if self.process is None or self.process.poll() is None:
            return
        now = time.monotonic()
        if now < self._next_start:
            return
        self.restarts += 1
        self._next_start = now + min(2.0**self.restarts, 60.0)
        print(
            f"{self.spec.name} exited with code {self.process.returncode}; restarting "
            f"(see {self.log_path})",
            file=out,
        )
        self.start()

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(max(timeout, 0.1))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _banner(
    settings: StackSettings,
    *,
    redis_url: str,
    elasticsearch_url: str | None,
    elasticsearch_note: str,
    archive: str,
    password: str | None,
    new_password: bool,
) -> str:
    url = f"http://127.0.0.1:{settings.ingest_port}"
    if password is None:
        where = "LOGAGG_ADMIN_PASSWORD"
        credentials = '"admin:$LOGAGG_ADMIN_PASSWORD"'
    else:
        where = str(settings.data_dir / "admin-password")
        credentials = f'"admin:$(cat {where})"'
    lines = [
        "",
        "LogAggregator is running.  Ctrl-C stops it (workers finish their batch first).",
        f"  ingest         {url}   (POST /log, GET /auth/login)",
        f"  admin          user 'admin', password in {where}",
    ]
    if new_password:
        lines.append(f"                 first start: the password is {password}")
    lines += [
        f"  redis          {redis_url}",
        f"  elasticsearch  {elasticsearch_url or 'none'}{elasticsearch_note}",
        f"  archive        {archive}",
        f"  logs           {settings.data_dir / 'logs'}/",
        "",
        "Try it:",
        f"  TOKEN=$(curl -s -u {credentials} {url}/auth/login \\",
        "          | python3 -c 'import json,sys; "
        'print(json.load(sys.stdin)["token"]["access"])\')',
        "  printf '%s\\n' '2025-04-18 10:12:01,123 - 10.0.0.7 - 4242 - ERROR - resolve - dns.py"
        " - lookup failed - retrying' 'level=info msg=\"hello from curl\"' \\",
        f'    | curl -s -H "Authorization: Bearer $TOKEN" --data-binary @- {url}/log',
    ]
    if elasticsearch_url:
        lines.append(
            f"  ELASTICSEARCH_URL={elasticsearch_url} .venv/bin/logagg search --service admin"
        )
    lines += [f"  find {archive.removeprefix('file://')} -name '*.ndjson.gz'", ""]
    return "\n".join(lines)


class Stack:
    """Starts, supervises and stops everything ``logagg run`` runs."""

    def __init__(self, settings: StackSettings, *, out: TextIO = sys.stdout) -> None:
        self.settings = settings
        self.out = out
        self.redis: RedisServer | None = None
        self.elasticsearch: ElasticsearchNode | None = None
        self.services: list[ServiceProcess] = []
        self._stopping = False

    def _start_redis(self) -> str:
        if self.settings.redis_url:
            return self.settings.redis_url
        self.redis = RedisServer(
            self.settings.data_dir / "redis", port=self.settings.redis_port, appendonly=True
        )
        self.redis.start()
        return self.redis.url

    def _start_elasticsearch(self) -> tuple[str | None, str]:
        if self.settings.elasticsearch_url:
            return self.settings.elasticsearch_url, ""
        try:
            distribution = find_distribution(self.settings.elasticsearch_cache)
            find_java_home()
        except ServerStartError as error:
            return None, f"  (not started: {error}; running with the archive alone)"
        print("starting Elasticsearch (about half a minute)...", file=self.out, flush=True)
        node = ElasticsearchNode(
            distribution,
            self.settings.data_dir / "elasticsearch",
            port=self.settings.elasticsearch_port,
            heap=self.settings.elasticsearch_heap,
        )
        try:
            node.start()
        except ServerStartError as error:
            return None, f"  (failed to start, running with the archive alone: {error})"
        self.elasticsearch = node
        return node.url, "  (local single node)"

    def _check_redis(self, redis_url: str) -> None:
        """Refuse a server older than the floor before starting anything on it."""
        client = connect_redis(RedisSettings.from_env({"REDIS_URL": redis_url}))
        try:
            client.ping()
        except (RedisConnectionError, RedisTimeoutError):
            return  # not up yet: each service waits for it and checks it on connecting
        finally:
            client.close()

    def start(self) -> None:
        settings = self.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        log_dir = settings.data_dir / "logs"
        log_dir.mkdir(exist_ok=True)
        redis_url = self._start_redis()
        self._check_redis(redis_url)
        elasticsearch_url, elasticsearch_note = self._start_elasticsearch()
        password, new_password = first_start_password(settings.data_dir, os.environ)
        specs = plan_services(
            settings,
            redis_url=redis_url,
            elasticsearch_url=elasticsearch_url,
            admin_password=password,
        )
        archive = specs[0].env.get("LOGAGG_ARCHIVE_URL") or f"s3://{settings.s3_bucket}"
        self.services = [ServiceProcess(spec, log_dir) for spec in specs]
        for service in self.services:
            service.start()
        print(
            _banner(
                settings,
                redis_url=redis_url,
                elasticsearch_url=elasticsearch_url,
                elasticsearch_note=elasticsearch_note,
                archive=archive,
                password=password,
                new_password=new_password,
            ),
            file=self.out,
            flush=True,
        )

    def supervise(self) -> None:
        while not self._stopping:
            for service in self.services:
                service.check(self.out)
            time.sleep(0.5)

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True

    def stop(self) -> None:
        """Ingest first, then the workers (they finish their job), then the servers."""
        print("stopping: ingest, then workers (finishing their batch), then servers", file=self.out)
        ingest = [s for s in self.services if s.spec.name == "ingest"]
        workers = [s for s in self.services if s.spec.name != "ingest"]
        for group, timeout in ((ingest, 30.0), (workers, WORKER_STOP_TIMEOUT)):
            for service in group:
                service.terminate()
            deadline = time.monotonic() + timeout
            for service in group:
                service.wait(deadline - time.monotonic())
        if self.elasticsearch is not None:
            self.elasticsearch.stop()
        if self.redis is not None:
            self.redis.stop()
        print("stopped.", file=self.out)


def main(argv: Sequence[str] | None = None) -> int:
    argparse.ArgumentParser(
        prog="logagg run",
        description="Run the whole pipeline on this machine until Ctrl-C.",
        epilog="Settings: REDIS_URL, ELASTICSEARCH_URL, S3_BUCKET or LOGAGG_ARCHIVE_URL, "
        "LOGAGG_DATA_DIR (./data), LOGAGG_INGEST_PORT (3001), LOGAGG_RUN_PARSERS, "
        "LOGAGG_RUN_ES_SHIPPERS, LOGAGG_RUN_ARCHIVE_SHIPPERS.",
    ).parse_args(argv)
    try:
        settings = StackSettings.from_env(os.environ)
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    stack = Stack(settings)
    signal.signal(signal.SIGINT, stack.request_stop)
    signal.signal(signal.SIGTERM, stack.request_stop)
    try:
        stack.start()
        stack.supervise()
    except ServerStartError as error:
        print(f"logagg run: {error}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
    return 0
