"""OTLP logs export requests to documents, in both encodings, over crafted and hostile input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf import json_format
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue, KeyValueList

from logagg.ingest.otlp_logs import (
    OtlpDecodeError,
    any_value,
    decode_request,
    encode_response,
    encoding_of,
    log_records,
    severity_name,
)

TRACE = "5b8efff798038103d269b633813fc60c"
SPAN = "eee19b7ec3c1b174"


def otlp_json(**record: Any) -> dict[str, Any]:
    """One record as the OTLP JSON encoding writes it (lowerCamelCase, hex ids, string int64)."""
    return {
        "resourceLogs": [
            {
                "resource": {
                    "attributes": [
                        {"key": "service.name", "value": {"stringValue": "checkout"}},
                        {"key": "host.name", "value": {"stringValue": "web-1"}},
                    ]
                },
                "scopeLogs": [
                    {
                        "scope": {"name": "checkout.orders", "version": "1.2"},
                        "logRecords": [record],
                    }
                ],
            }
        ]
    }


def documents(body: dict[str, Any]) -> list[dict[str, Any]]:
    return log_records(decode_request(json.dumps(body).encode(), "json")).documents


def test_json_record_maps_to_ecs_and_labels() -> None:
    (document,) = documents(
        otlp_json(
            timeUnixNano="1764842400123456789",
            severityNumber=17,
            severityText="ERROR",
            traceId=TRACE,
            spanId=SPAN,
            body={"stringValue": "payment refused"},
            attributes=[
                {"key": "exception.type", "value": {"stringValue": "ValueError"}},
                {"key": "code.lineno", "value": {"intValue": "42"}},
                {"key": "order.id", "value": {"intValue": "9007199254740993"}},
                {"key": "message", "value": {"stringValue": "an attribute, not the body"}},
            ],
        )
    )
    assert document["@timestamp"] == "2025-12-04T10:00:00.123456Z"
    assert document["log.level"] == "error"
    assert document["message"] == "payment refused"
    assert document["trace.id"] == TRACE
    assert document["span.id"] == SPAN
    assert document["log.logger"] == "checkout.orders"
    assert document["error.type"] == "ValueError"
    assert document["log.origin.file.line"] == 42
    assert document["order.id"] == 9007199254740993
    assert document["attributes.message"] == "an attribute, not the body"
    # The sender's service.name is kept as a label; the token names the service.
    assert document["service.name"] == "checkout"
    assert document["host.hostname"] == "web-1"


def test_observed_time_stands_in_and_severity_number_gives_the_level() -> None:
    (document,) = documents(
        otlp_json(timeUnixNano="0", observedTimeUnixNano="1764842400000000000", severityNumber=13)
    )
    assert document["@timestamp"] == "2025-12-04T10:00:00.000000Z"
    assert document["log.level"] == "warn"
    assert "message" not in document


def test_structured_bodies_become_json_text() -> None:
    body = {
        "kvlistValue": {
            "values": [
                {
                    "key": "a",
                    "value": {"arrayValue": {"values": [{"intValue": "1"}, {"boolValue": True}]}},
                },
                {"key": "b", "value": {"bytesValue": "AAE="}},
            ]
        }
    }
    (document,) = documents(otlp_json(body=body))
    assert json.loads(document["message"]) == {"a": [1, True], "b": "AAE="}


def test_protobuf_round_trip_and_wrong_length_ids_are_refused_alone() -> None:
    message = ExportLogsServiceRequest()
    scope = message.resource_logs.add().scope_logs.add()
    good = scope.log_records.add()
    good.body.string_value = "fine"
    good.trace_id = bytes.fromhex(TRACE)
    bad = scope.log_records.add()
    bad.body.string_value = "bad trace id"
    bad.trace_id = b"\x01\x02\x03"
    decoded = decode_request(message.SerializeToString(), "protobuf")
    records = log_records(decoded)
    assert [d["message"] for d in records.documents] == ["fine"]
    assert records.rejected == 1
    assert "trace_id" in records.reason
    answer = ExportLogsServiceResponse()
    answer.ParseFromString(encode_response(records.rejected, records.reason, "protobuf"))
    assert answer.partial_success.rejected_log_records == 1
    assert json.loads(encode_response(0, "", "json")) == {}
    assert json.loads(encode_response(2, "why", "json")) == {
        "partialSuccess": {"rejectedLogRecords": "2", "errorMessage": "why"}
    }


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (b"\xff\xff\xff\xff", "protobuf"),
        (b"\x0a\x05abc", "protobuf"),
        (b"not json", "json"),
        (b"[1, 2]", "json"),
        (b'{"resourceLogs": 5}', "json"),
        (b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"traceId": "zz"}]}]}]}', "json"),
        (b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"timeUnixNano": "x"}]}]}]}', "json"),
        (b'{"a": NaN}', "json"),
        (b"[" * 100_000, "json"),
    ],
)
def test_bodies_that_do_not_decode_are_refused(data: bytes, encoding: Any) -> None:
    with pytest.raises(OtlpDecodeError):
        decode_request(data, encoding)


def test_encodings_and_severities() -> None:
    assert encoding_of("application/x-protobuf") == "protobuf"
    assert encoding_of("application/json; charset=utf-8") == "json"
    assert encoding_of("text/plain") is None
    assert encoding_of(None) is None
    assert [severity_name(n) for n in (0, 1, 5, 9, 12, 13, 17, 21, 24, 25)] == [
        None,
        "trace",
        "debug",
        "info",
        "info",
        "warn",
        "error",
        "fatal",
        "fatal",
        None,
    ]


def test_deeply_nested_values_are_bounded() -> None:
    value = AnyValue(string_value="leaf")
    for _ in range(25):
        value = AnyValue(kvlist_value=KeyValueList(values=[KeyValue(key="k", value=value)]))
    converted = any_value(value)
    depth = 0
    while isinstance(converted, dict):
        converted = converted["k"]
        depth += 1
    assert depth <= 16
    assert isinstance(converted, str)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_decode_or_are_refused_cleanly(data: bytes) -> None:
    try:
        message = decode_request(data, "protobuf")
    except OtlpDecodeError:
        return
    records = log_records(message)
    json.dumps(records.documents)
    json_format.MessageToJson(message)
