"""The bulk body: action/source pairs to items and documents, over crafted and hostile input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logagg.ingest import elastic_bulk
from logagg.ingest.bodies import decode_body
from logagg.ingest.elastic_bulk import (
    MAX_DATASET_LENGTH,
    BulkMediaTypeError,
    bulk_answer,
    check_media_type,
    dataset_for,
    read_sources,
    split_bulk,
)

MAX_LINE = 32 * 1024


def ndjson(*values: Any) -> bytes:
    return b"".join(
        (value if isinstance(value, bytes) else json.dumps(value).encode()) + b"\n"
        for value in values
    )


def split(body: bytes, index: str | None = None, max_line: int = MAX_LINE) -> Any:
    return split_bulk(body, index, max_line)


def test_index_and_create_pairs_become_documents_routed_by_their_index() -> None:
    body = ndjson(
        {"index": {"_index": "logs-nginx.access-default", "_id": "a1"}},
        {"message": "GET /", "@timestamp": "2026-12-04T10:00:00Z"},
        {"create": {}},
        {"message": "second", "data_stream": {"type": "logs", "namespace": "prod"}},
    )
    parsed = split(body, "syslog-2026.12.04")
    assert [(i.action, i.index_name, i.doc_id, i.status) for i in parsed.items] == [
        ("index", "logs-nginx.access-default", "a1", 201),
        ("create", "syslog-2026.12.04", None, 201),
    ]
    first, second = parsed.documents.lines
    assert first == {
        "message": "GET /",
        "@timestamp": "2026-12-04T10:00:00Z",
        "data_stream": {"dataset": "nginx.access"},
    }
    assert second == {
        "message": "second",
        "data_stream": {"type": "logs", "namespace": "prod", "dataset": "syslog"},
    }
    assert parsed.documents.kind == "json"
    assert len(parsed.documents.sizes) == 2


def test_refused_actions_and_bad_sources_get_their_own_error_and_spare_neighbours() -> None:
    body = ndjson(
        {"delete": {"_index": "x", "_id": "1"}},
        {"index": {}},
        "just a string",
        {"update": {"_id": "2"}},
        {"doc": {"a": 1}},
        {"index": {}},
        [1, 2, 3],
        b"{not json at all",
        {"message": "after the broken action"},
        {"frobnicate": {}},
        {"index": {"_index": "kept"}},
        {"message": "kept"},
        {"create": {}},
    )
    parsed = split(body, "d")
    summary = [(i.action, i.status, i.error_type) for i in parsed.items]
    assert summary == [
        ("delete", 400, "illegal_argument_exception"),
        ("index", 400, "document_parsing_exception"),
        ("update", 400, "illegal_argument_exception"),
        ("index", 400, "document_parsing_exception"),
        ("index", 400, "illegal_argument_exception"),
        ("index", 400, "illegal_argument_exception"),
        ("index", 201, None),
        ("create", 400, "action_request_validation_exception"),
    ]
    assert parsed.documents.lines == [{"message": "kept", "data_stream": {"dataset": "kept"}}]
    assert all(item.reason for item in parsed.items if item.status == 400)


def test_a_source_cut_at_the_line_bound_is_kept_as_truncated_text() -> None:
    body = ndjson({"index": {}}, {"message": "x" * 500}, {"index": {}}, {"message": "short"})
    parsed = split(body, "app", max_line=100)
    assert [item.status for item in parsed.items] == [201, 201]
    cut, whole = parsed.documents.lines
    assert isinstance(cut, str)
    assert len(cut.encode()) == 100
    assert parsed.documents.truncated == [0]
    assert isinstance(whole, dict)


def test_invalid_utf8_in_a_source_is_marked_at_its_document_position() -> None:
    body = ndjson({"index": {}}, {"message": "ok"}, {"index": {}}) + b'{"message": "\xff"}\n'
    parsed = split(body)
    assert parsed.documents.invalid_utf8 == [1]


def test_answer_counts_success_the_way_shippers_read_it() -> None:
    parsed = split(
        ndjson({"create": {"_index": "a"}}, {"m": 1}, {"index": {}}, {"m": 2}, {"delete": {}})
    )
    answer = json.loads(bulk_answer(parsed.items, ["b-0-0", "b-0-1"], 3))
    assert answer["took"] == 3
    assert answer["errors"] is True
    first, second, third = answer["items"]
    assert first["create"]["status"] == 201
    assert first["create"]["result"] == "created"
    assert first["create"]["_id"] == "b-0-0"
    assert first["create"]["_index"] == "a"
    assert second["index"]["_id"] == "b-0-1"
    assert third["delete"]["status"] == 400
    assert third["delete"]["error"]["type"] == "illegal_argument_exception"
    clean = split(ndjson({"index": {"_id": 'mi"ne\n', "_index": 'ü"x\\'}}, {"m": 1}))
    answer = json.loads(bulk_answer(clean.items, ["b-0-0"], 0))
    assert answer["errors"] is False
    assert answer["items"][0]["index"]["_id"] == 'mi"ne\n'
    assert answer["items"][0]["index"]["_index"] == 'ü"x\\'


@pytest.mark.parametrize(
    ("index", "dataset"),
    [
        (None, "generic"),
        ("", "generic"),
        ("logs-nginx.access-default", "nginx.access"),
        ("Filebeat-8.17.0-2026.12.04", "filebeat_8.17.0"),
        ("system", "system"),
        ("../../_security/user", "security_user"),
        ("*", "generic"),
        ("a" * 1000, "a" * MAX_DATASET_LENGTH),
    ],
)
def test_dataset_of_an_index_is_sanitised_and_bounded(index: str | None, dataset: str) -> None:
    assert dataset_for(index) == dataset


def test_media_types() -> None:
    for accepted in (
        None,
        "application/x-ndjson",
        "application/json; charset=UTF-8",
        "application/vnd.elasticsearch+x-ndjson; compatible-with=8",
    ):
        check_media_type(accepted)
    with pytest.raises(BulkMediaTypeError):
        check_media_type("text/html")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=60),
            st.sampled_from(
                [
                    b'{"index":{}}',
                    b'{"create":{"_index":"x"}}',
                    b'{"delete":{}}',
                    b'{"update":{}}',
                    b'{"m":1}',
                    b'"s"',
                    b"[]",
                    b"{",
                ]
            ),
        ),
        max_size=40,
    )
)
def test_any_body_gives_one_item_per_action_and_never_raises(lines: list[bytes]) -> None:
    body = b"\n".join(lines)
    parsed = split_bulk(body, "i", 64)
    accepted = [item for item in parsed.items if item.status == 201]
    assert [item.position for item in accepted] == list(range(len(parsed.documents.lines)))
    assert len(parsed.documents.sizes) == len(parsed.documents.lines)
    assert len(parsed.items) <= len([line for line in body.split(b"\n") if line.strip()])
    assert set(parsed.documents.truncated) <= set(range(len(parsed.documents.lines)))
    answer = json.loads(bulk_answer(parsed.items, [f"id-{n}" for n in range(len(accepted))], 0))
    assert answer["errors"] == (len(accepted) != len(parsed.items))


HOSTILE_SOURCES = [
    b'{"message": "plain"}',
    b'{"big": 123456789012345678901234567890}',
    b'{"lone": "\\ud800"}',
    b'{"nan": NaN}',
    b'{"bad utf8": "\xff\xfe"}',
    b"{" * 300 + b"}" * 300,
    b'{"deep": ' + b"[" * 250 + b"]" * 250 + b"}",
    b'{"long": "' + b"x" * 200 + b'"}',
    b"{not json",
    b'{"ok": 1}  ',
    b'{"dup": 1, "dup": 2}',
]


@pytest.mark.parametrize("max_line", [64, 32 * 1024])
def test_sources_read_as_post_log_reads_them(max_line: int) -> None:
    mine = read_sources(HOSTILE_SOURCES, max_line)
    reader = decode_body(b"\n".join(HOSTILE_SOURCES), "ndjson", max_line)
    assert mine.lines == reader.lines
    assert mine.sizes == reader.sizes
    assert mine.truncated == reader.truncated
    assert mine.invalid_utf8 == reader.invalid_utf8


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.dictionaries(
                st.text(max_size=8),
                st.recursive(
                    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
                    lambda inner: (
                        st.lists(inner, max_size=3)
                        | st.dictionaries(st.text(max_size=5), inner, max_size=3)
                    ),
                    max_leaves=10,
                ),
                max_size=5,
            ).map(lambda d: json.dumps(d).encode()),
            st.binary(max_size=40).map(lambda b: b"{" + b.replace(b"\n", b" ")),
        ),
        max_size=20,
    )
)
def test_any_sources_read_as_post_log_reads_them(sources: list[bytes]) -> None:
    sources = [source for source in sources if source.strip()]
    mine = read_sources(sources, 128)
    reader = decode_body(b"\n".join(sources), "ndjson", 128)
    assert len(reader.lines) == len(sources)
    assert (mine.lines, mine.sizes, mine.truncated, mine.invalid_utf8) == (
        reader.lines,
        reader.sizes,
        reader.truncated,
        reader.invalid_utf8,
    )


PAIRED_LINES = st.sampled_from(
    [
        b'{"index":{}}',
        b'{"create":{"_index":"a","_id":"1"}}',
        b'{"index":{"_index":"logs-x-default"}}',
        b'{"m":1}',
        b'{"m":"\xff"}',
        b'{"big":12345678901234567890123}',
        b'{"m":"' + b"y" * 100 + b'"}',
        b"{broken",
        b'"text"',
        b'{"delete":{}}',
        b"  {}",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(PAIRED_LINES, max_size=30))
def test_the_shippers_path_answers_as_the_general_one(lines: list[bytes]) -> None:
    body = b"\n".join(lines)
    kept = [line for line in body.split(b"\n") if line.strip()]
    general = elastic_bulk._split_lines(kept, "d", 64)
    assert split_bulk(body, "d", 64) == general
