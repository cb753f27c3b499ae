"""What processes cost while a benchmark runs: CPU, resident memory, queues, Redis memory.

A :class:`Sampler` thread reads, every ``interval`` seconds, the CPU time (user + system)
and resident memory of named groups of process trees (a root pid and all its
descendants; children already reaped count through their parent's ``children_*``
times, live ones on their own, so nothing is counted twice), the depth of the RQ queues
and Redis's ``used_memory``. Cost in a window is the difference of two samples.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psutil
from redis import Redis
from redis.exceptions import RedisError

from logagg.queues import queue_key

MACHINE = "machine (all processes)"


def tree(pid: int) -> list[psutil.Process]:
    """``pid`` and every live descendant (empty when ``pid`` is gone)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def cpu_seconds(processes: Sequence[psutil.Process]) -> float:
    """User + system CPU of ``processes`` and of their reaped children."""
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


@dataclass
class Sample:
    """One reading."""

    time: float
    cpu: dict[str, float]
    queues: dict[str, int]
    redis_used_memory: int | None


@dataclass
class Sampler:
    """Samples ``groups()`` (group name → root pids) until :meth:`stop`."""

    groups: Callable[[], Mapping[str, Sequence[int]]]
    # groups read alone, without descendants or reaped children (the benchmark's own
    # process, whose descendants are everything else)
    alone: Sequence[str] = ()
    redis: Redis | None = None
    queues: Sequence[str] = ()
    interval: float = 0.5
    samples: list[Sample] = field(default_factory=list)
    # peak resident bytes of each process seen: pid -> (group, command, bytes)
    peak_rss: dict[int, tuple[str, str, int]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Sampler:
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()  # a last reading at the stop time

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.sample()
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def sample(self) -> None:
        now = time.time()
        cpu: dict[str, float] = {}
        for group, pids in self.groups().items():
            if group in self.alone:
                processes = [psutil.Process(pid) for pid in pids if psutil.pid_exists(pid)]
                cpu[group] = sum(p.cpu_times().user + p.cpu_times().system for p in processes)
            else:
                processes = [p for pid in pids for p in tree(pid)]
                cpu[group] = cpu_seconds(processes)
            for process in processes:
                try:
                    rss = process.memory_info().rss
                    command = " ".join(process.cmdline()[:4])[:120]
                except psutil.Error:
                    continue
                known = self.peak_rss.get(process.pid)
                if known is None or rss > known[2]:
                    self.peak_rss[process.pid] = (group, command, rss)
        # the whole machine, every process (other jobs on a shared machine included)
        times = psutil.cpu_times()
        cpu[MACHINE] = sum(
            getattr(times, name, 0.0)
            for name in ("user", "nice", "system", "irq", "softirq", "steal")
        )  # guest time is already in user and nice on Linux
        queues: dict[str, int] = {}
        used = None
        if self.redis is not None:
            try:
                pipe = self.redis.pipeline(transaction=False)
                for name in self.queues:
                    pipe.llen(queue_key(name))
                pipe.info("memory")
                answers = pipe.execute()
                queues = dict(zip(self.queues, answers[:-1], strict=True))
                used = int(answers[-1]["used_memory"])
            except RedisError:
                pass  # a missed reading is not a failed run: the gauge has a gap
        self.samples.append(Sample(now, cpu, queues, used))

    # -- reading the samples back ----------------------------------------------------
    def cpu_series(self, group: str) -> list[tuple[float, float]]:
        return [(s.time, s.cpu[group]) for s in self.samples if group in s.cpu]

    def queue_series(self, name: str) -> list[tuple[float, float]]:
        return [(s.time, s.queues[name]) for s in self.samples if name in s.queues]

    def redis_memory_peak(self) -> int | None:
        values = [s.redis_used_memory for s in self.samples if s.redis_used_memory is not None]
        return max(values) if values else None

    def peak_rss_by_group(self) -> dict[str, dict[str, Any]]:
        """Per group: the largest single process's peak RSS (MiB) and every process's."""
        groups: dict[str, dict[str, Any]] = {}
        for pid, (group, command, rss) in sorted(self.peak_rss.items()):
            entry = groups.setdefault(group, {"max_mib": 0.0, "processes": []})
            mib = rss / 2**20
            entry["max_mib"] = max(entry["max_mib"], mib)
            entry["processes"].append({"pid": pid, "command": command, "peak_mib": round(mib, 1)})
        return groups
