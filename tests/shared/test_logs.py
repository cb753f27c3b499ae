from __future__ import annotations

import json
import logging

import pytest

from logagg.logs import JsonFormatter, configure_logging
from logagg.settings import LoggingSettings


def test_json_lines_carry_ecs_fields() -> None:
    record = logging.LogRecord(
        "logagg.test", logging.WARNING, __file__, 1, "a - b %s", ("c",), None
    )
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "a - b c"
    assert entry["log.level"] == "warning"
    assert entry["log.logger"] == "logagg.test"
    assert entry["@timestamp"].endswith("+00:00")


def test_configure_logging_sets_level_and_format(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging(
            LoggingSettings.from_env({"LOGAGG_LOG_LEVEL": "warning", "LOGAGG_LOG_FORMAT": "json"})
        )
        logging.getLogger("x").info("hidden")
        logging.getLogger("x").error("shown")
        lines = capsys.readouterr().err.strip().splitlines()
        assert [json.loads(line)["message"] for line in lines] == ["shown"]
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
