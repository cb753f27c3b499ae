"""The offsets of shipped files, kept on disk across runs (``logagg ship`` and ``tail``).

One JSON file, per destination (user and server), one entry per file keyed by its
absolute path, device and inode: the offset after the last line the server answered
``200`` for, and a fingerprint of the file's first bytes. An offset is only ever saved
after the ``200``, written to a temporary file and renamed over the old one, so an
interrupted run resumes after the last delivered batch. A lock file keeps two commands
from using one state file at once.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

from logagg.client.errors import ClientError
from logagg.client.files import FileIdentity
from logagg.client.paths import state_directory

VERSION = 1
MAX_ENTRIES = 10_000


class StateError(ClientError):
    """The state file is unreadable or in use by another command."""


def default_state_path() -> Path:
    return state_directory() / "offsets.json"


@dataclasses.dataclass(frozen=True, slots=True)
class Entry:
    path: str
    identity: FileIdentity
    offset: int
    fingerprint: str
    fingerprint_length: int
    updated: float

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "device": self.identity.device,
            "inode": self.identity.inode,
            "offset": self.offset,
            "fingerprint": self.fingerprint,
            "fingerprint_length": self.fingerprint_length,
            "updated": self.updated,
        }

    @classmethod
    def from_json(cls, value: Any) -> Entry:
        return cls(
            path=str(value["path"]),
            identity=FileIdentity(int(value["device"]), int(value["inode"])),
            offset=int(value["offset"]),
            fingerprint=str(value["fingerprint"]),
            fingerprint_length=int(value["fingerprint_length"]),
            updated=float(value.get("updated", 0)),
        )


def entry_key(path: str, identity: FileIdentity) -> str:
    return f"{identity}:{path}"


class OffsetStore:
    """The offsets of one destination in the state file at ``path``."""

    def __init__(self, path: str | Path, destination: str) -> None:
        self.path = Path(path)
        self.destination = destination
        self._lock_fd: int | None = None
        self._document: dict[str, Any] = {"version": VERSION, "destinations": {}}

    def open(self) -> OffsetStore:
        """Take the lock and read the file (a missing file is an empty state)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise StateError(f"state {self.path}: {error.strerror or error}") from error
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            os.close(descriptor)
            raise StateError(
                f"state {self.path} is in use by another logagg ship or tail"
            ) from error
        self._lock_fd = descriptor
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return self
        except OSError as error:
            self.close()
            raise StateError(f"state {self.path}: {error.strerror or error}") from error
        try:
            document = json.loads(text)
            if document.get("version") != VERSION or not isinstance(
                document.get("destinations"), dict
            ):
                raise ValueError("unknown layout")
            for entries in document["destinations"].values():
                for value in entries.values():
                    Entry.from_json(value)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            self.close()
            raise StateError(f"state {self.path} is not a logagg state file ({error})") from error
        self._document = document
        return self

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> OffsetStore:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _entries(self) -> dict[str, Any]:
        destinations: dict[str, Any] = self._document["destinations"]
        entries: dict[str, Any] = destinations.setdefault(self.destination, {})
        return entries

    def get(self, path: str, identity: FileIdentity) -> Entry | None:
        value = self._entries().get(entry_key(path, identity))
        return Entry.from_json(value) if value is not None else None

    def entries_for(self, path: str) -> list[Entry]:
        """Every entry saved for ``path`` (a rotated file keeps its entry under the old
        path and inode), newest first."""
        found = [Entry.from_json(value) for value in self._entries().values()]
        return sorted(
            (entry for entry in found if entry.path == path),
            key=lambda entry: entry.updated,
            reverse=True,
        )

    def save(self, entry: Entry) -> None:
        """Record ``entry`` and write the file atomically."""
        entries = self._entries()
        entries[entry_key(entry.path, entry.identity)] = entry.to_json()
        if len(entries) > MAX_ENTRIES:
            oldest = sorted(entries, key=lambda key: entries[key].get("updated", 0))
            for key in oldest[: len(entries) - MAX_ENTRIES]:
                del entries[key]
        self._write()

    def forget(self, path: str, identity: FileIdentity) -> None:
        if self._entries().pop(entry_key(path, identity), None) is not None:
            self._write()

    def _write(self) -> None:
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with temporary.open("w", encoding="utf-8") as out:
                json.dump(self._document, out, indent=1, sort_keys=True)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except OSError as error:
            raise StateError(f"state {self.path}: {error.strerror or error}") from error


def new_entry(
    path: str, identity: FileIdentity, offset: int, fingerprint: str, fingerprint_length: int
) -> Entry:
    return Entry(path, identity, offset, fingerprint, fingerprint_length, time.time())
