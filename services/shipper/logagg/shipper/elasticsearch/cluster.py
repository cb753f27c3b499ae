"""Talking to the cluster: the bulk transport, layout detection, template installation."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, cast

from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch

from logagg.shipper.elasticsearch.layout import Layout
from logagg.shipper.elasticsearch.outcomes import describe_error
from logagg.shipper.elasticsearch.sink import BulkRequestFailed
from logagg.shipper.elasticsearch.templates import TemplateSet, template_set
from logagg.shipper.errors import SinkUnavailable

log = logging.getLogger(__name__)

_PROBE_NAME = "logs-logagg_probe-probe"


def _api_failure(error: ApiError) -> BulkRequestFailed:
    body = error.body if isinstance(error.body, Mapping) else {}
    reason, detail = describe_error(body.get("error") or str(error.message))
    return BulkRequestFailed(error.status_code, reason, detail)


# What the shipper reads of a bulk answer: each item's status and error, by position.
# Elasticsearch leaves out the rest (index, id, version, shards, sequence numbers), which
# is most of an answer of a thousand items that both sides would write and read for nothing.
BULK_FILTER_PATH = "items.*.status,items.*.error"


class ClientBulkTransport:
    """:class:`~logagg.shipper.elasticsearch.sink.BulkTransport` over the official client."""

    def __init__(self, client: Elasticsearch) -> None:
        self.client = client

    def bulk(self, body: bytes) -> Mapping[str, Any]:
        try:
            # the client passes an already-encoded NDJSON body through unchanged
            answer = self.client.bulk(operations=cast(Any, body), filter_path=BULK_FILTER_PATH)
        except ApiError as error:
            raise _api_failure(error) from error
        except TransportError as error:
            raise BulkRequestFailed(None, type(error).__name__, str(error)) from error
        return cast(Mapping[str, Any], answer.body)


def detect_layout(client: Elasticsearch) -> Layout:
    """``data_stream`` when the cluster has the data stream API, else ``daily``.

    A full 8.x answers ``GET /_data_stream/<name>`` with 200 or 404; a cluster without
    the API (Elastic's test distribution) reads ``_data_stream`` as an index name and
    answers 400, or 405. Data streams that cannot be listed, deleted or rolled over are
    no place for production data, so such a cluster gets daily indices.
    """
    try:
        client.indices.get_data_stream(name=_PROBE_NAME)
    except ApiError as error:
        if error.status_code == 404:
            return Layout.DATA_STREAM
        if error.status_code in (400, 405):
            return Layout.DAILY
        raise
    return Layout.DATA_STREAM


def install_templates(client: Elasticsearch, templates: TemplateSet) -> None:
    """Put the component templates, then the index template that composes them.

    Putting an identical template again changes nothing, so several shippers starting
    at once all succeed and agree.
    """
    client.cluster.put_component_template(
        name=templates.settings_name,
        template=templates.settings_body["template"],
        meta=templates.settings_body["_meta"],
    )
    client.cluster.put_component_template(
        name=templates.mappings_name,
        template=templates.mappings_body["template"],
        meta=templates.mappings_body["_meta"],
    )
    body = templates.index_template_body
    client.indices.put_index_template(
        name=templates.index_template_name,
        index_patterns=body["index_patterns"],
        composed_of=body["composed_of"],
        priority=body["priority"],
        data_stream=body.get("data_stream"),
        meta=body["_meta"],
    )


def prepare_cluster(client: Elasticsearch, *, prefix: str, namespace: str, layout: str) -> Layout:
    """Choose the layout (``auto`` probes) and install its templates; raise
    :class:`SinkUnavailable` with a clear message when the cluster cannot be used."""
    try:
        chosen = detect_layout(client) if layout == "auto" else Layout(layout)
        install_templates(client, template_set(prefix, namespace, chosen))
    except ApiError as error:
        _, detail = describe_error(
            error.body.get("error") if isinstance(error.body, Mapping) else error.message
        )
        raise SinkUnavailable(
            f"Elasticsearch refused the shipper's set-up ({error.status_code}): {detail}"
        ) from error
    except TransportError as error:
        raise SinkUnavailable(f"Elasticsearch is unreachable: {error}", unreachable=True) from error
    log.info(
        "elasticsearch layout %s, templates installed for namespace %s", chosen.value, namespace
    )
    return chosen


class DailyIndexPreparer:
    """Creates a daily index with its alias on first use (a no-op when it exists)."""

    def __init__(self, client: Elasticsearch) -> None:
        self.client = client

    def __call__(self, index: str, alias: str) -> None:
        try:
            self.client.indices.create(index=index, aliases={alias: {}})
        except ApiError as error:
            kind = error.error if isinstance(error.error, str) else ""
            if error.status_code == 400 and "already_exists" in kind:
                # made by another shipper, or before this one started: the alias may be
                # missing if something else made it, and putting it again is harmless
                self.client.indices.put_alias(index=index, name=alias)
                return
            raise _api_failure(error) from error
        except TransportError as error:
            raise BulkRequestFailed(None, type(error).__name__, str(error)) from error
