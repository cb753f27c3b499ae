"""The rsyslog reference's generated configuration and framing (bench/rsyslog.py)."""

from __future__ import annotations

from pathlib import Path

from bench.rsyslog import RsyslogSettings, octet_counted, rsyslog_config

SETTINGS = RsyslogSettings(
    work_dir=Path("/tmp/bench-rsyslog"),
    tcp_port=15140,
    es_host="127.0.0.1",
    es_port=9200,
    index="rsyslog-bench-r0",
)


def test_tcp_input_on_loopback_and_the_given_port() -> None:
    config = rsyslog_config(SETTINGS)
    assert 'module(load="imtcp"' in config
    assert 'input(type="imtcp" address="127.0.0.1" port="15140" ruleset="to-es")' in config
    assert 'workDirectory="/tmp/bench-rsyslog"' in config


def test_bulk_output_to_the_same_elasticsearch_in_its_own_index() -> None:
    config = rsyslog_config(SETTINGS)
    assert 'module(load="omelasticsearch")' in config
    for setting in (
        'server="127.0.0.1"',
        'serverport="9200"',
        'searchIndex="rsyslog-bench-r0"',
        'bulkmode="on"',
        # Elasticsearch 8 refuses mapping types
        'esVersion.major="8"',
        'searchType=""',
        'queue.dequeueBatchSize="1000"',
        'template="bench-es-json"',
    ):
        assert setting in config, setting


def test_documents_carry_timestamp_message_and_host() -> None:
    config = rsyslog_config(SETTINGS)
    assert 'outname="@timestamp"' in config
    assert 'outname="message" name="rawmsg"' in config
    assert 'outname="host"' in config


def test_settings_are_quoted_safely() -> None:
    odd = RsyslogSettings(
        work_dir=Path('/tmp/a "quoted" dir'), tcp_port=1, es_host="h", es_port=2, index="i"
    )
    assert r'workDirectory="/tmp/a \"quoted\" dir"' in rsyslog_config(odd)


def test_octet_counted_frames_count_bytes_not_characters() -> None:
    assert octet_counted(["081109 203615 148 INFO x", "é"]) == (
        b"24 081109 203615 148 INFO x" + b"2 \xc3\xa9"
    )
