"""Event-time routing: an event far from its receive time goes where it was received."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta

from logagg.queues import ParsedBatch, encode_batch
from logagg.shipper.archive.objects import plan_chunks
from logagg.shipper.elasticsearch.bulk import bulk_items
from logagg.shipper.elasticsearch.layout import Layout, target_index
from logagg.shipper.routing import (
    OUT_OF_BOUNDS_TAG,
    TimeBounds,
    place,
    placement_time,
)

from .events import make_event

RECEIVED = "2026-12-04T21:05:00.000Z"


def received_now(batch_id: str, position: int, at: str) -> dict[str, object]:
    event = make_event(batch_id, position, at=at)
    event["event"]["ingested"] = RECEIVED
    return event


def test_an_event_of_2001_lands_in_the_receive_day_and_hour_tagged() -> None:
    event = received_now("b", 0, "2001-01-01T00:00:00.000Z")
    batch = ParsedBatch(batch_id="b", service="billing", events=[event])
    (item,) = bulk_items(encode_batch(batch), Layout.DAILY, "default")
    assert item.index == "logs-app.log-default-2026.12.04"
    source = json.loads(item.lines.split(b"\n")[1])
    assert source["@timestamp"] == "2001-01-01T00:00:00.000Z"  # the line's time is kept
    assert OUT_OF_BOUNDS_TAG in source["tags"]
    (chunk,) = plan_chunks(encode_batch(batch))
    assert chunk.partition.path == "service=billing/date=2026-12-04/hour=21"
    (archived,) = [json.loads(line) for line in gzip.decompress(chunk.body).splitlines()]
    assert archived == source


def test_a_batch_over_ten_years_opens_at_most_two_indices_and_partitions() -> None:
    events = [
        received_now("b", year - 2016, f"{year}-06-15T12:00:00.000Z") for year in range(2016, 2027)
    ]
    events.append(received_now("b", 99, "2026-11-30T08:00:00.000Z"))  # within 30 days
    batch = ParsedBatch(batch_id="b", service="billing", events=events)
    for form in (batch, encode_batch(batch)):
        indices = {item.index for item in bulk_items(form, Layout.DAILY, "p")}
        assert len(indices) <= 2, indices
        partitions = {chunk.partition for chunk in plan_chunks(form)}
        assert len(partitions) <= 2, partitions
    assert indices == {"logs-app.log-p-2026.12.04", "logs-app.log-p-2026.11.30"}


def test_bounds_are_judged_against_the_receive_time_not_the_clock() -> None:
    bounds = TimeBounds(max_age=timedelta(days=30), max_future=timedelta(days=1))
    assert place("2026-11-05T00:00:00.000Z", RECEIVED, bounds) == ("2026-11-05T00", False)
    assert place("2026-11-04T00:00:00.000Z", RECEIVED, bounds) == ("2026-12-04T21", True)
    assert place("2026-12-05T20:00:00.000Z", RECEIVED, bounds) == ("2026-12-05T20", False)
    assert place("2026-12-06T00:00:00.000Z", RECEIVED, bounds) == ("2026-12-04T21", True)
    # other forms of a time are read too, in UTC
    assert place("2026-12-04T23:30:00+02:00", RECEIVED, bounds) == ("2026-12-04T21", False)
    # no usable own time: the receive time, untagged; no receive time: the own time
    assert place("garbage", RECEIVED, bounds) == ("2026-12-04T21", False)
    assert place("1999-01-01T00:00:00.000Z", None, bounds) == ("1999-01-01T00", False)
    assert place(None, None, bounds) == (None, False)
    shorter = TimeBounds(max_age=timedelta(hours=1), max_future=timedelta(0))
    assert place("2026-12-04T19:00:00.000Z", RECEIVED, shorter).out_of_bounds


def test_a_decoded_event_is_tagged_once_and_placed_again_the_same_way() -> None:
    event = received_now("b", 0, "1970-01-01T00:00:00.000Z")
    first = target_index(event, Layout.DAILY, "p")
    items = bulk_items(ParsedBatch(batch_id="b", service="s", events=[event]), Layout.DAILY, "p")
    again = bulk_items(ParsedBatch(batch_id="b", service="s", events=[event]), Layout.DAILY, "p")
    assert first == items[0].index == again[0].index == "logs-app.log-p-2026.12.04"
    assert event["tags"].count(OUT_OF_BOUNDS_TAG) == 1


def test_replays_read_an_event_back_by_the_time_that_placed_it() -> None:
    event = received_now("b", 0, "2001-01-01T00:00:00.000Z")
    assert placement_time(event).isoformat() == "2001-01-01T00:00:00+00:00"
    event["tags"] = [OUT_OF_BOUNDS_TAG]
    assert placement_time(event).isoformat() == "2026-12-04T21:05:00+00:00"


def test_routes_without_a_receive_time_still_route() -> None:
    event = received_now("b", 0, "2001-01-01T00:00:00.000Z")
    encoded = encode_batch(ParsedBatch(batch_id="b", service="s", events=[event]))
    encoded["routes"] = [route[:3] for route in encoded["routes"]]
    (item,) = bulk_items(encoded, Layout.DAILY, "p")
    assert item.index == "logs-app.log-p-2026.12.04"
