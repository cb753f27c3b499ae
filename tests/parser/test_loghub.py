"""The loghub samples: at least 99% of each system's lines parsed right, auto-detected;
at least 95% with every dedicated text format off, the structure finder alone reading
them (leave-one-out: no format written for a system helps it)."""

from __future__ import annotations

import pytest

from .loghub import CORPUS, FINDER_ONLY, SYSTEMS, score

TARGET = 0.99
FINDER_TARGET = 0.95


def test_corpus_is_there() -> None:
    assert CORPUS.is_dir(), f"loghub corpus missing at {CORPUS}"


@pytest.mark.parametrize("system", SYSTEMS)
def test_system_parses_to_target(system: str) -> None:
    result = score(system)
    assert result.lines == 2000
    misses = result.misses[:5]
    assert result.share(result.timestamp) >= TARGET, misses
    assert result.share(result.level) >= TARGET, misses
    assert result.share(result.message) >= TARGET, misses
    assert result.share(result.all_three) >= TARGET, misses


@pytest.mark.parametrize("system", SYSTEMS)
def test_finder_alone_parses_to_target(system: str) -> None:
    result = score(system, FINDER_ONLY)
    assert result.lines == 2000
    misses = result.misses[:5]
    assert result.share(result.all_three) >= FINDER_TARGET, misses
