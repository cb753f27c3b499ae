"""Reading complete lines by offset, and knowing a file again after rotation."""

from __future__ import annotations

import io
import os
from pathlib import Path

from logagg.client.files import (
    FileIdentity,
    find_by_identity,
    fingerprint,
    read_lines,
    resume_offset,
)


def test_only_complete_lines_are_read() -> None:
    handle = io.BytesIO(b"one\ntwo\r\nthree")

    chunk = read_lines(handle, 0, max_lines=10, max_bytes=1000)

    assert (chunk.data, chunk.start, chunk.end, chunk.lines) == (b"one\ntwo\r\n", 0, 9, 2)
    assert read_lines(handle, 9, max_lines=10, max_bytes=1000).lines == 0
    final = read_lines(handle, 9, max_lines=10, max_bytes=1000, final=True)
    assert (final.data, final.end, final.partial) == (b"three\n", 14, True)


def test_batches_stop_at_the_line_and_byte_bounds() -> None:
    handle = io.BytesIO(b"".join(f"line {n}\n".encode() for n in range(10)))

    by_lines = read_lines(handle, 0, max_lines=3, max_bytes=1000)
    assert by_lines.data == b"line 0\nline 1\nline 2\n"
    by_bytes = read_lines(handle, by_lines.end, max_lines=100, max_bytes=15)
    assert by_bytes.data == b"line 3\nline 4\n"
    assert by_bytes.end == by_lines.end + 14


def test_a_line_longer_than_the_byte_bound_is_cut_and_its_rest_skipped() -> None:
    handle = io.BytesIO(b"x" * 50 + b"\nnext\n")

    chunk = read_lines(handle, 0, max_lines=10, max_bytes=20)

    assert (chunk.data, chunk.end, chunk.cut) == (b"x" * 20 + b"\n", 51, 1)
    assert read_lines(handle, chunk.end, max_lines=10, max_bytes=20).data == b"next\n"
    unfinished = io.BytesIO(b"y" * 50)
    assert read_lines(unfinished, 0, max_lines=10, max_bytes=20).lines == 0


def test_resume_offset_starts_over_on_truncation_or_other_content() -> None:
    original = b"first line\nsecond line\n"
    saved = fingerprint(io.BytesIO(original), 11)

    assert resume_offset(io.BytesIO(original + b"third\n"), 29, 23, saved, 11) == 23
    assert resume_offset(io.BytesIO(b"first line\n"), 11, 23, saved, 11) == 0  # truncated
    rewritten = b"other line\nsecond line\nmore\n"
    assert resume_offset(io.BytesIO(rewritten), len(rewritten), 23, saved, 11) == 0


def test_a_renamed_file_is_found_by_its_identity(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("a\n")
    identity = FileIdentity.of(os.stat(log))
    log.rename(tmp_path / "app.log.1")
    log.write_text("b\n")

    assert FileIdentity.of(os.stat(log)) != identity
    assert find_by_identity(str(tmp_path), identity) == str(tmp_path / "app.log.1")
    (tmp_path / "app.log.1").unlink()
    assert find_by_identity(str(tmp_path), identity) is None
