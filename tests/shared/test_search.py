from __future__ import annotations

from datetime import UTC, datetime

import pytest
from elasticsearch import Elasticsearch

from logagg import search
from logagg.search import build_query, format_table, parse_time

NOW = datetime(2025, 4, 18, 12, 0, tzinfo=UTC)


def test_no_filter_matches_everything() -> None:
    assert build_query() == {"match_all": {}}


def test_every_filter_is_required() -> None:
    query = build_query(
        text="lookup failed",
        service="billing",
        level="ERROR",
        since=parse_time("1h", NOW),
        until=parse_time("2025-04-18T11:30:00Z", NOW),
    )
    assert query == {
        "bool": {
            "must": [{"match": {"message": {"query": "lookup failed", "operator": "and"}}}],
            "filter": [
                {"term": {"service.name": "billing"}},
                {"term": {"log.level": "error"}},
                {
                    "range": {
                        "@timestamp": {
                            "gte": "2025-04-18T11:00:00.000+00:00",
                            "lte": "2025-04-18T11:30:00.000+00:00",
                        }
                    }
                },
            ],
        }
    }


def test_times() -> None:
    assert parse_time("15m", NOW) == datetime(2025, 4, 18, 11, 45, tzinfo=UTC)
    assert parse_time("2025-04-18T10:00:00", NOW) == datetime(2025, 4, 18, 10, tzinfo=UTC)
    with pytest.raises(ValueError, match="not a time"):
        parse_time("yesterday-ish", NOW)


def test_table_keeps_columns_aligned_and_cuts_long_messages() -> None:
    hits = [
        {
            "_source": {
                "@timestamp": "2025-04-18T10:12:01.123Z",
                "log": {"level": "error"},
                "service": {"name": "dns"},
                "message": "lookup failed - retrying on my-site.com",
            }
        },
        {"_source": {"@timestamp": "2025-04-18T10:12:00.000Z", "message": "x" * 500}},
    ]
    lines = format_table(hits, width=100).splitlines()
    assert lines[0].startswith("2025-04-18T10:12:01.123Z  error  dns  lookup failed - retrying")
    assert lines[1].startswith("2025-04-18T10:12:00.000Z  -      -    xxx")
    assert lines[1].endswith("…")
    assert len(lines[1]) <= 100
    assert format_table([]) == "no events match"


def test_command_without_elasticsearch_url_fails_clearly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ELASTICSEARCH_URL", raising=False)
    assert search.main(["anything"]) == 2
    assert "ELASTICSEARCH_URL is not set" in capsys.readouterr().err


@pytest.mark.integration
def test_command_searches_the_real_elasticsearch(
    elasticsearch_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    es = Elasticsearch(elasticsearch_url)
    index = "logs-searchcheck-default"
    es.options(ignore_status=404).indices.delete(index=index)
    es.indices.create(
        index=index,
        mappings={
            "properties": {
                "@timestamp": {"type": "date"},
                "service": {"properties": {"name": {"type": "keyword"}}},
                "log": {"properties": {"level": {"type": "keyword"}}},
                "message": {"type": "text"},
            }
        },
    )
    docs = [
        ("2025-04-18T10:00:00Z", "billing", "error", "card declined - retry later"),
        ("2025-04-18T10:05:00Z", "billing", "info", "card accepted"),
        ("2025-04-18T10:10:00Z", "dns", "error", "card reader? no: lookup failed"),
    ]
    for n, (ts, service, level, message) in enumerate(docs):
        es.index(
            index=index,
            id=str(n),
            document={
                "@timestamp": ts,
                "service": {"name": service},
                "log": {"level": level},
                "message": message,
            },
        )
    es.indices.refresh(index=index)
    monkeypatch.setenv("ELASTICSEARCH_URL", elasticsearch_url)

    assert search.main(["card", "--service", "billing", "--json", "--index", index]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split('"message": ')[1] for line in out] == [
        '"card accepted"}',
        '"card declined - retry later"}',
    ]

    assert search.main(["--level", "error", "--index", index]) == 0
    table = capsys.readouterr().out.splitlines()
    assert [row.split()[2] for row in table] == ["dns", "billing"]
    es.indices.delete(index=index)
