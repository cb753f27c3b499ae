"""A single-node Elasticsearch from Elastic's test distribution, run as a local process.

Maven Central publishes ``org.elasticsearch.distribution.integ-test-zip:elasticsearch``:
a stripped-down server (modules ``transport-netty4``, ``x-pack-core``,
``x-pack-security``, ``apm`` and nothing else) with no bundled JDK. It runs on the
machine's JDK 17 (JDK 24+ breaks its security manager), refuses to run as root, and
binds to loopback with security off. What it lacks compared with a full 8.17 node, and
what the project does about it, is written down in the README ("The test
Elasticsearch").
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from logagg.embedded.process import ServerProcess, ServerStartError, free_port

UNPRIVILEGED_USER = "nobody"
_JDK_RELEASE_VERSION = re.compile(r'^JAVA_VERSION="(\d+)', re.MULTILINE)


def find_distribution(cache_dir: Path) -> Path:
    """The newest ``elasticsearch-<version>.zip`` under ``cache_dir``."""
    explicit = os.environ.get("LOGAGG_ES_DISTRIBUTION")
    if explicit:
        return Path(explicit)
    zips = sorted(
        cache_dir.glob("elasticsearch-*.zip"),
        key=lambda p: [int(n) for n in re.findall(r"\d+", p.name)],
    )
    if not zips:
        raise ServerStartError(
            f"no Elasticsearch distribution in {cache_dir}; `make elasticsearch` fetches it"
        )
    return zips[-1]


def find_java_home() -> Path:
    """A JDK between 17 and 23: ``LOGAGG_ES_JAVA_HOME``, ``JAVA_HOME``, or ``/usr/lib/jvm``."""
    candidates = [os.environ.get("LOGAGG_ES_JAVA_HOME"), os.environ.get("JAVA_HOME")]
    jvm = Path("/usr/lib/jvm")
    if jvm.is_dir():
        candidates += [str(p) for p in sorted(jvm.iterdir()) if not p.is_symlink()]
    for candidate in candidates:
        if candidate and _jdk_major(Path(candidate)) in range(17, 24):
            return Path(candidate)
    raise ServerStartError(
        "Elasticsearch 8 needs a JDK 17 to 23 (24+ removed its security manager); "
        "set LOGAGG_ES_JAVA_HOME"
    )


def _jdk_major(home: Path) -> int | None:
    try:
        match = _JDK_RELEASE_VERSION.search((home / "release").read_text())
    except OSError:
        return None
    if not (home / "bin" / "java").exists() or not match:
        return None
    return int(match.group(1))


def _extract(archive: Path, target: Path) -> Path:
    """Unzip ``archive`` into ``target`` keeping the executable bits; return its home."""
    with zipfile.ZipFile(archive) as zipped:
        top = zipped.namelist()[0].split("/")[0]
        home = target / top
        if (home / "bin" / "elasticsearch").exists():
            return home
        partial = target / f".{top}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        for info in zipped.infolist():
            path = Path(zipped.extract(info, partial))
            mode = info.external_attr >> 16
            if mode and not info.is_dir():
                path.chmod(stat.S_IMODE(mode))
        (partial / top).rename(home)
        partial.rmdir()
    return home


def _give_to(path: Path, user: str) -> None:
    for root, dirs, files in os.walk(path):
        shutil.chown(root, user)
        for name in dirs + files:
            os.lchown(Path(root) / name, *_uid_gid(user))


def _check_reachable(path: Path, user: str) -> None:
    for folder in [path, *path.parents]:
        if not folder.stat().st_mode & stat.S_IXOTH:
            raise ServerStartError(
                f"Elasticsearch runs as {user!r}, which cannot enter {folder}; "
                "choose a work folder whose parents others may enter"
            )


def _uid_gid(user: str) -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


class ElasticsearchNode(ServerProcess):
    """One Elasticsearch node on ``127.0.0.1:port``, its files under ``work_dir``.

    ``work_dir`` holds the unpacked distribution, ``data/`` and ``logs/``; reusing the
    folder keeps the indices. When the current user is root the node runs as
    ``nobody``, which then owns ``work_dir``.
    """

    name = "elasticsearch"
    start_timeout = 180.0

    def __init__(
        self,
        distribution: Path,
        work_dir: Path,
        *,
        port: int | None = None,
        heap: str = "512m",
        settings: Mapping[str, str] | None = None,
    ) -> None:
        work_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(work_dir / "elasticsearch.out")
        self.distribution = distribution
        self.work_dir = work_dir
        self.port = port or free_port()
        self.transport_port = free_port()
        self.heap = heap
        self.extra_settings = dict(settings or {})
        self._home: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def run_as(self) -> str | None:
        return UNPRIVILEGED_USER if os.geteuid() == 0 else None

    def start(self) -> None:
        self._home = _extract(self.distribution, self.work_dir)
        for folder in ("data", "logs", "tmp"):
            (self.work_dir / folder).mkdir(exist_ok=True)
        user = self.run_as()
        if user is not None:
            self.work_dir.chmod(0o755)
            _give_to(self.work_dir, user)
            _check_reachable(self.work_dir, user)
        super().start()

    def command(self) -> Sequence[str]:
        assert self._home is not None
        settings = {
            "discovery.type": "single-node",
            "network.host": "127.0.0.1",
            "http.port": str(self.port),
            "transport.port": str(self.transport_port),
            "path.data": str(self.work_dir / "data"),
            "path.logs": str(self.work_dir / "logs"),
            "xpack.security.enabled": "false",
            # a shared CI disk may be nearly full; a single test node must still write
            "cluster.routing.allocation.disk.threshold_enabled": "false",
            **self.extra_settings,
        }
        return [str(self._home / "bin" / "elasticsearch")] + [
            f"-E{key}={value}" for key, value in settings.items()
        ]

    def environment(self) -> Mapping[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "ES_JAVA_HOME": str(find_java_home()),
            "ES_JAVA_OPTS": f"-Xms{self.heap} -Xmx{self.heap}",
            "ES_TMPDIR": str(self.work_dir / "tmp"),
            "LANG": "C.UTF-8",
        }

    def is_ready(self) -> bool:
        # The test distribution has no `GET /` (no rest-root module): ask for health.
        url = f"{self.url}/_cluster/health?wait_for_status=yellow&timeout=1s"
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return json.load(answer).get("status") in ("yellow", "green")
        except (urllib.error.URLError, OSError, ValueError):
            return False


@contextmanager
def throwaway_node(
    cache_dir: Path, *, prefix: str, settings: Mapping[str, str] | None = None
) -> Iterator[ElasticsearchNode]:
    """A started node whose data lives in a new temporary folder, removed after.

    The folder is not under pytest's ``tmp_path``: that is private to root, and the node
    runs unprivileged.
    """
    work_dir = Path(tempfile.mkdtemp(prefix=prefix))
    node = ElasticsearchNode(find_distribution(cache_dir), work_dir, settings=settings)
    try:
        node.start()
        yield node
    finally:
        node.stop()
        shutil.rmtree(work_dir, ignore_errors=True)
