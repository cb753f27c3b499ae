"""The Kibana saved objects and the alert rule example: well-formed, self-contained, and
using only fields that the shipper's index template maps (read from its code)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from logagg.kibana import read_saved_objects

REPO = Path(__file__).resolve().parents[2]
OBJECTS = REPO / "kibana" / "saved_objects.ndjson"
RULE = REPO / "deploy" / "kibana-error-rate-rule.json"
DATA_VIEW_ID = "logagg-logs-data-view"
RECORDS = "___records___"  # Lens' pseudo-field for "count of documents"
KQL_FIELD = re.compile(r"([A-Za-z_@][\w.@]*)\s*:")
AGGREGATABLE_TYPES = {
    "keyword",
    "long",
    "integer",
    "short",
    "byte",
    "double",
    "float",
    "ip",
    "date",
}


def saved_objects() -> list[dict[str, Any]]:
    return read_saved_objects(OBJECTS.read_text())


def by_type(kind: str) -> list[dict[str, Any]]:
    return [o for o in saved_objects() if o["type"] == kind]


def mapped_fields() -> dict[str, dict[str, Any]]:
    """Every field path the shipper's index templates map, for every index layout."""
    from logagg.shipper.elasticsearch.layout import Layout
    from logagg.shipper.elasticsearch.templates import template_set

    fields: dict[str, dict[str, Any]] = {}

    def walk(properties: dict[str, Any], prefix: str) -> None:
        for name, mapping in properties.items():
            path = f"{prefix}{name}"
            if "properties" in mapping:
                walk(mapping["properties"], f"{path}.")
                continue
            fields[path] = mapping
            for sub, sub_mapping in mapping.get("fields", {}).items():
                fields[f"{path}.{sub}"] = sub_mapping

    layouts = list(Layout)
    assert layouts
    mappings = [
        template_set("logagg", "default", layout).mappings_body["template"]["mappings"]
        for layout in layouts
    ]
    assert all(m == mappings[0] for m in mappings), "the layouts map fields differently"
    walk(mappings[0]["properties"], "")
    return fields


