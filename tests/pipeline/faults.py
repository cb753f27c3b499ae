"""Tools of the fault tests: a proxy that can be cut, steady clients, and the final count."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path
from typing import Any

import psutil
from elasticsearch import ApiError, TransportError, helpers
from redis import Redis
from rq.scheduler import SCHEDULER_LOCKING_KEY_TEMPLATE

from bench.procstat import tree
from logagg.embedded import free_port
from logagg.queues import ALL_QUEUES, job_queue
from logagg.receipts import batch_key, receipt_answer

from .stack import Pipeline

LOADGEN = Path(__file__).with_name("loadgen.py")
SEQ = re.compile(r"^(\S+) seq=(\d+) ")

# What the fault tests measured, printed at the end of the session (see conftest.py).
RESULTS: list[dict[str, Any]] = []


class TcpProxy:
    """Forwards a loopback port to ``target``; :meth:`down` refuses and cuts connections."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        """Stop listening (new connections are refused) and cut every open connection."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            for connection in self._connections:
                with suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            self._connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by down()
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._connections.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
        with self._lock:
            self._connections.discard(source)


@dataclasses.dataclass(frozen=True)
class Acknowledgement:
    """One request a client got a 200 for."""

    client: str
    first: int  # sequence number of its first line
    count: int
    batches: tuple[str, ...]  # the batch ids ingest stored it as
    at: float  # wall-clock time the answer arrived

    @property
    def lines(self) -> set[tuple[str, int]]:
        return {(self.client, seq) for seq in range(self.first, self.first + self.count)}


@dataclasses.dataclass
class Load:
    """Client processes posting numbered lines (``loadgen.py``) until stopped."""

    pipeline: Pipeline
    username: str
    password: str
    folder: Path
    processes: list[subprocess.Popen[bytes]] = dataclasses.field(default_factory=list)

    def start(self, clients: int, *, rate: float, lines: int) -> None:
        for n in range(len(self.processes), len(self.processes) + clients):
            self.processes.append(
                subprocess.Popen(
                    [
                        sys.executable, str(LOADGEN),
                        "--url", self.pipeline.base_url,
                        "--username", self.username,
                        "--password", self.password,
                        "--tag", f"client{n}",
                        "--rate", str(rate),
                        "--lines", str(lines),
                        "--acked", str(self.folder / f"acked-{n}.jsonl"),
                        "--summary", str(self.folder / f"summary-{n}.json"),
                    ],
                    stderr=(self.folder / f"client-{n}.log").open("ab"),
                )
            )  # fmt: skip

    def stop(self) -> dict[str, Any]:
        """Stop the clients still running; their summaries added up."""
        running = [n for n, process in enumerate(self.processes) if process.poll() is None]
        for n in running:
            self.processes[n].send_signal(signal.SIGTERM)
        answers: Counter[str] = Counter()
        offered = acked = 0
        seconds = 0.0
        for n in running:
            self.processes[n].wait(90)
            summary = json.loads((self.folder / f"summary-{n}.json").read_text())
            answers.update(summary["answers"])
            offered += summary["offered_lines"]
            acked += summary["acked_lines"]
            seconds = max(seconds, summary["seconds"])
        return {"answers": dict(answers), "offered": offered, "acked": acked, "seconds": seconds}

    def acknowledgements(self) -> list[Acknowledgement]:
        """Every request answered with a 200, in each client's order."""
        found = []
        for n in range(len(self.processes)):
            path = self.folder / f"acked-{n}.jsonl"
            if not path.exists():
                continue
            for line in path.read_text().splitlines():
                record = json.loads(line)
                found.append(
                    Acknowledgement(
                        f"client{n}",
                        record["first"],
                        record["count"],
                        tuple(record["batches"]),
                        record["at"],
                    )
                )
        return found

    def acked_lines(self) -> set[tuple[str, int]]:
        """Every line acknowledged with a 200, as (client, sequence number)."""
        return set().union(*(ack.lines for ack in self.acknowledgements()))

    def acked_batches(self) -> int:
        total = 0
        for n in range(len(self.processes)):
            path = self.folder / f"acked-{n}.jsonl"
            if path.exists():
                total += len(path.read_text().splitlines())
        return total


def _lines_of(messages: Iterable[str]) -> Counter[tuple[str, int]]:
    found: Counter[tuple[str, int]] = Counter()
    for message in messages:
        match = SEQ.match(message)
        if match:
            found[(match[1], int(match[2]))] += 1
    return found


