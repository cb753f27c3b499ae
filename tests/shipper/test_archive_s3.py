"""How S3 answers are read, on a stubbed client (no network)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from logagg.shipper.archive.objects import ArchiveObject
from logagg.shipper.archive.s3 import S3ObjectStore
from logagg.shipper.errors import ArchiveWriteFailed, SinkUnavailable


def stubbed() -> tuple[S3ObjectStore, Stubber]:
    client = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    return S3ObjectStore(client, "bucket"), Stubber(client)


@pytest.mark.parametrize(
    ("code", "status", "message"),
    [
        ("403", 403, "refused the credentials"),
        ("InvalidAccessKeyId", 403, "refused the credentials"),
        ("404", 404, "does not exist"),
    ],
)
def test_check_names_the_problem(code: str, status: int, message: str) -> None:
    store, stub = stubbed()
    stub.add_client_error("head_bucket", service_error_code=code, http_status_code=status)
    with stub, pytest.raises(SinkUnavailable, match=message):
        store.check()


def test_a_failed_put_is_transient_with_a_short_reason() -> None:
    store, stub = stubbed()
    stub.add_client_error("put_object", service_error_code="SlowDown", http_status_code=503)
    with stub, pytest.raises(ArchiveWriteFailed) as raised:
        store.put(ArchiveObject("logs/a.ndjson.gz", b"x", 1, "b"))
    assert raised.value.reason == "s3:SlowDown"
