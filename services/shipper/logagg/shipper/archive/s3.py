"""Archive objects in any S3-compatible bucket, through boto3."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from logagg.shipper.archive.objects import CONTENT_ENCODING, CONTENT_TYPE, ArchiveObject
from logagg.shipper.errors import ArchiveReadFailed, ArchiveWriteFailed, SinkUnavailable

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class S3ObjectStore:
    """Writes archive objects to ``bucket``; optional server-side encryption."""

    kind = "s3"

    def __init__(
        self, client: S3Client, bucket: str, *, server_side_encryption: str | None = None
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.server_side_encryption = server_side_encryption

    def check(self) -> None:
        """Fail with one clear message when the bucket is missing or access is refused."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except NoCredentialsError as error:
            raise SinkUnavailable(
                "no AWS credentials found (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile "
                "or an instance role)"
            ) from error
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchBucket", "NotFound"):
                raise SinkUnavailable(f"S3 bucket {self.bucket!r} does not exist") from error
            if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                raise SinkUnavailable(
                    f"S3 refused the credentials for bucket {self.bucket!r} ({code})"
                ) from error
            raise SinkUnavailable(f"S3 bucket {self.bucket!r} is not usable: {error}") from error
        except BotoCoreError as error:
            raise SinkUnavailable(
                f"S3 endpoint is unreachable: {error}", unreachable=True
            ) from error

    def put(self, obj: ArchiveObject) -> None:
        extra: dict[str, Any] = {}
        if self.server_side_encryption:
            extra["ServerSideEncryption"] = self.server_side_encryption
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=obj.key,
                Body=obj.body,
                ContentType=CONTENT_TYPE,
                ContentEncoding=CONTENT_ENCODING,
                Metadata=obj.metadata,
                **extra,
            )
        except ClientError as error:
            # Even a refusal (bucket deleted, key revoked) is retried: an operator fixes
            # those without changing the batch, and retries end in the dead-letter store.
            code = str(error.response.get("Error", {}).get("Code", "ClientError"))
            raise ArchiveWriteFailed(f"s3:{code}", str(error)) from error
        except BotoCoreError as error:
            raise ArchiveWriteFailed(f"s3:{type(error).__name__}", str(error)) from error

    def check_readable(self) -> None:
        self.check()

    def list_children(self, prefix: str) -> list[str]:
        children: list[str] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, Delimiter="/"
            )
            for page in pages:
                children += [p["Prefix"] for p in page.get("CommonPrefixes", []) if "Prefix" in p]
        except (ClientError, BotoCoreError) as error:
            raise ArchiveReadFailed(f"cannot list s3://{self.bucket}/{prefix}: {error}") from error
        return sorted(children)

    def list_keys(self, prefix: str) -> Iterator[str]:
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            for page in pages:
                yield from (item["Key"] for item in page.get("Contents", []) if "Key" in item)
        except (ClientError, BotoCoreError) as error:
            raise ArchiveReadFailed(f"cannot list s3://{self.bucket}/{prefix}: {error}") from error

    def get(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except (ClientError, BotoCoreError) as error:
            raise ArchiveReadFailed(f"cannot read s3://{self.bucket}/{key}: {error}") from error
