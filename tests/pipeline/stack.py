"""The whole pipeline as ``make run`` starts it, as separate processes, for tests.

Ingest (gunicorn), parser workers and one shipper per sink, each a ``logagg`` process
planned by :func:`logagg.stack.plan_services` and run by :class:`logagg.stack.ServiceProcess`,
pointed at servers the caller gives. Elasticsearch indices and templates live in a
namespace and prefix of their own, removed at the end; the archive goes to a bucket of
its own.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from elasticsearch import ApiError, Elasticsearch

from logagg.elasticsearch_client import connect_elasticsearch
from logagg.embedded import free_port
from logagg.settings import ElasticsearchSettings
from logagg.stack import ServiceProcess, ServiceSpec, StackSettings, plan_services

from .api import call, login

ADMIN = ("admin", "pipeline-admin-password")
WRITER_PASSWORD = "pipeline-writer-password"
JWT_SECRET = "pipeline-test-secret-0123456789abcdefghijklmnopqrstuvwxyz"
DELIVERY_TIMEOUT = 120.0
START_TIMEOUT = 60.0
WORKER_STOP_TIMEOUT = 60.0


@dataclasses.dataclass(frozen=True)
class Pipeline:
    """The running services and clients to look into the sinks."""

    base_url: str
    redis_url: str
    namespace: str
    bucket: str
    es: Elasticsearch
    s3: Any
    services: list[ServiceProcess]
    # archive objects already read, by key and ETag (a rewrite changes the ETag)
    _objects: dict[tuple[str, str], list[dict[str, Any]]] = dataclasses.field(default_factory=dict)

    @property
    def index_pattern(self) -> str:
        return f"logs-*-{self.namespace}*"

    def admin_token(self) -> str:
        return login(self.base_url, *ADMIN)

    def diagnostics(self) -> str:
        """Which services died, and the end of every service's log."""
        parts = []
        for service in self.services:
            process = service.process
            if process is None:
                state = "not started"
            elif process.poll() is None:
                state = "running"
            else:
                state = f"exited with {process.returncode}"
            try:
                tail = service.log_path.read_text(errors="replace").splitlines()[-15:]
            except FileNotFoundError:
                tail = ["(no log)"]
            parts.append(f"--- {service.spec.name} ({state})\n" + "\n".join(tail))
        return "\n".join(parts)

    def wait_for(self, check: Callable[[], bool], what: str) -> None:
        """Poll ``check`` until it holds; fail with the services' logs after the deadline."""
        deadline = time.monotonic() + DELIVERY_TIMEOUT
        delay = 0.1
        while not check():
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{what}: not after {DELIVERY_TIMEOUT:.0f}s\n{self.diagnostics()}",
                    pytrace=False,
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)

    # -- Elasticsearch -----------------------------------------------------------------
    def count(self, **filters: str | None) -> int:
        """Indexed events matching every ``field=value`` (``None``: the field is absent)."""
        self.es.indices.refresh(index=self.index_pattern)
        must = [
            {"term": {field.replace("__", "."): value}}
            for field, value in filters.items()
            if value is not None
        ]
        must_not = [
            {"exists": {"field": field.replace("__", ".")}}
            for field, value in filters.items()
            if value is None
        ]
        answer = self.es.count(
            index=self.index_pattern, query={"bool": {"filter": must, "must_not": must_not}}
        )
        return int(answer["count"])

    def counts_by_service(self) -> dict[str, int]:
        """How many events of each ``service.name`` are indexed (one refresh, one query)."""
        self.es.indices.refresh(index=self.index_pattern)
        answer = self.es.search(
            index=self.index_pattern,
            size=0,
            aggs={"services": {"terms": {"field": "service.name", "size": 100}}},
        )
        buckets = answer.get("aggregations", {}).get("services", {}).get("buckets", [])
        return {bucket["key"]: int(bucket["doc_count"]) for bucket in buckets}

    def wait_indexed(self, expected: dict[str, int]) -> None:
        """Wait until at least ``expected`` events of each service are indexed."""

        def done() -> bool:
            try:
                found = self.counts_by_service()
            except ApiError as error:
                # a daily index the shipper just created has no started shard yet
                if error.meta.status == 503:
                    return False
                raise
            return all(found.get(service, 0) >= count for service, count in expected.items())

        self.wait_for(done, f"indexed events per service {expected}")

    def wait_archived(self, expected: dict[str, int]) -> None:
        """Wait until at least ``expected`` events of each service are archived."""

        def done() -> bool:
            return all(len(self.archived(service)) >= n for service, n in expected.items())

        self.wait_for(done, f"archived events per service {expected}")

    def indexed(self, service: str) -> list[dict[str, Any]]:
        """Every indexed event of ``service`` (``_source``), at most 10,000."""
        self.es.indices.refresh(index=self.index_pattern)
        answer = self.es.search(
            index=self.index_pattern,
            query={"term": {"service.name": service}},
            size=10_000,
        )
        return [hit["_source"] | {"_id": hit["_id"]} for hit in answer["hits"]["hits"]]

    # -- the archive -------------------------------------------------------------------
    def archived(self, service: str) -> list[dict[str, Any]]:
        """Every archived event of ``service``, from all its gzip NDJSON objects."""
        events: list[dict[str, Any]] = []
        paginator = self.s3.get_paginator("list_objects_v2")
        prefix = f"logs/service={service}/"
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                seen = (item["Key"], item["ETag"])
                if seen not in self._objects:
                    got = self.s3.get_object(Bucket=self.bucket, Key=item["Key"])
                    lines = gzip.decompress(got["Body"].read()).decode().splitlines()
                    self._objects[seen] = [
                        json.loads(line) | {"_key": item["Key"]} for line in lines
                    ]
                events += self._objects[seen]
        return events


