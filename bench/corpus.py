"""The Loghub samples as the benchmarks send them: lines, 1,000-line batches and bodies.

Eight real systems' logs (``../shared/corpus/loghub/<system>/<system>_2k.log``, 2,000
lines each), so a load mixes formats as many services would: each system is one
service, each 1,000-line chunk of its file one request body.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from logagg.queues import RawBatch

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / ".." / "shared" / "corpus" / "loghub"
SYSTEMS = ("Apache", "HDFS", "Hadoop", "Linux", "OpenSSH", "OpenStack", "Spark", "Zookeeper")
BATCH_LINES = 1_000


def system_lines(system: str) -> list[str]:
    """The lines of one system's sample, as ``str.splitlines`` cuts them."""
    path = CORPUS / system / f"{system}_2k.log"
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def corpus_batches(shuffle: bool = False) -> list[RawBatch]:
    """The corpus as 1,000-line RawBatches (one system each unless ``shuffle``)."""
    lines = [line for system in SYSTEMS for line in system_lines(system)]
    if shuffle:
        random.Random(7).shuffle(lines)
    received = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return [
        {
            "batch_id": f"bench-{'s' if shuffle else 'o'}-{start // BATCH_LINES}",
            "service": "bench",
            "source_ip": "10.0.0.1",
            "received_at": received,
            "content_kind": "text",
            "lines": list(lines[start : start + BATCH_LINES]),
            "truncated": [],
            "invalid_utf8": [],
        }
        for start in range(0, len(lines), BATCH_LINES)
    ]


@dataclass(frozen=True, slots=True)
class Body:
    """One request body: a 1,000-line chunk of one system's sample, sent as that service."""

    index: int
    system: str
    lines: tuple[str, ...]

    @property
    def payload(self) -> bytes:
        """``text/plain``, one line per event, LF-terminated."""
        return ("\n".join(self.lines) + "\n").encode()


def corpus_bodies() -> list[Body]:
    """Every system's sample cut into 1,000-line bodies, systems interleaved."""
    chunks = {
        system: [
            tuple(lines[start : start + BATCH_LINES]) for start in range(0, len(lines), BATCH_LINES)
        ]
        for system in SYSTEMS
        for lines in [[line for line in system_lines(system) if line.strip()]]
    }
    bodies = []
    for round_number in range(max(len(c) for c in chunks.values())):
        for system in SYSTEMS:
            if round_number < len(chunks[system]):
                bodies.append(Body(len(bodies), system, chunks[system][round_number]))
    return bodies
