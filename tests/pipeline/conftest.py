"""One pipeline for the folder on the session's servers, and the Loghub samples posted to it.

Fault tests start pipelines of their own (see ``test_faults.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from logagg.embedded import ElasticsearchNode, RedisServer, S3Server
from logagg.parser import BatchIdentity, parse_lines

from .api import login, post_log, register
from .faults import RESULTS
from .stack import WRITER_PASSWORD, Pipeline, running_pipeline

FAULT_COLUMNS = ("scenario", "acknowledged", "indexed", "archived", "duplicates", "recovery")
LOGHUB = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "loghub"


@pytest.fixture(scope="package")
def pipeline(
    redis_server: RedisServer,
    elasticsearch_node: ElasticsearchNode,
    s3_server: S3Server,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pipeline]:
    """Ingest, parser and both shippers as separate processes, on the session's servers."""
    with redis_server.client() as client:
        client.flushall()
    with running_pipeline(
        tmp_path_factory.mktemp("pipeline"),
        redis_url=redis_server.url,
        elasticsearch_url=elasticsearch_node.url,
        s3_endpoint_url=s3_server.endpoint_url,
    ) as running:
        yield running


# -- the Loghub samples, posted once for the folder -------------------------------------


@dataclasses.dataclass(frozen=True)
class PostedSample:
    """One Loghub system's file as posted, the answer, and the events the parser makes."""

    system: str
    lines: list[str]
    answer: dict[str, Any]
    expected: list[dict[str, Any]]


def sample_lines(path: Path) -> list[str]:
    """The non-blank lines of a sample file, as a text body is split (LF, CRLF)."""
    text = path.read_bytes().decode("utf-8")
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    return [line for line in lines if line.strip()]


def expected_events(lines: list[str], answer: dict[str, Any], service: str) -> list[dict[str, Any]]:
    """The events the parser library makes of ``lines`` posted as one batch by ``service``."""
    assert len(answer["batches"]) == 1, "the expectation assumes one batch per request"
    identity = BatchIdentity.of(answer["batches"][0], service, "127.0.0.1", "")
    return parse_lines(lines, identity)


@pytest.fixture(scope="package")
def loghub_posted(pipeline: Pipeline) -> dict[str, PostedSample]:
    """Each Loghub sample posted whole by a writer named after its system."""
    if not LOGHUB.is_dir():
        pytest.fail(f"the Loghub samples are missing: {LOGHUB}", pytrace=False)
    files = sorted(LOGHUB.glob("*/*_2k.log"))
    assert len(files) == 8, [file.name for file in files]
    admin = pipeline.admin_token()
    posted: dict[str, PostedSample] = {}
    for file in files:
        system = file.parent.name
        register(pipeline.base_url, admin, system, WRITER_PASSWORD)
        token = login(pipeline.base_url, system, WRITER_PASSWORD)
        answer = post_log(pipeline.base_url, token, file.read_bytes(), "text/plain")
        lines = sample_lines(file)
        posted[system] = PostedSample(system, lines, answer, expected_events(lines, answer, system))
    return posted


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The fault tests' figures, as the README's table has them."""
    if not RESULTS:
        return
    terminalreporter.section("fault scenarios")
    terminalreporter.write_line(" | ".join(FAULT_COLUMNS))
    for row in RESULTS:
        terminalreporter.write_line(
            f"{row['scenario']} | {row['acknowledged']} | {row['indexed']} | "
            f"{row['archived']} | {row['duplicates']} | {row['recovery']}"
        )
        extra = {k: v for k, v in row.items() if k not in FAULT_COLUMNS}
        if extra:
            terminalreporter.write_line(f"    {extra}")
