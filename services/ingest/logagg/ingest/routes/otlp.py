"""``POST /v1/logs``: OTLP/HTTP log export, binary protobuf or JSON, optionally gzip."""

from __future__ import annotations

import orjson
from flask import Blueprint, Response, request

from logagg.ingest.bodies import decode_body
from logagg.ingest.context import current
from logagg.ingest.errors import ApiError
from logagg.ingest.otlp_logs import (
    JSON_TYPE,
    PROTOBUF_TYPE,
    OtlpDecodeError,
    decode_request,
    encode_response,
    encoding_of,
    log_records,
)
from logagg.ingest.routes.writer import (
    BATCH_ID_HEADER,
    now,
    read_body,
    refuse_when_backlogged,
    request_writer,
    store_documents,
)

blueprint = Blueprint("otlp", __name__)


@blueprint.post("/v1/logs")
def export_logs() -> Response:
    """Store every record of the export as a structured line; answer in its encoding."""
    user = request_writer()
    encoding = encoding_of(request.headers.get("Content-Type"))
    if encoding is None:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"OTLP/HTTP bodies are {PROTOBUF_TYPE} or {JSON_TYPE}",
        )
    backlog = refuse_when_backlogged()
    received = now()
    data = read_body()
    try:
        message = decode_request(data, encoding)
    except OtlpDecodeError as error:
        raise ApiError(400, "invalid_body", str(error)) from error
    records = log_records(message)
    # Through the JSON-array reader of POST /log: the same line bound and truncation.
    decoded = decode_body(
        orjson.dumps(records.documents), "json", current().body_limits.max_line_bytes
    )
    stored = store_documents(decoded, user, received, backlog)
    response = Response(
        encode_response(records.rejected, records.reason, encoding),
        status=200,
        content_type=PROTOBUF_TYPE if encoding == "protobuf" else JSON_TYPE,
    )
    if stored.document_ids:
        response.headers[BATCH_ID_HEADER] = stored.request_id
    return response
