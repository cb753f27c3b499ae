"""The archive sink against the S3 server, and start-up checks."""

from __future__ import annotations

import gzip
import json

import pytest

from logagg.queues import encode_batch
from logagg.s3_client import connect_s3
from logagg.shipper.__main__ import main
from logagg.shipper.errors import SinkUnavailable

from .conftest import MakeRuntime, flush_all
from .events import make_batch

pytestmark = pytest.mark.integration

BUCKET = "logs-archive"


def s3_env(endpoint: str, **extra: str) -> dict[str, str]:
    return {"S3_BUCKET": BUCKET, "AWS_ENDPOINT_URL_S3": endpoint, "LOGAGG_S3_PATH_STYLE": "true",
            "LOGAGG_ARCHIVE_FLUSH_AGE": "1s", **extra}  # fmt: skip


def test_a_batch_becomes_one_object_per_hour_with_its_metadata(
    s3_endpoint_url: str, make_runtime: MakeRuntime
) -> None:
    runtime = make_runtime(**s3_env(s3_endpoint_url, LOGAGG_S3_SSE="aes256"))
    s3 = connect_s3(runtime.settings.s3)
    s3.create_bucket(Bucket=BUCKET)
    batch = make_batch("b1", 6, start="2025-04-18T10:59:57.000Z", step_seconds=1)
    sink = runtime.archive_sink()
    sink.compactor.margin = 0.0  # no Redis is killed here
    sink.ship(encode_batch(batch))
    assert flush_all(sink.compactor) == 2

    listed = s3.list_objects_v2(Bucket=BUCKET)
    keys = [item["Key"] for item in listed["Contents"]]
    assert [key.rsplit("/", 1)[0] for key in keys] == [
        "logs/service=billing/date=2025-04-18/hour=10",
        "logs/service=billing/date=2025-04-18/hour=11",
    ]
    events = []
    for key, expected_count in zip(keys, ["3", "3"], strict=True):
        got = s3.get_object(Bucket=BUCKET, Key=key)
        assert got["ContentType"] == "application/x-ndjson"
        assert got["ContentEncoding"] == "gzip"
        assert got["Metadata"]["event-count"] == expected_count
        assert got["Metadata"]["chunk-count"] == "1"
        assert got["ServerSideEncryption"] == "AES256"
        lines = gzip.decompress(got["Body"].read()).decode().splitlines()
        events += [json.loads(line) for line in lines]
    assert events == batch["events"]


def test_the_same_batch_twice_leaves_one_object(
    s3_endpoint_url: str, make_runtime: MakeRuntime
) -> None:
    runtime = make_runtime(**s3_env(s3_endpoint_url))
    s3 = connect_s3(runtime.settings.s3)
    s3.create_bucket(Bucket=BUCKET)
    batch = make_batch("b2", 40)
    sink = runtime.archive_sink()
    sink.compactor.margin = 0.0
    sink.ship(encode_batch(batch))
    sink.ship(encode_batch(batch))
    assert flush_all(sink.compactor) == 1
    sink.ship(batch)
    assert sink.compactor.step() == 0
    (item,) = s3.list_objects_v2(Bucket=BUCKET)["Contents"]
    body = s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
    assert [json.loads(line) for line in gzip.decompress(body).splitlines()] == batch["events"]


def test_a_missing_bucket_fails_readiness_with_one_clear_message(
    s3_endpoint_url: str,
    make_runtime: MakeRuntime,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    redis_url: str,
) -> None:
    runtime = make_runtime(**s3_env(s3_endpoint_url))
    with pytest.raises(SinkUnavailable, match=f"S3 bucket '{BUCKET}' does not exist"):
        runtime.archive_sink()

    for name, value in s3_env(s3_endpoint_url, REDIS_URL=redis_url).items():
        monkeypatch.setenv(name, value)
    assert main(["s3", "--burst"]) == 1
    err = capsys.readouterr().err
    assert f"not ready: S3 bucket '{BUCKET}' does not exist" in err
    assert "Traceback" not in err
