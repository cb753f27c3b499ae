"""``logagg.client`` works where only the standard library is installed."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCKED = (
    "flask",
    "werkzeug",
    "jwt",
    "redis",
    "rq",
    "boto3",
    "botocore",
    "elasticsearch",
    "orjson",
    "prometheus_client",
    "tqdm",
    "logagg.ingest",
    "logagg.parser",
    "logagg.shipper",
)

SCRIPT = textwrap.dedent(
    """
    import importlib.abc
    import sys

    BLOCKED = {blocked!r}

    class Refuse(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if any(name == b or name.startswith(b + ".") for b in BLOCKED):
                raise ImportError(f"blocked for this test: {{name}}")
            return None

    sys.meta_path.insert(0, Refuse())

    import gzip, json, logging, tempfile
    import logagg.client
    from logagg.client import ClientConfig, LogaggHandler, Transport
    from logagg.client import commands, config, files, handler, retry, spool, state

    class Memory:
        retries = 0
        def __init__(self):
            self.records = []
        def post_log(self, body, content_type, *, compressed=False, attempts=None):
            self.records += json.loads(gzip.decompress(body))
            return logagg.client.Accepted("r", ("b",), 1, 0)
        def interrupt(self): pass
        def resume(self): pass
        def close(self): pass

    Transport(ClientConfig.from_config(
        {{"host": "127.0.0.1", "port": 3001, "username": "u", "password": "p"}}
    ))
    memory = Memory()
    with tempfile.TemporaryDirectory() as spool_dir:
        sink = LogaggHandler(transport=memory, spool_dir=spool_dir, batch_age=60)
        log = logging.getLogger("isolated")
        log.addHandler(sink)
        log.warning("hello %s", "world")
        assert sink.drain(5)
        sink.close()
    assert memory.records[0].endswith("WARNING isolated: hello world"), memory.records
    loaded = sorted(n for n in sys.modules if n.split(".")[0] in {{"flask", "redis", "rq"}})
    assert not loaded, loaded
    print("ok")
    """
)


def test_the_client_imports_and_works_with_the_server_packages_blocked() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(blocked=BLOCKED)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_the_blocker_does_block() -> None:
    script = SCRIPT.format(blocked=BLOCKED).replace("import logagg.client\n", "import redis\n", 1)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0
    assert "blocked for this test: redis" in result.stderr
