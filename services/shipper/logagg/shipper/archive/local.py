"""Archive objects in a local folder (``LOGAGG_ARCHIVE_URL=file:///path``), same keys as S3.

For machines without S3. Each object is written to a temporary file and renamed over its
key, so a reader never sees half an object and a retried batch replaces its own file.
Temporary files start with a dot; listing skips them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from logagg.shipper.archive.objects import ArchiveObject
from logagg.shipper.errors import ArchiveReadFailed, ArchiveWriteFailed, SinkUnavailable


class LocalObjectStore:
    """Writes archive objects under ``root``, the key being the relative path."""

    kind = "file"

    def __init__(self, root: Path) -> None:
        self.root = root

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SinkUnavailable(f"archive folder {self.root} cannot be made: {error}") from error
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise SinkUnavailable(f"archive folder {self.root} is not writable")

    def check_readable(self) -> None:
        if not self.root.is_dir():
            raise SinkUnavailable(f"archive folder {self.root} does not exist")

    def path_of(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"archive key leaves the archive folder: {key!r}")
        return path

    def put(self, obj: ArchiveObject) -> None:
        path = self.path_of(obj.key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".partial")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(obj.body)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as error:
            raise ArchiveWriteFailed(f"file:{type(error).__name__}", str(error)) from error

    def list_children(self, prefix: str) -> list[str]:
        folder = self.path_of(prefix) if prefix else self.root
        try:
            names = [entry.name for entry in folder.iterdir() if entry.is_dir()]
        except FileNotFoundError:
            return []
        except OSError as error:
            raise ArchiveReadFailed(f"cannot list {folder}: {error}") from error
        return sorted(f"{prefix}{name}/" for name in names if not name.startswith("."))

    def list_keys(self, prefix: str) -> Iterator[str]:
        root = self.root.resolve()
        folder = self.path_of(prefix) if prefix else root
        try:
            paths = sorted(path for path in folder.rglob("*") if path.is_file())
        except OSError as error:
            raise ArchiveReadFailed(f"cannot list {folder}: {error}") from error
        for path in paths:
            if not path.name.startswith("."):
                yield path.relative_to(root).as_posix()

    def get(self, key: str) -> bytes:
        path = self.path_of(key)
        try:
            return path.read_bytes()
        except OSError as error:
            raise ArchiveReadFailed(f"cannot read {path}: {error}") from error
