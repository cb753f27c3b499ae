"""Where to send logs and as whom: a base URL, a username and a password.

Built from a URL and credentials, from the original LogAggregator client's JSON block
(``{"protocol", "host", "port", "endpoint", "username", "password", "login"}``), from a
JSON file holding that block, or from the environment (``LOGAGG_URL``,
``LOGAGG_USERNAME``, ``LOGAGG_PASSWORD``). Every problem is a :class:`ConfigError` with a
one-line message.
"""

from __future__ import annotations

import dataclasses
import json
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from logagg.client.errors import ConfigError

ENV_URL = "LOGAGG_URL"
ENV_USERNAME = "LOGAGG_USERNAME"
ENV_PASSWORD = "LOGAGG_PASSWORD"  # noqa: S105 - the variable's name, not a password


@dataclasses.dataclass(frozen=True)
class ClientConfig:
    """Connection settings of one client; the password never appears in ``repr``.

    ``timeout`` bounds every socket operation of a call (connect, send, each read);
    ``attempts`` is how often one body is tried before :class:`UnavailableError`;
    waits between attempts grow from ``backoff_base`` to ``backoff_cap`` with full
    jitter, or follow the server's ``Retry-After`` (at most ``max_retry_after``).
    """

    url: str
    username: str
    password: str = dataclasses.field(repr=False)
    log_path: str = "/log"
    login_path: str = "/auth/login"
    refresh_path: str = "/auth/refresh"
    timeout: float = 10.0
    attempts: int = 5
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    max_retry_after: float = 300.0
    gzip_level: int = 6

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"url {self.url!r}: expected http://host:port or https://host")
        try:
            parts.port  # noqa: B018 - validates the port
        except ValueError as error:
            raise ConfigError(f"url {self.url!r}: {error}") from error
        if not self.username:
            raise ConfigError("a username is required")
        if not self.password:
            raise ConfigError(f"a password is required for user {self.username!r}")
        for name in ("log_path", "login_path", "refresh_path"):
            if not getattr(self, name).startswith("/"):
                raise ConfigError(f"{name} must start with '/': {getattr(self, name)!r}")
        if self.timeout <= 0:
            raise ConfigError(f"timeout must be positive, not {self.timeout}")
        if self.attempts < 1:
            raise ConfigError(f"attempts must be at least 1, not {self.attempts}")
        if not 0 < self.backoff_base <= self.backoff_cap:
            raise ConfigError("backoff: need 0 < backoff_base <= backoff_cap")
        if not 0 <= self.gzip_level <= 9:
            raise ConfigError(f"gzip_level must be 0-9, not {self.gzip_level}")

    @property
    def scheme(self) -> str:
        return urllib.parse.urlsplit(self.url).scheme

    @property
    def host(self) -> str:
        return urllib.parse.urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        parts = urllib.parse.urlsplit(self.url)
        return parts.port or (443 if parts.scheme == "https" else 80)

    def path(self, route: str) -> str:
        """``route`` under the URL's own path (a server behind a path prefix)."""
        prefix = urllib.parse.urlsplit(self.url).path.rstrip("/")
        return prefix + route

    @property
    def destination(self) -> str:
        """Who receives what this client sends: the server and the user (keys spools, state)."""
        return f"{self.username}@{self.scheme}://{self.host}:{self.port}{self.path('')}"

    def replace(self, **changes: Any) -> ClientConfig:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_config(cls, block: Mapping[str, Any]) -> ClientConfig:
        """From the original client's block, or ``{"url", "username", "password"}``."""
        if not isinstance(block, Mapping):
            raise ConfigError("the client configuration must be a JSON object")
        unknown = set(block) - _KNOWN_KEYS
        if unknown:
            raise ConfigError(f"unknown configuration keys: {', '.join(sorted(unknown))}")
        username = _text(block, "username")
        password = _text(block, "password")
        if "url" in block:
            url = _text(block, "url")
        else:
            host = _text(block, "host")
            if not host:
                raise ConfigError("the configuration needs 'url' or 'host'")
            protocol = _text(block, "protocol") or "http"
            port = block.get("port")
            if port is not None and (
                isinstance(port, bool) or not isinstance(port, int | str) or not str(port).isdigit()
            ):
                raise ConfigError(f"port must be a number, not {port!r}")
            url = f"{protocol}://{host}" + (f":{port}" if port is not None else "")
        options: dict[str, Any] = {}
        if "endpoint" in block:
            options["log_path"] = _text(block, "endpoint")
        if "login" in block:
            options["login_path"] = _text(block, "login")
        if "refresh" in block:
            options["refresh_path"] = _text(block, "refresh")
        if "timeout" in block:
            timeout = block["timeout"]
            if isinstance(timeout, bool) or not isinstance(timeout, int | float):
                raise ConfigError(f"timeout must be a number of seconds, not {timeout!r}")
            options["timeout"] = float(timeout)
        return cls(url=url, username=username, password=password, **options)

    @classmethod
    def from_file(cls, path: str | Path) -> ClientConfig:
        """From a JSON file holding the block at its top level or as one nested object."""
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(f"{path}: {error.strerror or error}") from error
        except ValueError as error:
            raise ConfigError(f"{path}: not valid JSON ({error})") from error
        if not isinstance(document, dict):
            raise ConfigError(f"{path}: expected a JSON object")
        if "url" in document or "host" in document:
            block = document
        else:
            nested = [
                value
                for value in document.values()
                if isinstance(value, dict) and ("url" in value or "host" in value)
            ]
            if len(nested) != 1:
                raise ConfigError(
                    f"{path}: no client block found (an object with 'host' or 'url', "
                    "'username' and 'password')"
                )
            block = nested[0]
        try:
            return cls.from_config(block)
        except ConfigError as error:
            raise ConfigError(f"{path}: {error}") from error


_KNOWN_KEYS = frozenset(
    {
        "url",
        "protocol",
        "host",
        "port",
        "endpoint",
        "login",
        "refresh",
        "username",
        "password",
        "timeout",
    }
)


def _text(block: Mapping[str, Any], key: str) -> str:
    value = block.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConfigError(f"{key} must be a string, not {type(value).__name__}")
    return value


def resolve_config(
    environ: Mapping[str, str],
    *,
    config_file: str | None = None,
    url: str | None = None,
    username: str | None = None,
    password: str | None = None,
) -> ClientConfig:
    """The settings of a command: a config file, then the environment, then flags, each
    overriding the one before."""
    base: ClientConfig | None = ClientConfig.from_file(config_file) if config_file else None
    chosen_url = url or environ.get(ENV_URL) or (base.url if base else "")
    chosen_user = username or environ.get(ENV_USERNAME) or (base.username if base else "")
    chosen_password = password or environ.get(ENV_PASSWORD) or (base.password if base else "")
    if not chosen_url:
        raise ConfigError(f"no server: give --url, {ENV_URL} or --config")
    if not chosen_user:
        raise ConfigError(f"no username: give --username, {ENV_USERNAME} or --config")
    if not chosen_password:
        raise ConfigError(f"no password: give {ENV_PASSWORD}, --password or --config")
    if base is not None:
        return base.replace(url=chosen_url, username=chosen_user, password=chosen_password)
    return ClientConfig(url=chosen_url, username=chosen_user, password=chosen_password)
