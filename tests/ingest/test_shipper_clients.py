"""Shippers people already run, unmodified, against a real gunicorn ingest: rsyslog's
omelasticsearch, the official Elasticsearch client's ``helpers.bulk`` and the OpenTelemetry
SDK's logging handler. What arrives is what ingest stored in Redis, parsed by the parser."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib

from bench.rsyslog import Rsyslog, RsyslogSettings, availability, octet_counted
from logagg.embedded import ServerProcess
from logagg.embedded.process import free_port
from logagg.parser import parse_batch
from logagg.queues import PARSE, job_queue

from .conftest import BASE_ENV
from .servers import running_ingest
from .test_gunicorn_integration import basic_login, call

SHIPPER = ("shipper", "shipper-password-1")
ADMIN_PASSWORD = "admin-password-for-the-shippers"


@pytest.fixture
def ingest(redis_url: str, tmp_path: Path) -> Iterator[str]:
    env = {**BASE_ENV, "REDIS_URL": redis_url, "LOGAGG_ADMIN_PASSWORD": ADMIN_PASSWORD}
    with running_ingest(env, tmp_path / "ingest.log") as base:
        admin = basic_login(base, "admin", ADMIN_PASSWORD)["token"]["access"]
        status, _, body = call(
            f"{base}/auth/register",
            method="POST",
            body=json.dumps({"username": SHIPPER[0], "password": SHIPPER[1]}).encode(),
            headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/json"},
        )
        assert status == 201, body
        yield base


def arrived(redis_url: str) -> list[dict[str, Any]]:
    """The events of every batch ingest stored, as the parser makes them."""
    client = redis_lib.Redis.from_url(redis_url)
    events: list[dict[str, Any]] = []
    for job in job_queue(PARSE, client).get_jobs():
        events.extend(parse_batch(job.args[0])["events"])
    return events


def wait_for(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


class BulkRsyslog(Rsyslog):
    """rsyslogd with TCP in and omelasticsearch out to ingest's bulk endpoint, with Basic."""

    def __init__(self, settings: RsyslogSettings, config: str) -> None:
        super().__init__(settings)
        self.config = config

    def start(self) -> None:
        self.settings.work_dir.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(self.config)
        ServerProcess.start(self)


def rsyslog_to_ingest(work: Path, tcp_port: int, ingest_port: int) -> str:
    return f"""
global(workDirectory="{work}" processInternalMessages="on")
module(load="imtcp")
module(load="omelasticsearch")
template(name="ecs" type="list" option.jsonf="on") {{
  property(outname="@timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="message" name="msg" format="jsonf")
  property(outname="host.hostname" name="hostname" format="jsonf")
}}
input(type="imtcp" address="127.0.0.1" port="{tcp_port}" ruleset="out")
ruleset(name="out") {{
  action(type="omelasticsearch" server="127.0.0.1" serverport="{ingest_port}"
         uid="{SHIPPER[0]}" pwd="{SHIPPER[1]}" searchIndex="syslog-app" searchType=""
         esVersion.major="8" template="ecs" bulkmode="on"
         errorFile="{work / "es-errors.json"}"
         queue.type="LinkedList" queue.dequeueBatchSize="100"
         action.resumeRetryCount="-1" action.resumeInterval="1")
}}
"""


