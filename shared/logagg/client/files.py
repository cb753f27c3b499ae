"""Reading log files by byte offset: complete lines only, files known by identity.

A file is known by its device and inode (it keeps them when renamed, a new file at the
same path has others) and by a fingerprint of its first bytes (which tells a file that
was truncated and rewritten, or a new file that reuses a freed inode, from the one
whose offset was saved).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from typing import BinaryIO

FINGERPRINT_BYTES = 1024
_READ_BLOCK = 64 * 1024


@dataclasses.dataclass(frozen=True, slots=True)
class FileIdentity:
    device: int
    inode: int

    @classmethod
    def of(cls, stat: os.stat_result) -> FileIdentity:
        return cls(stat.st_dev, stat.st_ino)

    def __str__(self) -> str:
        return f"{self.device}:{self.inode}"


@dataclasses.dataclass(frozen=True, slots=True)
class Chunk:
    """Lines read from ``start``: ``data`` ends with a newline, ``end`` is the offset after
    what was consumed (past the skipped rest of a cut line), ``cut`` counts lines cut at
    the length bound, ``partial`` whether the last line had no newline in the file."""

    data: bytes
    start: int
    end: int
    lines: int
    cut: int = 0
    partial: bool = False


def read_lines(
    handle: BinaryIO,
    offset: int,
    *,
    max_lines: int,
    max_bytes: int,
    final: bool = False,
) -> Chunk:
    """The complete lines after ``offset``: at most ``max_lines`` lines and ``max_bytes``
    bytes, at least one line if there is one.

    A line longer than ``max_bytes`` is sent cut to ``max_bytes`` (ingest cuts and tags
    long lines anyway) and the rest of it is skipped. A last line without a newline is
    left for later unless ``final`` (the file is known to be complete).
    """
    handle.seek(offset)
    data = handle.read(max_bytes)
    position = 0
    lines = 0
    while lines < max_lines:
        newline = data.find(b"\n", position)
        if newline < 0:
            break
        position = newline + 1
        lines += 1
    if lines:
        return Chunk(data[:position], offset, offset + position, lines)
    if len(data) >= max_bytes:
        # one line longer than the bound: send its head, skip to its end
        rest_end = _next_line_start(handle, offset + len(data))
        if rest_end is None and not final:
            return Chunk(b"", offset, offset, 0)
        end = rest_end if rest_end is not None else handle.seek(0, os.SEEK_END)
        return Chunk(data + b"\n", offset, end, 1, cut=1)
    if final and data:
        return Chunk(data + b"\n", offset, offset + len(data), 1, partial=True)
    return Chunk(b"", offset, offset, 0)


def _next_line_start(handle: BinaryIO, position: int) -> int | None:
    """The offset after the next newline at or after ``position``; ``None`` at EOF first."""
    handle.seek(position)
    while True:
        block = handle.read(_READ_BLOCK)
        if not block:
            return None
        newline = block.find(b"\n")
        if newline >= 0:
            return position + newline + 1
        position += len(block)


def fingerprint(handle: BinaryIO, length: int) -> str:
    """SHA-256 of the first ``length`` bytes (at most :data:`FINGERPRINT_BYTES`)."""
    handle.seek(0)
    return hashlib.sha256(handle.read(min(length, FINGERPRINT_BYTES))).hexdigest()


def resume_offset(
    handle: BinaryIO, size: int, saved_offset: int, saved_fingerprint: str, fingerprint_length: int
) -> int:
    """Where to go on in a file whose offset was saved: the saved offset if the file still
    starts with the same bytes and is at least that long, else 0 (truncated or replaced)."""
    if saved_offset > size or fingerprint_length > size:
        return 0
    if fingerprint(handle, fingerprint_length) != saved_fingerprint:
        return 0
    return saved_offset


def find_by_identity(directory: str, identity: FileIdentity) -> str | None:
    """The path in ``directory`` of the file with ``identity`` (e.g. ``app.log`` renamed
    to ``app.log.1`` by a rotation), if it is still there."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return None
    for entry in entries:
        try:
            stat = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if FileIdentity.of(stat) == identity and entry.is_file(follow_symlinks=False):
            return entry.path
    return None
