"""JSON on the hot path: orjson where it can, the standard library where it cannot."""

from __future__ import annotations

import json
import math

from rq.serializers import JSONSerializer

from logagg.shipper.encoding import OrjsonSerializer, dumps

from .events import make_batch


def test_dumps_is_compact_json_that_reads_back() -> None:
    event = make_batch("b", 1)["events"][0]
    event["message"] = "naïve – “quoted” \u2028 line"
    assert json.loads(dumps(event)) == event
    assert b", " not in dumps({"a": 1, "b": [1, 2]})


def test_integers_beyond_64_bits_still_encode() -> None:
    assert json.loads(dumps({"labels": {"big": 10**30}})) == {"labels": {"big": 10**30}}


def test_jobs_written_by_rq_json_serializer_read_the_same() -> None:
    job_data = ("logagg.shipper.jobs.ship_to_archive", None, [make_batch("b", 3)], {})
    written = JSONSerializer.dumps(job_data)
    assert OrjsonSerializer.loads(written) == json.loads(written)
    assert JSONSerializer.loads(OrjsonSerializer.dumps(job_data)) == json.loads(written)


def test_nan_written_by_the_standard_library_is_still_read() -> None:
    written = JSONSerializer.dumps({"value": float("nan")})
    assert math.isnan(OrjsonSerializer.loads(written)["value"])
