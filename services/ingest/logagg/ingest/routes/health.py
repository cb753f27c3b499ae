"""Liveness, readiness, metrics and the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from logagg.ingest.context import current
from logagg.ingest.openapi import openapi_document

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> Response:
    """Liveness: the process answers."""
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz() -> Response:
    """Readiness: Redis answers (else the JSON 503 of the error handlers)."""
    current().redis.ping()
    return jsonify(status="ready")


@blueprint.get("/metrics")
def metrics() -> Response:
    """Prometheus metrics of every worker."""
    body, content_type = current().metrics.render()
    return Response(body, content_type=content_type)


@blueprint.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI document of these routes."""
    return jsonify(openapi_document())
