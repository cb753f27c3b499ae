"""The templates: explicit ECS mappings with portable types, tamed dynamic mapping."""

from __future__ import annotations

from typing import Any

from logagg.shipper.elasticsearch.layout import Layout
from logagg.shipper.elasticsearch.templates import template_set

# types a full 8.17 and the test distribution both have
PORTABLE = {"date", "text", "keyword", "long", "ip", "flattened"}


def leaf_types(properties: dict[str, Any], path: str = "") -> dict[str, str]:
    found = {}
    for name, spec in properties.items():
        if "properties" in spec:
            found |= leaf_types(spec["properties"], f"{path}{name}.")
        else:
            found[f"{path}{name}"] = spec["type"]
    return found


def test_the_ecs_fields_the_parser_emits_are_mapped() -> None:
    mappings = template_set("logagg", "default", Layout.DAILY).mappings_body["template"]["mappings"]
    types = leaf_types(mappings["properties"])
    expected = {
        "@timestamp": "date",
        "message": "text",
        "log.level": "keyword",
        "service.name": "keyword",
        "event.dataset": "keyword",
        "event.id": "keyword",
        "event.ingested": "date",
        "host.ip": "ip",
        "source.ip": "ip",
        "client.ip": "ip",
        "http.response.status_code": "long",
        "http.response.body.bytes": "long",
        "process.pid": "long",
        "labels": "flattened",
        "tags": "keyword",
    }
    assert {field: types.get(field) for field in expected} == expected
    assert set(types.values()) <= PORTABLE
    assert mappings["dynamic"] is False


def test_layouts_have_their_own_patterns_and_priorities() -> None:
    stream = template_set("logagg", "prod", Layout.DATA_STREAM)
    daily = template_set("logagg", "prod", Layout.DAILY)
    assert stream.index_template_body["index_patterns"] == ["logs-*-prod"]
    assert stream.index_template_body["data_stream"] == {}
    assert daily.index_template_body["index_patterns"] == ["logs-*-*-20*", "logs-*-*-undated"]
    assert "data_stream" not in daily.index_template_body
    assert stream.index_template_body["priority"] != daily.index_template_body["priority"]
    assert daily.index_template_body["composed_of"] == [
        "logagg-logs@settings",
        "logagg-logs@mappings",
    ]
    # one daily template serves every namespace; data stream templates never overlap
    assert template_set("logagg", "other", Layout.DAILY) == daily
    assert stream.index_template_name == "logagg-logs-prod"