def resolve(field: str, fields: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    if field in fields:
        return fields[field]
    # a flattened field's leaves are searchable and aggregatable as keywords
    for path, mapping in fields.items():
        if mapping.get("type") == "flattened" and field.startswith(f"{path}."):
            return {"type": "keyword"}
    return None


def kql_fields(query: str) -> set[str]:
    return set(KQL_FIELD.findall(query))


def search_source(obj: dict[str, Any]) -> dict[str, Any]:
    source: dict[str, Any] = json.loads(
        obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"]
    )
    return source


def lens_columns(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    layers = obj["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]
    for layer in layers.values():
        yield from layer["columns"].values()


def field_uses() -> Iterator[tuple[str, str, str]]:
    """(object, field, how) for every field the saved objects and the rule use:
    ``time``, ``shown`` (read from _source), ``searched`` or ``aggregated``."""
    for obj in saved_objects():
        where = f"{obj['type']}/{obj['id']}"
        attributes = obj["attributes"]
        if obj["type"] == "index-pattern":
            yield where, attributes["timeFieldName"], "time"
        elif obj["type"] == "search":
            for column in attributes["columns"]:
                yield where, column, "shown"
            for field, _ in attributes["sort"]:
                yield where, field, "aggregated"
            for field in kql_fields(search_source(obj)["query"]["query"]):
                yield where, field, "searched"
        elif obj["type"] == "lens":
            for field in kql_fields(attributes["state"]["query"]["query"]):
                yield where, field, "searched"
            for column in lens_columns(obj):
                if column.get("sourceField") and column["sourceField"] != RECORDS:
                    yield where, column["sourceField"], "aggregated"
                for field in kql_fields((column.get("filter") or {}).get("query", "")):
                    yield where, field, "searched"
                for field in kql_fields(column.get("params", {}).get("formula", "")):
                    yield where, field, "searched"
    rule = json.loads(RULE.read_text())
    for criterion in rule["params"]["criteria"]:
        for metric in criterion["metrics"]:
            for field in kql_fields(metric.get("filter", "")):
                yield "rule", field, "searched"
            if metric.get("field"):
                yield "rule", metric["field"], "aggregated"
    for field in rule["params"]["groupBy"]:
        yield "rule", field, "aggregated"


# -- the file ---------------------------------------------------------------------------


def test_every_line_is_a_saved_object_with_a_unique_id() -> None:
    lines = [line for line in OBJECTS.read_text().splitlines() if line.strip()]
    objects = saved_objects()
    assert len(objects) == len(lines)
    ids = [(o["type"], o["id"]) for o in objects]
    assert len(set(ids)) == len(ids)
    for obj in objects:
        assert isinstance(obj["attributes"], dict)
        assert isinstance(obj.get("references", []), list)


def test_every_reference_is_in_the_file() -> None:
    present = {(o["type"], o["id"]) for o in saved_objects()}
    count = 0
    for obj in saved_objects():
        for reference in obj.get("references", []):
            count += 1
            assert (reference["type"], reference["id"]) in present, (obj["id"], reference)
    assert count >= 8


def test_data_view_on_the_projects_indices() -> None:
    (view,) = by_type("index-pattern")
    assert view["id"] == DATA_VIEW_ID
    assert view["attributes"]["title"] == "logs-*"
    assert view["attributes"]["timeFieldName"] == "@timestamp"


def test_saved_searches_errors_and_unparsed() -> None:
    from logagg.parser.event import UNPARSED

    searches = {o["id"]: o for o in by_type("search")}
    errors = search_source(searches["logagg-errors-search"])["query"]
    assert errors["language"] == "kuery"
    assert kql_fields(errors["query"]) == {"log.level"}
    assert re.search(r"\berror\b", errors["query"])
    unparsed = search_source(searches["logagg-unparsed-search"])["query"]
    assert unparsed["query"] == f'tags : "{UNPARSED}"'
    assert "event.original" in searches["logagg-unparsed-search"]["attributes"]["columns"]
    for search in searches.values():
        (reference,) = search["references"]
        assert reference["name"] == search_source(search)["indexRefName"]
        assert reference["id"] == DATA_VIEW_ID


def test_lens_visualisations_read_the_data_view() -> None:
    for lens in by_type("lens"):
        layers = lens["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]
        expected = {f"indexpattern-datasource-layer-{layer}" for layer in layers}
        references = {r["name"] for r in lens["references"] if r["id"] == DATA_VIEW_ID}
        assert references == expected, lens["id"]
        for layer in layers.values():
            columns = layer["columns"]
            assert set(layer["columnOrder"]) == set(columns), lens["id"]
            for column in columns.values():
                for referenced in column.get("references", []):
                    assert referenced in columns, (lens["id"], referenced)


def test_dashboard_has_the_four_panels() -> None:
    (dashboard,) = by_type("dashboard")
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    references = {r["name"]: r for r in dashboard["references"]}
    shown = []
    for panel in panels:
        reference = references[f"{panel['panelIndex']}:{panel['panelRefName']}"]
        assert reference["type"] == panel["type"]
        shown.append(reference["id"])
    assert shown == [
        "logagg-lens-events-by-level",
        "logagg-lens-top-services",
        "logagg-lens-error-rate",
        "logagg-unparsed-search",
    ]
    by_id = {o["id"]: o for o in saved_objects()}
    events = [c["sourceField"] for c in lens_columns(by_id[shown[0]])]
    assert "@timestamp" in events
    assert "log.level" in events
    assert "service.name" in [c.get("sourceField") for c in lens_columns(by_id[shown[1]])]
    rate = [c for c in lens_columns(by_id[shown[2]]) if c["operationType"] == "formula"]
    assert len(rate) == 1
    assert "log.level" in rate[0]["params"]["formula"]


# -- the fields, against the shipper's index template -----------------------------------


def test_field_uses_are_found() -> None:
    uses = list(field_uses())
    assert {how for _, _, how in uses} == {"time", "shown", "searched", "aggregated"}
    assert len(uses) >= 15


@pytest.mark.parametrize(("where", "field", "how"), sorted(set(field_uses())))
def test_field_is_mapped_by_the_index_template(where: str, field: str, how: str) -> None:
    mapping = resolve(field, mapped_fields())
    assert mapping is not None, f"{where} uses {field}, which the index template does not map"
    if how == "time":
        assert mapping["type"] == "date"
    if how == "searched":
        assert mapping.get("index", True), f"{where} searches {field}, which is not indexed"
    if how == "aggregated":
        assert mapping["type"] in AGGREGATABLE_TYPES, f"{where} aggregates text field {field}"
        assert mapping.get("doc_values", True), f"{where} aggregates {field} without doc values"


def test_an_unmapped_field_would_be_caught() -> None:
    assert resolve("log.levle", mapped_fields()) is None
    assert resolve("labels.team", mapped_fields()) == {"type": "keyword"}


# -- the alert rule example -------------------------------------------------------------


def test_alert_rule_is_an_error_rate_per_service() -> None:
    rule = json.loads(RULE.read_text())
    assert rule["rule_type_id"] == "observability.rules.custom_threshold"
    params = rule["params"]
    assert params["groupBy"] == ["service.name"]
    assert params["searchConfiguration"]["index"] == DATA_VIEW_ID
    (criterion,) = params["criteria"]
    metrics = {m["name"]: m for m in criterion["metrics"]}
    assert criterion["equation"] == "A / B * 100"
    assert "log.level" in metrics["A"]["filter"]
    assert "filter" not in metrics["B"]
    assert criterion["comparator"] == ">"
    assert 0 < criterion["threshold"][0] < 100
