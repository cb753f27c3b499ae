"""OTLP/HTTP logs: an ``ExportLogsServiceRequest`` to one structured document per record.

Pure functions; the decoding is ``opentelemetry-proto``'s, in either of the encodings the
OTLP specification allows (binary protobuf, or its JSON mapping). A document holds the
keys the parser's structured path reads (``@timestamp``, ``log.level``, ``message``,
``log.logger``), the ECS fields with a clear semantic-convention counterpart, and every
other attribute under its own name, which the parser keeps under ``labels``.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Final, Literal

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsPartialSuccess,
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord

from logagg.errors import LogaggError

Encoding = Literal["protobuf", "json"]

PROTOBUF_TYPE: Final = "application/x-protobuf"
JSON_TYPE: Final = "application/json"

# Semantic-convention attribute names (old and current spellings) with an ECS field.
ECS_ATTRIBUTES: Final = {
    "exception.type": "error.type",
    "exception.message": "error.message",
    "exception.stacktrace": "error.stack_trace",
    "code.function": "log.origin.function",
    "code.function.name": "log.origin.function",
    "code.filepath": "log.origin.file.name",
    "code.file.path": "log.origin.file.name",
    "code.lineno": "log.origin.file.line",
    "code.line.number": "log.origin.file.line",
    "thread.name": "process.thread.name",
}
RESOURCE_ECS_ATTRIBUTES: Final = {
    "host.name": "host.hostname",
    "service.version": "service.version",
}
# Keys the parser's structured path reads as ECS: an attribute of one of these names is
# kept under `attributes.<name>` so that it can neither become the record's time, level
# or message nor displace what the record's own fields say.
_RESERVED: Final = frozenset(
    {
        "@timestamp",
        "timestamp",
        "time",
        "ts",
        "level",
        "severity",
        "lvl",
        "log.level",
        "message",
        "msg",
        "logger",
        "log.logger",
        "logger_name",
        "thread",
        "thread_name",
        "log",
        "trace.id",
        "span.id",
        *ECS_ATTRIBUTES.values(),
        *RESOURCE_ECS_ATTRIBUTES.values(),
    }
)
# OTLP severity numbers 1-24 in groups of four (logs data model, "SeverityNumber").
_SEVERITY_NAMES: Final = ("trace", "debug", "info", "warn", "error", "fatal")
_TRACE_ID_BYTES: Final = 16
_SPAN_ID_BYTES: Final = 8
_MAX_DEPTH: Final = 16


class OtlpDecodeError(LogaggError):
    """A body that is not an ``ExportLogsServiceRequest`` in the announced encoding."""


@dataclasses.dataclass(slots=True)
class LogRecords:
    """The documents of the accepted records, and how many were refused and why."""

    documents: list[dict[str, Any]]
    rejected: int = 0
    reason: str = ""


def encoding_of(content_type: str | None) -> Encoding | None:
    """The OTLP encoding a ``Content-Type`` announces, or None for any other type."""
    mimetype = (content_type or "").split(";", 1)[0].strip().lower()
    if mimetype == PROTOBUF_TYPE:
        return "protobuf"
    if mimetype == JSON_TYPE:
        return "json"
    return None


def decode_request(data: bytes, encoding: Encoding) -> ExportLogsServiceRequest:
    """``data`` as an ``ExportLogsServiceRequest``; :class:`OtlpDecodeError` if it is not.

    The JSON mapping of OTLP writes trace and span ids as hex where protobuf's JSON reads
    base64; they are converted before the message is parsed.
    """
    message = ExportLogsServiceRequest()
    try:
        if encoding == "protobuf":
            message.ParseFromString(data)
        else:
            document = json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
            if not isinstance(document, dict):
                raise OtlpDecodeError("an OTLP JSON body must be an object")
            _hex_ids_to_base64(document)
            json_format.ParseDict(document, message, ignore_unknown_fields=True)
    except OtlpDecodeError:
        raise
    except (DecodeError, json_format.ParseError, ValueError, RecursionError) as error:
        raise OtlpDecodeError(f"not an OTLP logs export request: {error}") from error
    return message


def log_records(message: ExportLogsServiceRequest) -> LogRecords:
    """One document per log record of ``message``, in order.

    A record whose trace or span id has the wrong length is refused (and counted for the
    answer's ``partial_success``); every other record is kept.
    """
    result = LogRecords([])
    for resource_logs in message.resource_logs:
        resource = _resource_fields(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            scope = _scope_fields(scope_logs.scope.name, scope_logs.scope.version)
            for record in scope_logs.log_records:
                problem = _id_problem(record)
                if problem is not None:
                    result.rejected += 1
                    result.reason = problem
                    continue
                result.documents.append(_document(record, resource, scope))
    return result


def encode_response(rejected: int, reason: str, encoding: Encoding) -> bytes:
    """The ``ExportLogsServiceResponse``, with ``partial_success`` when records were refused."""
    response = ExportLogsServiceResponse()
    if rejected:
        response.partial_success.CopyFrom(
            ExportLogsPartialSuccess(rejected_log_records=rejected, error_message=reason)
        )
    if encoding == "protobuf":
        return response.SerializeToString()
    return json_format.MessageToJson(response, indent=None).encode()


def any_value(value: AnyValue, depth: int = 0) -> Any:
    """An OTLP ``AnyValue`` as a JSON value (bytes as base64, nesting bounded)."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "int_value":
        return value.int_value
    if kind == "double_value":
        number = value.double_value
        return number if number == number and abs(number) != float("inf") else None
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    if depth >= _MAX_DEPTH:
        return json_format.MessageToJson(value, indent=None)[:1000]
    if kind == "array_value":
        return [any_value(item, depth + 1) for item in value.array_value.values]
    return {item.key: any_value(item.value, depth + 1) for item in value.kvlist_value.values}


def severity_name(number: int) -> str | None:
    """The ``log.level`` of an OTLP severity number (1-24), None when unspecified."""
    if 1 <= number <= 24:
        return _SEVERITY_NAMES[(number - 1) // 4]
    return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _hex_ids_to_base64(document: dict[str, Any]) -> None:
    for resource_logs in _objects(document.get("resourceLogs", document.get("resource_logs"))):
        for scope_logs in _objects(resource_logs.get("scopeLogs", resource_logs.get("scope_logs"))):
            for record in _objects(scope_logs.get("logRecords", scope_logs.get("log_records"))):
                for key in ("traceId", "trace_id", "spanId", "span_id"):
                    value = record.get(key)
                    if isinstance(value, str) and value:
                        try:
                            record[key] = base64.b64encode(bytes.fromhex(value)).decode()
                        except ValueError as error:
                            raise OtlpDecodeError(f"{key} is not hex: {value[:64]!r}") from error


def _objects(value: Any) -> Iterable[dict[str, Any]]:
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def _resource_fields(attributes: Iterable[KeyValue]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for attribute in attributes:
        value = any_value(attribute.value)
        key = RESOURCE_ECS_ATTRIBUTES.get(attribute.key)
        if key is not None:
            fields[key] = value
        else:
            # service.name included: the token, not the sender, names the service.
            fields[_label_key(attribute.key)] = value
    return fields


def _scope_fields(name: str, version: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if name:
        fields["log.logger"] = name
    if version:
        fields["otel.scope.version"] = version
    return fields


def _id_problem(record: LogRecord) -> str | None:
    if record.trace_id and len(record.trace_id) != _TRACE_ID_BYTES:
        return f"trace_id must be {_TRACE_ID_BYTES} bytes, not {len(record.trace_id)}"
    if record.span_id and len(record.span_id) != _SPAN_ID_BYTES:
        return f"span_id must be {_SPAN_ID_BYTES} bytes, not {len(record.span_id)}"
    return None


def _document(record: LogRecord, resource: dict[str, Any], scope: dict[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    nanos = record.time_unix_nano or record.observed_time_unix_nano
    stamp = _rfc3339(nanos) if nanos else None
    if stamp is not None:
        document["@timestamp"] = stamp
    level = record.severity_text.strip().lower() or severity_name(record.severity_number)
    if level:
        document["log.level"] = level
    body = any_value(record.body)
    if isinstance(body, str):
        document["message"] = body
    elif body is not None:
        document["message"] = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    if record.trace_id.strip(b"\x00"):
        document["trace.id"] = record.trace_id.hex()
    if record.span_id.strip(b"\x00"):
        document["span.id"] = record.span_id.hex()
    document.update(scope)
    if record.severity_number:
        document["otel.severity_number"] = record.severity_number
    if record.event_name:
        document["event.action"] = record.event_name
    for attribute in record.attributes:
        key = ECS_ATTRIBUTES.get(attribute.key)
        value = any_value(attribute.value)
        document[key if key is not None else _label_key(attribute.key)] = value
    for key, value in resource.items():
        document.setdefault(key, value)
    return document


def _label_key(name: str) -> str:
    name = name or "_"
    return f"attributes.{name}" if name in _RESERVED else name


def _rfc3339(nanos: int) -> str | None:
    seconds, remainder = divmod(nanos, 1_000_000_000)
    second = _second(seconds)
    return None if second is None else f"{second}.{remainder // 1000:06d}Z"


# The records of one export share a handful of seconds; formatting one costs microseconds.
@functools.lru_cache(maxsize=4096)
def _second(seconds: int) -> str | None:
    try:
        moment = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None  # beyond what a date can hold: the parser stamps the receive time
    return f"{moment:%Y-%m-%dT%H:%M:%S}"
