"""Batches kept on disk while the server cannot take them, sent oldest first.

One file per batch, holding the body exactly as it will be sent (gzip-compressed), named
``<time ns>-<pid>-<seq>-<records>.<kind>.gz`` so that names sort oldest first and say how
many records and which content type they carry. A file is written under a temporary
name and renamed into place, so a reader never sees half a batch; it is deleted only
after the server's ``200``. The folder's total size is bounded: a batch that would pass
``max_bytes`` is refused (the caller keeps it or counts it dropped).

Several processes may share a folder (e.g. the workers of one application): a file is
claimed with an exclusive ``flock`` and checked to still be the same file before it is
sent, so no two processes send the same batch.
"""

from __future__ import annotations

import dataclasses
import fcntl
import itertools
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CONTENT_TYPES = {"json": "application/json", "ndjson": "application/x-ndjson", "text": "text/plain"}
_KINDS = {value: key for key, value in CONTENT_TYPES.items()}
_SUFFIX = ".gz"
_TEMP_PREFIX = ".tmp-"
_RECOUNT_EVERY = 64


@dataclasses.dataclass(frozen=True, slots=True)
class SpooledBatch:
    """One batch file: where it is, how many records it holds, its content type."""

    path: Path
    records: int
    content_type: str

    def read(self) -> bytes:
        return self.path.read_bytes()


def _parse_name(name: str) -> tuple[int, str] | None:
    if name.startswith(_TEMP_PREFIX) or not name.endswith(_SUFFIX):
        return None
    stem = name[: -len(_SUFFIX)]
    head, _, kind = stem.rpartition(".")
    parts = head.split("-")
    if len(parts) != 4 or kind not in CONTENT_TYPES or not parts[3].isdigit():
        return None
    return int(parts[3]), CONTENT_TYPES[kind]


class Spool:
    """A bounded folder of batch files."""

    def __init__(self, directory: str | Path, max_bytes: int) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self._sequence = itertools.count()
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        # The folder's size as last counted plus what this object wrote and removed since;
        # counted again now and then, as other processes may share the folder.
        self._size: int | None = None
        self._puts = 0

    def batches(self) -> list[SpooledBatch]:
        """The batch files now in the folder, oldest first."""
        found = []
        try:
            entries = sorted(os.scandir(self.directory), key=lambda entry: entry.name)
        except FileNotFoundError:
            return []
        for entry in entries:
            parsed = _parse_name(entry.name)
            if parsed is not None:
                found.append(SpooledBatch(Path(entry.path), *parsed))
        return found

    def size(self) -> int:
        """Bytes of batch files in the folder (what the bound applies to), counted now."""
        total = 0
        for batch in self.batches():
            try:
                total += batch.path.stat().st_size
            except FileNotFoundError:
                continue
        self._size = total
        return total

    def records(self) -> int:
        return sum(batch.records for batch in self.batches())

    def __bool__(self) -> bool:
        return bool(self.batches())

    def put(self, body: bytes, records: int, content_type: str) -> bool:
        """Write a batch; ``False`` (nothing written) when it would pass the bound."""
        self._puts += 1
        known = self._size
        if known is None or self._puts % _RECOUNT_EVERY == 0 or known + len(body) > self.max_bytes:
            known = self.size()
        if known + len(body) > self.max_bytes:
            return False
        kind = _KINDS[content_type.split(";", 1)[0].strip()]
        name = f"{time.time_ns():020d}-{os.getpid()}-{next(self._sequence):06d}-{records}"
        final = self.directory / f"{name}.{kind}{_SUFFIX}"
        temporary = self.directory / f"{_TEMP_PREFIX}{name}"
        with temporary.open("wb") as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, final)
        self._size = known + len(body)
        return True

    @contextmanager
    def claim(self, batch: SpooledBatch) -> Iterator[bytes | None]:
        """Hold ``batch`` for sending: its body, or ``None`` when another process holds it
        or already sent it. Call :meth:`remove` inside the block once it is delivered."""
        try:
            descriptor = os.open(batch.path, os.O_RDONLY)
        except FileNotFoundError:
            yield None
            return
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield None
                return
            try:
                current = os.stat(batch.path)
            except FileNotFoundError:
                yield None
                return
            opened = os.fstat(descriptor)
            if (current.st_dev, current.st_ino) != (opened.st_dev, opened.st_ino):
                yield None
                return
            with os.fdopen(os.dup(descriptor), "rb") as source:
                body = source.read()
            yield body
        finally:
            os.close(descriptor)

    def remove(self, batch: SpooledBatch) -> None:
        try:
            size = batch.path.stat().st_size
            batch.path.unlink()
        except FileNotFoundError:
            return
        if self._size is not None:
            self._size = max(0, self._size - size)
