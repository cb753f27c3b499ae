"""Client settings: URL and credentials, the original client's block, the environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from logagg.client import ClientConfig, ConfigError, resolve_config

ORIGINAL = {
    "protocol": "http",
    "host": "logs.example.internal",
    "port": 3001,
    "endpoint": "/log",
    "username": "billing",
    "password": "billing-password",
    "login": "/auth/login",
}


def test_the_original_block() -> None:
    config = ClientConfig.from_config(ORIGINAL)
    assert config.url == "http://logs.example.internal:3001"
    assert (config.host, config.port, config.scheme) == ("logs.example.internal", 3001, "http")
    assert (config.log_path, config.login_path) == ("/log", "/auth/login")
    assert config.destination == "billing@http://logs.example.internal:3001"
    assert "billing-password" not in repr(config)


def test_a_url_with_a_path_prefix() -> None:
    config = ClientConfig("https://gateway/logagg/", "svc", "pw")
    assert config.port == 443
    assert config.path("/log") == "/logagg/log"


def test_a_file_with_the_block_nested(tmp_path: Path) -> None:
    path = tmp_path / "client.json"
    path.write_text(json.dumps({"logFile": "/var/log/app.log", "server": ORIGINAL}))
    assert ClientConfig.from_file(path).url == "http://logs.example.internal:3001"


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({**ORIGINAL, "port": "x"}, "port must be a number"),
        ({**ORIGINAL, "protocol": "ftp"}, "expected http://host:port"),
        ({**ORIGINAL, "password": ""}, "a password is required"),
        ({**ORIGINAL, "endpoint": "log"}, "must start with '/'"),
        ({**ORIGINAL, "colour": "red"}, "unknown configuration keys: colour"),
        ({"username": "a", "password": "b"}, "needs 'url' or 'host'"),
        ({**ORIGINAL, "username": 7}, "username must be a string"),
    ],
)
def test_bad_blocks_are_one_line_errors(block: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        ClientConfig.from_config(block)
    assert "\n" not in str(raised.value)


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="No such file"):
        ClientConfig.from_file(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON"):
        ClientConfig.from_file(broken)
    empty = tmp_path / "empty.json"
    empty.write_text("{}")
    with pytest.raises(ConfigError, match="no client block found"):
        ClientConfig.from_file(empty)


def test_flags_override_the_environment_which_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "client.json"
    path.write_text(json.dumps(ORIGINAL))
    env = {"LOGAGG_URL": "http://127.0.0.1:9999", "LOGAGG_PASSWORD": "from-env"}

    config = resolve_config(env, config_file=str(path), username="flag-user")

    assert config.url == "http://127.0.0.1:9999"
    assert config.username == "flag-user"
    assert config.password == "from-env"
    assert config.log_path == "/log"


def test_missing_settings_name_their_variable() -> None:
    with pytest.raises(ConfigError, match="LOGAGG_URL"):
        resolve_config({})
    with pytest.raises(ConfigError, match="LOGAGG_USERNAME"):
        resolve_config({"LOGAGG_URL": "http://h:1"})
    with pytest.raises(ConfigError, match="LOGAGG_PASSWORD"):
        resolve_config({"LOGAGG_URL": "http://h:1", "LOGAGG_USERNAME": "u"})
