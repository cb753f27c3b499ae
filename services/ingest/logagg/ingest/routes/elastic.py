"""The Elasticsearch API as shippers' Elasticsearch outputs use it: ``/_bulk`` and the few
calls they make before they send (version banner, license, templates, ILM), answered
harmlessly. Documents go through the pipeline like any ``POST /log`` body.
"""

from __future__ import annotations

import time
import uuid
from typing import Final

from flask import Blueprint, Request, Response, jsonify, request

from logagg.ingest.context import current
from logagg.ingest.elastic_bulk import (
    BulkMediaTypeError,
    bulk_answer,
    check_media_type,
    split_bulk,
)
from logagg.ingest.errors import ApiError
from logagg.ingest.routes import pages
from logagg.ingest.routes.writer import (
    BATCH_ID_HEADER,
    now,
    read_body,
    refuse_when_backlogged,
    request_writer,
    store_documents,
)

blueprint = Blueprint("elastic", __name__)

# The version the official 8.x clients and Beats accept without complaint.
VERSION: Final = "8.17.0"
_CLUSTER_UUID: Final = str(uuid.uuid5(uuid.NAMESPACE_URL, "logagg:ingest"))
BANNER: Final = {
    "name": "logagg-ingest",
    "cluster_name": "logagg",
    "cluster_uuid": _CLUSTER_UUID,
    "version": {
        "number": VERSION,
        "build_flavor": "default",
        "build_type": "tar",
        "build_hash": "2b6a7fed44faa321997703718f07ee0420804b41",
        "build_date": "2024-12-11T12:08:05.663969764Z",
        "build_snapshot": False,
        "lucene_version": "9.12.0",
        "minimum_wire_compatibility_version": "7.17.0",
        "minimum_index_compatibility_version": "7.0.0",
    },
    "tagline": "You Know, for Search",
}
_LICENSE: Final = {
    "license": {
        "status": "active",
        "uid": _CLUSTER_UUID,
        "type": "basic",
        "issue_date_in_millis": 0,
        "max_nodes": 1000,
        "issued_to": "logagg",
        "issuer": "elasticsearch",
        "start_date_in_millis": -1,
    }
}
_XPACK: Final = {
    "build": {"hash": BANNER["version"]["build_hash"], "date": BANNER["version"]["build_date"]},  # type: ignore[index]
    "license": {"uid": _CLUSTER_UUID, "type": "basic", "mode": "basic", "status": "active"},
    "features": {"ilm": {"available": True, "enabled": True}},
    "tagline": "You know, for X",
}
# What the clients send that marks them as Elasticsearch clients rather than browsers.
_CLIENT_AGENTS: Final = (
    "elasticsearch",
    "elastic-transport",
    "beat",
    "fluent-bit",
    "vector",
    "logstash",
    "rsyslog",
    "manticore",
)


def is_elasticsearch_client(req: Request) -> bool:
    """Whether ``GET /`` comes from an Elasticsearch client (which reads the banner).

    Any credentials (Basic, ApiKey, Bearer), the official clients' meta header or vendor
    media type, or a shipper's user agent say so; a browser sends none of these.
    """
    if req.headers.get("Authorization") or req.headers.get("X-Elastic-Client-Meta"):
        return True
    if "vnd.elasticsearch" in req.headers.get("Accept", "").lower():
        return True
    agent = req.headers.get("User-Agent", "").lower()
    return any(name in agent for name in _CLIENT_AGENTS)


@blueprint.after_request
def _product_header(response: Response) -> Response:
    # The official clients refuse an answer without it (their product check).
    response.headers["X-Elastic-Product"] = "Elasticsearch"
    return response


@blueprint.route("/", methods=["GET", "HEAD"])
def root() -> Response:
    """The Elasticsearch version banner for clients; the "online" page for anyone else."""
    if is_elasticsearch_client(request):
        return jsonify(BANNER)
    return pages.home()


@blueprint.get("/_license")
def license_info() -> Response:
    return jsonify(_LICENSE)


@blueprint.get("/_xpack")
def xpack_info() -> Response:
    return jsonify(_XPACK)


@blueprint.get("/_cluster/health")
def cluster_health() -> Response:
    """Green: what health checks of Elasticsearch outputs (Vector's, Logstash's) expect."""
    return jsonify(
        cluster_name=BANNER["cluster_name"],
        status="green",
        timed_out=False,
        number_of_nodes=1,
        number_of_data_nodes=1,
    )


@blueprint.route("/_index_template/<name>", methods=["GET", "HEAD"])
def get_index_template(name: str) -> Response:
    """Every template "exists": a shipper has nothing to install here."""
    return jsonify(index_templates=[{"name": name, "index_template": {"index_patterns": []}}])


@blueprint.route("/_template/<name>", methods=["GET", "HEAD"])
def get_legacy_template(name: str) -> Response:
    return jsonify({name: {"order": 0, "index_patterns": [], "settings": {}, "mappings": {}}})


@blueprint.route("/_ilm/<path:rest>", methods=["GET", "HEAD"])
def get_ilm(rest: str) -> Response:
    """Every policy "exists" too."""
    name = rest.rsplit("/", 1)[-1]
    return jsonify({name: {"version": 1, "policy": {"phases": {}}}})


@blueprint.put("/_index_template/<name>")
@blueprint.put("/_template/<name>")
def acknowledge(name: str) -> Response:
    """Templates and policies are the pipeline's own; a shipper's are acknowledged, unused."""
    return jsonify(acknowledged=True)


@blueprint.put("/_ilm/<path:rest>")
def acknowledge_ilm(rest: str) -> Response:
    return jsonify(acknowledged=True)


@blueprint.route("/_bulk", methods=["POST", "PUT"])
@blueprint.route("/<index>/_bulk", methods=["POST", "PUT"])
def bulk(index: str | None = None) -> Response:
    """Index and create actions become events; other actions get an error item each."""
    started = time.perf_counter()
    user = request_writer()
    try:
        check_media_type(request.headers.get("Content-Type"))
    except BulkMediaTypeError as error:
        raise ApiError(415, "unsupported_media_type", str(error)) from error
    backlog = refuse_when_backlogged()
    received = now()
    data = read_body()
    # Each record is an action line and a source line: refused before any is parsed.
    max_lines = current().body_limits.max_lines
    if data.count(b"\n") > 2 * max_lines + 1:
        raise ApiError(413, "too_many_lines", f"a request may carry at most {max_lines} records")
    parsed = split_bulk(data, index, current().body_limits.max_line_bytes)
    stored = store_documents(parsed.documents, user, received, backlog)
    took = int((time.perf_counter() - started) * 1000)
    answer = bulk_answer(parsed.items, stored.document_ids, took)
    response = Response(answer, content_type="application/json")
    if stored.document_ids:
        response.headers[BATCH_ID_HEADER] = stored.request_id
    return response
