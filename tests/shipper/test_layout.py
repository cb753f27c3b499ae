"""Where events go: data streams or daily indices, chosen by the event's own time."""

from __future__ import annotations

import pytest

from logagg.shipper.elasticsearch.layout import Layout, dataset_of, target_index

from .events import make_event


@pytest.mark.parametrize(
    ("dataset", "expected"),
    [
        ("app.log", "app.log"),
        ("HTTP.Access", "http.access"),
        ("my-dataset", "my_dataset"),
        ("a b/c*d", "a_b_c_d"),
        ("", "generic"),
        (None, "generic"),
        ("..", "generic"),
    ],
)
def test_dataset_is_safe_for_an_index_name(dataset: str | None, expected: str) -> None:
    event = make_event("b", 0)
    event["event"]["dataset"] = dataset
    assert dataset_of(event) == expected


def test_daily_index_follows_the_event_date_in_utc() -> None:
    late = make_event("b", 0, at="2025-04-18T23:59:59.999Z")
    ahead = make_event("b", 1, at="2025-04-19T01:30:00+02:00")  # 23:30 UTC the day before
    assert target_index(late, Layout.DAILY, "prod") == "logs-app.log-prod-2025.04.18"
    assert target_index(ahead, Layout.DAILY, "prod") == "logs-app.log-prod-2025.04.18"
    assert target_index(late, Layout.DATA_STREAM, "prod") == "logs-app.log-prod"


def test_an_undated_event_falls_back_to_ingested_then_to_undated() -> None:
    event = make_event("b", 0, at="not a time")
    assert target_index(event, Layout.DAILY, "p") == "logs-app.log-p-2025.04.18"
    del event["event"]["ingested"]
    assert target_index(event, Layout.DAILY, "p") == "logs-app.log-p-undated"
