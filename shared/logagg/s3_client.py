"""The boto3 S3 client built from :class:`S3Settings`.

Credentials come from boto3's standard chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``,
profiles, instance roles); the endpoint from ``AWS_ENDPOINT_URL_S3`` for any
S3-compatible store (MinIO, moto, Ceph).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from logagg.settings import S3Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def connect_s3(
    settings: S3Settings, *, connect_timeout: float = 5, read_timeout: float = 30
) -> S3Client:
    """Return an S3 client for ``settings`` (no I/O until the first call)."""
    config = Config(
        region_name=settings.region,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"max_attempts": 2, "mode": "standard"},
        s3={"addressing_style": "path" if settings.path_style else "auto"},
    )
    return boto3.client("s3", endpoint_url=settings.endpoint_url, config=config)
