"""The component and index templates the shipper installs, as plain request bodies.

Every ECS field the parser emits has an explicit mapping, using only types that both a
full Elasticsearch 8.17 and Elastic's stripped-down test distribution know (no
``match_only_text``, ``wildcard`` or ``constant_keyword``). The root mapping is
``dynamic: false``: a field the mapping does not name is kept in ``_source`` (and in the
archive) but not indexed, so one service's odd field can never change the mapping for
the others. ``labels`` is ``flattened``: all its leaves are searchable as keywords, and
any shape of labels is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from logagg.shipper.elasticsearch.layout import Layout

_KEYWORD: dict[str, Any] = {"type": "keyword", "ignore_above": 1024}
_LONG: dict[str, Any] = {"type": "long"}
_IP: dict[str, Any] = {"type": "ip"}
_DATE: dict[str, Any] = {"type": "date"}


def _object(**fields: dict[str, Any]) -> dict[str, Any]:
    return {"properties": fields}


def _keyword_and_text() -> dict[str, Any]:
    # ECS maps these as wildcard/match_only_text multi-fields; keyword + text is the
    # portable equivalent: exact filters on the keyword, full-text search on `.text`.
    return {"type": "keyword", "ignore_above": 8191, "fields": {"text": {"type": "text"}}}


ECS_PROPERTIES: dict[str, Any] = {
    "@timestamp": _DATE,
    "message": {"type": "text"},
    "tags": _KEYWORD,
    "labels": {"type": "flattened", "ignore_above": 1024},
    "log": _object(
        level=_KEYWORD,
        logger=_KEYWORD,
        origin=_object(function=_KEYWORD, file=_object(name=_KEYWORD, line=_LONG)),
    ),
    "event": _object(
        id=_KEYWORD,
        # the raw line: kept for reprocessing and display, not searched
        original={"type": "keyword", "index": False, "doc_values": False},
        ingested=_DATE,
        dataset=_KEYWORD,
        module=_KEYWORD,
        kind=_KEYWORD,
        category=_KEYWORD,
        outcome=_KEYWORD,
    ),
    "service": _object(name=_KEYWORD),
    "source": _object(ip=_IP),
    "client": _object(ip=_IP),
    "host": _object(ip=_IP, hostname=_KEYWORD, name=_KEYWORD),
    "process": _object(pid=_LONG, thread=_object(name=_KEYWORD, id=_LONG)),
    "http": _object(
        version=_KEYWORD,
        request=_object(method=_KEYWORD, referrer=_keyword_and_text()),
        response=_object(status_code=_LONG, body=_object(bytes=_LONG)),
    ),
    "url": _object(original=_keyword_and_text()),
    "user_agent": _object(original=_keyword_and_text()),
    "error": _object(message={"type": "text"}, type=_KEYWORD),
    "data_stream": _object(type=_KEYWORD, dataset=_KEYWORD, namespace=_KEYWORD),
}


@dataclass(frozen=True, slots=True)
class TemplateSet:
    """The names and bodies of everything installed for one namespace and layout."""

    settings_name: str
    mappings_name: str
    index_template_name: str
    settings_body: dict[str, Any]
    mappings_body: dict[str, Any]
    index_template_body: dict[str, Any]


# Above the built-in `logs` template (100). The layouts get different priorities because
# Elasticsearch refuses two templates with overlapping patterns at the same priority.
DATA_STREAM_PRIORITY = 500
DAILY_PRIORITY = 490
DAILY_PATTERNS = ["logs-*-*-20*", "logs-*-*-undated"]


def template_set(prefix: str, namespace: str, layout: Layout) -> TemplateSet:
    """The component templates and the index template for ``namespace`` in ``layout``.

    The component templates do not depend on the namespace, so they are shared. A data
    stream template covers one namespace (``logs-*-<namespace>``: two namespaces never
    overlap, as a namespace holds no ``-``). Daily indices have one template for every
    namespace: ``logs-*-A-*`` and ``logs-*-B-*`` would overlap, which Elasticsearch
    refuses at equal priority. Installing the same set twice is a no-op, so several
    shippers may start together.
    """
    base = f"{prefix}-logs"
    settings_body = {
        "template": {
            "settings": {
                "index": {
                    # one replica where there is a second node, none on a single node
                    "auto_expand_replicas": "0-1",
                    "number_of_shards": 1,
                }
            }
        },
        "_meta": {"managed_by": "logagg-shipper"},
    }
    mappings_body = {
        "template": {
            "mappings": {
                "dynamic": False,
                "date_detection": False,
                "properties": ECS_PROPERTIES,
            }
        },
        "_meta": {"managed_by": "logagg-shipper"},
    }
    index_template_body: dict[str, Any] = {
        "composed_of": [f"{base}@settings", f"{base}@mappings"],
        "_meta": {"managed_by": "logagg-shipper", "layout": layout.value},
    }
    if layout is Layout.DATA_STREAM:
        name = f"{base}-{namespace}"
        index_template_body["index_patterns"] = [f"logs-*-{namespace}"]
        index_template_body["data_stream"] = {}
        index_template_body["priority"] = DATA_STREAM_PRIORITY
    else:
        name = f"{base}-daily"
        index_template_body["index_patterns"] = list(DAILY_PATTERNS)
        index_template_body["priority"] = DAILY_PRIORITY
    return TemplateSet(
        settings_name=f"{base}@settings",
        mappings_name=f"{base}@mappings",
        index_template_name=name,
        settings_body=settings_body,
        mappings_body=mappings_body,
        index_template_body=index_template_body,
    )
