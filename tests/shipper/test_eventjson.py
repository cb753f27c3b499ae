"""JSON on the hot path: orjson where it can, the standard library where it cannot."""

from __future__ import annotations

import json

from logagg.eventjson import dumps

from .events import make_batch


def test_dumps_is_compact_json_that_reads_back() -> None:
    event = make_batch("b", 1)["events"][0]
    event["message"] = "naïve – “quoted” \u2028 line"
    assert json.loads(dumps(event)) == event
    assert b", " not in dumps({"a": 1, "b": [1, 2]})


def test_integers_beyond_64_bits_still_encode() -> None:
    assert json.loads(dumps({"labels": {"big": 10**30}})) == {"labels": {"big": 10**30}}