def _wait_ready(base_url: str, ingest: ServiceProcess) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        process = ingest.process
        if process is not None and process.poll() is not None:
            log = ingest.log_path.read_text(errors="replace")
            pytest.fail(f"ingest exited with {process.returncode}:\n{log}", pytrace=False)
        try:
            status, _ = call(f"{base_url}/readyz", timeout=2)
            if status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"ingest not ready after {START_TIMEOUT:.0f}s", pytrace=False)
        time.sleep(0.1)


def _cleanup_elasticsearch(es: Elasticsearch, namespace: str, template_prefix: str) -> None:
    quiet = es.options(ignore_status=[400, 404])
    quiet.indices.delete(index=f"logs-*-{namespace}*", expand_wildcards="all")
    for name in (f"{template_prefix}-logs-{namespace}", f"{template_prefix}-logs-daily"):
        quiet.indices.delete_index_template(name=name)
    for part in ("settings", "mappings"):
        quiet.cluster.delete_component_template(name=f"{template_prefix}-logs@{part}")


@contextmanager
def running_pipeline(
    data_dir: Path,
    *,
    redis_url: str,
    elasticsearch_url: str,
    s3_endpoint_url: str,
    services_s3_endpoint_url: str | None = None,
    environment: Mapping[str, str] | None = None,
) -> Iterator[Pipeline]:
    """Ingest, parser and both shippers as separate processes, as ``make run`` starts them.

    Redis must be empty (the admin is bootstrapped with our password). The services reach
    S3 at ``services_s3_endpoint_url`` when given (a proxy, for fault tests), the test at
    ``s3_endpoint_url``; ``environment`` adds to or overrides every service's settings.
    """
    unique = uuid.uuid4().hex[:10]
    namespace = f"e2e{unique}"
    template_prefix = f"logagg-e2e{unique}"
    bucket = f"archive-e2e{unique}"
    log_dir = data_dir / "logs"
    log_dir.mkdir(parents=True)
    port = free_port()

    credentials = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    s3 = boto3.client("s3", endpoint_url=s3_endpoint_url, **{
        "aws_access_key_id": credentials["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": credentials["AWS_SECRET_ACCESS_KEY"],
        "region_name": credentials["AWS_DEFAULT_REGION"],
    })  # fmt: skip
    s3.create_bucket(Bucket=bucket)

    settings = StackSettings.from_env(
        {"LOGAGG_DATA_DIR": str(data_dir), "S3_BUCKET": bucket, "LOGAGG_INGEST_PORT": str(port)}
    )
    specs = plan_services(
        settings,
        redis_url=redis_url,
        elasticsearch_url=elasticsearch_url,
        admin_password=ADMIN[1],
    )
    assert [spec.name for spec in specs] == ["ingest", "parser-0", "shipper-es-0", "shipper-s3-0"]
    assert all("LOGAGG_ARCHIVE_URL" not in spec.env for spec in specs), "the archive is S3"
    # What `make run` inherits from its environment, made explicit for each child.
    common = {
        **credentials,
        "S3_BUCKET": bucket,
        "AWS_ENDPOINT_URL_S3": services_s3_endpoint_url or s3_endpoint_url,
        "LOGAGG_S3_PATH_STYLE": "true",
        "LOGAGG_INGEST_HOST": "127.0.0.1",
        "LOGAGG_JWT_SECRET": JWT_SECRET,
        "LOGAGG_ARGON2_TIME_COST": "1",
        "LOGAGG_ARGON2_MEMORY": "8KiB",
        "LOGAGG_ARGON2_PARALLELISM": "1",
        "LOGAGG_ES_NAMESPACE": namespace,
        "LOGAGG_ES_TEMPLATE_PREFIX": template_prefix,
    }
    overrides = {"LOGAGG_SHIPPER_METRICS_PORT": "0", **(environment or {})}
    services = [
        ServiceProcess(
            ServiceSpec(spec.name, spec.args, {**common, **spec.env, **overrides}), log_dir
        )
        for spec in specs
    ]
    es = connect_elasticsearch(
        ElasticsearchSettings.from_env({"ELASTICSEARCH_URL": elasticsearch_url})
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        for service in services:
            service.start()
        _wait_ready(base_url, services[0])
        yield Pipeline(base_url, redis_url, namespace, bucket, es, s3, services)
    finally:
        # ingest first (no new work), then the workers, which finish the job in hand
        for group in (services[:1], services[1:]):
            for service in group:
                service.terminate()
            for service in group:
                service.wait(WORKER_STOP_TIMEOUT)
        _cleanup_elasticsearch(es, namespace, template_prefix)
        es.close()