def indexed_lines(pipeline: Pipeline, service: str) -> Counter[tuple[str, int]]:
    """How many times each numbered line of ``service`` is in Elasticsearch."""
    pipeline.es.indices.refresh(index=pipeline.index_pattern)
    hits = helpers.scan(
        pipeline.es,
        index=pipeline.index_pattern,
        query={"query": {"term": {"service.name": service}}, "_source": ["message"]},
        size=5000,
    )
    return _lines_of(hit["_source"]["message"] for hit in hits)


def archived_lines(pipeline: Pipeline, service: str) -> Counter[tuple[str, int]]:
    """How many times each numbered line of ``service`` is in the archive."""
    return _lines_of(event["message"] for event in pipeline.archived(service))


@dataclasses.dataclass(frozen=True)
class Delivery:
    acknowledged: int
    indexed: int  # acknowledged lines found in Elasticsearch
    archived: int  # acknowledged lines found in the archive
    duplicates_indexed: int
    duplicates_archived: int
    unacknowledged_indexed: int  # lines delivered whose request got no 200

    @property
    def complete(self) -> bool:
        return self.indexed == self.archived == self.acknowledged


def delivery(pipeline: Pipeline, service: str, acked: set[tuple[str, int]]) -> Delivery:
    indexed = indexed_lines(pipeline, service)
    archived = archived_lines(pipeline, service)
    return Delivery(
        acknowledged=len(acked),
        indexed=len(acked & indexed.keys()),
        archived=len(acked & archived.keys()),
        duplicates_indexed=sum(n - 1 for n in indexed.values() if n > 1),
        duplicates_archived=sum(n - 1 for n in archived.values() if n > 1),
        unacknowledged_indexed=len(indexed.keys() - acked),
    )


def wait_delivered(
    pipeline: Pipeline, service: str, acked: set[tuple[str, int]], timeout: float
) -> tuple[Delivery, float]:
    """Poll until every acknowledged line is indexed and archived, or ``timeout`` passes;
    the last count and the seconds it took."""
    start = time.monotonic()
    while True:
        try:
            found = delivery(pipeline, service, acked)
        except (ApiError, TransportError):  # a node starting, an index being created
            found = None
        elapsed = time.monotonic() - start
        if found is not None and found.complete:
            return found, elapsed
        if elapsed > timeout:
            return found or delivery(pipeline, service, acked), elapsed
        time.sleep(1.0)


def process_tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and its children (a gunicorn master and its workers)."""
    total = 0
    for process in tree(pid):
        with suppress(psutil.Error):  # ended since it was listed
            total += process.memory_info().rss
    return total


def kill_group(pid: int) -> None:
    """SIGKILL a service and every process it started, as a crashed container ends."""
    with suppress(OSError):
        os.killpg(pid, signal.SIGKILL)


def queue_state(redis: Redis) -> str:
    """Where RQ holds the pipeline's jobs, and the receipts not delivered everywhere yet.

    Printed with an incomplete delivery, so that a failure says where the missing batch
    sits (a queue, RQ's intermediate list, a lease, a retry) and which lock, if any,
    holds it there.
    """
    lines = []
    for name in ALL_QUEUES:
        queue = job_queue(name, redis)
        lines.append(
            f"{name}: queued {queue.count}, "
            f"intermediate {redis.lrange(queue.intermediate_queue_key, 0, -1)}, "
            f"running {redis.zrange(queue.started_job_registry.key, 0, -1, withscores=True)}, "
            f"retrying {redis.zrange(queue.scheduled_job_registry.key, 0, -1, withscores=True)}, "
            f"failed {queue.failed_job_registry.get_job_ids()}, "
            f"cleaning lock ttl {redis.ttl(queue.registry_cleaning_key)}, "
            f"scheduler lock ttl {redis.ttl(SCHEDULER_LOCKING_KEY_TEMPLATE % name)}"
        )
    lines.append(f"now {time.time():.0f}")
    # batch receipts are hashes; a request's list of batch ids shares the prefix
    for key in redis.scan_iter(match=batch_key("*"), _type="hash"):
        batch_id = _text(key).removeprefix(batch_key(""))
        fields = {_text(k): _text(v) for k, v in redis.hgetall(key).items()}
        if receipt_answer(batch_id, fields)["status"] != "delivered":
            lines.append(f"{batch_id}: {fields}")
    return "\n".join(lines)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