@pytest.mark.integration
def test_rsyslog_omelasticsearch_lines_arrive_once_parsed(
    ingest: str, redis_url: str, tmp_path: Path
) -> None:
    assert availability() is None, availability()
    tcp_port = free_port()
    work = tmp_path / "rsyslog"
    settings = RsyslogSettings(work, tcp_port, "127.0.0.1", 0, "syslog-app")
    ingest_port = int(ingest.rsplit(":", 1)[1])
    rsyslog = BulkRsyslog(settings, rsyslog_to_ingest(work, tcp_port, ingest_port))
    messages = [f"order {n} paid - level=info" for n in range(300)]
    lines = [
        f"<14>Dec  4 10:00:{n % 60:02d} web-1 app[42]: {text}" for n, text in enumerate(messages)
    ]
    rsyslog.start()
    try:
        with socket.create_connection(("127.0.0.1", tcp_port), 5) as connection:
            connection.sendall(octet_counted(lines))
        wait_for(lambda: len(arrived(redis_url)) >= len(messages), "rsyslog's lines")
    finally:
        rsyslog.stop()
    events = arrived(redis_url)
    # rsyslog's `msg` property keeps the space after the syslog tag
    assert sorted(event["message"].removeprefix(" ") for event in events) == sorted(messages)
    assert len(events) == len(messages)
    assert {event["service"]["name"] for event in events} == {SHIPPER[0]}
    assert all(event["@timestamp"].endswith("Z") for event in events)
    assert {event["host"]["hostname"] for event in events} == {"web-1"}
    assert {event["labels"]["data_stream"]["dataset"] for event in events} == {"syslog_app"}
    assert "unparsed" not in {tag for event in events for tag in event.get("tags", [])}
    assert not rsyslog.errors()


@pytest.mark.integration
def test_elasticsearch_client_helpers_bulk(ingest: str, redis_url: str) -> None:
    from elasticsearch import Elasticsearch, helpers

    client = Elasticsearch(ingest, basic_auth=SHIPPER, request_timeout=30)
    assert client.info()["version"]["number"] == "8.17.0"
    actions = (
        {
            "_index": "checkout",
            "_op_type": "create" if n % 2 else "index",
            "message": f"document {n}",
            "log.level": "warning",
            "@timestamp": "2026-12-04T10:00:00Z",
        }
        for n in range(2500)
    )
    success, errors = helpers.bulk(client, actions, chunk_size=1000)
    assert (success, errors) == (2500, [])
    events = arrived(redis_url)
    assert sorted(event["message"] for event in events) == sorted(
        f"document {n}" for n in range(2500)
    )
    assert {event["log"]["level"] for event in events} == {"warning"}
    assert {event["@timestamp"] for event in events} == {"2026-12-04T10:00:00.000Z"}
    assert {event["service"]["name"] for event in events} == {SHIPPER[0]}


@pytest.mark.integration
# the SDK's own handler is what applications run today; its successor is another package
@pytest.mark.filterwarnings("ignore:.*LoggingHandler.*:DeprecationWarning")
def test_opentelemetry_sdk_logging_handler(ingest: str, redis_url: str) -> None:
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    token = basic_login(ingest, *SHIPPER)["token"]["access"]
    provider = LoggerProvider(resource=Resource.create({"service.name": "orders-svc"}))
    exporter = OTLPLogExporter(
        endpoint=f"{ingest}/v1/logs",
        headers={"Authorization": f"Bearer {token}"},
        compression=Compression.Gzip,
        timeout=30,
    )
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    handler = LoggingHandler(level=logging.INFO, logger_provider=provider)
    logger = logging.getLogger("orders.payments")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    tracer = TracerProvider().get_tracer("orders")
    try:
        with tracer.start_as_current_span("pay") as span:
            context = span.get_span_context()
            logger.warning("card declined for order %d", 17, extra={"order_id": 17})
            try:
                raise ValueError("amount must be positive")
            except ValueError:
                logger.exception("payment failed")
        logger.info("outside any span")
        provider.force_flush()
    finally:
        logger.removeHandler(handler)
        provider.shutdown()
    events = {event["message"]: event for event in arrived(redis_url)}
    assert set(events) == {
        "card declined for order 17",
        "payment failed",
        "outside any span",
    }
    declined = events["card declined for order 17"]
    assert declined["log"]["level"] == "warn"
    assert declined["log"]["logger"] == "orders.payments"
    assert declined["service"]["name"] == SHIPPER[0]
    assert declined["labels"]["service.name"] == "orders-svc"
    assert declined["labels"]["order_id"] == 17
    assert declined["trace"]["id"] == format(context.trace_id, "032x")
    assert declined["span"]["id"] == format(context.span_id, "016x")
    failed = events["payment failed"]
    assert failed["log"]["level"] == "error"
    assert failed["error"]["type"] == "ValueError"
    assert "amount must be positive" in failed["error"]["stack_trace"]
    assert "trace" not in events["outside any span"]
