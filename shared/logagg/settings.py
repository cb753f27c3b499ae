"""Settings: read once from the environment, validated together, frozen.

Every concern has one frozen settings object built by ``from_env(mapping)``. Tests pass a
plain dict; processes pass ``os.environ``. Every missing or malformed value is collected
and reported together in one :class:`~logagg.errors.SettingsError`, each line naming its
variable. Secrets are wrapped in :class:`Secret` and credentials inside URLs are masked,
so neither appears in a ``repr`` or a log line.

Services define their own settings objects (``logagg.ingest.settings`` and so on) with
the same :class:`EnvReader`; this module holds the ones several processes share.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any, Self, TypeVar
from urllib.parse import urlsplit, urlunsplit

from logagg.errors import SettingsError

MASK = "********"

_N = TypeVar("_N", int, float)


class Secret:
    """A string that never shows itself in ``repr``/``str``; call :meth:`reveal` to use it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


def mask_url(url: str) -> str:
    """Return ``url`` with any password in its user-info replaced by a mask."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}{port}"))


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$", re.IGNORECASE)
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "ki": 1024,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mi": 1024**2,
    "mib": 1024**2,
    "g": 1000**3,
    "gb": 1000**3,
    "gi": 1024**3,
    "gib": 1024**3,
}


def parse_duration(text: str) -> float:
    """Parse ``"500ms"``, ``"30s"``, ``"15m"``, ``"2h"``, ``"30d"`` or bare seconds."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 500ms, 30s, 15m, 2h, 30d)")
    return float(match.group(1)) * _DURATION_UNITS[(match.group(2) or "s").lower()]


