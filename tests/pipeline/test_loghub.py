"""Every Loghub sample posted over HTTP comes out whole in Elasticsearch and the archive.

Expected events come from the parser library run over the same lines (``parse_lines``):
no sample holds stack-trace continuation lines, so each non-blank line is one event, and
the test checks that too. Levels are the parser's, not a hand-kept table.
"""

from __future__ import annotations

from collections import Counter

import pytest

from logagg.shipper.routing import OUT_OF_BOUNDS_TAG

from .conftest import PostedSample
from .stack import Pipeline

pytestmark = pytest.mark.integration


def expected_counts(posted: dict[str, PostedSample]) -> dict[str, int]:
    return {system: len(sample.expected) for system, sample in posted.items()}


def test_every_line_is_accepted_as_posted(loghub_posted: dict[str, PostedSample]) -> None:
    for system, sample in loghub_posted.items():
        assert sample.answer["accepted"] == len(sample.lines) == 2000, system
        assert sample.answer["truncated"] == 0, system
        # no sample has continuation lines: one event per line
        assert len(sample.expected) == len(sample.lines), system


def test_elasticsearch_holds_every_event_once_by_service(
    pipeline: Pipeline, loghub_posted: dict[str, PostedSample]
) -> None:
    pipeline.wait_indexed(expected_counts(loghub_posted))
    for system, sample in loghub_posted.items():
        assert pipeline.count(service__name=system) == len(sample.expected), system
        indexed = pipeline.indexed(system)
        ids = [event["event"]["id"] for event in indexed]
        assert sorted(ids) == sorted(event["event"]["id"] for event in sample.expected), system
        assert all(event["_id"] == event["event"]["id"] for event in indexed), system
        by_id = {event["event"]["id"]: event for event in indexed}
        for event in sample.expected:
            got = by_id[event["event"]["id"]]
            assert got["message"] == event["message"], system
            assert got["event"]["original"] == event["event"]["original"], system


def test_search_by_service_and_level_finds_the_parsed_levels(
    pipeline: Pipeline, loghub_posted: dict[str, PostedSample]
) -> None:
    pipeline.wait_indexed(expected_counts(loghub_posted))
    for system, sample in loghub_posted.items():
        levels = Counter(event.get("log", {}).get("level") for event in sample.expected)
        found = {level: pipeline.count(service__name=system, log__level=level) for level in levels}
        assert found == dict(levels), system
    # the parser reads each sample's own levels, not one default for all
    assert {
        level
        for sample in loghub_posted.values()
        for level in Counter(event.get("log", {}).get("level") for event in sample.expected)
    } >= {"info", "warn", "error", "notice", "fatal"}


def test_the_archive_holds_the_same_events(
    pipeline: Pipeline, loghub_posted: dict[str, PostedSample]
) -> None:
    pipeline.wait_archived(expected_counts(loghub_posted))
    pipeline.wait_indexed(expected_counts(loghub_posted))
    for system, sample in loghub_posted.items():
        archived = pipeline.archived(system)
        archived_ids = [event["event"]["id"] for event in archived]
        assert len(archived_ids) == len(set(archived_ids)), f"{system}: duplicates in the archive"
        indexed_ids = {event["event"]["id"] for event in pipeline.indexed(system)}
        assert set(archived_ids) == indexed_ids, system
        assert set(archived_ids) == {event["event"]["id"] for event in sample.expected}, system
        for event in archived:
            assert event["service"]["name"] == system
            # keys are partitioned by the event's own date and hour, or by its receive
            # date and hour when its own time is out of bounds (every Loghub sample is
            # years old), and it says so
            stamp = event["@timestamp"]
            if OUT_OF_BOUNDS_TAG in event.get("tags", ()):
                stamp = event["event"]["ingested"]
            assert f"/date={stamp[:10]}/hour={stamp[11:13]}/" in event["_key"], system
