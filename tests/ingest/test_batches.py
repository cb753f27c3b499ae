"""Cutting lines into batches and building their payloads."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from logagg.ingest.batches import (
    BatchLimits,
    Sender,
    batch_bounds,
    build_batches,
    new_request_id,
)
from logagg.ingest.bodies import DecodedLines


def test_bounds_by_line_count() -> None:
    assert batch_bounds([1] * 5, BatchLimits(max_lines=2, max_bytes=100)) == [
        (0, 2),
        (2, 4),
        (4, 5),
    ]


def test_bounds_by_bytes_and_oversized_line_alone() -> None:
    sizes = [40, 40, 40, 500, 10]
    assert batch_bounds(sizes, BatchLimits(max_lines=100, max_bytes=100)) == [
        (0, 2),
        (2, 3),
        (3, 4),
        (4, 5),
    ]


def test_no_lines_no_batches() -> None:
    assert batch_bounds([], BatchLimits(max_lines=10, max_bytes=10)) == []


def test_build_batches_maps_marks_to_local_positions() -> None:
    decoded = DecodedLines(
        "text",
        lines=["a", "b", "c", "d", "e"],
        sizes=[1] * 5,
        truncated=[1, 3],
        invalid_utf8=[4],
    )
    sender = Sender("svc", "10.0.0.1", "2026-11-28T00:52:52.123Z")
    batches = build_batches("req1", decoded, sender, BatchLimits(max_lines=2, max_bytes=100))
    assert [b["batch_id"] for b in batches] == ["req1-0", "req1-1", "req1-2"]
    assert [b["lines"] for b in batches] == [["a", "b"], ["c", "d"], ["e"]]
    assert [b["truncated"] for b in batches] == [[1], [1], []]
    assert [b["invalid_utf8"] for b in batches] == [[], [], [0]]
    assert all(b["service"] == "svc" and b["request_id"] == "req1" for b in batches)
    assert all(b["content_kind"] == "text" for b in batches)


def test_request_ids_are_url_safe_and_unique() -> None:
    ids = {new_request_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{27}", i) for i in ids)


@given(
    sizes=st.lists(st.integers(min_value=0, max_value=300), max_size=60),
    max_lines=st.integers(min_value=1, max_value=20),
    max_bytes=st.integers(min_value=1, max_value=600),
)
def test_bounds_cover_every_line_in_order_within_limits(
    sizes: list[int], max_lines: int, max_bytes: int
) -> None:
    bounds = batch_bounds(sizes, BatchLimits(max_lines=max_lines, max_bytes=max_bytes))
    covered = [index for start, end in bounds for index in range(start, end)]
    assert covered == list(range(len(sizes)))
    for start, end in bounds:
        assert end - start <= max_lines
        assert end - start == 1 or sum(sizes[start:end]) <= max_bytes