def parse_size(text: str) -> int:
    """Parse ``"512"``, ``"64k"``, ``"10MB"``, ``"1MiB"`` into bytes."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"not a size: {text!r} (use e.g. 512, 64KiB, 10MB)")
    return int(float(match.group(1)) * _SIZE_UNITS[(match.group(2) or "b").lower()])


def parse_bool(text: str) -> bool:
    """Parse a boolean explicitly: ``bool("false")`` is ``True``, this is not."""
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"not a boolean: {text!r} (use true/false, yes/no, on/off, 1/0)")


class EnvReader:
    """Reads typed values from a mapping and collects every problem instead of stopping.

    Each getter returns a usable placeholder when the value is bad, so one pass reports
    everything; :meth:`finish` raises the collected problems.
    """

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self.problems: list[str] = []

    def _raw(self, name: str) -> str | None:
        value = self._env.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def _problem(self, name: str, message: str) -> None:
        self.problems.append(f"{name}: {message}")

    def text(self, name: str, default: str) -> str:
        value = self._raw(name)
        return default if value is None else value

    def optional_text(self, name: str) -> str | None:
        return self._raw(name)

    def required_text(self, name: str) -> str:
        value = self._raw(name)
        if value is None:
            self._problem(name, "is required")
            return ""
        return value

    def secret(self, name: str) -> Secret | None:
        value = self._raw(name)
        return None if value is None else Secret(value)

    def required_secret(self, name: str) -> Secret:
        value = self._raw(name)
        if value is None:
            self._problem(name, "is required")
            return Secret("")
        return Secret(value)

    def integer(
        self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            self._problem(name, f"not an integer: {value!r}")
            return default
        return self._bounded(name, number, default, minimum, maximum)

    def number(self, name: str, default: float, *, minimum: float | None = None) -> float:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            self._problem(name, f"not a number: {value!r}")
            return default
        return self._bounded(name, number, default, minimum, None)

    def boolean(self, name: str, default: bool) -> bool:
        value = self._raw(name)
        if value is None:
            return default
        try:
            return parse_bool(value)
        except ValueError as error:
            self._problem(name, str(error))
            return default

    def duration(self, name: str, default: float, *, minimum: float | None = None) -> float:
        """A duration in seconds."""
        value = self._raw(name)
        if value is None:
            return default
        try:
            seconds = parse_duration(value)
        except ValueError as error:
            self._problem(name, str(error))
            return default
        return self._bounded(name, seconds, default, minimum, None)

    def size(self, name: str, default: int, *, minimum: int | None = None) -> int:
        """A size in bytes."""
        value = self._raw(name)
        if value is None:
            return default
        try:
            size = parse_size(value)
        except ValueError as error:
            self._problem(name, str(error))
            return default
        return self._bounded(name, size, default, minimum, None)

    def choice(self, name: str, default: str, choices: Iterable[str]) -> str:
        allowed = tuple(choices)
        value = self._raw(name)
        if value is None:
            return default
        if value.lower() not in allowed:
            self._problem(name, f"must be one of {', '.join(allowed)}; got {value!r}")
            return default
        return value.lower()

    def url(
        self, name: str, default: str | None, *, schemes: Iterable[str] = ("http", "https")
    ) -> str | None:
        allowed = tuple(schemes)
        value = self._raw(name)
        if value is None:
            return default
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            self._problem(name, f"not a URL: {mask_url(value)!r}")
            return default
        if parts.scheme not in allowed:
            self._problem(
                name, f"scheme must be one of {', '.join(allowed)}; got {mask_url(value)!r}"
            )
            return default
        if parts.scheme != "file" and not parts.hostname:
            self._problem(name, f"has no host: {mask_url(value)!r}")
            return default
        return value

    def mapping(self, name: str) -> dict[str, str]:
        """``"a=x,b=y"`` as ``{"a": "x", "b": "y"}``; keys unique."""
        value = self._raw(name)
        if value is None:
            return {}
        result: dict[str, str] = {}
        for item in value.split(","):
            key, sep, val = item.partition("=")
            if not sep or not key.strip() or not val.strip():
                self._problem(name, f"expected key=value pairs separated by commas; got {item!r}")
                continue
            if key.strip() in result:
                self._problem(name, f"key {key.strip()!r} given twice")
            result[key.strip()] = val.strip()
        return result

    def _bounded(
        self, name: str, value: _N, default: _N, minimum: _N | None, maximum: _N | None
    ) -> _N:
        if minimum is not None and value < minimum:
            self._problem(name, f"must be at least {minimum}; got {value}")
            return default
        if maximum is not None and value > maximum:
            self._problem(name, f"must be at most {maximum}; got {value}")
            return default
        return value

    def finish(self) -> None:
        """Raise every problem collected so far, if any."""
        if self.problems:
            raise SettingsError(self.problems)


class SettingsBase:
    """Base of the frozen settings dataclasses.

    Subclasses implement :meth:`read`; :meth:`from_env` validates and raises every problem
    at once. ``repr`` masks credentials inside URLs (``Secret`` masks itself).
    """

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Self:
        read = EnvReader(env)
        settings = cls.read(read)
        read.finish()
        return settings

    @classmethod
    def read(cls, read: EnvReader) -> Self:
        """Build the settings from ``read``, recording problems on it instead of raising."""
        raise NotImplementedError

    def __repr__(self) -> str:
        shown = []
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value: Any = getattr(self, field.name)
            if isinstance(value, str) and "://" in value:
                value = mask_url(value)
            shown.append(f"{field.name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class RedisSettings(SettingsBase):
    """Where the one state store is: queues, users, receipts, dead letters."""

    url: str
    socket_timeout: float
    health_check_interval: float
    # a delivery receipt lives this long after its last write (LOGAGG_RECEIPT_TTL)
    receipt_ttl: float = 7 * 86400.0

    @classmethod
    def read(cls, read: EnvReader) -> Self:
        return cls(
            url=read.url(
                "REDIS_URL", "redis://127.0.0.1:6379/0", schemes=("redis", "rediss", "unix")
            )
            or "",
            socket_timeout=read.duration("LOGAGG_REDIS_TIMEOUT", 5.0, minimum=0.001),
            health_check_interval=read.duration("LOGAGG_REDIS_HEALTH_CHECK", 30.0, minimum=0),
            receipt_ttl=read.duration("LOGAGG_RECEIPT_TTL", 7 * 86400.0, minimum=1),
        )


def check_elastic_credentials(
    read: EnvReader, username: str | None, password: Secret | None, api_key: Secret | None
) -> None:
    """Basic auth needs both halves, and excludes an API key (Elasticsearch and Kibana)."""
    if username and password is None:
        read.problems.append("ELASTICSEARCH_PASSWORD: is required with ELASTICSEARCH_USERNAME")
    if password is not None and not username:
        read.problems.append("ELASTICSEARCH_USERNAME: is required with ELASTICSEARCH_PASSWORD")
    if api_key is not None and username:
        read.problems.append(
            "ELASTICSEARCH_API_KEY: give either an API key or a username and password, not both"
        )


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class ElasticsearchSettings(SettingsBase):
    """How to reach Elasticsearch. ``url`` is ``None`` when no cluster is configured."""

    url: str | None
    username: str | None
    password: Secret | None
    api_key: Secret | None
    ca_certs: str | None
    verify_certs: bool
    request_timeout: float
    namespace: str

    @classmethod
    def read(cls, read: EnvReader) -> Self:
        settings = cls(
            url=read.url("ELASTICSEARCH_URL", None),
            username=read.optional_text("ELASTICSEARCH_USERNAME"),
            password=read.secret("ELASTICSEARCH_PASSWORD"),
            api_key=read.secret("ELASTICSEARCH_API_KEY"),
            ca_certs=read.optional_text("ELASTICSEARCH_CA_CERTS"),
            verify_certs=read.boolean("LOGAGG_ES_VERIFY_CERTS", True),
            request_timeout=read.duration("LOGAGG_ES_TIMEOUT", 30.0, minimum=0.1),
            namespace=read.text("LOGAGG_ES_NAMESPACE", "default"),
        )
        check_elastic_credentials(read, settings.username, settings.password, settings.api_key)
        if not re.fullmatch(r"[a-z0-9_.]{1,100}", settings.namespace):
            read.problems.append(
                "LOGAGG_ES_NAMESPACE: lower-case letters, digits, '_' and '.' only; "
                f"got {settings.namespace!r}"
            )
        return settings


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class S3Settings(SettingsBase):
    """Where the archive goes. ``bucket`` is ``None`` when no S3 archive is configured."""

    bucket: str | None
    endpoint_url: str | None
    region: str
    prefix: str
    path_style: bool
    server_side_encryption: str | None

    @classmethod
    def read(cls, read: EnvReader) -> Self:
        bucket = read.optional_text("S3_BUCKET")
        if bucket is not None and not re.fullmatch(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]", bucket):
            read.problems.append(f"S3_BUCKET: not a valid bucket name: {bucket!r}")
        sse = read.choice("LOGAGG_S3_SSE", "", ("", "aes256", "aws:kms"))
        return cls(
            bucket=bucket,
            endpoint_url=read.url("AWS_ENDPOINT_URL_S3", None)
            or read.url("AWS_ENDPOINT_URL", None),
            region=read.text("AWS_REGION", read.text("AWS_DEFAULT_REGION", "us-east-1")),
            prefix=read.text("LOGAGG_S3_PREFIX", "logs/"),
            path_style=read.boolean("LOGAGG_S3_PATH_STYLE", False),
            server_side_encryption={"": None, "aes256": "AES256", "aws:kms": "aws:kms"}[sse],
        )


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class LoggingSettings(SettingsBase):
    """How every process writes its own log."""

    level: str
    json: bool

    @classmethod
    def read(cls, read: EnvReader) -> Self:
        return cls(
            level=read.choice(
                "LOGAGG_LOG_LEVEL", "info", ("debug", "info", "warning", "error", "critical")
            ),
            json=read.choice("LOGAGG_LOG_FORMAT", "text", ("text", "json")) == "json",
        )


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class IngestClientSettings(SettingsBase):
    """How an operator command reaches the running ingest service, and as whom."""

    url: str
    admin_username: str
    admin_password: Secret | None
    timeout: float

    @classmethod
    def read(cls, read: EnvReader) -> Self:
        return cls(
            url=(read.url("LOGAGG_URL", "http://127.0.0.1:3001") or "").rstrip("/"),
            admin_username=read.text("LOGAGG_ADMIN_USERNAME", "admin"),
            admin_password=read.secret("LOGAGG_ADMIN_PASSWORD"),
            timeout=read.duration("LOGAGG_CLIENT_TIMEOUT", 30.0, minimum=0.1),
        )


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class DashboardSettings(SettingsBase):
    """``logagg dashboard``: where RQ's web view listens, and who may open it."""

    host: str
    port: int
    username: str | None
    password: Secret | None
    allow_delete: bool

    @classmethod
    def read(cls, read: EnvReader) -> Self:
        settings = cls(
            host=read.text("LOGAGG_DASHBOARD_HOST", "127.0.0.1"),
            port=read.integer("LOGAGG_DASHBOARD_PORT", 9181, minimum=1, maximum=65535),
            username=read.optional_text("LOGAGG_DASHBOARD_USERNAME"),
            password=read.secret("LOGAGG_DASHBOARD_PASSWORD"),
            allow_delete=read.boolean("LOGAGG_DASHBOARD_ALLOW_DELETE", False),
        )
        if settings.username and not settings.password:
            read.problems.append("LOGAGG_DASHBOARD_PASSWORD: is required with a user name")
        elif settings.password and not settings.username:
            read.problems.append("LOGAGG_DASHBOARD_USERNAME: is required with a password")
        elif settings.password and len(settings.password.reveal()) < 12:
            read.problems.append("LOGAGG_DASHBOARD_PASSWORD: at least 12 characters")
        return settings
