"""The load generator: separate processes posting 1,000-line bodies, or feeding TCP.

Stdlib only (``http.client`` over keep-alive connections, ``socket``), so that what it
costs is small and visible: its processes are sampled like the services'. Two HTTP
modes:

- **credit** (sustained throughput): requests go out as fast as ingest answers, but
  never more than the lines the benchmark has allowed (``allow``: delivered so far plus
  a window), so the pipeline always has work queued and Redis holds a bounded backlog;
- **open** (latency): request ``k`` goes out at ``start + k / rate`` whatever the
  answers to earlier ones (several connections per process, so one slow answer does not
  hold up the schedule), so queueing shows in the figures instead of slowing the load.

Every answered request is reported on a queue as it happens: the 200's batch ids, lines
accepted, and when it was scheduled, sent and answered (``time.time()``, comparable
across processes).
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import queue
import socket
import threading
import time
from collections.abc import Sequence
from typing import Any

_CONTEXT = multiprocessing.get_context("spawn")
_LINES_PER_BODY = 1_000


def _connection(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=60)


def _post(
    connection: http.client.HTTPConnection, body: bytes, token: str
) -> tuple[int, dict[str, Any] | None, bool]:
    """POST /log; the status, the JSON answer, and whether the server closed the connection."""
    connection.request(
        "POST",
        "/log",
        body=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"},
    )
    response = connection.getresponse()
    raw = response.read()
    closing = response.getheader("Connection", "").lower() == "close"
    try:
        answer = json.loads(raw) if raw else None
    except ValueError:
        answer = None
    return response.status, answer, closing


def _http_thread(
    port: int,
    bodies: Sequence[bytes],
    tokens: Sequence[str],
    plan: dict[str, Any],
    slot: int,
    shared: dict[str, Any],
    out: Any,
) -> None:
    connection = _connection(port)
    mode = plan["mode"]
    start = shared["start"].value
    end = start + plan["duration"]
    slots = plan["slots"]
    k = slot
    delay = start - time.time()
    if delay > 0:
        time.sleep(delay)
    while True:
        if mode == "credit":
            with shared["lock"]:
                seq = shared["next"].value
                shared["next"].value += 1
            if seq >= plan["requests"]:
                break
            while (seq + 1) * _LINES_PER_BODY > shared["allowed"].value:
                if time.time() >= end or shared["stop"].is_set():
                    break
                time.sleep(0.002)
            scheduled = time.time()
            if scheduled >= end or shared["stop"].is_set():
                break
        else:
            seq = k
            k += slots
            scheduled = start + seq / plan["rate"]
            if scheduled >= end or shared["stop"].is_set():
                break
            delay = scheduled - time.time()
            if delay > 0:
                time.sleep(delay)
        index = seq % len(bodies)
        sent = time.time()
        try:
            status, answer, closing = _post(connection, bodies[index], tokens[index])
        except (OSError, http.client.HTTPException):
            # gunicorn closes a keep-alive connection idle for its keepalive (2 s): the
            # open-loop schedule leaves connections idle that long, so a request on one
            # that was closed is sent once more on a new connection (as clients do)
            connection.close()
            connection = _connection(port)
            try:
                status, answer, closing = _post(connection, bodies[index], tokens[index])
            except (OSError, http.client.HTTPException):
                status, answer, closing = 0, None, True
        done = time.time()
        if closing:
            connection.close()
            connection = _connection(port)
        accepted = answer.get("accepted", 0) if status == 200 and answer else 0
        batches = answer.get("batches", []) if status == 200 and answer else []
        out.put((seq, index, scheduled, sent, done, status, batches, accepted))
    connection.close()


def _http_process(
    port: int,
    bodies: Sequence[bytes],
    tokens: Sequence[str],
    plan: dict[str, Any],
    first_slot: int,
    threads: int,
    shared: dict[str, Any],
    out: Any,
) -> None:
    with shared["lock"]:
        shared["ready"].value += 1
    shared["go"].wait()
    workers = [
        threading.Thread(
            target=_http_thread,
            args=(port, bodies, tokens, plan, first_slot + n, shared, out),
        )
        for n in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


class HttpLoad:
    """``processes`` load processes × ``threads`` connections each against ingest."""

    def __init__(
        self,
        port: int,
        bodies: Sequence[bytes],
        tokens: Sequence[str],
        *,
        processes: int,
        threads: int,
    ) -> None:
        self.port = port
        self.bodies = list(bodies)
        self.tokens = list(tokens)
        self.processes_count = processes
        self.threads = threads
        self.out: Any = _CONTEXT.Queue()
        self.shared = {
            "lock": _CONTEXT.Lock(),
            "next": _CONTEXT.Value("q", 0, lock=False),
            "allowed": _CONTEXT.Value("q", 0, lock=False),
            "ready": _CONTEXT.Value("i", 0, lock=False),
            "start": _CONTEXT.Value("d", 0.0, lock=False),
            "go": _CONTEXT.Event(),
            "stop": _CONTEXT.Event(),
        }
        self.processes: list[Any] = []
        self.started_at = 0.0

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes if p.pid is not None]

    def prepare(self, plan: dict[str, Any]) -> None:
        """Start the processes (they wait for :meth:`go`)."""
        plan = {**plan, "slots": self.processes_count * self.threads}
        self.processes = [
            _CONTEXT.Process(
                target=_http_process,
                args=(
                    self.port,
                    self.bodies,
                    self.tokens,
                    plan,
                    n * self.threads,
                    self.threads,
                    self.shared,
                    self.out,
                ),
                daemon=True,
            )
            for n in range(self.processes_count)
        ]
        for process in self.processes:
            process.start()
        deadline = time.monotonic() + 60
        while self.shared["ready"].value < self.processes_count:
            if time.monotonic() > deadline:
                raise RuntimeError("load processes did not start")
            time.sleep(0.02)

    def go(self, delay: float = 0.1) -> float:
        """Start the load ``delay`` seconds from now; returns that start time."""
        self.started_at = time.time() + delay
        self.shared["start"].value = self.started_at
        self.shared["go"].set()
        return self.started_at

    def allow(self, lines: int) -> None:
        """Credit mode: requests may go out while their lines stay within ``lines``."""
        self.shared["allowed"].value = lines

    def stop(self) -> None:
        self.shared["stop"].set()

    def drain(self) -> list[tuple[Any, ...]]:
        """The requests answered since the last call."""
        records = []
        while True:
            try:
                records.append(self.out.get_nowait())
            except queue.Empty:
                return records

    def alive(self) -> bool:
        return any(p.is_alive() for p in self.processes)

    def join(self, timeout: float = 120.0) -> list[tuple[Any, ...]]:
        """Wait for the processes; the records not drained yet."""
        deadline = time.monotonic() + timeout
        records = []
        while self.alive() and time.monotonic() < deadline:
            records += self.drain()
            time.sleep(0.05)
        for process in self.processes:
            process.join(max(0.1, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
        return records + self.drain()


# -- TCP (the rsyslog reference) ------------------------------------------------------


def _tcp_process(port: int, payloads: Sequence[bytes], shared: dict[str, Any], out: Any) -> None:
    with shared["lock"]:
        shared["ready"].value += 1
    shared["go"].wait()
    sock = socket.create_connection(("127.0.0.1", port), timeout=120)
    cpu = time.process_time()
    started = time.time()
    sent = 0
    for payload in payloads:
        sock.sendall(payload)
        sent += 1
    sock.shutdown(socket.SHUT_WR)
    finished = time.time()
    sock.close()
    # its own CPU: it exits before rsyslog is done, so no sampler can read it then
    out.put((started, finished, sent, time.process_time() - cpu))


class TcpFeed:
    """``processes`` processes, one TCP connection each, sending newline-framed lines."""

    def __init__(self, port: int, payloads: Sequence[bytes], processes: int) -> None:
        self.out: Any = _CONTEXT.Queue()
        self.shared = {
            "lock": _CONTEXT.Lock(),
            "ready": _CONTEXT.Value("i", 0, lock=False),
            "go": _CONTEXT.Event(),
        }
        self.processes = [
            _CONTEXT.Process(
                target=_tcp_process,
                args=(port, list(payloads[n::processes]), self.shared, self.out),
                daemon=True,
            )
            for n in range(processes)
        ]

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes if p.pid is not None]

    def prepare(self) -> None:
        for process in self.processes:
            process.start()
        deadline = time.monotonic() + 60
        while self.shared["ready"].value < len(self.processes):
            if time.monotonic() > deadline:
                raise RuntimeError("feed processes did not start")
            time.sleep(0.02)

    def go(self) -> float:
        started = time.time()
        self.shared["go"].set()
        return started

    def join(self, timeout: float = 300.0) -> list[tuple[float, float, int, float]]:
        """Per process: (started, finished, payloads sent, CPU seconds spent sending)."""
        results = [self.out.get(timeout=timeout) for _ in self.processes]
        for process in self.processes:
            process.join(10)
        return results
